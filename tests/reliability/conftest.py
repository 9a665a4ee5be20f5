"""Figures the reliability suite reports at the end of a run: faults injected, parallel calls tried."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer

# The live server's listen backlog (10 by default) resets connections when more
# threads than that connect at the same instant, as these races do.
ThreadedWSGIServer.request_queue_size = 128

FIGURES: Counter[str] = Counter()


def tally(figure: str, count: int = 1) -> None:
    """Add ``count`` to one of the figures printed in the run's summary."""
    FIGURES[figure] += count


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker counts its own tests and hands the figures to the controller.
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["reliability_figures"] = dict(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    FIGURES.update(getattr(node, "workeroutput", {}).get("reliability_figures", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.write_sep("-", "reliability figures")
        for figure, count in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{figure}: {count}")

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's servers at start-up.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def browser_page(base_url: str) -> Iterator[object]:
    """A Chromium page whose relative URLs go to ``base_url``."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes between browser steps are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context = browser.new_context(base_url=base_url)
            context.set_default_timeout(15_000)
            yield context.new_page()
            context.close()
            browser.close()
            # Inside Playwright's sync API the test runs in another context, so
            # the ORM opened a connection of its own there. Close it, because an
            # open connection keeps the test database from being dropped.
            connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(live_server, settings) -> Iterator[object]:
    settings.SITE_URL = live_server.url  # links in emails point at the live server
    with browser_page(live_server.url) as page:
        yield page


@pytest.fixture
def asgi_page(db: None, tmp_path: Path) -> Iterator[object]:
    """A page on the ASGI application served by granian, as scripts/run serves it: streams need it.

    Django's live server speaks WSGI only, so it cannot upgrade to a WebSocket.
    """
    from tests.processes import running_asgi_server

    # DEBUG serves the static files from the source tree, without collectstatic.
    with running_asgi_server(tmp_path, DEBUG="1") as (url, _), browser_page(url) as page:
        yield page

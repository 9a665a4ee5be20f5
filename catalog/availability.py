"""Which listed services cannot answer calls right now, as the app that runs them reports it.

The catalog lists every published service, but a service backed by a
third-party provider is unavailable until an operator chooses the provider.
The services app registers the source at start-up (catalog never imports it).
"""

from __future__ import annotations

from collections.abc import Callable

_source: Callable[[], set[str]] | None = None


def availability_source_set(source: Callable[[], set[str]]) -> None:
    global _source
    _source = source


def unavailable_slugs() -> set[str]:
    return _source() if _source is not None else set()

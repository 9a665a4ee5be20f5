"""Cross-account cases for tests/services/builtin/test_isolation.py, one module per data service.

Each module exposes ``CASES: list[IsolationCase]``, one case per endpoint of its
service. A case stores data as the owner (``seed``) and returns the body the
outsider then sends, built from the owner's ids, table names, keys, paths and
short ids. ``snapshot`` reads the owner's data back; it must be equal before
and after the outsider's call. ``markers`` are strings of the owner's data that
must never appear in the outsider's response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.conftest import Persona


@dataclass(frozen=True)
class IsolationCase:
    service: str
    endpoint: str
    seed: Callable[[Persona], dict]  # as the owner: store data, return the body the outsider then sends
    snapshot: Callable[[Persona], object]  # as the owner: read back the owner's data
    markers: tuple[str, ...] = ()  # strings from the owner's data that must never appear in the outsider's response


def ok(persona: Persona, service: str, endpoint: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call an endpoint as the persona and return the response body, failing unless the call succeeded."""
    response = persona.call(service, endpoint, body=body or {})
    assert response.status_code == 200, (service, endpoint, body, response.content)
    return response.json()


def seed_then(store: Callable[[Persona], object], body: dict[str, Any]) -> Callable[[Persona], dict]:
    """Return a seed that stores the owner's data with ``store`` and then gives the outsider's body."""

    def seed(persona: Persona) -> dict[str, Any]:
        store(persona)
        return body

    return seed

from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

SHORT_ID = "owned-6e0"
DESTINATION = "https://example.com/owner-destination-6e0"
MARKERS = (SHORT_ID, "owner-destination-6e0")


def store(persona: Persona) -> None:
    ok(persona, "url", "Create", {"id": SHORT_ID, "destinationURL": DESTINATION})


def snapshot(persona: Persona) -> object:
    return ok(persona, "url", "List", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("url", endpoint, seed_then(store, body), snapshot, MARKERS)


# Short ids are one public namespace, so Create with the owner's id is rejected with a 400,
# as test_url.py checks. Here the outsider creates a link of its own.
CASES = [
    case("Shorten", {"destinationURL": "https://example.org/outsider"}),
    case("Create", {"destinationURL": "https://example.org/outsider"}),
    case("Resolve", {"id": SHORT_ID}),
    case("Update", {"id": SHORT_ID, "destinationURL": "https://example.org/outsider"}),
    case("Delete", {"id": SHORT_ID}),
    case("List", {}),
]

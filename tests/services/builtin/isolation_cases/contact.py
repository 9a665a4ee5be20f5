from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

CONTACT_ID = "it's; DROP TABLE c__1 %"
MARKERS = ("Owner Contact d15", "owner-contact@example.com", "+44 7700 900d15", "owner-contact-note-d15")


def store(persona: Persona) -> None:
    ok(
        persona,
        "contact",
        "Create",
        {
            "id": CONTACT_ID,
            "name": MARKERS[0],
            "emails": [{"address": MARKERS[1]}],
            "phones": [{"number": MARKERS[2]}],
            "note": MARKERS[3],
        },
    )


def snapshot(persona: Persona) -> object:
    return ok(persona, "contact", "List", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("contact", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"id": CONTACT_ID, "name": "Outsider"}),
    case("Read", {"id": CONTACT_ID}),
    case("Update", {"id": CONTACT_ID, "note": "changed"}),
    case("Delete", {"id": CONTACT_ID}),
    case("List", {"offset": 0, "limit": 1000}),
]

from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

NOTE_ID = "it's; DROP TABLE n__1 %"
MARKERS = ("owner-note-title-51c", "owner-note-text-51c")


def store(persona: Persona) -> None:
    ok(persona, "notes", "Create", {"id": NOTE_ID, "title": MARKERS[0], "text": MARKERS[1]})


def snapshot(persona: Persona) -> object:
    return ok(persona, "notes", "List", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("notes", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"id": NOTE_ID, "title": "outsider", "text": "outsider"}),
    case("Read", {"id": NOTE_ID}),
    case("Update", {"id": NOTE_ID, "text": "changed"}),
    case("Delete", {"id": NOTE_ID}),
    case("List", {}),
]

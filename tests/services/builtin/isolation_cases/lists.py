from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

LIST_ID = "it's; DROP TABLE l__1 %"
MARKERS = ("owner-list-name-a93", "owner-list-item-a93")


def store(persona: Persona) -> None:
    ok(persona, "lists", "Create", {"id": LIST_ID, "name": MARKERS[0], "items": [MARKERS[1]]})


def snapshot(persona: Persona) -> object:
    return ok(persona, "lists", "List", {"limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("lists", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Create", {"id": LIST_ID, "name": "outsider", "items": ["outsider"]}),
    case("Read", {"id": LIST_ID}),
    case("Update", {"list": {"id": LIST_ID, "items": ["changed"]}}),
    case("Delete", {"id": LIST_ID}),
    case("List", {}),
]

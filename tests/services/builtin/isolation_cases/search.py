from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

INDEX = "it's; DROP TABLE i__1 %"
RECORD_ID = "owner.record"
MARKERS = ("ownerwordq7", "owner-record-value-q7")


def store(persona: Persona) -> None:
    ok(persona, "search", "Index", {"index": INDEX, "id": RECORD_ID, "data": {"name": MARKERS[0], "note": MARKERS[1]}})


def snapshot(persona: Persona) -> object:
    return ok(persona, "search", "Search", {"index": INDEX, "query": MARKERS[0], "limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("search", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("CreateIndex", {"index": INDEX}),
    case("Index", {"index": INDEX, "id": RECORD_ID, "data": {"name": "outsider"}}),
    case("Search", {"index": INDEX, "query": "owner OR record OR name:owner"}),
    case("Delete", {"index": INDEX, "id": RECORD_ID}),
    case("DeleteIndex", {"index": INDEX}),
]

from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

ENTITY_ID = "it's; DROP TABLE e__1 %"
MARKERS = ("owner-entity-type-2c9", "owner-hidden-entity-2c9")
POINT = {"latitude": 51.5074, "longitude": -0.1278}


def store(persona: Persona) -> None:
    ok(persona, "location", "Save", {"entity": {"id": ENTITY_ID, "type": MARKERS[0], "location": {**POINT, "timestamp": 1}}})
    ok(persona, "location", "Save", {"entity": {"id": MARKERS[1], "type": MARKERS[0], "location": POINT}})


def snapshot(persona: Persona) -> object:
    return ok(persona, "location", "Search", {"center": POINT, "radius": 1000, "numEntities": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("location", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Save", {"entity": {"id": ENTITY_ID, "type": "outsider", "location": {"latitude": 0, "longitude": 0}}}),
    case("Read", {"id": ENTITY_ID}),
    case("Search", {"center": POINT, "radius": 20_000_000, "numEntities": 1000}),
]

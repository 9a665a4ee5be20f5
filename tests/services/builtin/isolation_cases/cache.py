from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

KEY = "it's/a__key %"
COUNTER = "views.count"
MARKERS = ("owner-cache-value-8d2", "987654")


def store(persona: Persona) -> None:
    ok(persona, "cache", "Set", {"key": KEY, "value": MARKERS[0]})
    ok(persona, "cache", "Set", {"key": COUNTER, "value": MARKERS[1]})


def snapshot(persona: Persona) -> object:
    keys = ok(persona, "cache", "ListKeys")["keys"]
    # The ttl counts down between reads, so the snapshot contains keys and values only.
    return {key: ok(persona, "cache", "Get", {"key": key})["value"] for key in keys}


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("cache", endpoint, seed_then(store, body), snapshot, MARKERS)


CASES = [
    case("Set", {"key": KEY, "value": "outsider"}),
    case("Get", {"key": KEY}),
    case("Delete", {"key": KEY}),
    case("Increment", {"key": COUNTER, "value": 1}),
    case("Decrement", {"key": COUNTER, "value": 1}),
    case("ListKeys", {}),
]

from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

TOPIC = "owner.events"
MARKERS = ("owner-event-5c1",)


def store(persona: Persona) -> None:
    ok(persona, "event", "Publish", {"topic": TOPIC, "message": {"secret": MARKERS[0]}})


def snapshot(persona: Persona) -> object:
    return ok(persona, "event", "Read", {"topic": TOPIC, "limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("event", endpoint, seed_then(store, body), snapshot, MARKERS)


# Consume is a stream; tests/services/streaming/test_messaging.py checks it per account.
CASES = [
    case("Publish", {"topic": TOPIC, "message": {"from": "outsider"}}),
    case("Read", {"topic": TOPIC, "offset": 1}),
]

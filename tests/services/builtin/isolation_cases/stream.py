from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

CHANNEL = "owner.channel"
MARKERS = ("owner-channel-about-3e9", "owner-stream-text-3e9")


def store(persona: Persona) -> None:
    ok(persona, "stream", "CreateChannel", {"name": CHANNEL, "description": MARKERS[0]})
    ok(persona, "stream", "SendMessage", {"channel": CHANNEL, "text": MARKERS[1]})


def snapshot(persona: Persona) -> object:
    return ok(persona, "stream", "ListChannels"), ok(persona, "stream", "ListMessages", {"channel": CHANNEL, "limit": 1000})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("stream", endpoint, seed_then(store, body), snapshot, MARKERS)


# Subscribe is a stream; tests/services/streaming/test_chat_and_stream.py checks it per account.
CASES = [
    case("CreateChannel", {"name": CHANNEL, "description": "outsider"}),
    case("ListChannels", {}),
    case("SendMessage", {"channel": CHANNEL, "text": "outsider"}),
    case("ListMessages", {"channel": CHANNEL}),
]

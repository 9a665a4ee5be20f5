from __future__ import annotations

from tests.conftest import Persona
from tests.services.builtin.isolation_cases import IsolationCase, ok, seed_then

ROOM_ID = "it's; DROP TABLE r__1 %"
MARKERS = ("owner-room-name-7d2", "owner-room-text-7d2", "owner-member-7d2")
MEMBER = MARKERS[2]


def store(persona: Persona) -> None:
    ok(persona, "chat", "Create", {"id": ROOM_ID, "name": MARKERS[0], "user_ids": [MEMBER]})
    ok(persona, "chat", "Send", {"room_id": ROOM_ID, "user_id": MEMBER, "text": MARKERS[1], "client": "c-1"})


def snapshot(persona: Persona) -> object:
    return ok(persona, "chat", "List", {"limit": 1000}), ok(persona, "chat", "History", {"room_id": ROOM_ID})


def case(endpoint: str, body: dict) -> IsolationCase:
    return IsolationCase("chat", endpoint, seed_then(store, body), snapshot, MARKERS)


# Join is a stream; tests/services/streaming/test_chat_and_stream.py checks it per account.
CASES = [
    case("Create", {"id": ROOM_ID, "name": "outsider", "user_ids": [MEMBER]}),
    case("List", {"user_id": MEMBER}),
    case("Delete", {"room_id": ROOM_ID}),
    case("Invite", {"room_id": ROOM_ID, "user_id": "outsider"}),
    case("Kick", {"room_id": ROOM_ID, "user_id": MEMBER}),
    case("Leave", {"room_id": ROOM_ID, "user_id": MEMBER}),
    case("Send", {"room_id": ROOM_ID, "user_id": MEMBER, "text": "outsider", "client": "c-1"}),
    case("History", {"room_id": ROOM_ID}),
]

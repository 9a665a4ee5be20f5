"""The chat service's plain calls through the gateway; tests/services/streaming covers Join."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from billing.models import Plan
from tests.conftest import Persona


def chat(persona: Persona, endpoint: str, **body: object) -> Any:
    return persona.call("chat", endpoint, body=body)


def make_room(persona: Persona, *user_ids: str) -> str:
    response = chat(persona, "Create", name="Support", description="Orders", user_ids=list(user_ids))
    assert response.status_code == 200, response.content
    return response.json()["room"]["id"]


def test_create_then_list(owner: Persona) -> None:
    created = chat(owner, "Create", name="Support", description="Orders", user_ids=["alice", "bob", "alice"]).json()

    listed = chat(owner, "List").json()

    assert created["room"]["user_ids"] == ["alice", "bob"]
    assert len(created["room"]["id"]) == 36
    assert listed == {"rooms": [created["room"]]}


def test_create_with_own_id_and_duplicate_is_400(owner: Persona) -> None:
    created = chat(owner, "Create", id="support", name="Support")

    duplicate = chat(owner, "Create", id="support", name="Again")

    assert created.json()["room"]["id"] == "support"
    assert duplicate.status_code == 400
    assert duplicate.json()["id"] == "chat.create"
    assert duplicate.json()["fields"] == {"id": "Already exists."}


def test_list_by_member_and_pages(owner: Persona) -> None:
    first = make_room(owner, "alice")
    make_room(owner, "bob")
    third = make_room(owner, "alice", "bob")

    alice = chat(owner, "List", user_id="alice").json()["rooms"]
    second_page = chat(owner, "List", offset=1, limit=1).json()["rooms"]

    assert [room["id"] for room in alice] == [first, third]
    assert len(second_page) == 1
    assert second_page[0]["user_ids"] == ["bob"]


def test_members_send_and_history_pages_in_order(owner: Persona) -> None:
    room = make_room(owner, "alice", "bob")
    sent = [
        chat(owner, "Send", room_id=room, user_id=sender, text=f"message {number}").json()["message"]
        for number, sender in enumerate(["alice", "bob", "alice"], start=1)
    ]

    latest = chat(owner, "History", room_id=room, limit=2).json()["messages"]
    earlier = chat(owner, "History", room_id=room, before=latest[0]["id"]).json()["messages"]

    assert [message["text"] for message in latest] == ["message 2", "message 3"]
    assert earlier == [sent[0]]
    assert sent[1]["user_id"] == "bob"
    assert sent[1]["room_id"] == room


def test_non_member_cannot_send(owner: Persona) -> None:
    room = make_room(owner, "alice")
    before = owner.balance

    response = chat(owner, "Send", room_id=room, user_id="mallory", text="hi")

    assert response.status_code == 403
    assert response.json()["id"] == "chat.send"
    assert owner.balance == before
    assert chat(owner, "History", room_id=room).json() == {"messages": []}


def test_invite_kick_and_leave_membership(owner: Persona) -> None:
    room = make_room(owner, "alice")

    invited = chat(owner, "Invite", room_id=room, user_id="bob").json()["room"]
    again = chat(owner, "Invite", room_id=room, user_id="bob").json()["room"]
    sent = chat(owner, "Send", room_id=room, user_id="bob", text="hello")
    kicked = chat(owner, "Kick", room_id=room, user_id="bob").json()["room"]
    after_kick = chat(owner, "Send", room_id=room, user_id="bob", text="still here?")
    left = chat(owner, "Leave", room_id=room, user_id="alice").json()["room"]
    after_leave = chat(owner, "Send", room_id=room, user_id="alice", text="bye")

    assert invited["user_ids"] == again["user_ids"] == ["alice", "bob"]
    assert sent.status_code == 200
    assert kicked["user_ids"] == ["alice"]
    assert after_kick.status_code == 403
    assert left["user_ids"] == []
    assert after_leave.status_code == 403
    assert [message["text"] for message in chat(owner, "History", room_id=room).json()["messages"]] == ["hello"]


def test_kicking_a_non_member_is_404(owner: Persona) -> None:
    room = make_room(owner, "alice")

    for endpoint in ("Kick", "Leave"):
        response = chat(owner, endpoint, room_id=room, user_id="nobody")
        assert response.status_code == 404
        assert response.json()["id"] == f"chat.{endpoint.lower()}"


def test_send_with_the_same_client_id_stores_once(owner: Persona) -> None:
    room = make_room(owner, "alice")

    first = chat(owner, "Send", room_id=room, user_id="alice", text="once", client="c-1").json()
    retry = chat(owner, "Send", room_id=room, user_id="alice", text="once", client="c-1").json()

    assert first == retry
    assert len(chat(owner, "History", room_id=room).json()["messages"]) == 1


def test_delete_returns_the_room_and_removes_its_messages(owner: Persona) -> None:
    from services.builtin.chat.models import Message

    room = make_room(owner, "alice")
    chat(owner, "Send", room_id=room, user_id="alice", text="hi")

    deleted = chat(owner, "Delete", room_id=room)

    assert deleted.json()["room"]["id"] == room
    assert chat(owner, "History", room_id=room).status_code == 404
    assert not Message.objects.filter(account_id=owner.account.pk).exists()


def test_missing_room_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in (
        ("Delete", {"room_id": "nothing"}),
        ("Invite", {"room_id": "nothing", "user_id": "a"}),
        ("Kick", {"room_id": "nothing", "user_id": "a"}),
        ("Leave", {"room_id": "nothing", "user_id": "a"}),
        ("Send", {"room_id": "nothing", "user_id": "a", "text": "t"}),
        ("History", {"room_id": "nothing"}),
    ):
        response = owner.call("chat", endpoint, body=body)
        assert response.status_code == 404, endpoint
        assert response.json()["id"] == f"chat.{endpoint.lower()}"
    assert owner.balance == before


def test_history_before_an_unknown_message_is_400(owner: Persona) -> None:
    room = make_room(owner, "alice")

    response = chat(owner, "History", room_id=room, before="nothing")

    assert response.status_code == 400
    assert response.json()["fields"] == {"before": "No such message in this room."}


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=2)
def test_rooms_and_messages_share_the_row_limit(owner: Persona) -> None:
    room = make_room(owner, "alice")
    chat(owner, "Send", room_id=room, user_id="alice", text="one")

    second_room = chat(owner, "Create", name="Another")
    second_message = chat(owner, "Send", room_id=room, user_id="alice", text="two")

    assert (second_room.status_code, second_room.json()["id"]) == (403, "chat.row_limit")
    assert (second_message.status_code, second_message.json()["id"]) == (403, "chat.row_limit")


def test_byte_limit_is_403(owner: Persona) -> None:
    Plan.objects.create(name="Tiny", slug="tiny", storage_cap_mb=1, is_default=True)
    room = make_room(owner, "alice")
    text = "x" * 10_000
    for _ in range(104):
        assert chat(owner, "Send", room_id=room, user_id="alice", text=text).status_code == 200

    over = chat(owner, "Send", room_id=room, user_id="alice", text=text)

    assert over.status_code == 403
    assert over.json()["id"] == "chat.storage_limit"


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("Create", {}),
        ("Create", {"name": ""}),
        ("Create", {"name": "n" * 1001}),
        ("Create", {"name": "n", "user_ids": "alice"}),
        ("Create", {"name": "n", "user_ids": [""]}),
        ("Create", {"name": "n", "private": True}),
        ("Create", {"name": "n", "id": ""}),
        ("Create", {"name": "n", "id": "x" * 257}),
        ("List", {"limit": 0}),
        ("List", {"offset": -1}),
        ("Delete", {}),
        ("Invite", {"room_id": "r"}),
        ("Invite", {"room_id": "r", "user_id": "u" * 257}),
        ("Send", {"room_id": "r", "user_id": "alice"}),
        ("Send", {"room_id": "r", "user_id": "alice", "text": ""}),
        ("Send", {"room_id": "r", "user_id": "alice", "text": "t", "client": ""}),
        ("History", {"room_id": "r", "limit": 1001}),
        ("History", {"room_id": 5}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    make_room(owner, "alice")
    before = owner.balance

    response = owner.call("chat", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert "fields" in response.json()
    assert owner.balance == before
    assert len(chat(owner, "List").json()["rooms"]) == 1


def test_purge_account_deletes_rooms(owner: Persona, outsider: Persona) -> None:
    from services.builtin.chat.models import Room
    from services.registry import purge_account

    make_room(owner, "alice")
    make_room(outsider, "alice")

    purge_account(owner.account.pk)

    assert not Room.objects.filter(account_id=owner.account.pk).exists()
    assert Room.objects.filter(account_id=outsider.account.pk).count() == 1

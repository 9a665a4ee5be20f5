"""The stream service's plain calls through the gateway; tests/services/streaming covers Subscribe."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.conftest import Persona


def stream(persona: Persona, endpoint: str, **body: object) -> Any:
    return persona.call("stream", endpoint, body=body)


def test_create_send_and_list(owner: Persona) -> None:
    created = stream(owner, "CreateChannel", name="general", description="Anything goes").json()["channel"]
    for number in range(1, 4):
        stream(owner, "SendMessage", channel="general", text=f"message {number}")

    channels = stream(owner, "ListChannels").json()
    latest = stream(owner, "ListMessages", channel="general", limit=2).json()["messages"]

    assert created["description"] == "Anything goes"
    assert channels == {"channels": [created]}
    assert [message["text"] for message in latest] == ["message 2", "message 3"]
    assert latest[0]["channel"] == "general"


def test_duplicate_channel_is_400(owner: Persona) -> None:
    stream(owner, "CreateChannel", name="general")

    response = stream(owner, "CreateChannel", name="general", description="again")

    assert response.status_code == 400
    assert response.json()["id"] == "stream.createchannel"
    assert response.json()["fields"] == {"name": "Already exists."}


def test_missing_channel_is_404_and_free(owner: Persona) -> None:
    before = owner.balance
    for endpoint, body in (("SendMessage", {"channel": "nothing", "text": "t"}), ("ListMessages", {"channel": "nothing"})):
        response = owner.call("stream", endpoint, body=body)
        assert response.status_code == 404
        assert response.json()["id"] == f"stream.{endpoint.lower()}"
    assert owner.balance == before


@override_settings(M3O_DATA_MAX_ROWS_PER_ACCOUNT=2)
def test_channels_and_messages_share_the_row_limit(owner: Persona) -> None:
    stream(owner, "CreateChannel", name="general")
    stream(owner, "SendMessage", channel="general", text="one")

    channel = stream(owner, "CreateChannel", name="other")
    message = stream(owner, "SendMessage", channel="general", text="two")

    assert (channel.status_code, channel.json()["id"]) == (403, "stream.row_limit")
    assert (message.status_code, message.json()["id"]) == (403, "stream.row_limit")


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("CreateChannel", {}),
        ("CreateChannel", {"name": "has space"}),
        ("CreateChannel", {"name": "x" * 129}),
        # JSON Schema's "$" ends the string; Python's re would also accept a trailing newline.
        ("CreateChannel", {"name": "general2\n"}),
        ("CreateChannel", {"name": "ok", "description": "d" * 1001}),
        ("SendMessage", {"channel": "general"}),
        ("SendMessage", {"channel": "general", "text": ""}),
        ("SendMessage", {"channel": "general", "text": "x" * 10_001}),
        ("ListMessages", {"channel": "general", "limit": 0}),
        ("ListMessages", {}),
        ("ListChannels", {"other": 1}),
    ],
)
def test_invalid_request_is_400_and_free(owner: Persona, endpoint: str, body: dict) -> None:
    stream(owner, "CreateChannel", name="general")
    before = owner.balance

    response = owner.call("stream", endpoint, body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert "fields" in response.json()
    assert owner.balance == before
    assert len(stream(owner, "ListChannels").json()["channels"]) == 1


def test_purge_account_deletes_channels_and_messages(owner: Persona, outsider: Persona) -> None:
    from services.builtin.stream.models import Channel, Message
    from services.registry import purge_account

    for persona in (owner, outsider):
        stream(persona, "CreateChannel", name="general")
        stream(persona, "SendMessage", channel="general", text="hi")

    purge_account(owner.account.pk)

    assert not Channel.objects.filter(account_id=owner.account.pk).exists()
    assert not Message.objects.filter(account_id=owner.account.pk).exists()
    assert Message.objects.filter(account_id=outsider.account.pk).count() == 1

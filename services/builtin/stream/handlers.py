"""stream handlers: channels and their messages in the database, announced live after commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from services.builtin.storable import check_write_room, json_size, reject_unstorable
from services.builtin.stream.models import Channel, Message
from services.kit import BadRequest, CallContext, NotFound
from services.streaming.changes import announce_on_commit, feed_name, follow
from services.streaming.session import run_sync

DEFAULT_LIST_LIMIT = 25


def _error_id(context: CallContext) -> str:
    return f"stream.{context.endpoint.lower()}"


def _channels(context: CallContext) -> QuerySet[Channel]:
    return Channel.objects.filter(account_id=context.account_id)


def _stored(context: CallContext) -> list[QuerySet[Any]]:
    """Return what counts against the account's stream caps: channels and messages."""
    return [_channels(context), Message.objects.filter(account_id=context.account_id)]


def _channel(context: CallContext) -> Channel:
    channel = _channels(context).filter(name=context.body["channel"]).first()
    if channel is None:
        raise NotFound(
            f"No channel named {context.body['channel']!r}. Create it with CreateChannel first.",
            error_id=_error_id(context),
        )
    return channel


def _feed(account_id: int, channel: str) -> str:
    return feed_name("stream", account_id, channel)


def create_channel(context: CallContext) -> dict[str, Any]:
    reject_unstorable(context.body, error_id=_error_id(context))
    name = context.body["name"]
    description = context.body.get("description", "")
    size = json_size({"name": name, "description": description})

    with transaction.atomic():
        check_write_room(rows=_stored(context), account_id=context.account_id, service="stream", size=size)
        try:
            with transaction.atomic():
                channel = Channel.objects.create(
                    account_id=context.account_id, name=name, description=description, size_bytes=size
                )
        except IntegrityError:
            raise BadRequest(
                f"A channel named {name!r} already exists.",
                error_id=_error_id(context),
                fields={"name": "Already exists."},
            ) from None
    return {"channel": channel.as_dict()}


def list_channels(context: CallContext) -> dict[str, Any]:
    """List the channels in the order they were created."""
    return {"channels": [channel.as_dict() for channel in _channels(context).order_by("created_at", "name")]}


def send_message(context: CallContext) -> dict[str, Any]:
    """Store a message in a channel and announce it to the channel's subscribers once stored."""
    reject_unstorable(context.body, error_id=_error_id(context))
    text = context.body["text"]
    size = json_size({"text": text})

    with transaction.atomic():
        channel = _channel(context)
        check_write_room(rows=_stored(context), account_id=context.account_id, service="stream", size=size)
        message = Message.objects.create(
            account_id=context.account_id, channel=channel, message_id=str(uuid.uuid4()), text=text, size_bytes=size
        )
        announce_on_commit(_feed(context.account_id, channel.name), message.as_dict())
    return {"message": message.as_dict()}


def list_messages(context: CallContext) -> dict[str, Any]:
    """Return the channel's latest messages, oldest first."""
    channel = _channel(context)
    limit = context.body.get("limit", DEFAULT_LIST_LIMIT)
    latest = Message.objects.filter(channel=channel).select_related("channel").order_by("-created_at", "-pk")[:limit]
    return {"messages": [message.as_dict() for message in list(latest)[::-1]]}


async def subscribe(context: CallContext) -> AsyncIterator[dict[str, Any]]:
    """Stream the messages sent to a channel from now on."""

    async def channel_exists() -> None:
        await run_sync(_channel)(context)

    async for message in follow(_feed(context.account_id, context.body["channel"]), subscribed=channel_exists):
        yield {"message": message}


def purge_account(account_id: int) -> None:
    Channel.objects.filter(account_id=account_id).delete()

"""event handlers: durable topics in the database, consumed by groups.

Messages live in the database, not in Redis Streams, because they are account
data that must survive a Redis restart: Redis is a cache here, and the embedded
default has none. The database also moves a group's position in the same
transaction that hands the message out, under one row lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F

from services.builtin.event.models import Group, Message, Topic
from services.kit import CallContext, Forbidden, storage_limits
from services.streaming.broker import get_broker
from services.streaming.session import messages_delivered, run_sync

logger = structlog.get_logger(__name__)

DEFAULT_READ_LIMIT = 25
DEFAULT_GROUP = "default"
# A consumer with nothing to send re-reads the topic at least this often, in
# case it missed a wake-up (a publish in a process whose broker was down).
POLL_SECONDS = 1.0


def wake_channel(account_id: int, topic: str) -> str:
    return f"event:{account_id}:{topic}"


def _topic(account_id: int, name: str) -> Topic:
    try:
        with transaction.atomic():
            return Topic.objects.get_or_create(account_id=account_id, name=name)[0]
    except IntegrityError:  # a parallel request created it first
        return Topic.objects.get(account_id=account_id, name=name)


def publish(context: CallContext) -> dict[str, Any]:
    name = context.body["topic"]
    limits = storage_limits(context.account_id)
    if Message.objects.filter(topic__account_id=context.account_id).count() >= limits.max_rows:
        raise Forbidden(
            f"This account stores the most event messages its plan allows ({limits.max_rows}). "
            "Delete topics you no longer need or upgrade the plan.",
            error_id="event.storage_full",
        )
    topic = _topic(context.account_id, name)
    with transaction.atomic():
        # The row lock numbers parallel publishes to one topic one after another.
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        topic.last_offset = F("last_offset") + 1
        topic.save(update_fields=["last_offset"])
        topic.refresh_from_db(fields=["last_offset"])
        message = Message.objects.create(topic=topic, offset=topic.last_offset, payload=context.body["message"])
        transaction.on_commit(lambda: _wake(context.account_id, name))
    return {"topic": name, "offset": message.offset}


def _wake(account_id: int, topic: str) -> None:
    try:
        get_broker().publish(wake_channel(account_id, topic), b"")
    except Exception as exc:
        # Consumers still find the message on their next poll.
        logger.warning("Event consumers not woken", account_id=account_id, error=str(exc))


def read(context: CallContext) -> dict[str, Any]:
    messages = (
        Message.objects.filter(
            topic__account_id=context.account_id,
            topic__name=context.body["topic"],
            offset__gte=context.body.get("offset", 1),
        )
        .select_related("topic")
        .order_by("offset")[: context.body.get("limit", DEFAULT_READ_LIMIT)]
    )
    return {"messages": [message.as_dict() for message in messages]}


def _group(account_id: int, topic_name: str, group_name: str, start: int | None) -> Group:
    """Return the group, creating it at ``start`` (or after the newest message) if it is new."""
    topic = _topic(account_id, topic_name)
    try:
        with transaction.atomic():
            next_offset = start if start is not None else Topic.objects.get(pk=topic.pk).last_offset + 1
            return Group.objects.get_or_create(topic=topic, name=group_name, defaults={"next_offset": next_offset})[0]
    except IntegrityError:
        return Group.objects.get(topic=topic, name=group_name)


def _claim(group_id: int) -> Message | None:
    """Hand the group's next message to this consumer, moving the group past it."""
    with transaction.atomic():
        # The row lock makes two consumers of one group take different messages.
        group = Group.objects.select_for_update().get(pk=group_id)
        message = (
            Message.objects.filter(topic_id=group.topic_id, offset__gte=group.next_offset)
            .select_related("topic")
            .order_by("offset")
            .first()
        )
        if message is not None:
            Group.objects.filter(pk=group_id).update(next_offset=message.offset + 1)
        return message


def _give_back(group_id: int, offset: int) -> None:
    """Put a message the client never got back at the group's head, unless the group moved on since."""
    # NOTE: with several consumers in one group, another consumer may already
    # have taken a later message; the group then does not get this one again.
    Group.objects.filter(pk=group_id, next_offset=offset + 1).update(next_offset=offset)


async def _claim_shielded(group_id: int) -> Message | None:
    """Claim the next message; if the stream stops meanwhile, give the claimed message back."""
    # The claim runs on in its thread even when the stream is cancelled, so its
    # result must be waited for and undone, or the group would skip a message.
    claim = asyncio.ensure_future(run_sync(_claim)(group_id))
    try:
        return await asyncio.shield(claim)
    except asyncio.CancelledError:
        message = await claim
        if message is not None:
            await run_sync(_give_back)(group_id, message.offset)
        raise


async def consume(context: CallContext) -> AsyncIterator[dict[str, Any]]:
    topic = context.body["topic"]
    group = await run_sync(_group)(
        context.account_id, topic, context.body.get("group", DEFAULT_GROUP), context.body.get("offset")
    )
    yielded = 0
    async with get_broker().subscribe(wake_channel(context.account_id, topic)) as wake_ups:
        while True:
            message = await _claim_shielded(group.pk)
            if message is None:
                await wake_ups.get(POLL_SECONDS)
                continue
            try:
                yielded += 1
                yield message.as_dict()
            except GeneratorExit:
                if messages_delivered() < yielded:
                    await asyncio.shield(run_sync(_give_back)(group.pk, message.offset))
                raise

"""Feeds: services announce what changed after commit; stream endpoints follow the announcements.

An announcement goes out after the transaction that made the change commits,
so a subscriber never hears of a change that was rolled back. Like mq, a feed
is live only: what is announced while nobody listens is not replayed (the
services that store messages, chat and stream, serve them again from the
database). Feed names start with the service and the account id, never with
anything the caller chose, so no name reaches another account's feed.

The data services (notes, lists, comments) announce creates, updates and
deletes with ``change_announce``; their Events endpoints stream them with
``change_stream``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import structlog
from django.db import transaction

from services.streaming.broker import get_broker

logger = structlog.get_logger(__name__)

# How long a subscriber waits for an announcement before checking again whether to stop.
POLL_SECONDS = 1.0


def feed_name(service: str, account_id: int, *parts: str) -> str:
    """Return the broker channel of an account's feed in a service, optionally narrowed to one room or channel."""
    return ":".join([service, str(account_id), *parts])


def announce_on_commit(feed: str, announcement: dict[str, Any]) -> None:
    """Publish the announcement to the feed's subscribers once the current transaction commits."""
    payload = json.dumps(announcement).encode()

    def send() -> None:
        try:
            get_broker().publish(feed, payload)
        except Exception as exc:
            # What was announced is stored; only live subscribers miss it.
            logger.warning("Announcement not sent", feed=feed, error=str(exc))

    transaction.on_commit(send)


async def follow(feed: str, *, subscribed: Callable[[], Awaitable[None]] | None = None) -> AsyncIterator[dict[str, Any]]:
    """Yield the feed's announcements from now on.

    ``subscribed`` runs once the subscription is live, so a check it makes
    (does the room exist?) cannot miss an announcement made just after it.
    """
    async with get_broker().subscribe(feed) as subscription:
        if subscribed is not None:
            await subscribed()
        while True:
            data = await subscription.get(POLL_SECONDS)
            if data is not None:
                yield json.loads(data)


def change_announce(*, service: str, account_id: int, kind: str, record: dict[str, Any]) -> None:
    """Send ``{"type": kind, <record name>: record}`` to the account's Events subscribers once the transaction commits."""
    announce_on_commit(feed_name(f"changes:{service}", account_id), {"type": kind, "record": record})


async def change_stream(
    *, service: str, account_id: int, record_name: str, record_id: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Yield the account's changes in ``service``, only those of ``record_id`` when it is given."""
    async for change in follow(feed_name(f"changes:{service}", account_id)):
        if record_id is not None and change["record"].get("id") != record_id:
            continue
        yield {"type": change["type"], record_name: change["record"]}

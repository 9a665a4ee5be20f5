"""Change feeds: data services announce creates, updates and deletes; Events streams send them.

An announcement goes out after the transaction that made the change commits,
so a subscriber never hears of a change that was rolled back. Like mq, the
feed is live only: changes made while nobody listens are not replayed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from django.db import transaction

from services.streaming.broker import get_broker

logger = structlog.get_logger(__name__)

# How long a subscriber waits for a change before checking again whether to stop.
POLL_SECONDS = 1.0


def _channel(service: str, account_id: int) -> str:
    return f"changes:{service}:{account_id}"


def change_announce(*, service: str, account_id: int, kind: str, record: dict[str, Any]) -> None:
    """Send ``{"type": kind, <record name>: record}`` to the account's subscribers once the transaction commits."""
    payload = json.dumps({"type": kind, "record": record}).encode()

    def send() -> None:
        try:
            get_broker().publish(_channel(service, account_id), payload)
        except Exception as exc:
            # The change itself is stored; only live subscribers miss it.
            logger.warning("Change not announced", service=service, account_id=account_id, error=str(exc))

    transaction.on_commit(send)


async def change_stream(
    *, service: str, account_id: int, record_name: str, record_id: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Yield the account's changes in ``service``, only those of ``record_id`` when it is given."""
    async with get_broker().subscribe(_channel(service, account_id)) as subscription:
        while True:
            data = await subscription.get(POLL_SECONDS)
            if data is None:
                continue
            change = json.loads(data)
            if record_id is not None and change["record"].get("id") != record_id:
                continue
            yield {"type": change["type"], record_name: change["record"]}

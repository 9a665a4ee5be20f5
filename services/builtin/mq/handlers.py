"""mq handlers: a topic is a pub/sub channel named from the caller's account id and the topic."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog

from services.kit import CallContext, ServiceUnavailable
from services.streaming.broker import get_broker

logger = structlog.get_logger(__name__)

# How long a subscriber waits for a message before checking again whether to stop.
POLL_SECONDS = 1.0


def channel(account_id: int, topic: str) -> str:
    # The account id comes first and is never chosen by the caller, so no topic
    # name can reach another account's channel.
    return f"mq:{account_id}:{topic}"


def publish(context: CallContext) -> dict[str, Any]:
    topic = context.body["topic"]
    payload = json.dumps({"topic": topic, "message": context.body["message"]}).encode()
    try:
        get_broker().publish(channel(context.account_id, topic), payload)
    except Exception as exc:
        logger.error("mq publish failed", request_id=context.request_id, error=str(exc))
        raise ServiceUnavailable(
            "The message broker is unavailable, so the message was not published. Retry shortly.",
            error_id="mq.unavailable",
        ) from None
    return {}


async def subscribe(context: CallContext) -> AsyncIterator[dict[str, Any]]:
    async with get_broker().subscribe(channel(context.account_id, context.body["topic"])) as subscription:
        while True:
            data = await subscription.get(POLL_SECONDS)
            if data is not None:
                yield json.loads(data)

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from services.kit import CallContext

MAX_STREAM_MESSAGES = 1_000


def call(context: CallContext) -> dict[str, Any]:
    return {"message": f"Hello {context.body['name']}"}


async def stream(context: CallContext) -> AsyncIterator[dict[str, Any]]:
    for _ in range(context.body.get("messages", 10)):
        yield {"message": f"Hello {context.body['name']}"}
        # Lets a stop (revocation, shutdown) in between messages.
        await asyncio.sleep(0)

"""Publish and subscribe between processes: Redis pub/sub, or in memory without Redis.

Messages are fire-and-forget: a subscriber that is not connected misses them.
Durable topics are the event service's job. Channel names are built by the
services from the account id, so one account's subscriber never hears another's.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Protocol

import redis
import redis.asyncio
import structlog
from django.conf import settings

from m3o_web.errors import ServiceUnavailable

logger = structlog.get_logger(__name__)

# A subscriber that falls this far behind drops the oldest messages rather than
# letting one slow reader hold memory without bound.
MAX_PENDING_MESSAGES = 1_000


class Subscription(Protocol):
    async def get(self, timeout: float) -> bytes | None:
        """Return the next message, or None if none arrived within ``timeout`` seconds."""


class Broker(Protocol):
    def publish(self, channel: str, message: bytes) -> None:
        """Send a message to the channel's current subscribers; callable from any thread."""

    def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Return an async context manager that subscribes to the channel for its duration."""


class _MemorySubscription:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def deliver(self, message: bytes) -> None:
        if self.queue.qsize() >= MAX_PENDING_MESSAGES:
            self.queue.get_nowait()
        self.queue.put_nowait(message)

    async def get(self, timeout: float) -> bytes | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class MemoryBroker:
    """Subscribers in this process only: the embedded default, where one process serves everything."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[_MemorySubscription]] = {}

    def publish(self, channel: str, message: bytes) -> None:
        with self._lock:
            subscribers = list(self._subscribers.get(channel, ()))
        for subscription in subscribers:
            try:
                subscription.loop.call_soon_threadsafe(subscription.deliver, message)
            except RuntimeError:
                pass  # its event loop closed; the subscription is being removed

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_MemorySubscription]:
        subscription = _MemorySubscription()
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, set())
                subscribers.discard(subscription)
                if not subscribers:
                    self._subscribers.pop(channel, None)


def _unavailable() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The platform cannot serve more streams right now. Reconnect in a few seconds.",
        error_id="v1.streams_unavailable",
        headers={"Retry-After": "5"},
    )


class _RedisSubscription:
    def __init__(self, pubsub: redis.asyncio.client.PubSub) -> None:
        self.pubsub = pubsub

    async def get(self, timeout: float) -> bytes | None:
        try:
            message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        except redis.RedisError as exc:
            logger.warning("Stream subscription lost", error=str(exc))
            raise _unavailable() from None
        return message["data"] if message else None


class RedisBroker:
    """Redis pub/sub, so a message published in any process reaches subscribers in every other."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = redis.Redis.from_url(url)
        # Pub/sub channels span all of a Redis server's databases; the database
        # number in the name keeps deployments that share a server apart.
        self.prefix = f"m3o:{self._client.connection_pool.connection_kwargs.get('db', 0)}:"
        # One async client per event loop: a redis.asyncio connection belongs to the loop that made it.
        self._async_clients: dict[asyncio.AbstractEventLoop, redis.asyncio.Redis] = {}

    def publish(self, channel: str, message: bytes) -> None:
        self._client.publish(self.prefix + channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_RedisSubscription]:
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = redis.asyncio.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.prefix + channel)
        except redis.RedisError as exc:
            # Also MaxConnectionsError: every connection of this process's pool is subscribed already.
            logger.warning("Stream subscription failed", error=str(exc))
            await pubsub.aclose()
            raise _unavailable() from None
        try:
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.aclose()


@cache
def get_broker() -> Broker:
    if settings.REDIS_URL:
        return RedisBroker(settings.REDIS_URL)
    return MemoryBroker()

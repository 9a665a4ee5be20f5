"""One open stream: the gateway's checks when it opens, then a charge per message.

Pricing rule for stream endpoints: the endpoint's price is charged per message
sent, exactly as if each message were one call (the endpoint's free quota and
the plan's allowance count messages too). Opening a stream costs nothing, but
an account in debt cannot open one. Each message is recorded as one usage
event whose request id is the stream's id followed by ``.<message number>``.

Every open stream is re-checked by a watchdog about twice a second, with one
query for all streams of the process, so a revoked or expired key or a
suspended account ends its streams within a second or so.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from accounts.authentication import KeyState
from accounts.models import ApiKey
from billing.models import UsageEvent
from billing.metering import CallRecord, Reservation, get_meter
from billing.quotas import Pricing, account_limits
from catalog.models import Endpoint
from m3o_web.errors import (
    ApiError,
    BadRequest,
    InternalError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from services import gateway, registry
from services.kit import CallContext
from services.payload import parse_body, validate_body
from services.playground_access import playground_callers, stream_ticket_redeem

logger = structlog.get_logger(__name__)

WATCH_INTERVAL_SECONDS = 0.5

# Sends one message; returns False when the client has gone.
Emit = Callable[[dict[str, Any]], Awaitable[bool]]


def run_sync[**P, R](function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Run ORM and cache code off the event loop, in a thread that tidies its database connection."""

    def tidy(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return sync_to_async(tidy, thread_sensitive=False)


class Stream:
    """An opened stream: who opened it, what it streams, and why it must stop, once it must."""

    def __init__(self, *, request_id: str, key: KeyState, endpoint: Endpoint, body: dict[str, Any], source: str) -> None:
        self.request_id = request_id
        self.key = key
        self.endpoint = endpoint
        self.body = body
        self.source = source
        self.sent = 0
        self.charged_units = 0
        # The price of the message being sent, charged if it reaches the client.
        self.message_units = 0
        self.stop_error: ApiError | None = None
        self.stopped = asyncio.Event()
        self.holds_slot = False

    def stop(self, error: ApiError) -> None:
        """End the stream with an error frame."""
        if not self.stopped.is_set():
            self.stop_error = error
            self.stopped.set()

    def leave(self) -> None:
        """End the stream because the client left: nothing more to send."""
        self.stopped.set()

    def take_slot(self) -> None:
        """Count the stream against its account's open streams in this process, or raise 429 at the limit."""
        limit = settings.M3O_MAX_STREAMS_PER_ACCOUNT
        if _streams_per_account[self.key.account_id] >= limit:
            raise TooManyRequests(
                f"This account already has {limit} streams open on this server, the maximum. "
                "Close one before opening another.",
                error_id="v1.too_many_streams",
            )
        _streams_per_account[self.key.account_id] += 1
        self.holds_slot = True

    def release_slot(self) -> None:
        """Stop counting the stream against its account; safe to call more than once."""
        if self.holds_slot:
            self.holds_slot = False
            _streams_per_account[self.key.account_id] -= 1
            if _streams_per_account[self.key.account_id] <= 0:
                del _streams_per_account[self.key.account_id]

    async def pump(self, emit: Emit) -> ApiError | None:
        """Send the handler's messages until it ends, the client leaves or the stream is stopped.

        Returns the error to send as the last frame, or None for a clean end.
        """
        builtin = _stream_handler(self.endpoint)
        context = CallContext(
            account_id=self.key.account_id,
            request_id=self.request_id,
            service=self.endpoint.service.slug,
            endpoint=self.endpoint.name,
            body=self.body,
        )
        _current.set(self)  # the handler's steps run in tasks that copy this context
        messages = builtin(context)
        _open_streams.add(self)
        _ensure_watchdog()
        try:
            while True:
                message = await self._next(messages)
                if message is None:
                    return self.stop_error
                started = time.perf_counter()
                request_id = f"{self.request_id}.{self.sent + 1}"
                cost = await run_sync(self._reserve)(request_id)
                self.message_units = cost.cost_units
                delivered = False
                try:
                    delivered = await emit(message)
                    if delivered:
                        self.sent += 1
                finally:
                    await run_sync(self._settle)(request_id, cost, 200 if delivered else 499, started)
                if not delivered:
                    return None
                self.charged_units += cost.cost_units
        except ApiError as error:
            return error
        except DatabaseError as exc:
            logger.error("Stream stopped: database unavailable", request_id=self.request_id, error=str(exc))
            return ServiceUnavailable(
                "The platform's database is unavailable, so the stream stopped. Reconnect shortly.",
                error_id="v1.database_unavailable",
            )
        except Exception:
            logger.exception("Stream failed", request_id=self.request_id)
            return InternalError(
                f"The stream failed inside the platform. Quote request id {self.request_id} to support."
            )
        finally:
            _open_streams.discard(self)
            await messages.aclose()  # type: ignore[attr-defined]
            logger.info(
                "Stream closed",
                request_id=self.request_id,
                account_id=self.key.account_id,
                key_prefix=self.key.prefix,
                service=self.endpoint.service.slug,
                endpoint=self.endpoint.name,
                messages=self.sent,
                units=self.charged_units,
            )

    async def _next(self, messages: AsyncIterator[dict[str, Any]]) -> dict[str, Any] | None:
        """Return the handler's next message, or None when it ends or the stream is stopped first."""
        if self.stopped.is_set():
            return None
        following = asyncio.ensure_future(anext(messages))
        stopping = asyncio.ensure_future(self.stopped.wait())
        await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if self.stopped.is_set():
            following.cancel()
            try:
                await following
            except (asyncio.CancelledError, StopAsyncIteration):
                pass
            return None
        try:
            return following.result()
        except StopAsyncIteration:
            return None

    def _reserve(self, request_id: str) -> Reservation:
        """Reserve one message as the gateway reserves a call: price, free quota and allowance, balance and cap."""
        limits = account_limits(self.key.account_id, epochs=gateway.current_epochs())
        pricing = Pricing(
            endpoint_id=self.endpoint.pk,
            price_units=self.endpoint.price_units,
            free_quota=self.endpoint.free_quota,
            allowance=limits.free_calls_per_month,
            past_allowance_units=settings.M3O_UNITS_PAST_ALLOWANCE,
        )
        meter = get_meter()
        return gateway.reserve(
            lambda: meter.reserve(account_id=self.key.account_id, request_id=request_id, pricing=pricing),
            request_id=request_id,
        )

    def _settle(self, request_id: str, cost: Reservation, status_code: int, started: float) -> None:
        record = CallRecord(
            request_id=request_id,
            account_id=self.key.account_id,
            api_key_id=self.key.key_id if self.key.key_id > 0 else None,
            service=self.endpoint.service.slug,
            endpoint=self.endpoint.name,
            status_code=status_code,
            latency_ms=int((time.perf_counter() - started) * 1000),
            source=self.source,
        )
        get_meter().settle(record=record, reservation=cost)


_current: contextvars.ContextVar[Stream] = contextvars.ContextVar("m3o_stream")


def messages_delivered() -> int:
    """Return how many messages the running stream has sent to its client so far.

    A handler that must not lose a message it yielded but the client never got
    (the event service) compares this with its own count when it is closed.
    """
    return _current.get().sent


def _stream_handler(endpoint: Endpoint) -> registry.StreamHandler:
    service = registry.get(endpoint.service.slug)
    builtin = service.endpoint(endpoint.name) if service else None
    if builtin is None or builtin.stream is None:
        raise NotFound(
            f"The {endpoint.service.slug} service has no stream handler for {endpoint.name} on this platform.",
            error_id="v1.not_implemented",
        )
    return builtin.stream


@dataclass(frozen=True, slots=True)
class Credentials:
    """The credentials a stream request offers: an API key, or a playground ticket and the session key."""

    authorization: str = ""
    ticket: str = ""
    session_key: str = ""

    def caller(self, endpoint: Endpoint) -> tuple[KeyState, str]:
        """Return the caller and the usage source its messages are recorded with."""
        if self.ticket:
            caller = stream_ticket_redeem(ticket=self.ticket, session_key=self.session_key, endpoint=endpoint)
            return caller, UsageEvent.Source.PLAYGROUND
        return gateway.authenticate(self.authorization), UsageEvent.Source.API


def _open(*, service: str, endpoint_name: str, credentials: Credentials, raw: bytes) -> Stream:
    endpoint = gateway.route(service, endpoint_name)
    if not endpoint.streaming:
        raise BadRequest(
            f"{endpoint.service.slug}/{endpoint.name} is not a stream; call it with a plain POST and a JSON body.",
            error_id="v1.not_a_stream",
        )
    key, source = credentials.caller(endpoint)
    gateway.authorize(key, endpoint)
    _, limited = gateway.rate_limit(key)
    if limited is not None:
        raise limited

    body = parse_body(raw, max_bytes=settings.M3O_MAX_BODY_BYTES, max_depth=settings.M3O_MAX_JSON_DEPTH)
    validate_body(body, endpoint.request_schema)
    _stream_handler(endpoint)
    request_id = uuid.uuid4().hex
    # A zero price with no free counter checks only that the account owes no debt.
    meter = get_meter()
    opening = Pricing(endpoint_id=endpoint.pk, price_units=0, free_quota=0, allowance=0, past_allowance_units=0)
    reservation = gateway.reserve(
        lambda: meter.reserve(account_id=key.account_id, request_id=request_id, pricing=opening), request_id=request_id
    )
    meter.release(account_id=key.account_id, request_id=request_id, reservation=reservation)
    return Stream(request_id=request_id, key=key, endpoint=endpoint, body=body, source=source)


async def open_stream(*, service: str, endpoint: str, credentials: Credentials, raw: bytes) -> Stream:
    """Run the gateway's checks for a stream request and return the stream, or raise the ApiError.

    The stream counts against its account's open streams until the caller calls ``release_slot``.
    """
    try:
        stream = await run_sync(_open)(service=service, endpoint_name=endpoint, credentials=credentials, raw=raw)
        # On the event loop, with no await between the count and the increment.
        stream.take_slot()
        return stream
    except ApiError:
        raise
    except DatabaseError as exc:
        logger.error("Stream not opened: database unavailable", service=service[:64], error=str(exc))
        raise ServiceUnavailable(
            "The platform's database is unavailable, so the stream was not opened. Retry shortly.",
            error_id="v1.database_unavailable",
            headers={"Retry-After": "5"},
        ) from None
    except Exception:
        request_id = uuid.uuid4().hex
        logger.exception("Stream not opened", request_id=request_id, service=service[:64], endpoint=endpoint[:64])
        raise InternalError(
            f"The stream failed to open inside the platform. Quote request id {request_id} to support."
        ) from None


# Streams open in this process, and the watchdog task that re-checks their keys.
_open_streams: set[Stream] = set()
# How many streams each account has open in this process, from opening to close (see Stream.take_slot).
_streams_per_account: Counter[int] = Counter()
_watchdog: asyncio.Task[None] | None = None


def _ensure_watchdog() -> None:
    global _watchdog
    if _watchdog is None or _watchdog.done():
        _watchdog = asyncio.get_running_loop().create_task(_watch())


async def _watch() -> None:
    while _open_streams:
        await asyncio.sleep(WATCH_INTERVAL_SECONDS)
        streams = list(_open_streams)
        try:
            problems = await run_sync(_key_problems)(streams)
        except DatabaseError as exc:
            logger.warning("Stream watchdog could not read keys", error=str(exc))
            continue
        for stream, error in problems:
            logger.info("Stream stopped", request_id=stream.request_id, error_id=error.id)
            stream.stop(error)


def _key_problems(streams: list[Stream]) -> list[tuple[Stream, ApiError]]:
    """Re-read every stream's key (one query) and playground caller (one more) and apply the gateway's checks."""
    keyed = [stream for stream in streams if stream.key.key_id > 0]
    keys = {
        key.pk: KeyState.from_key(key)
        for key in ApiKey.objects.select_related("account").filter(pk__in={stream.key.key_id for stream in keyed})
    }
    playground = [stream.key for stream in streams if stream.key.key_id <= 0]
    callers = playground_callers(playground) if playground else {}
    problems = []
    for stream in streams:
        try:
            if stream.key.key_id > 0:
                key = keys.get(stream.key.key_id)
                if key is None:
                    raise Unauthorized("This API key no longer exists.", error_id="v1.invalid_key")
            else:
                current = callers[stream.key.key_id, stream.key.account_id]
                if isinstance(current, ApiError):
                    raise current
                key = current
            gateway.check_key(key)
            gateway.authorize(key, stream.endpoint)
        except ApiError as error:
            problems.append((stream, error))
    return problems


def stop_all(error: ApiError) -> None:
    """Stop every stream of this process with the error, as on server shutdown."""
    for stream in list(_open_streams):
        stream.stop(error)


def open_stream_count() -> int:
    return len(_open_streams)

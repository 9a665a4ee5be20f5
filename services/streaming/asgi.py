"""The ASGI application: stream endpoints here, everything else to Django.

This module serves ``/v1/<service>/<endpoint>`` on the event loop when it is a
WebSocket, or a POST to an endpoint marked streaming. Any other request goes
to Django's ASGI handler unchanged. A stream's key comes from
``Authorization`` or, for browsers (which cannot set headers on a WebSocket),
from the subprotocol ``m3o-key.<key>``. The playground opens WebSockets with
no key: it offers a single-use ticket as the subprotocol ``m3o-ticket.<ticket>``
and sends the session cookie, and such a handshake is refused unless its
Origin is this site (see services.playground_access).

A client that offers the subprotocol ``m3o-metered`` gets each message
wrapped with what it cost: ``{"message": ..., "count": n, "cost_units": c,
"total_units": t}``. Error frames are the envelope either way.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host

from catalog.models import Endpoint
from m3o_web.errors import ApiError, PayloadTooLarge, ServiceUnavailable
from services.playground_access import TICKET_SUBPROTOCOL
from services.streaming.session import Credentials, Stream, open_stream, open_stream_count, run_sync, stop_all

logger = structlog.get_logger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

V1_PATH = re.compile(r"/v1/([^/]+)/([^/]+)/?")
KEY_SUBPROTOCOL = "m3o-key."
# A subprotocol a client may offer beside the key, so the server can confirm it instead of echoing the key.
PLAIN_SUBPROTOCOL = "m3o"
# Like PLAIN_SUBPROTOCOL, and each message comes wrapped with its cost.
METERED_SUBPROTOCOL = "m3o-metered"
FIRST_FRAME_TIMEOUT_SECONDS = 30
STREAM_NAMES_TTL_SECONDS = 10
SHUTDOWN_GRACE_SECONDS = 5
NORMAL_CLOSURE = 1000


# Stream connections this process is serving, from the request to the close frame.
_serving = 0


def close_code(error: ApiError) -> int:
    """Return the WebSocket close code for an error frame: 4000 plus its HTTP status (4401, 4402, 4503...)."""
    return 4000 + error.code


class _StreamNames:
    """The set of (service, endpoint) pairs that stream, re-read from the catalog every few seconds."""

    def __init__(self) -> None:
        self.names: frozenset[tuple[str, str]] = frozenset()
        self.loaded_at = float("-inf")

    async def contains(self, service: str, endpoint: str) -> bool:
        if time.monotonic() - self.loaded_at >= STREAM_NAMES_TTL_SECONDS:
            try:
                self.names = await run_sync(self._load)()
                self.loaded_at = time.monotonic()
            except DatabaseError:
                pass  # the call then goes to Django, and the gateway reports the database error
        return (service.lower(), endpoint.lower()) in self.names

    @staticmethod
    def _load() -> frozenset[tuple[str, str]]:
        rows = Endpoint.objects.filter(streaming=True).values_list("service__slug", "name")
        return frozenset((slug.lower(), name.lower()) for slug, name in rows)


async def _counted(serving: Awaitable[None]) -> None:
    global _serving
    _serving += 1
    try:
        await serving
    finally:
        _serving -= 1


class StreamingRouter:
    """Wrap Django's ASGI application: serve streams here and handle the lifespan protocol."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.stream_names = _StreamNames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        match = V1_PATH.fullmatch(scope.get("path", ""))
        if scope["type"] == "websocket":
            if match is None:
                await receive()
                await send({"type": "websocket.close", "code": 1008})
                return
            await _counted(serve_websocket(scope, receive, send, *match.groups()))
            return
        if (
            match is not None
            and scope.get("method") == "POST"
            and await self.stream_names.contains(*match.groups())
        ):
            await _counted(serve_ndjson(scope, receive, send, *match.groups()))
            return
        await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _stop_streams_on_signals(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                _stop_streams_for_shutdown()
                await _streams_closed()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _stop_streams_for_shutdown() -> None:
    stop_all(
        ServiceUnavailable(
            "The server is shutting down, so the stream stopped. Reconnect to continue.",
            error_id="v1.shutting_down",
        )
    )


def _stop_streams_on_signals(loop: asyncio.AbstractEventLoop) -> None:
    """End open streams with an error frame as soon as the worker receives SIGTERM or SIGINT.

    granian waits for open connections to end before it sends lifespan.shutdown,
    so streams must end at the signal, not at lifespan.shutdown. The server's
    own handler for the signal still runs afterwards.
    """
    # NOTE: asyncio offers no public way to read a loop's signal handler, so
    # the server's handler is read from the loop's private table.
    handlers = getattr(loop, "_signal_handlers", {})
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = handlers.get(signum)

        def on_signal(previous: asyncio.Handle | None = previous) -> None:
            _stop_streams_for_shutdown()
            loop.create_task(_then_stop_server(previous))

        try:
            loop.add_signal_handler(signum, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            return  # not the main thread, or no signals on this platform: lifespan.shutdown still stops streams


async def _then_stop_server(previous: asyncio.Handle | None) -> None:
    """Let the streams send their last frame and close, then run the server's own shutdown."""
    await _streams_closed()
    if previous is not None:
        previous._run()


async def _streams_closed() -> None:
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    while (_serving or open_stream_count()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _same_origin(scope: Scope) -> bool:
    """Return whether a WebSocket handshake comes from a page of this site, as Django's CSRF check decides for forms.

    Browsers send Origin on every WebSocket handshake and a page cannot
    forge it, so this check rejects cross-site WebSocket hijacking, where another
    site's page opens a stream with the visitor's session cookie.
    """
    origin = _header(scope, b"origin").lower()
    host = _header(scope, b"host").lower()
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host allows
    if not origin or not host or not validate_host(split_domain_port(host)[0], allowed_hosts):
        return False
    secure = scope.get("scheme") == "wss"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header is not None:
        name, value = proxy_header
        secure = secure or _header(scope, name.removeprefix("HTTP_").lower().replace("_", "-").encode()) == value
    return origin == f"{'https' if secure else 'http'}://{host}" or origin in settings.CSRF_TRUSTED_ORIGINS


def _credentials(scope: Scope, offered: list[str]) -> Credentials:
    """Return what the handshake offered to say who it is: a key, else a playground ticket and the session."""
    authorization = _header(scope, b"authorization")
    key_protocol = next((name for name in offered if name.startswith(KEY_SUBPROTOCOL)), None)
    if not authorization and key_protocol is not None:
        authorization = f"Bearer {key_protocol.removeprefix(KEY_SUBPROTOCOL)}"
    ticket_protocol = next((name for name in offered if name.startswith(TICKET_SUBPROTOCOL)), None)
    if authorization or ticket_protocol is None:
        return Credentials(authorization=authorization)
    cookies = parse_cookie(_header(scope, b"cookie"))
    return Credentials(
        ticket=ticket_protocol.removeprefix(TICKET_SUBPROTOCOL),
        session_key=cookies.get(settings.SESSION_COOKIE_NAME, ""),
    )


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


async def serve_websocket(scope: Scope, receive: Receive, send: Send, service: str, endpoint: str) -> None:
    """Serve one stream over a WebSocket: the first text frame is the request, each message one frame."""
    connect = await receive()
    if connect["type"] != "websocket.connect":
        return
    offered = list(scope.get("subprotocols") or [])
    credentials = _credentials(scope, offered)
    if credentials.ticket and not _same_origin(scope):
        # Closing before accepting rejects the handshake with a 403.
        logger.info("Stream rejected: playground ticket from another origin", origin=_header(scope, b"origin")[:200])
        await send({"type": "websocket.close", "code": 1008})
        return
    # Browsers fail a handshake that offered subprotocols and got none back, so
    # the server confirms one: "m3o-metered" or "m3o" when offered, else the key
    # or ticket protocol, which only goes back to the client that sent it.
    metered = METERED_SUBPROTOCOL in offered
    accept: dict[str, Any] = {"type": "websocket.accept"}
    for name in (METERED_SUBPROTOCOL, PLAIN_SUBPROTOCOL):
        if name in offered:
            accept["subprotocol"] = name
            break
    else:
        credential_protocol = next(
            (name for name in offered if name.startswith((KEY_SUBPROTOCOL, TICKET_SUBPROTOCOL))), None
        )
        if credential_protocol is not None:
            accept["subprotocol"] = credential_protocol
    await send(accept)

    client_closed = asyncio.Event()

    async def close(error: ApiError | None) -> None:
        if client_closed.is_set():
            return
        try:
            if error is not None:
                await send({"type": "websocket.send", "text": _encode(error.envelope())})
            await send({"type": "websocket.close", "code": NORMAL_CLOSURE if error is None else close_code(error)})
        except Exception:
            pass  # the client left first

    raw = await _first_frame(receive)
    if raw is None:
        return
    try:
        stream = await open_stream(service=service, endpoint=endpoint, credentials=credentials, raw=raw)
    except ApiError as error:
        await close(error)
        return
    try:
        await _serve_websocket_stream(stream, receive, send, metered=metered, client_closed=client_closed, close=close)
    finally:
        stream.release_slot()


async def _serve_websocket_stream(
    stream: Stream,
    receive: Receive,
    send: Send,
    *,
    metered: bool,
    client_closed: asyncio.Event,
    close: Callable[[ApiError | None], Awaitable[None]],
) -> None:
    async def emit(message: dict[str, Any]) -> bool:
        if client_closed.is_set():
            return False
        if metered:
            message = {
                "message": message,
                "count": stream.sent + 1,
                "cost_units": stream.message_units,
                "total_units": stream.charged_units + stream.message_units,
            }
        try:
            await send({"type": "websocket.send", "text": _encode(message)})
        except Exception:
            client_closed.set()
            return False
        return True

    reader = asyncio.ensure_future(_read_until_disconnect(receive, stream, client_closed, frame_type="websocket.disconnect"))
    try:
        error = await stream.pump(emit)
    finally:
        reader.cancel()
    await close(error)


async def _first_frame(receive: Receive) -> bytes | None:
    """Return the request frame, or None if the client closed the connection first."""
    try:
        message = await asyncio.wait_for(receive(), FIRST_FRAME_TIMEOUT_SECONDS)
    except TimeoutError:
        return b"\x00"  # fails the JSON parse, so the client gets a 400 frame
    if message["type"] != "websocket.receive":
        return None
    if message.get("text") is not None:
        return message["text"].encode("utf-8", "surrogatepass")
    return message.get("bytes") or b""


async def _read_until_disconnect(receive: Receive, stream: Stream, client_closed: asyncio.Event, *, frame_type: str) -> None:
    """Drain what the client sends after the request, and end the stream when it leaves."""
    while True:
        message = await receive()
        if message["type"] == frame_type:
            client_closed.set()
            stream.leave()
            return


async def _read_body(receive: Receive) -> bytes:
    limit = settings.M3O_MAX_BODY_BYTES
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client left before the request body ended")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The request body is larger than {limit} bytes. Send a smaller JSON body.",
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def serve_ndjson(scope: Scope, receive: Receive, send: Send, service: str, endpoint: str) -> None:
    """Serve one stream as a POST whose response is newline-delimited JSON, one message per line."""
    try:
        raw = await _read_body(receive)
        stream = await open_stream(
            service=service, endpoint=endpoint, credentials=Credentials(authorization=_header(scope, b"authorization")),
            raw=raw,
        )
    except ConnectionError:
        return
    except ApiError as error:
        headers = [(b"content-type", b"application/json")]
        headers += [(name.lower().encode(), value.encode()) for name, value in error.headers.items()]
        await send({"type": "http.response.start", "status": error.code, "headers": headers})
        await send({"type": "http.response.body", "body": _encode(error.envelope()).encode()})
        return
    try:
        await _serve_ndjson_stream(stream, receive, send)
    finally:
        stream.release_slot()


async def _serve_ndjson_stream(stream: Stream, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/x-ndjson"),
                (b"cache-control", b"no-store"),
                # Tells nginx not to buffer the stream.
                (b"x-accel-buffering", b"no"),
                (b"x-request-id", stream.request_id.encode()),
            ],
        }
    )
    # An empty chunk makes the server send the headers now, so a client learns the stream is open
    # before the first message, which on a quiet topic may be long in coming.
    await send({"type": "http.response.body", "body": b"", "more_body": True})
    client_closed = asyncio.Event()

    async def emit(message: dict[str, Any]) -> bool:
        if client_closed.is_set():
            return False
        try:
            await send({"type": "http.response.body", "body": (_encode(message) + "\n").encode(), "more_body": True})
        except Exception:
            client_closed.set()
            return False
        return True

    reader = asyncio.ensure_future(_read_until_disconnect(receive, stream, client_closed, frame_type="http.disconnect"))
    try:
        error = await stream.pump(emit)
    finally:
        reader.cancel()
    if client_closed.is_set():
        return
    try:
        last = (_encode(error.envelope()) + "\n").encode() if error is not None else b""
        await send({"type": "http.response.body", "body": last, "more_body": False})
    except Exception:
        pass  # the client left first

"""One local HTTP server on 127.0.0.1 that plays every third-party provider for the adapter tests.

Each provider lives under its own prefix (``/<provider>/...``), so an operator's
base URL for it is ``<server>/<provider>``. Paths answer with the recorded
responses of recordings.py; a test replaces an answer with ``fake.set(...)``
to play an error, a rate limit or a slow provider.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.services.providers.recordings import RECORDED


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    provider: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(self.body.decode()).items()}


@dataclass
class FakeProviders:
    url: str
    requests: list[Seen] = field(default_factory=list)
    overrides: dict[tuple[str, str], Reply] = field(default_factory=dict)

    def base_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def set(self, provider: str, path: str, reply: Reply) -> None:
        self.overrides[(provider, path)] = reply

    def seen(self, provider: str) -> list[Seen]:
        return [request for request in self.requests if request.provider == provider]


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (keeps test output quiet)
        return

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        provider, _, rest = unquote(parts.path).lstrip("/").partition("/")
        path = "/" + rest
        fake: FakeProviders = self.server.fake
        fake.requests.append(
            Seen(provider, self.command, path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
        )
        reply = fake.overrides.get((provider, path))
        if reply is None:
            recorded = RECORDED.get((provider, path))
            reply = Reply(body=recorded) if recorded is not None else Reply(404, {"message": "no recording"})
        if reply.delay:
            time.sleep(reply.delay)
        payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up on a slow reply
            pass

    do_GET = do_POST = _handle


@contextmanager
def fake_providers() -> Iterator[FakeProviders]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    fake = FakeProviders(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

"""A real HTTP server on 127.0.0.1 that plays a third-party API for upstream tests."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeUpstream:
    url: str
    requests: list[Seen] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (keeps test output quiet)
        return

    def _reply(self, status: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def _reply_gzip(self, payload: bytes) -> None:
        compressed = gzip.compress(payload)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(compressed)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(compressed)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.fake.requests.append(
            Seen(self.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
        )
        path = parts.path
        if path.startswith("/api/words/"):
            word = unquote(path.rsplit("/", 1)[1])
            self._reply(200, json.dumps({"word": word, "length": len(word)}).encode())
        elif path == "/api/echo":
            self._reply(200, json.dumps({"received": json.loads(body or b"{}")}).encode())
        elif path == "/api/slow":
            time.sleep(2)
            self._reply(200, b"{}")
        elif path == "/api/fail":
            self._reply(500, b'{"error": "upstream broke"}')
        elif path == "/api/html":
            self._reply(200, b"<html>not json</html>", "text/html")
        elif path == "/api/list":
            self._reply(200, b"[1, 2, 3]")
        elif path == "/api/big":
            self._reply(200, b'{"data": "' + b"x" * 200_000 + b'"}')
        elif path == "/api/huge":
            # 20 MB of JSON with no Content-Length, so only counting the bytes can catch it.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'{"data": "')
            for _ in range(20):
                self.wfile.write(b"x" * 1_000_000)
            self.wfile.write(b'"}')
        elif path == "/api/gzip":
            self._reply_gzip(json.dumps({"word": "zipped", "length": 6}).encode())
        elif path == "/api/bomb":
            # About 30 KB on the wire that expands to 30 MB.
            self._reply_gzip(b'{"data": "' + b"0" * 30_000_000 + b'"}')
        elif path == "/api/deep":
            self._reply(200, b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
        elif path == "/api/trickle":
            # One byte every 0.3 s: each read is quick, the whole body is slow.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            for char in b'{"data": "' + b"x" * 20 + b'"}':
                self.wfile.write(bytes([char]))
                self.wfile.flush()
                time.sleep(0.3)
        elif path == "/api/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._reply(404, b'{"error": "no such path"}')

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    fake = FakeUpstream(url=f"http://127.0.0.1:{server.server_address[1]}/api")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

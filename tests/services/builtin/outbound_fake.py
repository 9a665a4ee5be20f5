"""A real HTTP server on 127.0.0.1 that plays the websites outbound services reach.

Routes: /feed.xml (an RSS feed), /redirect?to=URL (302 to URL), /status/<code>,
/big (a body over the outbound cap), /slow (responds after a pause) and any
other path (a small JSON body with a cookie and hop-by-hop headers). Every
request is recorded, so a test can prove nothing reached it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Project news</title><link>http://news.test/</link>
<description>News</description>
<item><title>Release 2 is out</title><link>http://news.test/posts/release-2</link>
<guid>http://news.test/posts/release-2</guid><description>What changed in release 2.</description>
<pubDate>Thu, 01 Jan 2026 09:00:00 GMT</pubDate></item>
<item><title>Release 1</title><link>http://news.test/posts/release-1</link>
<guid>http://news.test/posts/release-1</guid><description>The first release.</description>
<pubDate>Mon, 01 Dec 2025 09:00:00 GMT</pubDate></item>
</channel></rss>"""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSite:
    url: str
    requests: list[Seen] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (keeps test output quiet)
        return

    def _reply(self, status: int, payload: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.site.requests.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        if parts.path == "/feed.xml":
            self._reply(200, FEED, "application/rss+xml; charset=utf-8")
        elif parts.path == "/redirect":
            target = parse_qs(parts.query)["to"][0]
            self._reply(302, b"", "text/plain", {"Location": target})
        elif parts.path.startswith("/status/"):
            self._reply(int(parts.path.rsplit("/", 1)[1]), b"{}", "application/json")
        elif parts.path == "/big":
            self._reply(200, b"x" * (2 * 1024 * 1024), "text/plain")
        elif parts.path == "/slow":
            time.sleep(float(parse_qs(parts.query).get("seconds", ["3"])[0]))
            self._reply(200, b"{}", "application/json")
        elif parts.path == "/binary":
            self._reply(200, bytes(range(256)), "application/octet-stream")
        else:
            self._reply(
                200,
                b'{"ok": true}',
                "application/json",
                {"Set-Cookie": "session=site-cookie", "Keep-Alive": "timeout=5", "X-Site": "fake"},
            )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


@contextmanager
def fake_site(host: str = "127.0.0.1") -> Iterator[FakeSite]:
    """Serve on ``host`` (a loopback address) and a free port until the block ends."""
    server = ThreadingHTTPServer((host, 0), _Handler)
    server.daemon_threads = True
    server.site = FakeSite(url=f"http://{host}:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.site
    finally:
        server.shutdown()
        server.server_close()

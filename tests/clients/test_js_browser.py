"""The JavaScript client in Chromium: the generated ES module streams over a WebSocket, as in a web app.

A page on one loopback origin imports clients/js/src/index.js and streams
from the live platform on another, as a web app would. Chromium's own
handshake, seen through the DevTools protocol, shows the key sent in
Sec-WebSocket-Protocol and the server confirming "m3o".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connections

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.clients.conftest import CLIENTS, Platform

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAGE = b"<!doctype html><title>m3o client</title>"

STREAM = """async ([token, address, request]) => {
  const { M3O, APIError } = await import("/src/index.js");
  const m3o = new M3O(token, { address });
  const messages = [];
  try {
    for await (const message of m3o.helloworld.stream(request)) messages.push(message);
  } catch (error) {
    return { messages, error: error instanceof APIError ? [error.name, error.code, error.id] : String(error) };
  }
  return { messages, error: null };
}"""


class _ClientFiles(SimpleHTTPRequestHandler):
    """Serve clients/js, and an empty page at / for the scripts to run in."""

    def do_GET(self) -> None:
        if self.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def client_origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_ClientFiles, directory=str(CLIENTS / "js")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def chromium_page(client_origin: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # The test reads the ORM while Playwright's event loop runs in this thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(client_origin + "/")
            yield page
            browser.close()
            connections.close_all()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_browser_streams_over_websocket(chromium_page: Any, platform: Platform) -> None:
    handshakes: list[dict[str, str]] = []
    devtools = chromium_page.context.new_cdp_session(chromium_page)
    devtools.on("Network.webSocketWillSendHandshakeRequest", lambda event: handshakes.append(event["request"]["headers"]))
    devtools.on("Network.webSocketHandshakeResponseReceived", lambda event: handshakes.append(event["response"]["headers"]))
    devtools.send("Network.enable")

    result = chromium_page.evaluate(STREAM, [platform.token, platform.address, {"name": "Alice", "messages": 3}])

    assert result == {"messages": [{"message": "Hello Alice"}] * 3, "error": None}
    [sent, received] = handshakes
    assert sent["Sec-WebSocket-Protocol"] == f"m3o, m3o-key.{platform.token}"
    assert "Authorization" not in sent
    assert {name.lower(): value for name, value in received.items()}["sec-websocket-protocol"] == "m3o"


def test_browser_stream_typed_errors(chromium_page: Any, platform: Platform) -> None:
    invalid = chromium_page.evaluate(STREAM, [platform.token, platform.address, {}])
    broke = chromium_page.evaluate(STREAM, [platform.broke_token, platform.address, {"name": "Alice"}])

    assert invalid == {"messages": [], "error": ["BadRequestError", 400, "v1.invalid_request"]}
    assert broke == {"messages": [], "error": ["PaymentRequiredError", 402, "v1.insufficient_credit"]}

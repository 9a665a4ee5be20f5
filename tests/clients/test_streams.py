"""The Python client's stream reader against a local server that speaks the stream format.

This proves the client side on its own, on any database: NDJSON lines decode
to messages and an error frame raises the typed error. test_python_client.py
streams from the live platform.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.clients import conftest as _paths  # noqa: F401  (puts clients/python/src on sys.path)


class _NdjsonHandler(BaseHTTPRequestHandler):
    """Serve the stream format: NDJSON lines, closed by an error frame in the envelope."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for number in range(2):
            self.wfile.write(json.dumps({"message": f"Hello {request['name']} {number}"}).encode() + b"\n")
        envelope = {"id": "v1.insufficient_credit", "code": 402, "detail": "Balance ran out.", "status": "Payment Required"}
        self.wfile.write(json.dumps(envelope).encode() + b"\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_stream_decodes_ndjson_and_error_frames() -> None:
    import m3o

    server = ThreadingHTTPServer(("127.0.0.1", 0), _NdjsonHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    messages = []
    try:
        with m3o.Client("m3o_x", address=f"http://127.0.0.1:{server.server_port}") as client:
            with pytest.raises(m3o.PaymentRequired):
                for message in client.stream("helloworld", "Stream", {"name": "Alice"}):
                    messages.append(message)
    finally:
        server.shutdown()
        server.server_close()

    assert messages == [{"message": "Hello Alice 0"}, {"message": "Hello Alice 1"}]

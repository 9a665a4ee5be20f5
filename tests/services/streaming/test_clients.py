"""The repository's Python and JavaScript clients read streams from a live ASGI server."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.clients import conftest as _paths  # noqa: F401  (puts clients/python/src on sys.path)
from tests.conftest import Persona
from tests.processes import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NODE = shutil.which("node")


def test_python_client_reads_messages_then_raises_the_402_frame(owner: Persona, asgi_server: str) -> None:
    import m3o

    owner.set_balance(2_000)
    messages = []

    with m3o.Client(owner.secret, address=asgi_server) as client:
        with pytest.raises(m3o.PaymentRequired):
            for message in client.stream("helloworld", "Stream", {"name": "Alice", "messages": 3}):
                messages.append(message)

    assert messages == [{"message": "Hello Alice"}] * 2
    assert owner.balance == 0


@pytest.mark.skipif(NODE is None, reason="needs Node.js 18 or newer: apt-get install -y nodejs")
def test_js_client_reads_a_stream(owner: Persona, asgi_server: str) -> None:
    # Node 20 has no global WebSocket, so the client reads the NDJSON form.
    script = """
    import { M3O } from "./src/index.js";
    const m3o = new M3O(process.env.KEY, { address: process.env.ADDRESS });
    const messages = [];
    for await (const message of m3o.stream("helloworld", "Stream", { name: "Bob", messages: 2 })) messages.push(message);
    console.log(JSON.stringify(messages));
    """
    result = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script],
        cwd=ROOT / "clients" / "js",
        env={"PATH": "/usr/bin:/bin", "KEY": owner.secret, "ADDRESS": asgi_server},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"message": "Hello Bob"}] * 2

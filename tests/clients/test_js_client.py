"""The JavaScript client: its own tests (clients/js/test) against a live test server, and its declarations."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.clients.conftest import CLIENTS, Platform

NODE = shutil.which("node")
TSC = shutil.which("tsc")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(NODE is None, reason="needs Node.js 18 or newer for node --test: apt-get install -y nodejs")
@pytest.mark.parametrize("over", ["NDJSON", "WebSocket"])
def test_js_client_suite_passes(platform: Platform, over: str) -> None:
    # Node 20 has a global WebSocket only with --experimental-websocket; Node 22 has one always.
    flags = ["--experimental-websocket"] if over == "WebSocket" else []
    if over == "NDJSON" and _node_has_websocket([]):
        pytest.skip("this Node always has a WebSocket class, so streams never use NDJSON here")
    if over == "WebSocket" and not _node_has_websocket(flags):
        pytest.skip("this Node has no WebSocket class, even with --experimental-websocket")
    result = subprocess.run(
        [str(NODE), *flags, "--test", "--test-reporter=spec", "test/"],
        cwd=CLIENTS / "js",
        env={"PATH": "/usr/bin:/bin", **platform.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    # Where the server serves no streams (SQLite, see conftest), the three live stream tests skip.
    # The subprotocol test also needs a WebSocket class.
    if not platform.streams:
        skipped = 3
    elif over == "NDJSON":
        skipped = 1
    else:
        skipped = 0
    assert f"skipped {skipped}" in result.stdout, result.stdout
    assert f"pass {10 - skipped}" in result.stdout, result.stdout
    if platform.streams:
        assert f"a stream over {over} receives every message" in result.stdout, result.stdout


def _node_has_websocket(flags: list[str]) -> bool:
    result = subprocess.run(
        [str(NODE), *flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
        env={"PATH": "/usr/bin:/bin"}, capture_output=True, timeout=30,
    )
    return result.returncode == 0


@pytest.mark.skipif(TSC is None, reason="needs the TypeScript compiler: apt-get install -y node-typescript")
def test_js_declarations_type_check() -> None:
    result = subprocess.run(
        [str(TSC), "--noEmit", "--strict", "--target", "es2022", "--module", "nodenext",
         "--moduleResolution", "nodenext", "test/types.mts"],
        cwd=CLIENTS / "js",
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stdout + result.stderr

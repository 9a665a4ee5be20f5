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
def test_js_client_suite_passes(platform: Platform) -> None:
    result = subprocess.run(
        [str(NODE), "--test", "--test-reporter=spec", "test/"],
        cwd=CLIENTS / "js",
        env={"PATH": "/usr/bin:/bin", **platform.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "# skipped 0" in result.stdout or "skipped 0" in result.stdout, result.stdout
    assert "pass 7" in result.stdout, result.stdout


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

"""The Go client's own tests (clients/go) with go test, against a live test server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENTS, Platform

GO = shutil.which("go") or ("/usr/lib/go/bin/go" if os.path.exists("/usr/lib/go/bin/go") else None)
GOFMT = shutil.which("gofmt")

pytestmark = pytest.mark.skipif(GO is None, reason="needs Go: apt-get install -y golang-go (scripts/test does it as root)")


def go_env(tmp_path: Path) -> dict[str, str]:
    cache = Path(os.environ.get("M3O_GO_CACHE", Path.home() / ".cache" / "m3o-go-build"))
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "GOCACHE": str(cache),
        "GOPATH": str(tmp_path / "gopath"),
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }


@pytest.mark.django_db(transaction=True)
def test_go_client_suite_passes(platform: Platform, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(GO), "test", "-count=1", "-v", "./..."],
        cwd=CLIENTS / "go",
        env={**go_env(tmp_path), **platform.env()},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    # The two live stream tests skip where the server serves no streams (SQLite, see conftest).
    skipped = 0 if platform.streams else 2
    assert result.stdout.count("--- SKIP") == skipped, result.stdout
    assert result.stdout.count("--- PASS") == 9 - skipped, result.stdout


@pytest.mark.skipif(GOFMT is None, reason="needs gofmt from golang-go")
def test_generated_go_is_gofmt_clean() -> None:
    result = subprocess.run([str(GOFMT), "-l", "."], cwd=CLIENTS / "go", capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"gofmt would change: {result.stdout}"

"""The README's first call in each client runs as written against a live test server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENTS, PYTHON_CLIENT, Platform
from tests.clients.test_go_client import GO, go_env
from tests.processes import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

NODE = shutil.which("node")
# Where the README's examples expect scripts/run.
README_ADDRESS = "http://127.0.0.1:8000"


def readme_example(language: str, address: str) -> str:
    """The first code block in ``language`` of the README's section on clients, calling ``address``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Clients and the command line tool", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"^```{language}\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)
    assert blocks, f"the README's section on clients has no {language} example"
    return blocks[0].replace(README_ADDRESS, address)


def run(platform: Platform, command: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "KEY": platform.token, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_command_line_example(platform: Platform, tmp_path: Path) -> None:
    # The m3o command as pip installs it: python -m m3o, from the repository's client.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "m3o").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m m3o "$@"\n')
    (bin_dir / "m3o").chmod(0o755)
    script = "set -e\n" + readme_example("sh", platform.address)

    out = run(platform, ["bash", "-c", script], tmp_path, PATH=f"{bin_dir}:/usr/bin:/bin", PYTHONPATH=str(PYTHON_CLIENT))

    assert out.count('"message": "Hello Alice"') == 2, out
    assert "helloworld" in out.split('"message": "Hello Alice"')[-1], out


def test_python_example(platform: Platform, tmp_path: Path) -> None:
    script = readme_example("python", platform.address)

    assert run(platform, [sys.executable, "-c", script], tmp_path, PYTHONPATH=str(PYTHON_CLIENT)) == "Hello Alice\n"


@pytest.mark.skipif(NODE is None, reason="needs Node.js 18 or newer: apt-get install -y nodejs")
def test_javascript_example(platform: Platform, tmp_path: Path) -> None:
    # What npm install ./clients/js leaves: node_modules/m3o pointing at the package.
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "m3o").symlink_to(CLIENTS / "js", target_is_directory=True)
    (tmp_path / "first-call.mjs").write_text(readme_example("js", platform.address))

    assert run(platform, [str(NODE), "first-call.mjs"], tmp_path) == "Hello Alice\n"


@pytest.mark.skipif(GO is None, reason="needs Go: apt-get install -y golang-go (scripts/test does it as root)")
def test_go_example(platform: Platform, tmp_path: Path) -> None:
    app = tmp_path / "first-call"
    app.mkdir()
    (app / "go.mod").write_text(
        "module example.com/firstcall\n\ngo 1.19\n\n"
        f"require m3o.local/m3o v0.0.0\n\nreplace m3o.local/m3o => {CLIENTS / 'go'}\n"
    )
    (app / "main.go").write_text(readme_example("go", platform.address))

    assert run(platform, [str(GO), "run", "."], app, **go_env(tmp_path)) == "Hello Alice\n"

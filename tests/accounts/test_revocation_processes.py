"""Revocation reaches every worker process of a real server on the very next call."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from accounts.services import api_key_revoke
from tests.conftest import Persona
from tests.processes import ROOT, free_port, process_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

WORKERS = 2


@pytest.fixture
def server_url(tmp_path: Path) -> Iterator[str]:
    """Serve the app with granian and several worker processes, on the test database."""
    port = free_port()
    env = process_env(tmp_path, DEBUG="0", ALLOWED_HOSTS="127.0.0.1")
    log = (tmp_path / "granian.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(WORKERS), "m3o_web.wsgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.post(f"{url}/v1/helloworld/Call", timeout=2).status_code == 401
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(ready), (tmp_path / "granian.log").read_text()[-3000:]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def call(url: str, secret: str) -> int:
    # A new connection per call lets the kernel spread calls over the workers.
    with httpx.Client() as client:
        response = client.post(
            f"{url}/v1/helloworld/Call", content=b'{"name": "A"}', headers={"Authorization": f"Bearer {secret}"}
        )
    return response.status_code


def test_revoked_key_fails_next_call_on_every_worker(owner: Persona, server_url: str) -> None:
    # Enough calls that every worker has the key in its in-process cache.
    assert {call(server_url, owner.secret) for _ in range(30)} == {200}

    api_key_revoke(key=owner.key, actor=owner.user)

    assert {call(server_url, owner.secret) for _ in range(30)} == {401}

"""A live ASGI server (granian) on the test database, and stream clients for it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.processes import ROOT, free_port, process_env, wait_for


@contextmanager
def running_asgi_server(tmp_path: Path, **environment: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Serve m3o_web.asgi with granian on 127.0.0.1 on the test database; yield its URL and process.

    ``environment`` holds extra environment variables for the server, such as tighter rate limits.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The tests read balances from the database, so the server charges it directly, as in the other tests.
    env = process_env(
        tmp_path, **{"DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "M3O_METER": "database", "M3O_SITE_URL": url,
                     **environment}
    )
    log_path = tmp_path / "granian.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
         "m3o_web.asgi:application"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )

    def ready() -> bool:
        try:
            return httpx.post(f"{url}/v1/helloworld/Call", timeout=2).status_code == 401
        except httpx.HTTPError:
            return False

    try:
        assert wait_for(ready), log_path.read_text()[-3000:]
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def asgi_server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One live ASGI server per test module."""
    with running_asgi_server(tmp_path_factory.mktemp("asgi")) as (url, _):
        yield url


def ndjson(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any], timeout: float = 10) -> list[Any]:
    """POST a stream request and return every line it sent, decoded."""
    with httpx.stream(
        "POST", f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"},
        timeout=timeout,
    ) as response:
        return [json.loads(line) for line in response.iter_lines() if line.strip()]


def ws_url(url: str, service: str, endpoint: str) -> str:
    return f"{url.replace('http', 'ws', 1)}/v1/{service}/{endpoint}"


async def ws_frames(url: str, body: Any, **connect: Any) -> tuple[list[Any], int | None]:
    """Open a WebSocket stream, send the request frame, and return every frame and the close code."""
    frames = []
    async with websockets.connect(url, **connect) as socket:
        await socket.send(body if isinstance(body, str) else json.dumps(body))
        try:
            async for frame in socket:
                frames.append(json.loads(frame))
        except websockets.ConnectionClosed:
            pass
        return frames, socket.close_code

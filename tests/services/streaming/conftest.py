"""A live ASGI server (granian) on the test database, and stream clients for it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.processes import running_asgi_server


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

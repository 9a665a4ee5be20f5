"""The streaming transport over real WebSocket and streamed-HTTP clients against a live ASGI server."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from billing.models import UsageEvent
from tests.conftest import Persona
from tests.factories import make_key
from tests.processes import running_asgi_server
from tests.services.streaming.conftest import ndjson, ws_frames, ws_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ndjson_stream_sends_each_message_and_charges_each(owner: Persona, asgi_server: str) -> None:
    balance = owner.balance

    lines = ndjson(asgi_server, owner.secret, "helloworld", "Stream", {"name": "Alice", "messages": 3})

    assert lines == [{"message": "Hello Alice"}] * 3
    assert owner.balance == balance - 3 * 1_000
    events = UsageEvent.objects.filter(account=owner.account, endpoint="Stream")
    assert sorted(event.cost_units for event in events) == [1_000] * 3


def test_websocket_stream_with_key_in_subprotocol(owner: Persona, asgi_server: str) -> None:
    url = ws_url(asgi_server, "helloworld", "Stream")

    frames, code = asyncio.run(ws_frames(url, {"name": "Bob", "messages": 2}, subprotocols=[f"m3o-key.{owner.secret}"]))

    assert frames == [{"message": "Hello Bob"}] * 2
    assert code == 1000


def test_websocket_stream_with_key_in_authorization(owner: Persona, asgi_server: str) -> None:
    url = ws_url(asgi_server, "helloworld", "Stream")
    headers = {"Authorization": f"Bearer {owner.secret}"}

    frames, code = asyncio.run(ws_frames(url, {"name": "Bob", "messages": 1}, additional_headers=headers))

    assert (frames, code) == ([{"message": "Hello Bob"}], 1000)


def test_websocket_without_key_gets_401_frame(asgi_server: str, db: None) -> None:
    frames, code = asyncio.run(ws_frames(ws_url(asgi_server, "helloworld", "Stream"), {"name": "Bob"}))

    assert [frame["id"] for frame in frames] == ["v1.missing_key"]
    assert code == 4401


def test_invalid_stream_request_is_400_and_not_charged(owner: Persona, asgi_server: str) -> None:
    balance = owner.balance

    response = httpx.post(
        f"{asgi_server}/v1/helloworld/Stream", json={"name": "Alice", "messages": 0},
        headers={"Authorization": f"Bearer {owner.secret}"},
    )

    assert response.status_code == 400
    assert response.json()["id"] == "v1.bad_request" or "messages" in response.json().get("fields", {})
    assert owner.balance == balance


def test_plain_calls_still_reach_django(owner: Persona, asgi_server: str) -> None:
    response = httpx.post(
        f"{asgi_server}/v1/helloworld/Call", json={"name": "Alice"}, headers={"Authorization": f"Bearer {owner.secret}"}
    )

    assert response.status_code == 200
    assert response.json() == {"message": "Hello Alice"}


def test_server_shutdown_ends_open_streams_with_503_frame(owner: Persona, tmp_path: Path) -> None:
    async def run(url: str, process: subprocess.Popen[bytes]) -> tuple[list[dict], int | None]:
        async with websockets.connect(ws_url(url, "mq", "Subscribe"), subprotocols=[f"m3o-key.{owner.secret}"]) as socket:
            await socket.send(json.dumps({"topic": "orders"}))
            await asyncio.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 5)
            return [frame], socket.close_code

    with running_asgi_server(tmp_path) as (url, process):
        frames, code = asyncio.run(run(url, process))
        assert process.wait(timeout=10) == 0

    assert [frame["id"] for frame in frames] == ["v1.shutting_down"]
    assert code == 4503


def test_key_without_the_service_in_scope_gets_403_frame(owner: Persona, asgi_server: str) -> None:
    _, secret = make_key(owner.user, scopes=["helloworld"], name="hello only")

    frames, code = asyncio.run(
        ws_frames(ws_url(asgi_server, "mq", "Subscribe"), {"topic": "orders"}, subprotocols=[f"m3o-key.{secret}"])
    )

    assert [frame["id"] for frame in frames] == ["v1.key_scope"]
    assert code == 4403


def test_invalid_topic_is_400_with_the_field(owner: Persona, asgi_server: str) -> None:
    response = httpx.post(
        f"{asgi_server}/v1/mq/Subscribe", json={"topic": "no spaces"}, headers={"Authorization": f"Bearer {owner.secret}"}
    )

    assert response.status_code == 400
    assert "topic" in response.json()["fields"]


def test_bad_json_first_frame_gets_400_frame(owner: Persona, asgi_server: str) -> None:
    frames, code = asyncio.run(
        ws_frames(ws_url(asgi_server, "helloworld", "Stream"), "{not json", subprotocols=[f"m3o-key.{owner.secret}"])
    )

    assert [frame["code"] for frame in frames] == [400]
    assert code == 4400


def test_unknown_stream_path_is_404_frame(owner: Persona, asgi_server: str) -> None:
    frames, code = asyncio.run(
        ws_frames(ws_url(asgi_server, "nosuch", "Stream"), {}, subprotocols=[f"m3o-key.{owner.secret}"])
    )

    assert [frame["id"] for frame in frames] == ["v1.not_found"]
    assert code == 4404


def test_plain_call_to_a_stream_endpoint_is_400_and_not_charged(owner: Persona) -> None:
    balance = owner.balance

    response = owner.call("helloworld", "Stream", {"name": "Alice", "messages": 2})

    assert response.status_code == 400
    assert response.json()["id"] == "v1.stream_endpoint"
    assert owner.balance == balance


def test_parallel_streams_never_overdraw_the_balance(owner: Persona, asgi_server: str) -> None:
    owner.set_balance(7_000)  # seven greetings of 1,000 units

    async def read(client: httpx.AsyncClient) -> list[dict]:
        async with client.stream(
            "POST", f"{asgi_server}/v1/helloworld/Stream", json={"name": "Ann", "messages": 5},
            headers={"Authorization": f"Bearer {owner.secret}"}, timeout=20,
        ) as response:
            return [json.loads(line) async for line in response.aiter_lines() if line.strip()]

    async def run() -> list[list[dict]]:
        async with httpx.AsyncClient() as client:
            return await asyncio.gather(*(read(client) for _ in range(3)))

    streams = asyncio.run(run())

    greetings = [line for lines in streams for line in lines if line == {"message": "Hello Ann"}]
    assert len(greetings) == 7
    for lines in streams:
        # A stream ends after its five greetings or with the 402 frame when the balance runs out.
        if len(lines) != 5:
            assert lines[-1]["id"] == "v1.insufficient_credit", lines
    assert owner.balance == 0
    charged = UsageEvent.objects.filter(account=owner.account, endpoint="Stream").values_list("cost_units", flat=True)
    assert sum(charged) == 7_000


def test_open_streams_per_account_are_capped(owner: Persona, outsider: Persona, tmp_path: Path) -> None:
    """One account cannot hold every stream a process can serve; other accounts still open theirs."""
    owner.call("mq", "Publish", body={"topic": "idle", "message": {}})

    async def run(url: str) -> tuple[list[Any], int | None, list[Any], int | None, list[Any]]:
        subscribe = {"topic": "idle"}
        held = [
            await websockets.connect(ws_url(url, "mq", "Subscribe"), subprotocols=["m3o", f"m3o-key.{owner.secret}"])
            for _ in range(2)
        ]
        for socket in held:
            await socket.send(json.dumps(subscribe))
        await asyncio.sleep(0.5)
        try:
            refused, refused_code = await asyncio.wait_for(
                ws_frames(ws_url(url, "mq", "Subscribe"), subscribe, subprotocols=["m3o", f"m3o-key.{owner.secret}"]),
                3,
            )
        except TimeoutError:
            refused, refused_code = [], None  # the third stream opened
        other, other_code = [], None
        async with websockets.connect(
            ws_url(url, "mq", "Subscribe"), subprotocols=["m3o", f"m3o-key.{outsider.secret}"]
        ) as socket:
            await socket.send(json.dumps(subscribe))
            try:
                other.append(json.loads(await asyncio.wait_for(socket.recv(), 1.5)))
            except TimeoutError:
                other_code = 0  # still open: the outsider's stream was not refused
        await held[0].close()
        await asyncio.sleep(0.5)
        async with websockets.connect(
            ws_url(url, "mq", "Subscribe"), subprotocols=["m3o", f"m3o-key.{owner.secret}"]
        ) as socket:
            await socket.send(json.dumps(subscribe))
            try:
                again = [json.loads(await asyncio.wait_for(socket.recv(), 1.5))]
            except TimeoutError:
                again = []
        await held[1].close()
        return refused, refused_code, other, other_code, again

    with running_asgi_server(tmp_path, M3O_MAX_STREAMS_PER_ACCOUNT="2") as (url, _):
        refused, refused_code, other, other_code, again = asyncio.run(run(url))

    assert [frame["id"] for frame in refused] == ["v1.too_many_streams"]
    assert refused_code == 4429
    assert other == []
    assert other_code == 0
    assert again == []

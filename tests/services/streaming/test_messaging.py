"""mq and event streams against a live ASGI server, with real WebSocket and streamed-HTTP clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import httpx
import pytest
import websockets

from accounts.models import ApiKey
from tests.conftest import Persona
from tests.factories import make_key
from tests.services.streaming.conftest import ws_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"})


async def receive(socket: Any, count: int, timeout: float = 5) -> list[Any]:
    return [json.loads(await asyncio.wait_for(socket.recv(), timeout)) for _ in range(count)]


@pytest.mark.redis
def test_subscriber_gets_own_account_messages_only(owner: Persona, outsider: Persona, asgi_server: str) -> None:
    _, second_secret = make_key(owner.user, name="publisher")

    async def run() -> list[Any]:
        url = ws_url(asgi_server, "mq", "Subscribe")
        async with websockets.connect(url, subprotocols=[f"m3o-key.{owner.secret}"]) as socket:
            await socket.send(json.dumps({"topic": "orders"}))
            await asyncio.sleep(1)  # the subscription starts once the request frame is read
            outsider_response = await asyncio.to_thread(
                post, asgi_server, outsider.secret, "mq", "Publish", {"topic": "orders", "message": {"from": "outsider"}}
            )
            owner_response = await asyncio.to_thread(
                post, asgi_server, second_secret, "mq", "Publish", {"topic": "orders", "message": {"from": "owner"}}
            )
            assert (outsider_response.status_code, owner_response.status_code) == (200, 200)
            frames = await receive(socket, 1)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), 1)
            return frames

    assert asyncio.run(run()) == [{"topic": "orders", "message": {"from": "owner"}}]


def test_event_group_resumes_after_disconnect_without_loss_or_duplicates(owner: Persona, asgi_server: str) -> None:
    for number in range(1, 6):
        assert post(asgi_server, owner.secret, "event", "Publish", {"topic": "jobs", "message": {"n": number}}).status_code == 200
    request = {"topic": "jobs", "group": "workers", "offset": 1}

    async def consume(count: int) -> list[int]:
        url = ws_url(asgi_server, "event", "Consume")
        async with websockets.connect(url, subprotocols=[f"m3o-key.{owner.secret}"]) as socket:
            await socket.send(json.dumps(request))
            return [frame["message"]["n"] for frame in await receive(socket, count)]

    first = asyncio.run(consume(2))
    time.sleep(0.5)  # the server notices the disconnect
    for number in range(6, 8):
        post(asgi_server, owner.secret, "event", "Publish", {"topic": "jobs", "message": {"n": number}})
    with httpx.stream(
        "POST", f"{asgi_server}/v1/event/Consume", json=request,
        headers={"Authorization": f"Bearer {owner.secret}"}, timeout=10,
    ) as response:
        rest = []
        for line in response.iter_lines():
            rest.append(json.loads(line)["message"]["n"])
            if len(rest) == 5:
                break

    assert first == [1, 2]
    assert rest == [3, 4, 5, 6, 7]
    read = post(asgi_server, owner.secret, "event", "Read", {"topic": "jobs", "offset": 6, "limit": 10}).json()
    assert [item["message"]["n"] for item in read["messages"]] == [6, 7]


def test_event_read_is_scoped_to_the_account(owner: Persona, outsider: Persona, asgi_server: str) -> None:
    post(asgi_server, owner.secret, "event", "Publish", {"topic": "private", "message": {"secret": 1}})

    response = post(asgi_server, outsider.secret, "event", "Read", {"topic": "private"})

    assert response.json() == {"messages": []}


def test_revoked_key_stream_gets_error_frame_within_two_seconds(owner: Persona, asgi_server: str) -> None:
    from accounts.services import api_key_revoke

    def revoke() -> None:
        api_key_revoke(key=ApiKey.objects.get(pk=owner.key.pk), actor=owner.user)

    async def run() -> tuple[dict[str, Any], int | None, float]:
        url = ws_url(asgi_server, "mq", "Subscribe")
        async with websockets.connect(url, subprotocols=[f"m3o-key.{owner.secret}"]) as socket:
            await socket.send(json.dumps({"topic": "orders"}))
            await asyncio.sleep(0.5)
            revoked_at = time.monotonic()
            await asyncio.to_thread(revoke)
            frame = json.loads(await asyncio.wait_for(socket.recv(), 2))
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(socket.recv(), 2)
            return frame, socket.close_code, time.monotonic() - revoked_at

    frame, code, seconds = asyncio.run(run())

    assert frame["id"] == "v1.key_revoked"
    assert frame["code"] == 401
    assert code == 4401
    assert seconds < 2


def test_balance_running_out_closes_with_402_and_charges_each_message_sent(owner: Persona, asgi_server: str) -> None:
    owner.set_balance(2_500)  # covers two greetings of 1,000 units

    with httpx.stream(
        "POST", f"{asgi_server}/v1/helloworld/Stream", json={"name": "Ann", "messages": 5},
        headers={"Authorization": f"Bearer {owner.secret}"}, timeout=10,
    ) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line.strip()]

    assert lines[:2] == [{"message": "Hello Ann"}] * 2
    assert lines[2]["code"] == 402
    assert lines[2]["id"] == "v1.insufficient_credit"
    assert len(lines) == 3
    assert owner.balance == 500


def test_websocket_balance_running_out_gets_402_frame(owner: Persona, asgi_server: str) -> None:
    from tests.services.streaming.conftest import ws_frames

    owner.set_balance(1_000)

    frames, code = asyncio.run(
        ws_frames(ws_url(asgi_server, "helloworld", "Stream"), {"name": "Ann", "messages": 3},
                  subprotocols=[f"m3o-key.{owner.secret}"])
    )

    assert frames[0] == {"message": "Hello Ann"}
    assert frames[1]["id"] == "v1.insufficient_credit"
    assert code == 4402
    assert owner.balance == 0


def test_event_consumer_never_gets_another_accounts_messages(owner: Persona, outsider: Persona, asgi_server: str) -> None:
    post(asgi_server, owner.secret, "event", "Publish", {"topic": "jobs", "message": {"owner": True}})

    async def run() -> list[Any]:
        url = ws_url(asgi_server, "event", "Consume")
        async with websockets.connect(url, subprotocols=[f"m3o-key.{outsider.secret}"]) as socket:
            await socket.send(json.dumps({"topic": "jobs", "group": "workers", "offset": 1}))
            post_outsider = await asyncio.to_thread(
                post, asgi_server, outsider.secret, "event", "Publish", {"topic": "jobs", "message": {"outsider": True}}
            )
            assert post_outsider.status_code == 200
            frames = await receive(socket, 1)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), 1.5)
            return frames

    frames = asyncio.run(run())

    assert [frame["message"] for frame in frames] == [{"outsider": True}]


def test_notes_events_stream_own_changes_only(owner: Persona, outsider: Persona, asgi_server: str) -> None:
    async def run() -> list[Any]:
        url = ws_url(asgi_server, "notes", "Events")
        async with websockets.connect(url, subprotocols=[f"m3o-key.{owner.secret}"]) as socket:
            await socket.send(json.dumps({}))
            await asyncio.sleep(1)
            for secret, endpoint, body in [
                (outsider.secret, "Create", {"id": "n1", "title": "outsider"}),
                (owner.secret, "Create", {"id": "n1", "title": "mine"}),
                (owner.secret, "Update", {"id": "n1", "text": "milk"}),
                (owner.secret, "Delete", {"id": "n1"}),
            ]:
                response = await asyncio.to_thread(post, asgi_server, secret, "notes", endpoint, body)
                assert response.status_code == 200, response.content
            frames = await receive(socket, 3)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(socket.recv(), 1)
            return frames

    frames = asyncio.run(run())

    assert [frame["type"] for frame in frames] == ["create", "update", "delete"]
    assert frames[0]["note"]["title"] == "mine"
    assert frames[1]["note"]["text"] == "milk"
    assert frames[2]["note"] == {"id": "n1"}


def test_redis_broker_at_capacity_is_503_not_500(settings: Any) -> None:
    """A process whose Redis connections are all subscribed refuses the next subscription with the envelope."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: set REDIS_URL")
    import redis.asyncio

    from m3o_web.errors import ServiceUnavailable
    from services.streaming.broker import RedisBroker

    broker = RedisBroker(settings.REDIS_URL)

    async def run() -> ServiceUnavailable | None:
        broker._async_clients[asyncio.get_running_loop()] = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, max_connections=1
        )
        async with broker.subscribe("capacity-test"):
            try:
                async with broker.subscribe("capacity-test"):
                    return None
            except ServiceUnavailable as error:
                return error

    error = asyncio.run(run())

    assert error is not None
    assert error.code == 503
    assert error.id == "v1.streams_unavailable"

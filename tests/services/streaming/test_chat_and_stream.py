"""chat Join, stream Subscribe and the lists and comments Events against a live ASGI server.

Every test uses a real WebSocket or streamed-HTTP (NDJSON) client. Without
REDIS_URL the one server process delivers announcements in memory; with it they
go through Redis pub/sub, as between processes in production.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from billing.models import UsageEvent
from tests.conftest import Persona
from tests.factories import make_key
from tests.processes import wait_for
from tests.processes import running_asgi_server
from tests.services.streaming.conftest import ndjson, ws_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The subscription starts once the server has read the request; give it this long.
SUBSCRIBE_SECONDS = 1.0


def post(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.content
    return response.json()


async def apost(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"}
        )


class WebSocketStream:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, timeout: float = 5) -> Any:
        return json.loads(await asyncio.wait_for(self.socket.recv(), timeout))

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.socket.recv(), seconds)
        except TimeoutError:
            return True
        return False


class NdjsonStream:
    def __init__(self, lines: AsyncIterator[str]) -> None:
        self.lines = lines

    async def next(self, timeout: float = 5) -> Any:
        while True:
            line = await asyncio.wait_for(anext(self.lines), timeout)
            if line.strip():
                return json.loads(line)

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.next(seconds)
        except TimeoutError:
            return True
        return False

    async def ended(self, timeout: float = 5) -> bool:
        try:
            await self.next(timeout)
        except StopAsyncIteration:
            return True
        return False


@asynccontextmanager
async def websocket_stream(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any]) -> AsyncIterator[WebSocketStream]:
    async with websockets.connect(ws_url(url, service, endpoint), subprotocols=[f"m3o-key.{secret}"]) as socket:
        await socket.send(json.dumps(body))
        await asyncio.sleep(SUBSCRIBE_SECONDS)
        yield WebSocketStream(socket)


@asynccontextmanager
async def ndjson_stream(url: str, secret: str, service: str, endpoint: str, body: dict[str, Any]) -> AsyncIterator[NdjsonStream]:
    async with httpx.AsyncClient(timeout=10) as client:
        async with client.stream(
            "POST", f"{url}/v1/{service}/{endpoint}", json=body, headers={"Authorization": f"Bearer {secret}"}
        ) as response:
            assert response.status_code == 200
            await asyncio.sleep(SUBSCRIBE_SECONDS)
            yield NdjsonStream(response.aiter_lines())


def make_room(url: str, persona: Persona, *user_ids: str) -> str:
    return post(url, persona.secret, "chat", "Create", {"name": "Support", "user_ids": list(user_ids)})["room"]["id"]


def test_join_gets_own_account_messages_only(
    owner: Persona, outsider: Persona, asgi_server: str
) -> None:
    _, second_secret = make_key(owner.user, name="sender")
    room = make_room(asgi_server, owner, "alice", "bob")
    other_room = make_room(asgi_server, owner, "alice", "bob")
    outsider_room = make_room(asgi_server, outsider, "alice", "bob")

    async def run() -> tuple[list[Any], bool, int]:
        async with websocket_stream(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "bob"}) as joined:
            outsider_send = await apost(
                asgi_server, outsider.secret, "chat", "Send", {"room_id": room, "user_id": "alice", "text": "outsider"}
            )
            for room_id, text in ((outsider_room, "outsider's room"), (other_room, "other room"), (room, "hello bob")):
                secret = outsider.secret if room_id == outsider_room else second_secret
                response = await apost(
                    asgi_server, secret, "chat", "Send", {"room_id": room_id, "user_id": "alice", "text": text}
                )
                assert response.status_code == 200, response.content
            frames = [await joined.next()]
            return frames, await joined.nothing_within(1.5), outsider_send.status_code

    frames, quiet, outsider_status = asyncio.run(run())

    assert outsider_status == 404
    assert [frame["message"]["text"] for frame in frames] == ["hello bob"]
    assert frames[0]["message"]["user_id"] == "alice"
    assert quiet


def test_kicked_member_stops_receiving(owner: Persona, asgi_server: str) -> None:
    room = make_room(asgi_server, owner, "alice", "bob")
    body = {"room_id": room, "user_id": "alice", "text": "first"}

    async def run() -> tuple[list[Any], list[Any], Any, bool]:
        async with (
            websocket_stream(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "alice"}) as alice,
            ndjson_stream(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "bob"}) as bob,
        ):
            await apost(asgi_server, owner.secret, "chat", "Send", body)
            alice_frames = [await alice.next()]
            bob_frames = [await bob.next()]
            kicked = await apost(asgi_server, owner.secret, "chat", "Kick", {"room_id": room, "user_id": "bob"})
            assert kicked.status_code == 200
            bob_error = await bob.next()
            await apost(asgi_server, owner.secret, "chat", "Send", {**body, "text": "second"})
            alice_frames.append(await alice.next())
            return alice_frames, bob_frames, bob_error, await bob.ended()

    alice_frames, bob_frames, bob_error, bob_ended = asyncio.run(run())

    assert [frame["message"]["text"] for frame in alice_frames] == ["first", "second"]
    assert [frame["message"]["text"] for frame in bob_frames] == ["first"]
    assert (bob_error["code"], bob_error["id"]) == (403, "chat.join")
    assert bob_ended


def test_join_errors_for_stranger_and_missing_room(owner: Persona, asgi_server: str) -> None:
    room = make_room(asgi_server, owner, "alice")

    stranger = ndjson(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "mallory"})
    missing = ndjson(asgi_server, owner.secret, "chat", "Join", {"room_id": "nothing", "user_id": "alice"})
    invalid = httpx.post(
        f"{asgi_server}/v1/chat/Join", json={"room_id": room}, headers={"Authorization": f"Bearer {owner.secret}"}
    )

    assert [(line["code"], line["id"]) for line in stranger] == [(403, "chat.join")]
    assert [(line["code"], line["id"]) for line in missing] == [(404, "chat.join")]
    assert invalid.status_code == 400
    assert "user_id" in invalid.json()["fields"]


def test_deleting_the_room_ends_its_join_streams(owner: Persona, asgi_server: str) -> None:
    room = make_room(asgi_server, owner, "alice")

    async def run() -> Any:
        async with websocket_stream(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "alice"}) as joined:
            await apost(asgi_server, owner.secret, "chat", "Delete", {"room_id": room})
            return await joined.next()

    assert asyncio.run(run())["code"] == 404


def test_join_charges_each_message_delivered(owner: Persona, asgi_server: str) -> None:
    room = make_room(asgi_server, owner, "alice", "bob")

    async def run() -> list[Any]:
        async with ndjson_stream(asgi_server, owner.secret, "chat", "Join", {"room_id": room, "user_id": "bob"}) as joined:
            for number in range(3):
                await apost(asgi_server, owner.secret, "chat", "Send", {"room_id": room, "user_id": "alice", "text": str(number)})
            return [await joined.next() for _ in range(3)]

    frames = asyncio.run(run())

    events = UsageEvent.objects.filter(account=owner.account, service="chat", endpoint="Join")
    # The server records a message's usage just after sending it, so the last record may lag the frame.
    assert wait_for(lambda: events.count() == 3, timeout=5)
    assert [frame["message"]["text"] for frame in frames] == ["0", "1", "2"]
    assert sorted(event.cost_units for event in events) == [100] * 3
    assert sorted(event.request_id.rsplit(".", 1)[1] for event in events) == ["1", "2", "3"]


def test_stream_subscribe_gets_own_account_messages_only(owner: Persona, outsider: Persona, asgi_server: str) -> None:
    _, second_secret = make_key(owner.user, name="sender")
    for persona in (owner, outsider):
        post(asgi_server, persona.secret, "stream", "CreateChannel", {"name": "general"})

    async def run() -> tuple[list[Any], bool]:
        async with ndjson_stream(asgi_server, owner.secret, "stream", "Subscribe", {"channel": "general"}) as subscribed:
            for secret, text in ((outsider.secret, "outsider"), (second_secret, "owner")):
                response = await apost(asgi_server, secret, "stream", "SendMessage", {"channel": "general", "text": text})
                assert response.status_code == 200
            return [await subscribed.next()], await subscribed.nothing_within(1.5)

    frames, quiet = asyncio.run(run())

    events = UsageEvent.objects.filter(account=owner.account, service="stream", endpoint="Subscribe")
    assert wait_for(lambda: events.count() == 1, timeout=5)
    assert [frame["message"]["text"] for frame in frames] == ["owner"]
    assert quiet
    assert [event.cost_units for event in events] == [100]


def test_stream_subscribe_to_a_missing_channel_gets_404(owner: Persona, asgi_server: str) -> None:
    lines = ndjson(asgi_server, owner.secret, "stream", "Subscribe", {"channel": "nothing"})

    assert [(line["code"], line["id"]) for line in lines] == [(404, "stream.subscribe")]


@pytest.mark.parametrize(
    ("service", "record", "create", "update"),
    [
        ("lists", "list", {"id": "l1", "name": "Groceries"}, {"list": {"id": "l1", "items": ["Milk"]}}),
        ("comments", "comment", {"id": "c1", "text": "Nice"}, {"comment": {"id": "c1", "text": "Nicer"}}),
    ],
)
def test_events_stream_own_creates_updates_and_deletes(
    owner: Persona, outsider: Persona, asgi_server: str, service: str, record: str, create: dict, update: dict
) -> None:
    async def run() -> tuple[list[Any], list[Any], bool]:
        async with (
            websocket_stream(asgi_server, owner.secret, service, "Events", {}) as every,
            ndjson_stream(asgi_server, owner.secret, service, "Events", {"id": create["id"]}) as one,
        ):
            for secret, endpoint, body in [
                (outsider.secret, "Create", create),
                (owner.secret, "Create", {**create, "id": "other"}),
                (owner.secret, "Create", create),
                (owner.secret, "Update", update),
                (owner.secret, "Delete", {"id": create["id"]}),
            ]:
                response = await apost(asgi_server, secret, service, endpoint, body)
                assert response.status_code == 200, response.content
            every_frames = [await every.next() for _ in range(4)]
            one_frames = [await one.next() for _ in range(3)]
            return every_frames, one_frames, await every.nothing_within(1)

    every_frames, one_frames, quiet = asyncio.run(run())

    assert [(frame["type"], frame[record]["id"]) for frame in every_frames] == [
        ("create", "other"), ("create", create["id"]), ("update", create["id"]), ("delete", create["id"])
    ]
    assert [frame["type"] for frame in one_frames] == ["create", "update", "delete"]
    updated = next(iter(update.values()))
    assert {key: one_frames[1][record][key] for key in updated} == updated
    assert one_frames[2][record] == one_frames[1][record]  # a delete carries the record as it was
    assert quiet


def test_stream_counts_once_against_rate_limit(owner: Persona, tmp_path: Path) -> None:
    limits = {"M3O_RATE_LIMIT_PER_KEY": "3", "M3O_RATE_LIMIT_PER_ACCOUNT": "3", "M3O_RATE_LIMIT_WINDOW_SECONDS": "3600"}
    with running_asgi_server(tmp_path, **limits) as (url, _):
        greetings = ndjson(url, owner.secret, "helloworld", "Stream", {"name": "Ann", "messages": 5})
        calls = [
            httpx.post(f"{url}/v1/helloworld/Call", json={"name": "Ann"}, headers={"Authorization": f"Bearer {owner.secret}"})
            for _ in range(3)
        ]
        limited = ndjson(url, owner.secret, "helloworld", "Stream", {"name": "Ann", "messages": 1})

    assert greetings == [{"message": "Hello Ann"}] * 5
    assert [call.status_code for call in calls] == [200, 200, 429]
    assert limited[0]["id"] == "v1.rate_limited"

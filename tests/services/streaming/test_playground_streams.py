"""Playground streams: a ticket and the session cookie stand in for the API key, and nothing else changes.

These tests drive the real ASGI application (m3o_web.asgi) in this process, so
they run on SQLite too. test_transport covers the same transport through a
live granian server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Membership
from accounts.teams import team_create
from billing.models import UsageEvent, Wallet
from m3o_web.asgi import application
from services.playground_access import TICKET_MAX_AGE_SECONDS, TICKET_SUBPROTOCOL
from tests.conftest import Persona

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_persistent_connections() -> Iterator[None]:
    """Let the stream's worker threads close their database connections, so the test database can be dropped."""
    database = connection.settings_dict
    before = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0
    yield
    database["CONN_MAX_AGE"] = before

HOST = "127.0.0.1:8000"
ORIGIN = f"http://{HOST}"
TICKET_PATH = "/playground/helloworld/Stream/stream-ticket"


def issue_ticket(persona: Persona, path: str = TICKET_PATH, account: int | None = None) -> str:
    response = persona.client.post(path if account is None else f"{path}?account={account}")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    return response.json()["ticket"]


def session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class Socket:
    """One WebSocket connection to the ASGI application, recorded as the frames it sent."""

    def __init__(self, sent: list[dict[str, Any]]) -> None:
        self.sent = sent

    @property
    def accepted(self) -> dict[str, Any] | None:
        return next((event for event in self.sent if event["type"] == "websocket.accept"), None)

    @property
    def frames(self) -> list[Any]:
        return [json.loads(event["text"]) for event in self.sent if event["type"] == "websocket.send"]

    @property
    def close_code(self) -> int | None:
        return next((event["code"] for event in self.sent if event["type"] == "websocket.close"), None)


def websocket_scope(*, path: str, subprotocols: list[str], cookie: str = "", origin: str | None = ORIGIN,
                    authorization: str = "") -> dict[str, Any]:
    headers = [(b"host", HOST.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    return {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": path, "query_string": b"",
        "headers": headers, "subprotocols": subprotocols, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _serve(scope: dict[str, Any], body: Any, while_open: Any = None) -> Socket:
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    await incoming.put({"type": "websocket.receive", "text": json.dumps(body)})
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    serving = asyncio.ensure_future(application(scope, incoming.get, send))
    if while_open is not None:
        await while_open(sent)
    await asyncio.wait_for(serving, 20)
    return Socket(sent)


def open_stream(
    *, ticket: str | None, cookie: str = "", body: Any = None, path: str = "/v1/helloworld/Stream",
    origin: str | None = ORIGIN, authorization: str = "", while_open: Any = None,
) -> Socket:
    subprotocols = ["m3o-metered"] + ([TICKET_SUBPROTOCOL + ticket] if ticket else [])
    scope = websocket_scope(
        path=path, subprotocols=subprotocols, cookie=cookie, origin=origin, authorization=authorization
    )
    return asyncio.run(_serve(scope, body if body is not None else {"name": "Play", "messages": 3}, while_open))


def test_ticket_stream_charged_per_message(owner: Persona) -> None:
    balance = owner.balance

    socket = open_stream(ticket=issue_ticket(owner), cookie=session_cookie(owner.client))

    assert socket.accepted["subprotocol"] == "m3o-metered"
    assert socket.frames == [
        {"message": {"message": "Hello Play"}, "count": n, "cost_units": 1_000, "total_units": n * 1_000}
        for n in (1, 2, 3)
    ]
    assert socket.close_code == 1000
    assert owner.balance == balance - 3 * 1_000
    events = UsageEvent.objects.filter(account=owner.account).order_by("request_id")
    assert [(event.source, event.api_key_id, event.cost_units) for event in events] == [("playground", None, 1_000)] * 3


def test_ticket_and_key_usage_match(owner: Persona) -> None:
    open_stream(ticket=None, authorization=f"Bearer {owner.secret}", body={"name": "Same", "messages": 1})
    open_stream(ticket=issue_ticket(owner), cookie=session_cookie(owner.client), body={"name": "Same", "messages": 1})

    api_event, playground_event = UsageEvent.objects.order_by("id")
    compared = ["account_id", "service", "endpoint", "status_code", "cost_units"]
    assert [getattr(api_event, name) for name in compared] == [getattr(playground_event, name) for name in compared]
    assert (api_event.source, playground_event.source) == ("api", "playground")


@pytest.mark.parametrize("origin", ["http://evil.example", "https://127.0.0.1:8000", "null", None])
def test_cross_origin_upgrade_is_refused_before_the_handshake(owner: Persona, origin: str | None) -> None:
    balance = owner.balance

    socket = open_stream(ticket=issue_ticket(owner), cookie=session_cookie(owner.client), origin=origin)

    assert socket.accepted is None
    assert socket.sent == [{"type": "websocket.close", "code": 1008}]
    assert owner.balance == balance
    assert not UsageEvent.objects.exists()


def test_origin_check_follows_the_tls_proxy_header(owner: Persona, settings) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    scope = websocket_scope(
        path="/v1/helloworld/Stream", origin=f"https://{HOST}", cookie=session_cookie(owner.client),
        subprotocols=[TICKET_SUBPROTOCOL + issue_ticket(owner)],
    )
    scope["headers"].append((b"x-forwarded-proto", b"https"))

    socket = asyncio.run(_serve(scope, {"name": "Tls", "messages": 1}))

    assert socket.frames == [{"message": "Hello Tls"}]


def test_ticket_is_single_use(owner: Persona) -> None:
    ticket, cookie = issue_ticket(owner), session_cookie(owner.client)
    assert open_stream(ticket=ticket, cookie=cookie).close_code == 1000

    again = open_stream(ticket=ticket, cookie=cookie)

    assert [frame["id"] for frame in again.frames] == ["v1.invalid_ticket"]
    assert "already used" in again.frames[0]["detail"]
    assert again.close_code == 4401
    assert UsageEvent.objects.count() == 3


def test_expired_ticket_is_refused(owner: Persona) -> None:
    issued_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=TICKET_MAX_AGE_SECONDS + 1)
    with time_machine.travel(issued_at, tick=False):
        ticket = issue_ticket(owner)

    socket = open_stream(ticket=ticket, cookie=session_cookie(owner.client))

    assert [frame["id"] for frame in socket.frames] == ["v1.invalid_ticket"]
    assert "expired" in socket.frames[0]["detail"]
    assert not UsageEvent.objects.exists()


def test_another_users_session_cannot_use_a_ticket(owner: Persona, outsider: Persona) -> None:
    balances = owner.balance, outsider.balance

    socket = open_stream(ticket=issue_ticket(owner), cookie=session_cookie(outsider.client))

    assert [frame["id"] for frame in socket.frames] == ["v1.invalid_ticket"]
    assert (owner.balance, outsider.balance) == balances


@pytest.mark.parametrize("ticket", ["", "not-a-ticket", "eyJ1c2VyIjoxfQ.abc.def"])
def test_forged_or_missing_ticket_is_refused(owner: Persona, ticket: str) -> None:
    socket = open_stream(ticket=ticket or None, cookie=session_cookie(owner.client))

    assert socket.frames[0]["id"] == ("v1.invalid_ticket" if ticket else "v1.missing_key")
    assert socket.close_code == 4401


def test_ticket_without_the_session_cookie_is_refused(owner: Persona) -> None:
    socket = open_stream(ticket=issue_ticket(owner), cookie="")

    assert [frame["id"] for frame in socket.frames] == ["v1.invalid_ticket"]


def test_ticket_for_another_endpoint_is_refused(owner: Persona) -> None:
    socket = open_stream(
        ticket=issue_ticket(owner), cookie=session_cookie(owner.client), path="/v1/mq/Subscribe", body={"topic": "a"}
    )

    assert [frame["id"] for frame in socket.frames] == ["v1.invalid_ticket"]


def test_ticket_is_refused_after_signing_out(owner: Persona) -> None:
    ticket, cookie = issue_ticket(owner), session_cookie(owner.client)
    owner.client.post("/accounts/logout/")

    socket = open_stream(ticket=ticket, cookie=cookie)

    assert [frame["id"] for frame in socket.frames] == ["v1.signed_out"]


def test_ticket_is_refused_when_the_role_changed_since(owner: Persona) -> None:
    ticket = issue_ticket(owner)
    Membership.objects.filter(user=owner.user).update(role=Membership.Role.BILLING)

    socket = open_stream(ticket=ticket, cookie=session_cookie(owner.client))

    assert [frame["id"] for frame in socket.frames] == ["v1.role"]
    assert socket.close_code == 4403


def test_team_ticket_charges_the_selected_account(owner: Persona) -> None:
    team = team_create(user=owner.user, name="Acme")
    Wallet.objects.filter(pk=team.pk).update(balance_units=50_000)
    personal = owner.balance

    socket = open_stream(ticket=issue_ticket(owner, account=team.pk), cookie=session_cookie(owner.client))

    assert socket.close_code == 1000
    assert Wallet.objects.get(pk=team.pk).balance_units == 50_000 - 3 * 1_000
    assert owner.balance == personal
    assert set(UsageEvent.objects.values_list("account_id", "source")) == {(team.pk, "playground")}


def test_ticket_for_foreign_account_is_404(owner: Persona, outsider: Persona) -> None:
    response = owner.client.post(f"{TICKET_PATH}?account={outsider.account.pk}", headers={"Accept": "application/json"})

    assert response.status_code == 404
    assert response.json()["id"] == "v1.account_not_found"
    assert str(outsider.account.pk) not in response.json()["detail"]


def test_ticket_without_any_membership_is_403_envelope(owner: Persona) -> None:
    Membership.objects.filter(user=owner.user).delete()

    response = owner.client.post(TICKET_PATH, headers={"Accept": "application/json"})

    assert response.status_code == 403
    assert response.json()["id"] == "v1.role"


@pytest.mark.parametrize("change", ["role", "membership"])
def test_stream_stops_when_access_is_lost(owner: Persona, change: str) -> None:
    from asgiref.sync import sync_to_async

    def lose_access() -> None:
        memberships = Membership.objects.filter(user=owner.user)
        if change == "role":
            memberships.update(role=Membership.Role.BILLING)
        else:
            memberships.delete()

    async def lose_access_once_subscribed(sent: list[dict[str, Any]]) -> None:
        while not any(event["type"] == "websocket.accept" for event in sent):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await sync_to_async(lose_access, thread_sensitive=False)()

    socket = open_stream(
        ticket=issue_ticket(owner, path="/playground/mq/Subscribe/stream-ticket"), cookie=session_cookie(owner.client),
        path="/v1/mq/Subscribe", body={"topic": "orders"}, while_open=lose_access_once_subscribed,
    )

    assert [frame["id"] for frame in socket.frames] == ["v1.role"]
    assert socket.close_code == 4403


def test_ticket_needs_sign_in_and_csrf(owner: Persona) -> None:
    assert Client().post(TICKET_PATH).status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner.user)
    assert strict.post(TICKET_PATH).status_code == 403
    assert owner.client.get(TICKET_PATH).status_code == 405


@pytest.mark.parametrize(
    ("path", "status", "error_id"),
    [
        ("/playground/helloworld/Call/stream-ticket", 400, "v1.not_a_stream"),
        ("/playground/nosuch/Stream/stream-ticket", 404, "v1.not_found"),
    ],
)
def test_ticket_only_for_stream_endpoints(owner: Persona, path: str, status: int, error_id: str) -> None:
    response = owner.client.post(path)

    assert response.status_code == status
    assert response.json()["id"] == error_id


def test_billing_role_gets_no_ticket(owner: Persona) -> None:
    Membership.objects.filter(user=owner.user).update(role=Membership.Role.BILLING)

    response = owner.client.post(TICKET_PATH)

    assert response.status_code == 403

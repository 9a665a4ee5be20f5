"""Stream endpoints in the playground, in a real browser on the ASGI server that serves streams."""

from __future__ import annotations

import json

import httpx
import pytest

from billing.models import UsageEvent, Wallet
from django.conf import settings
from django.test import Client

from accounts.models import User
from tests.factories import UserFactory, make_key, personal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def sign_in(page, user: User) -> None:
    """Sign in with a session made here: the server has the site's password hashers, not the tests' fast one."""
    client = Client()
    client.force_login(user)
    page.goto("/")
    base_url = page.evaluate("window.location.origin")
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
          "url": base_url}]
    )


def start_stream(page, body: dict) -> None:
    page.fill("#request-body", json.dumps(body))
    page.keyboard.press("Control+Enter")


@pytest.mark.postgres
def test_stream_helloworld_and_see_each_message(asgi_page) -> None:
    page = asgi_page
    user = UserFactory(email="streamer@example.com")
    account = personal_account(user)
    balance = Wallet.objects.get(pk=account.pk).balance_units
    page.set_viewport_size(PHONE)
    sign_in(page, user)

    page.goto("/playground/helloworld/Stream")
    start_stream(page, {"name": "Browser", "messages": 3})
    page.locator("#stream-state", has_text="Stream ended.").wait_for()

    messages = page.locator("#stream-messages li pre")
    assert [json.loads(text) for text in messages.all_inner_texts()] == [{"message": "Hello Browser"}] * 3
    assert messages.first.inner_text() == '{\n  "message": "Hello Browser"\n}'
    assert page.locator("#stream-count").inner_text() == "3"
    assert page.locator("#stream-cost").inner_text() == "3000"
    assert Wallet.objects.get(pk=account.pk).balance_units == balance - 3_000
    assert list(UsageEvent.objects.values_list("source", flat=True)) == ["playground"] * 3
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert "m3o_" not in page.content()


@pytest.mark.postgres
def test_stop_closes_an_open_stream(asgi_page) -> None:
    page = asgi_page
    user = UserFactory(email="stopper@example.com")
    _, secret = make_key(user)
    sign_in(page, user)
    base_url = page.evaluate("window.location.origin")

    def publish(text: str) -> None:
        response = httpx.post(
            f"{base_url}/v1/mq/Publish", json={"topic": "orders", "message": {"text": text}},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 200, response.text

    page.goto("/playground/mq/Subscribe")
    start_stream(page, {"topic": "orders"})
    page.locator("#stream-state", has_text="Streaming…").wait_for()
    page.wait_for_timeout(300)  # the subscription starts just after the request frame
    publish("first")
    page.locator("#stream-count", has_text="1").wait_for()
    assert "first" in page.locator("#stream-messages").inner_text()

    page.get_by_role("button", name="Stop").click()
    page.locator("#stream-state", has_text="Stopped.").wait_for()
    assert page.locator("#stop").is_hidden()
    assert page.get_by_role("button", name="Run").is_enabled()
    publish("second")
    page.wait_for_timeout(500)
    assert page.locator("#stream-count").inner_text() == "1"
    assert "second" not in page.locator("#stream-messages").inner_text()


@pytest.mark.postgres
def test_stream_error_is_shown_as_its_envelope(asgi_page) -> None:
    page = asgi_page
    user = UserFactory(email="empty@example.com")
    Wallet.objects.filter(pk=personal_account(user).pk).update(balance_units=0)
    sign_in(page, user)

    page.goto("/playground/helloworld/Stream")
    start_stream(page, {"name": "Broke", "messages": 2})
    page.locator("#stream-state", has_text="Stream ended with error 402.").wait_for()

    envelope = json.loads(page.locator("#stream-messages pre.envelope").inner_text())
    assert (envelope["id"], envelope["code"]) == ("v1.insufficient_credit", 402)
    assert page.locator("#stream-count").inner_text() == "0"


def test_signed_out_visitor_asked_to_sign_up(page, live_server) -> None:
    page.goto("/playground/helloworld/Stream")
    assert page.locator("#run").count() == 0

    page.get_by_role("link", name="Sign up to run this stream").click()

    page.wait_for_url("**/accounts/signup/**")
    assert "next=/playground/helloworld/Stream" in page.url.replace("%2F", "/")

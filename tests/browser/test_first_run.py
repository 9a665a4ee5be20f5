"""A new user's first run in a real browser: sign up, verify, create a key, call, revoke."""

from __future__ import annotations

import re

import httpx
import pytest
from django.core import mail

from billing.models import Wallet

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long unguessable passphrase"


def call_hello(base_url: str, secret: str) -> httpx.Response:
    return httpx.post(
        f"{base_url}/v1/helloworld/Call", content=b'{"name":"Alice"}', headers={"Authorization": f"Bearer {secret}"}
    )


def test_new_user_signs_up_and_makes_first_call(page, live_server) -> None:
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    page.fill("input[name=email]", "browser@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url("**/accounts/confirm-email/")

    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/dashboard/")
    assert page.locator("#balance").inner_text() == "$1.000000"

    page.get_by_role("link", name="API keys").first.click()
    page.fill("input[name=name]", "browser key")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-secret").inner_text()
    assert secret.startswith("m3o_")

    response = call_hello(live_server.url, secret)
    assert response.json() == {"message": "Hello Alice"}
    balance = Wallet.objects.get().balance_units

    page.get_by_role("link", name="Dashboard").click()
    assert page.locator(".call-row").count() == 1
    assert "helloworld/Call" in page.locator(".call-row").inner_text()
    assert page.locator("#balance").get_attribute("data-units") == str(balance)

    page.get_by_role("link", name="API keys").first.click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    page.locator("tr.revoked").wait_for()
    assert call_hello(live_server.url, secret).status_code == 401

"""The whole first-run path over real HTTP, as the README walks a new user through it."""

from __future__ import annotations

import re

import httpx
import pytest
from django.core import mail

from billing.models import Wallet
from catalog.models import Endpoint

PASSWORD = "a-long unguessable passphrase"

pytestmark = pytest.mark.django_db(transaction=True)


def csrf_token(page: httpx.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def post_form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_token(client.get(path))
    return client.post(path, data={"csrfmiddlewaretoken": token, **data}, headers={"Referer": str(client.base_url) + path})


def test_sign_up_verify_create_key_call_and_see_charge(live_server, settings) -> None:
    settings.M3O_SITE_URL = live_server.url
    price = Endpoint.objects.get(service__slug="helloworld", name="Call").price_units

    with httpx.Client(base_url=live_server.url, follow_redirects=True) as browser:
        post_form(browser, "/accounts/signup/", {"email": "dev@example.com", "password1": PASSWORD, "password2": PASSWORD})
        link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
        confirm_path = httpx.URL(link).path
        verified = post_form(browser, confirm_path, {})
        assert verified.url.path == "/dashboard/"
        balance_before = Wallet.objects.get().balance_units
        assert "$1.000000" in verified.text

        created = post_form(browser, "/keys/", {"name": "laptop", "all_services": "on"})
        secret = re.search(r'<code id="new-key-secret">(m3o_\w+)</code>', created.text).group(1)

        call = httpx.post(
            f"{live_server.url}/v1/helloworld/Call",
            content=b'{"name":"Alice"}',
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert call.status_code == 200
        assert call.json() == {"message": "Hello Alice"}
        assert call.text == '{"message": "Hello Alice"}'

        dashboard = browser.get("/dashboard/")
        assert "helloworld/Call" in dashboard.text
        assert call.headers["X-Request-Id"] in dashboard.text
        balance_after = Wallet.objects.get().balance_units
        assert balance_after == balance_before - price
        assert f'data-units="{balance_after}"' in dashboard.text

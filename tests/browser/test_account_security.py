"""A new user secures their account and manages a scoped key, in a real browser."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time

import httpx
import pytest
from django.core import mail

from accounts.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "secure@example.com"
PASSWORD = "a-long unguessable passphrase"


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (SHA-1, 30-second steps, 6 digits), written here so the test does not trust allauth's."""
    counter = int((at or time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def call(base_url: str, secret: str, service: str, endpoint: str, body: bytes) -> httpx.Response:
    return httpx.post(f"{base_url}/v1/{service}/{endpoint}", content=body, headers={"Authorization": f"Bearer {secret}"})


def test_sign_up_enable_totp_and_manage_scoped_key(page, live_server) -> None:
    hello = (b'{"name": "Alice"}', "helloworld", "Call")

    # Sign up and verify.
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/dashboard/")

    # Enable TOTP; allauth asks for the password first.
    page.goto("/accounts/2fa/totp/activate/")
    if "reauthenticate" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp(secret))
    page.get_by_role("button", name="Activate").click()
    page.goto("/accounts/2fa/")
    assert "Deactivate" in page.content()
    assert AuditEvent.objects.filter(action="user.mfa_added", actor__email=EMAIL).exists()

    # Signing in again now needs a code.
    page.goto("/settings/")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/2fa/authenticate/")
    # A fresh time step, since allauth accepts each code only once.
    time.sleep(30 - time.time() % 30 + 0.5)
    page.fill("input[name=code]", totp(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/dashboard/")

    # A key limited to helloworld, shown once.
    page.get_by_role("link", name="API keys").first.click()
    page.fill("input[name=name]", "hello only")
    page.uncheck("input[name=all_services]")
    page.locator("summary").click()
    page.check("input[name=services][value=helloworld]")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key-secret").inner_text()
    page.reload()
    assert key not in page.content()

    assert call(live_server.url, key, "password", "Generate", b"{}").status_code == 403
    assert call(live_server.url, key, hello[1], hello[2], hello[0]).status_code == 200

    # Rotate with no grace period: the old key stops, the new one works.
    page.select_option("select[name=grace]", "0")
    page.get_by_role("button", name="Rotate").click()
    new_key = page.locator("#new-key-secret").inner_text()
    assert new_key != key
    assert call(live_server.url, key, hello[1], hello[2], hello[0]).status_code == 401
    assert call(live_server.url, new_key, hello[1], hello[2], hello[0]).status_code == 200

    # Revoke the new key.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    page.locator("tr.revoked >> nth=1").wait_for()
    assert call(live_server.url, new_key, hello[1], hello[2], hello[0]).status_code == 401

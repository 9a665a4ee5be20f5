"""localstripe for tests: one loopback server per test session, emptied before each test.

Import the fixtures into a test module or conftest with
``from tests.localstripe import localstripe_url, stripe_api  # noqa: F401``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from m3o_web.csp import content_security_policy
from django.conf import settings
from django.test import Client

from tests.processes import ROOT, free_port, wait_for

PUBLISHABLE_KEY = "pk_test_localstripe"
WEBHOOK_SECRET = "whsec_test_m3o"
TEST_CARD = "4242424242424242"
# localstripe declines the charge of this card but lets it be attached.
DECLINED_CHARGE_CARD = "4000000000000341"
# localstripe requires 3-D Secure authentication for this card.
AUTHENTICATION_CARD = "4000002500003155"


@pytest.fixture(scope="session")
def localstripe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log_path = tmp_path_factory.mktemp("localstripe") / "localstripe.log"
    log = log_path.open("w")
    # billing.devstripe binds to 127.0.0.1 only. localstripe also writes its
    # state to /tmp/localstripe.pickle, which this process never reads back:
    # each test starts from DELETE /_config/data instead.
    process = subprocess.Popen(
        [sys.executable, "-m", "billing.devstripe", "--port", str(port)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/js.stripe.com/v3/", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        assert wait_for(ready, timeout=20), log_path.read_text()[-2000:]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def webhook_configure(base_url: str, *, target: str, events: list[str] | None) -> None:
    """Point localstripe's webhook at ``target``; ``events=[]`` sends nothing."""
    body: dict[str, Any] = {"url": target, "secret": WEBHOOK_SECRET}
    if events is not None:
        body["events"] = events
    httpx.post(f"{base_url}/_config/webhooks/m3o", json=body, timeout=5).raise_for_status()


@pytest.fixture
def stripe_api(localstripe_url: str, settings: Any) -> str:
    """An empty localstripe with Stripe settings pointed at it and webhooks switched off."""
    httpx.delete(f"{localstripe_url}/_config/data", timeout=5).raise_for_status()
    webhook_configure(localstripe_url, target="http://127.0.0.1:9/", events=[])
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_JS_URL = f"{localstripe_url}/js.stripe.com/v3/"
    settings.SECURE_CSP = content_security_policy(
        stripe_js_url=settings.STRIPE_JS_URL, stripe_api_base=localstripe_url
    )
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return localstripe_url


def new_card(client: Client, base_url: str, number: str = TEST_CARD) -> str:
    """Set up a card the way Stripe.js does after the user types it; return the PaymentMethod id."""
    setup = client.post("/billing/cards/setup/")
    assert setup.status_code == 200, setup.content
    secret = setup.json()["client_secret"]
    intent_id = secret.split("_secret_")[0]
    response = httpx.post(
        f"{base_url}/v1/setup_intents/{intent_id}/confirm",
        json={
            "key": PUBLISHABLE_KEY,
            "client_secret": secret,
            "use_stripe_sdk": True,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            },
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["payment_method"])


def sign(payload: bytes, *, timestamp: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    """A Stripe-Signature header for ``payload``, computed as Stripe documents it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> bytes:
    event = {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


def deliver(client: Client, payload: bytes, *, signature: str | None = None) -> int:
    response = client.post(
        "/billing/stripe/webhook/",
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature if signature is not None else sign(payload)},
    )
    return response.status_code


def intent_as_dict(intent_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{settings.STRIPE_API_BASE}/v1/payment_intents/{intent_id}",
        headers={"Authorization": f"Bearer {settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return dict(response.json())

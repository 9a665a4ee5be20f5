"""Top-ups through Stripe Checkout, against localstripe's Checkout Sessions (billing/devstripe.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from billing.models import LedgerEntry, Payment, StripeEvent, Wallet
from billing.services import wallet_reconcile
from tests.conftest import Persona
from tests.factories import UserFactory, make_key, personal_account
from tests.localstripe import DECLINED_CHARGE_CARD, TEST_CARD, deliver, event_payload, intent_as_dict, sign, webhook_configure
from tests.processes import wait_for

DOLLAR = 1_000_000


@pytest.fixture
def checkout_on(settings) -> None:
    settings.M3O_STRIPE_CHECKOUT = True


def start_checkout(persona: Persona, amount: str = "25") -> str:
    """Post the Checkout form; return the hosted page's URL Stripe sent the browser to."""
    response = persona.client.post("/billing/checkout/", {"amount": amount})
    assert response.status_code == 302, response.content
    return str(response["Location"])


def pay(url: str, number: str = TEST_CARD) -> httpx.Response:
    page = httpx.get(url, timeout=5)
    assert page.status_code == 200, page.text
    form = {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
    return httpx.post(url, data=form, timeout=5, follow_redirects=False)


def stripe_get(path: str) -> dict:
    response = httpx.get(
        f"{django_settings.STRIPE_API_BASE}{path}",
        headers={"Authorization": f"Bearer {django_settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return dict(response.json())


def topup_entries(persona: Persona) -> int:
    return LedgerEntry.objects.filter(wallet_id=persona.account.pk, kind=LedgerEntry.Kind.TOPUP).count()


def fresh_persona() -> Persona:
    """A persona made inside the test, for tests with live servers that need committed rows."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    return Persona(user=user, account=personal_account(user), key=make_key(user)[0], secret="", client=client)


def test_checkout_topup_credits_once(owner: Persona, stripe_api: str, checkout_on: None) -> None:
    before = owner.balance
    url = start_checkout(owner, "25")
    assert url.startswith(f"{stripe_api}/checkout/pay/cs_test_")
    payment = Payment.objects.get(account=owner.account)
    assert payment.stripe_checkout_session_id == url.rsplit("/", 1)[1]
    assert payment.status == Payment.Status.PENDING
    assert owner.balance == before

    paid = pay(url)
    assert paid.status_code == 303
    back = urlsplit(paid.headers["Location"])
    assert back.path == "/billing/checkout/return/"
    receipt = owner.client.get(f"{back.path}?{back.query}")
    assert receipt.status_code == 302
    assert receipt["Location"] == f"/billing/payments/{payment.pk}/"
    assert b"Succeeded" in owner.client.get(receipt["Location"]).content
    assert owner.balance == before + 25 * DOLLAR
    payment.refresh_from_db()
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")

    # Stripe's two webhooks for the same payment arrive afterwards and change nothing.
    session = stripe_get(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}")
    payment.refresh_from_db()
    assert session["payment_intent"] == payment.stripe_payment_intent_id
    intent = intent_as_dict(payment.stripe_payment_intent_id)
    assert deliver(Client(), event_payload("checkout.session.completed", session)) == 200
    assert deliver(Client(), event_payload("payment_intent.succeeded", intent)) == 200

    assert owner.balance == before + 25 * DOLLAR
    assert topup_entries(owner) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.stripe_charge_id == intent["latest_charge"]["id"]
    assert wallet_reconcile(account_id=owner.account.pk).ok


@pytest.mark.parametrize("first", ["checkout.session.completed", "payment_intent.succeeded"])
def test_either_webhook_alone_credits_once(owner: Persona, stripe_api: str, checkout_on: None, first: str) -> None:
    before = owner.balance
    assert pay(start_checkout(owner, "10")).status_code == 303  # the payer never comes back
    payment = Payment.objects.get(account=owner.account)
    session = stripe_get(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}")
    events = {
        "checkout.session.completed": event_payload("checkout.session.completed", session),
        "payment_intent.succeeded": event_payload("payment_intent.succeeded", intent_as_dict(session["payment_intent"])),
    }

    assert deliver(Client(), events[first]) == 200
    assert owner.balance == before + 10 * DOLLAR
    for payload in events.values():
        assert deliver(Client(), payload) == 200

    assert owner.balance == before + 10 * DOLLAR
    assert topup_entries(owner) == 1
    assert StripeEvent.objects.filter(account=owner.account).count() == 2
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_declined_card_on_checkout_page_credits_nothing(owner: Persona, stripe_api: str, checkout_on: None) -> None:
    before = owner.balance
    url = start_checkout(owner)

    declined = pay(url, DECLINED_CHARGE_CARD)

    assert declined.status_code == 400
    assert "declined" in declined.text
    payment = Payment.objects.get(account=owner.account)
    assert payment.status == Payment.Status.PENDING
    # The payer gives up. The session expires, and Stripe sends checkout.session.expired.
    expired = httpx.post(
        f"{stripe_api}/v1/checkout/sessions/{payment.stripe_checkout_session_id}/expire",
        headers={"Authorization": f"Bearer {django_settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    ).json()
    assert deliver(Client(), event_payload("checkout.session.expired", expired)) == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert owner.balance == before
    assert httpx.get(url, timeout=5).status_code == 410


def test_checkout_is_off_unless_enabled(owner: Persona, stripe_api: str) -> None:
    assert owner.client.post("/billing/checkout/", {"amount": "25"}).status_code == 404
    assert b"checkout-form" not in owner.client.get("/billing/").content
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", ["9.99", "abc", "10.001", "1000000", ""])
def test_checkout_rejects_bad_amount(owner: Persona, stripe_api: str, checkout_on: None, amount: str) -> None:
    response = owner.client.post("/billing/checkout/", {"amount": amount}, follow=True)

    assert response.redirect_chain == [("/billing/", 302)]
    assert b"Enter" in response.content or b"Invalid amount" in response.content
    assert not Payment.objects.exists()


def test_checkout_form_shown_when_enabled(owner: Persona, stripe_api: str, checkout_on: None) -> None:
    page = owner.client.get("/billing/")
    assert b'id="checkout-form"' in page.content


def test_return_page_of_another_account_is_not_found(
    owner: Persona, outsider: Persona, stripe_api: str, checkout_on: None
) -> None:
    pay(start_checkout(owner))
    session_id = Payment.objects.get(account=owner.account).stripe_checkout_session_id

    assert outsider.client.get(f"/billing/checkout/return/?session_id={session_id}").status_code == 404
    assert outsider.client.get("/billing/checkout/return/").status_code == 404
    assert outsider.client.get("/billing/checkout/return/?session_id=x%00y").status_code == 404
    assert outsider.balance == DOLLAR
    assert Client().get(f"/billing/checkout/return/?session_id={session_id}").status_code == 302  # to sign-in


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_both_events_delivered_concurrently_credit_once(live_server, stripe_api: str, checkout_on: None) -> None:
    persona = fresh_persona()
    assert pay(start_checkout(persona, "30")).status_code == 303
    payment = Payment.objects.get(account=persona.account)
    session = stripe_get(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}")
    intent = intent_as_dict(session["payment_intent"])
    # Each event twice (Stripe retries), all eight requests at once.
    payloads = [
        event_payload("checkout.session.completed", session, event_id="evt_checkout_1"),
        event_payload("payment_intent.succeeded", intent, event_id="evt_intent_1"),
    ] * 4

    def post(payload: bytes) -> int:
        headers = {"Stripe-Signature": sign(payload), "Content-Type": "application/json"}
        return httpx.post(f"{live_server.url}/billing/stripe/webhook/", content=payload, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, payloads))

    assert statuses == [200] * 8
    assert Wallet.objects.get(pk=persona.account.pk).balance_units == 31 * DOLLAR
    assert topup_entries(persona) == 1
    assert StripeEvent.objects.filter(event_id__in=["evt_checkout_1", "evt_intent_1"]).count() == 2
    assert wallet_reconcile(account_id=persona.account.pk).ok


@pytest.fixture
def webhooks_to_live_server(live_server, stripe_api: str) -> Iterator[None]:
    webhook_configure(stripe_api, target=f"{live_server.url}/billing/stripe/webhook/", events=None)
    yield
    webhook_configure(stripe_api, target="http://127.0.0.1:9/", events=[])


# localstripe sends both events at once. The in-memory SQLite test database raises "table is
# locked" at once for concurrent writers instead of waiting, so this runs on PostgreSQL only.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_localstripe_checkout_webhooks_credit_once(webhooks_to_live_server: None, checkout_on: None) -> None:
    persona = fresh_persona()

    assert pay(start_checkout(persona, "15")).status_code == 303  # the payer closes the tab

    # localstripe sends checkout.session.completed and payment_intent.succeeded about a second later.
    received = StripeEvent.objects.filter(
        account=persona.account, type__in=["checkout.session.completed", "payment_intent.succeeded"]
    )
    assert wait_for(lambda: received.count() == 2, timeout=15)
    assert persona.balance == 16 * DOLLAR
    assert topup_entries(persona) == 1
    assert Payment.objects.get(account=persona.account).status == Payment.Status.SUCCEEDED

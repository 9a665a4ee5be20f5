"""Stripe webhooks: signatures, exactly-once processing, and one handler per event type."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.test import Client

from billing.models import BillingProfile, Dispute, LedgerEntry, Payment, SavedCard, StripeEvent, Wallet
from billing.services import wallet_reconcile
from tests.conftest import Persona
from tests.factories import UserFactory, make_key, personal_account
from tests.localstripe import (
    deliver,
    event_payload,
    intent_as_dict,
    new_card,
    sign,
    webhook_configure,
)
from tests.processes import wait_for

DOLLAR = 1_000_000


def paid_topup(persona: Persona, base_url: str, amount: str = "10") -> Payment:
    response = persona.client.post(
        "/billing/topup/",
        {"amount": amount, "payment_method": new_card(persona.client, base_url), "save_card": "on"},
        headers={"Accept": "application/json"},
    )
    assert response.json()["status"] == "succeeded", response.content
    return Payment.objects.filter(account=persona.account).latest("id")


def pending_payment(persona: Persona, base_url: str) -> tuple[Payment, dict]:
    """A paid PaymentIntent whose wallet credit has not been applied yet, as if the browser never came back."""
    payment = paid_topup(persona, base_url)
    intent = intent_as_dict(payment.stripe_payment_intent_id)
    LedgerEntry.objects.filter(reference=f"topup:{intent['id']}").delete()
    Wallet.objects.filter(pk=persona.account.pk).update(balance_units=1_000_000)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)
    return payment, intent


def test_payment_succeeded_event_credits_once(owner: Persona, stripe_api: str) -> None:
    payment, intent = pending_payment(owner, stripe_api)
    payload = event_payload("payment_intent.succeeded", intent)

    assert deliver(Client(), payload) == 200
    assert deliver(Client(), payload) == 200

    assert owner.balance == 11 * DOLLAR
    assert StripeEvent.objects.filter(type="payment_intent.succeeded").count() == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_bad_signature_is_rejected_and_changes_nothing(owner: Persona, stripe_api: str) -> None:
    _, intent = pending_payment(owner, stripe_api)
    payload = event_payload("payment_intent.succeeded", intent)

    assert deliver(Client(), payload, signature=sign(payload, secret="whsec_wrong")) == 400
    assert deliver(Client(), payload, signature="") == 400
    assert deliver(Client(), payload, signature="t=1,v1=00") == 400
    assert deliver(Client(), payload + b" ", signature=sign(payload)) == 400

    assert owner.balance == DOLLAR
    assert not StripeEvent.objects.exists()


def test_stale_timestamp_is_rejected_and_changes_nothing(owner: Persona, stripe_api: str, settings) -> None:
    _, intent = pending_payment(owner, stripe_api)
    payload = event_payload("payment_intent.succeeded", intent)
    stale = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS - 5

    assert deliver(Client(), payload, signature=sign(payload, timestamp=stale)) == 400

    assert owner.balance == DOLLAR
    assert not StripeEvent.objects.exists()


def test_malformed_body_is_rejected(db: None, stripe_api: str) -> None:
    for payload in (b"not json", b"[]", b'{"id": "evt_1"}'):
        assert deliver(Client(), payload) == 400
    assert Client().get("/billing/stripe/webhook/").status_code == 405
    assert not StripeEvent.objects.exists()


def test_unknown_customer_event_is_acknowledged(db: None, stripe_api: str) -> None:
    method = {"id": "pm_unknown", "object": "payment_method", "customer": "cus_unknown", "card": {"last4": "4242"}}
    intent = {"id": "pi_unknown", "object": "payment_intent", "amount": 1000, "status": "succeeded", "metadata": {}}

    assert deliver(Client(), event_payload("payment_method.attached", method)) == 200
    assert deliver(Client(), event_payload("payment_intent.succeeded", intent)) == 200
    assert deliver(Client(), event_payload("customer.created", {"id": "cus_unknown"})) == 200

    assert StripeEvent.objects.filter(account__isnull=True).count() == 3
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TOPUP).exists()
    assert not SavedCard.objects.exists()


def test_refund_event_takes_amount_back_once(owner: Persona, stripe_api: str) -> None:
    payment = paid_topup(owner, stripe_api)
    before = owner.balance
    charge = {"id": payment.stripe_charge_id, "object": "charge", "payment_intent": payment.stripe_payment_intent_id,
              "amount": 1000, "amount_refunded": 400, "refunded": False}
    payload = event_payload("charge.refunded", charge)

    assert deliver(Client(), payload) == 200
    assert deliver(Client(), payload) == 200
    # The same refund in a new event (a later charge.refunded with the same total) changes nothing either.
    assert deliver(Client(), event_payload("charge.refunded", charge)) == 200

    assert owner.balance == before - 4 * DOLLAR
    payment.refresh_from_db()
    assert payment.refunded_cents == 400
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).count() == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_refund_beyond_balance_leaves_debt(owner: Persona, stripe_api: str) -> None:
    payment = paid_topup(owner, stripe_api, "10")
    owner.set_balance(0)  # spent: the ledger needs a matching usage row for reconcile
    LedgerEntry.objects.create(wallet_id=owner.account.pk, kind=LedgerEntry.Kind.USAGE, amount_units=-11 * DOLLAR + 3 * DOLLAR,
                               reference="usage:spent")
    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=3 * DOLLAR)
    charge = {"id": payment.stripe_charge_id, "object": "charge", "payment_intent": payment.stripe_payment_intent_id,
              "amount": 1000, "amount_refunded": 1000}

    assert deliver(Client(), event_payload("charge.refunded", charge)) == 200

    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert (wallet.balance_units, wallet.debt_units) == (0, 7 * DOLLAR)
    assert wallet_reconcile(account_id=owner.account.pk).ok
    refused = owner.call()
    assert refused.status_code == 402
    assert refused.json()["id"] == "v1.insufficient_credit"

    paid_topup(owner, stripe_api, "10")

    wallet.refresh_from_db()
    assert (wallet.balance_units, wallet.debt_units) == (3 * DOLLAR, 0)
    assert wallet_reconcile(account_id=owner.account.pk).ok
    assert owner.call().status_code == 200


def test_dispute_is_recorded_and_suspends_auto_topup(owner: Persona, stripe_api: str) -> None:
    payment = paid_topup(owner, stripe_api)
    dispute = {"id": "dp_1", "object": "dispute", "charge": payment.stripe_charge_id,
               "payment_intent": payment.stripe_payment_intent_id, "amount": 1000, "reason": "fraudulent",
               "status": "needs_response"}

    assert deliver(Client(), event_payload("charge.dispute.created", dispute)) == 200
    assert deliver(Client(), event_payload("charge.dispute.created", dispute)) == 200

    recorded = Dispute.objects.get()
    assert (recorded.account_id, recorded.payment_id, recorded.reason) == (owner.account.pk, payment.pk, "fraudulent")
    assert BillingProfile.objects.get(pk=owner.account.pk).auto_topup_suspended


def test_payment_method_events_update_saved_cards(owner: Persona, stripe_api: str) -> None:
    new_card(owner.client, stripe_api)
    customer = BillingProfile.objects.get(pk=owner.account.pk).stripe_customer_id
    method = {"id": "pm_dashboard", "object": "payment_method", "customer": customer,
              "card": {"brand": "visa", "last4": "1881", "exp_month": 4, "exp_year": 2031}}

    assert deliver(Client(), event_payload("payment_method.attached", method)) == 200
    assert SavedCard.objects.get(account=owner.account).last4 == "1881"

    assert deliver(Client(), event_payload("payment_method.detached", {**method, "customer": None})) == 200
    assert not SavedCard.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_same_event_delivered_concurrently_credits_once(live_server, stripe_api: str) -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    persona = Persona(user=user, account=personal_account(user), key=make_key(user)[0], secret="", client=client)
    _, intent = pending_payment(persona, stripe_api)
    payload = event_payload("payment_intent.succeeded", intent)
    headers = {"Stripe-Signature": sign(payload), "Content-Type": "application/json"}

    def post(_: int) -> int:
        return httpx.post(f"{live_server.url}/billing/stripe/webhook/", content=payload, headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(8)))

    assert statuses == [200] * 8
    assert Wallet.objects.get(pk=persona.account.pk).balance_units == 11 * DOLLAR
    assert StripeEvent.objects.count() == 1
    assert wallet_reconcile(account_id=persona.account.pk).ok


@pytest.fixture
def webhooks_to_live_server(live_server, stripe_api: str) -> Iterator[None]:
    webhook_configure(stripe_api, target=f"{live_server.url}/billing/stripe/webhook/", events=None)
    yield
    webhook_configure(stripe_api, target="http://127.0.0.1:9/", events=[])


@pytest.mark.django_db(transaction=True)
def test_localstripe_webhook_after_topup_changes_nothing(webhooks_to_live_server: None, stripe_api: str) -> None:
    user = UserFactory()
    client = Client()
    client.force_login(user)
    persona = Persona(user=user, account=personal_account(user), key=make_key(user)[0], secret="", client=client)

    payment = paid_topup(persona, stripe_api, "20")

    # localstripe sends payment_intent.succeeded about a second after the charge. Events
    # of earlier tests may arrive too; they name no known payment and change nothing.
    received = StripeEvent.objects.filter(type="payment_intent.succeeded", account=persona.account)
    assert wait_for(received.exists, timeout=15)
    assert received.count() == 1
    assert persona.balance == 21 * DOLLAR
    assert LedgerEntry.objects.filter(reference=f"topup:{payment.stripe_payment_intent_id}").count() == 1

"""Every Stripe event type the platform handles, delivered twice and out of order: each is applied once.

Three accounts produce real objects from localstripe. The first has a card
top-up that is refunded in two steps and disputed, and a card attached and
then detached. The second has a Checkout top-up whose first card is declined,
and a Checkout page that expires. The third has a plan whose invoice is paid
and whose subscription then ends. Their events are
signed and posted to the webhook in Stripe's order, reversed, or shuffled; then
all again with the same ids (Stripe's redelivery) in the opposite order; then
once more under new ids (a second event about the same object). The balances,
ledgers, payments and plans must end as one in-order delivery leaves them.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from billing.models import BillingProfile, Dispute, LedgerEntry, Payment, SavedCard, StripeEvent, Subscription, Wallet
from billing.services import wallet_reconcile
from billing.stripe_events import HANDLERS
from tests.billing.test_checkout import pay, start_checkout, stripe_get
from tests.billing.test_plans import plans, save_card  # noqa: F401  (plans is a fixture)
from tests.billing.test_stripe_webhooks import paid_topup
from tests.conftest import Persona, _persona
from tests.localstripe import DECLINED_CHARGE_CARD, deliver, event_payload, intent_as_dict, localstripe_url, new_card, stripe_api  # noqa: F401


DOLLAR = 1_000_000
SEED = 17


@dataclass
class Events:
    """The events of all scenarios in Stripe's order, as (type, data.object) pairs."""

    items: list[tuple[str, dict]] = field(default_factory=list)

    def add(self, event_type: str, obj: dict) -> None:
        self.items.append((event_type, obj))


def stripe_post(path: str, data: dict) -> dict:
    response = httpx.post(
        f"{django_settings.STRIPE_API_BASE}{path}",
        data=data,
        headers={"Authorization": f"Bearer {django_settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    )
    response.raise_for_status()
    return dict(response.json())


def card_topup_refunded_and_disputed(persona: Persona, base_url: str, events: Events) -> Payment:
    """A $10 card top-up the browser never confirmed, refunded $3 then the other $7, and disputed."""
    payment = paid_topup(persona, base_url, "10")
    intent = intent_as_dict(payment.stripe_payment_intent_id)
    # As if the browser never came back: only the webhook can credit the wallet.
    LedgerEntry.objects.filter(reference=f"topup:{intent['id']}").delete()
    Wallet.objects.filter(pk=persona.account.pk).update(balance_units=DOLLAR)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.PENDING)
    charge_id = payment.stripe_charge_id
    events.add("payment_intent.succeeded", intent)
    for cents in (300, 700):
        stripe_post("/v1/refunds", {"payment_intent": intent["id"], "amount": cents})
        events.add("charge.refunded", stripe_get(f"/v1/charges/{charge_id}"))
    events.add(
        "charge.dispute.created",
        {"id": f"dp_{uuid.uuid4().hex[:12]}", "object": "dispute", "charge": charge_id, "payment_intent": intent["id"],
         "amount": 1000, "reason": "fraudulent", "status": "needs_response"},
    )
    return payment


def card_attached_and_detached(persona: Persona, base_url: str, events: Events) -> str:
    method_id = new_card(persona.client, base_url)
    customer = BillingProfile.objects.get(pk=persona.account.pk).stripe_customer_id
    events.add("payment_method.attached", stripe_post(f"/v1/payment_methods/{method_id}/attach", {"customer": customer}))
    events.add("payment_method.detached", stripe_post(f"/v1/payment_methods/{method_id}/detach", {}))
    return method_id


def checkout_declined_then_paid(persona: Persona, events: Events) -> tuple[Payment, str]:
    """A $25 Checkout top-up: the first card is declined on Stripe's page, the second pays."""
    url = start_checkout(persona, "25")
    payment = Payment.objects.filter(account=persona.account).latest("id")
    assert pay(url, DECLINED_CHARGE_CARD).status_code == 400
    attempts = stripe_get("/v1/payment_intents?limit=100")["data"]
    failed = next(
        intent for intent in attempts
        if intent["metadata"].get("m3o_payment_id") == str(payment.pk) and intent["status"] != "succeeded"
    )
    events.add("payment_intent.payment_failed", failed)
    assert pay(url).status_code == 303
    session = stripe_get(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}")
    events.add("payment_intent.succeeded", intent_as_dict(session["payment_intent"]))
    events.add("checkout.session.completed", session)
    return payment, session["payment_intent"]


def checkout_expired(persona: Persona, events: Events) -> Payment:
    start_checkout(persona, "15")
    payment = Payment.objects.filter(account=persona.account).latest("id")
    events.add("checkout.session.expired", stripe_post(f"/v1/checkout/sessions/{payment.stripe_checkout_session_id}/expire", {}))
    return payment


def plan_paid_then_ended(persona: Persona, base_url: str, plan_id: int, events: Events) -> None:
    persona.client.post("/billing/plan/", {"plan": plan_id})
    subscription = Subscription.objects.get(pk=persona.account.pk)
    remote = stripe_get(f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    events.add("invoice.payment_succeeded", stripe_get(f"/v1/invoices/{remote['latest_invoice']}"))
    ended = httpx.delete(
        f"{django_settings.STRIPE_API_BASE}/v1/subscriptions/{remote['id']}",
        headers={"Authorization": f"Bearer {django_settings.STRIPE_SECRET_KEY}"},
        timeout=5,
    )
    ended.raise_for_status()
    events.add("customer.subscription.deleted", ended.json())


def ordered(items: list[tuple[str, dict]], order: str) -> list[tuple[str, dict]]:
    if order == "stripe":
        return list(items)
    if order == "reversed":
        return list(reversed(items))
    return random.Random(SEED).sample(items, len(items))


def test_suite_covers_every_handled_event_type() -> None:
    """A new handler fails this test until its event type is in a scenario above."""
    assert set(HANDLERS) == {
        "payment_intent.succeeded", "payment_intent.payment_failed", "checkout.session.completed",
        "checkout.session.expired", "charge.refunded", "charge.dispute.created", "payment_method.attached",
        "payment_method.detached", "invoice.payment_succeeded", "customer.subscription.deleted",
    }


@pytest.mark.parametrize("order", ["stripe", "reversed", "shuffled"])
@pytest.mark.postgres
@pytest.mark.django_db
def test_every_event_redelivered_out_of_order_applies_once(
    stripe_api: str, plans: dict, settings, order: str, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    settings.M3O_STRIPE_CHECKOUT = True
    topup = _persona("topup@example.com")
    checkout = _persona("checkout@example.com")
    subscriber = _persona("subscriber@example.com")
    save_card(subscriber, stripe_api)
    events = Events()
    card_payment = card_topup_refunded_and_disputed(topup, stripe_api, events)
    method_id = card_attached_and_detached(topup, stripe_api, events)
    checkout_payment, paid_intent = checkout_declined_then_paid(checkout, events)
    expired_payment = checkout_expired(checkout, events)
    subscriber_before = subscriber.balance
    plan_paid_then_ended(subscriber, stripe_api, plans["pro"].pk, events)
    assert {event_type for event_type, _ in events.items} == set(HANDLERS)
    checkout_before = checkout.balance
    payloads = [event_payload(event_type, obj) for event_type, obj in ordered(events.items, order)]

    delivered = 0
    for payload in [*payloads, *reversed(payloads)]:
        assert deliver(Client(), payload) == 200
        delivered += 1
    for event_type, obj in ordered(events.items, order):
        assert deliver(Client(), event_payload(event_type, obj)) == 200
        delivered += 1

    # The card top-up: credited once, refunded in full once, disputed once.
    card_payment.refresh_from_db()
    assert (card_payment.status, card_payment.refunded_cents) == (Payment.Status.SUCCEEDED, 1000)
    topup_rows = LedgerEntry.objects.filter(wallet_id=topup.account.pk)
    assert list(topup_rows.filter(kind=LedgerEntry.Kind.TOPUP).values_list("amount_units", flat=True)) == [10 * DOLLAR]
    assert sum(topup_rows.filter(kind=LedgerEntry.Kind.REFUND).values_list("amount_units", flat=True)) == -10 * DOLLAR
    wallet = Wallet.objects.get(pk=topup.account.pk)
    assert (wallet.balance_units, wallet.debt_units) == (DOLLAR, 0)
    assert Dispute.objects.filter(account=topup.account).count() == 1
    assert BillingProfile.objects.get(pk=topup.account.pk).auto_topup_suspended
    # The detached card is not kept, whichever of its two events came first.
    assert not SavedCard.objects.filter(stripe_payment_method_id=method_id).exists()

    # Checkout: the declined first card does not fail the payment; the paid session credits once.
    checkout_payment.refresh_from_db()
    assert checkout_payment.status == Payment.Status.SUCCEEDED
    assert checkout_payment.stripe_payment_intent_id == paid_intent
    checkout_rows = LedgerEntry.objects.filter(wallet_id=checkout.account.pk, kind=LedgerEntry.Kind.TOPUP)
    assert list(checkout_rows.values_list("reference", "amount_units")) == [(f"topup:{paid_intent}", 25 * DOLLAR)]
    assert checkout.balance == checkout_before + 25 * DOLLAR
    expired_payment.refresh_from_db()
    assert expired_payment.status == Payment.Status.FAILED

    # The plan: its invoice is in the ledger once, and the account is back on the default plan.
    subscription_rows = LedgerEntry.objects.filter(wallet_id=subscriber.account.pk, kind=LedgerEntry.Kind.SUBSCRIPTION)
    assert sorted(subscription_rows.values_list("amount_units", flat=True)) == [-25 * DOLLAR, 25 * DOLLAR]
    assert subscriber.balance == subscriber_before
    assert Subscription.objects.get(pk=subscriber.account.pk).plan == plans["free"]

    assert StripeEvent.objects.count() == 2 * len(events.items)
    for persona in (topup, checkout, subscriber):
        assert wallet_reconcile(account_id=persona.account.pk).ok
    with capsys.disabled():
        print(f"\nredelivery ({order}): {len(events.items)} events of {len(HANDLERS)} types, {delivered} deliveries")

"""Plans: operator-defined, subscribed through Stripe subscriptions (localstripe), payments in the ledger."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from billing.models import BillingProfile, LedgerEntry, Plan, Subscription
from billing.selectors import plan_limits
from billing.services import wallet_reconcile
from billing.services.plans import PLAN_CHANGE_CLAIM_SECONDS
from tests.conftest import Persona
from tests.localstripe import deliver, event_payload, new_card


@pytest.fixture
def plans(db: None) -> dict[str, Plan]:
    return {
        "free": Plan.objects.create(name="Free", slug="free", included_free_calls=10_000, rate_limit_per_minute=60, is_default=True),
        "pro": Plan.objects.create(
            name="Pro", slug="pro", monthly_price_cents=2_500, included_free_calls=100_000, rate_limit_per_minute=600, storage_cap_mb=1_024
        ),
    }


def save_card(persona: Persona, base_url: str) -> None:
    method = new_card(persona.client, base_url)
    persona.client.post(
        "/billing/topup/", {"amount": "10", "payment_method": method, "save_card": "on"}, headers={"Accept": "application/json"}
    )


def stripe_get(base_url: str, path: str) -> dict:
    return httpx.get(f"{base_url}{path}", headers={"Authorization": "Bearer sk_test_localstripe"}).json()


def test_account_without_subscription_has_default_plan(owner: Persona, plans: dict[str, Plan]) -> None:
    limits = plan_limits(owner.account.pk)
    assert (limits.plan_slug, limits.included_free_calls, limits.rate_limit_per_minute) == ("free", 10_000, 60)


def test_subscribing_to_paid_plan_takes_effect_at_once(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)

    response = owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})

    assert response.status_code == 302
    subscription = Subscription.objects.get(pk=owner.account.pk)
    assert subscription.plan == plans["pro"]
    assert subscription.status == "active"
    limits = plan_limits(owner.account.pk)
    assert (limits.plan_slug, limits.rate_limit_per_minute, limits.storage_cap_mb) == ("pro", 600, 1_024)
    remote = stripe_get(stripe_api, f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert remote["status"] == "active"
    assert remote["items"]["data"][0]["plan"]["amount"] == 2_500


def test_subscription_payment_is_in_ledger_once(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)
    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})
    subscription = Subscription.objects.get(pk=owner.account.pk)
    remote = stripe_get(stripe_api, f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    invoice = stripe_get(stripe_api, f"/v1/invoices/{remote['latest_invoice']}")
    assert invoice["amount_paid"] == 2_500
    before = owner.balance
    payload = event_payload("invoice.payment_succeeded", invoice)

    assert deliver(Client(), payload) == 200
    assert deliver(Client(), payload) == 200

    rows = list(LedgerEntry.objects.filter(kind=LedgerEntry.Kind.SUBSCRIPTION).values_list("amount_units", flat=True))
    assert sorted(rows) == [-25_000_000, 25_000_000]
    assert owner.balance == before
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_switching_to_free_plan_cancels_stripe_subscription(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)
    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})
    stripe_id = Subscription.objects.get(pk=owner.account.pk).stripe_subscription_id

    owner.client.post("/billing/plan/", {"plan": plans["free"].pk})

    subscription = Subscription.objects.get(pk=owner.account.pk)
    assert subscription.plan == plans["free"]
    assert subscription.stripe_subscription_id is None
    assert stripe_get(stripe_api, f"/v1/subscriptions/{stripe_id}")["status"] == "canceled"
    assert plan_limits(owner.account.pk).plan_slug == "free"


def test_paid_plan_needs_saved_card(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    response = owner.client.post("/billing/plan/", {"plan": plans["pro"].pk}, follow=True)

    assert "Save a card first" in response.content.decode()
    assert not Subscription.objects.exists()


def test_ended_stripe_subscription_returns_to_default_plan(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)
    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})
    stripe_id = Subscription.objects.get(pk=owner.account.pk).stripe_subscription_id

    assert deliver(Client(), event_payload("customer.subscription.deleted", {"id": stripe_id, "object": "subscription"})) == 200

    assert Subscription.objects.get(pk=owner.account.pk).plan == plans["free"]


def test_plan_change_rejects_bad_input(owner: Persona, outsider: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    Plan.objects.filter(pk=plans["pro"].pk).update(is_active=False)
    assert owner.client.post("/billing/plan/", {"plan": plans["pro"].pk}).status_code == 404
    assert owner.client.post("/billing/plan/", {"plan": "abc"}).status_code == 404
    assert owner.client.get("/billing/plan/").status_code == 405
    assert not Subscription.objects.exists()


def test_operator_defines_plan_in_admin(db: None) -> None:
    operator = Client()
    operator.force_login(User.objects.create_superuser("ops@example.com", "ops passphrase 123"))

    response = operator.post(
        "/admin/billing/plan/add/",
        {"name": "Team", "slug": "team", "monthly_price_cents": "9900", "included_free_calls": "1000000",
         "rate_limit_per_minute": "6000", "storage_cap_mb": "10240", "is_active": "on", "position": "2"},
    )

    assert response.status_code == 302
    plan = Plan.objects.get(slug="team")
    assert (plan.monthly_price_cents, plan.rate_limit_per_minute) == (9_900, 6_000)


def test_plan_change_waits_for_one_in_progress(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)
    BillingProfile.objects.filter(pk=owner.account.pk).update(plan_change_started_at=timezone.now())

    response = owner.client.post("/billing/plan/", {"plan": plans["pro"].pk}, follow=True)

    assert b"Another plan change for this account is in progress" in response.content
    assert not Subscription.objects.filter(pk=owner.account.pk).exists()
    # A claim left by a request that died expires.
    stale = timezone.now() - dt.timedelta(seconds=PLAN_CHANGE_CLAIM_SECONDS + 1)
    BillingProfile.objects.filter(pk=owner.account.pk).update(plan_change_started_at=stale)
    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})
    assert Subscription.objects.get(pk=owner.account.pk).plan == plans["pro"]
    assert BillingProfile.objects.get(pk=owner.account.pk).plan_change_started_at is None


def test_subscribing_twice_to_same_plan_changes_nothing(owner: Persona, plans: dict[str, Plan], stripe_api: str) -> None:
    save_card(owner, stripe_api)
    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})
    first = Subscription.objects.get(pk=owner.account.pk).stripe_subscription_id

    owner.client.post("/billing/plan/", {"plan": plans["pro"].pk})

    assert Subscription.objects.get(pk=owner.account.pk).stripe_subscription_id == first
    listing = stripe_get(stripe_api, "/v1/subscriptions")["data"]
    assert len([item for item in listing if item["status"] != "canceled"]) == 1

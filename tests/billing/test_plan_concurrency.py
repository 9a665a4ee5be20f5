"""Concurrent plan changes of one account, on PostgreSQL against localstripe."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from billing.models import BillingProfile, Plan, Subscription
from billing.services.payments import PaymentError
from billing.services.plans import plan_subscribe
from tests.billing.test_checkout import fresh_persona
from tests.billing.test_plans import save_card

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def stripe_subscriptions(base_url: str, customer_id: str) -> list[dict]:
    listing = httpx.get(f"{base_url}/v1/subscriptions", headers={"Authorization": "Bearer sk_test_localstripe"}, timeout=5).json()
    return [item for item in listing["data"] if item["customer"] == customer_id and item["status"] != "canceled"]


@pytest.mark.parametrize("requests", [2, 4])
def test_concurrent_first_subscribes_create_one_subscription(stripe_api: str, requests: int) -> None:
    pro = Plan.objects.create(name="Pro", slug="pro", monthly_price_cents=2_500)
    Plan.objects.create(name="Free", slug="free", is_default=True)
    persona = fresh_persona()
    save_card(persona, stripe_api)
    start = threading.Barrier(requests)

    def subscribe(_: int) -> str:
        start.wait()
        try:
            plan_subscribe(account=persona.account, plan=pro, actor=persona.user)
            return "subscribed"
        except PaymentError as exc:
            return str(exc)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=requests) as pool:
        outcomes = list(pool.map(subscribe, range(requests)))

    assert "subscribed" in outcomes
    assert all(
        outcome == "subscribed" or outcome.startswith("Another plan change for this account is in progress")
        for outcome in outcomes
    ), outcomes
    rows = list(Subscription.objects.filter(account=persona.account))
    assert len(rows) == 1
    assert rows[0].plan == pro
    customer_id = BillingProfile.objects.get(pk=persona.account.pk).stripe_customer_id
    remote = stripe_subscriptions(stripe_api, customer_id)
    assert [item["id"] for item in remote] == [rows[0].stripe_subscription_id]
    # The claim was released: the account can change plan again.
    assert BillingProfile.objects.get(pk=persona.account.pk).plan_change_started_at is None

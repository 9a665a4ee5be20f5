"""Plans: subscribing through Stripe subscriptions, and recording their payments in the ledger.

A plan change takes effect at once: the account's Subscription row points at
the new plan as soon as Stripe accepts the change, and plan_limits reads it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import stripe
import structlog
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, User
from accounts.services import audit_record
from billing.models import UNITS_PER_CENT, BillingProfile, LedgerEntry, Plan, SavedCard, Subscription
from billing.quotas import plan_limits_changed
from billing.services.payments import PaymentError, billing_profile_open, stripe_customer_ensure
from billing.services.wallet import wallet_apply
from billing.stripe_client import stripe_client

logger = structlog.get_logger(__name__)


def _stripe_plan_ensure(plan: Plan) -> str:
    """Return the plan's Stripe plan id, creating it (with its product) the first time."""
    if plan.stripe_plan_id:
        return plan.stripe_plan_id
    client = stripe_client()
    plan_id = f"m3o-{plan.slug}-{plan.monthly_price_cents}"
    try:
        client.v1.plans.retrieve(plan_id)
    except stripe.InvalidRequestError:
        # NOTE: the legacy Plans API is used because localstripe has no Prices API; real Stripe accepts both.
        client.v1.plans.create(
            params={
                "id": plan_id,
                "amount": plan.monthly_price_cents,
                "currency": "usd",
                "interval": "month",
                "product": {"name": f"M3O {plan.name}"},
            }
        )
    Plan.objects.filter(pk=plan.pk).update(stripe_plan_id=plan_id)
    return plan_id


# A plan change whose request died (e.g. a killed web process) frees the account after this long.
PLAN_CHANGE_CLAIM_SECONDS = 120


def plan_subscribe(*, account: Account, plan: Plan, actor: User | None) -> Subscription:
    """Move the account to ``plan`` at once: a paid plan through a Stripe subscription, a free one by cancelling it.

    A paid plan needs a saved card, which becomes the customer's default.
    Raises PaymentError with a message for the user when Stripe declines, or
    when another plan change of the account is under way.
    """
    if not plan.is_active:
        raise PaymentError("That plan is no longer offered.")

    # Two requests at once (a double click, two tabs) would each see no Stripe subscription and
    # create one. Claim the account with a conditional UPDATE first: no row lock is held across
    # the Stripe calls, and the losing request changes nothing.
    billing_profile_open(account_id=account.pk)
    now = timezone.now()
    stale = now - dt.timedelta(seconds=PLAN_CHANGE_CLAIM_SECONDS)
    claimed = BillingProfile.objects.filter(
        Q(plan_change_started_at__isnull=True) | Q(plan_change_started_at__lt=stale), pk=account.pk
    ).update(plan_change_started_at=now)
    if not claimed:
        raise PaymentError("Another plan change for this account is in progress. Reload the page in a minute.")
    try:
        return _plan_subscribe_claimed(account=account, plan=plan, actor=actor)
    finally:
        BillingProfile.objects.filter(pk=account.pk, plan_change_started_at=now).update(plan_change_started_at=None)


def _plan_subscribe_claimed(*, account: Account, plan: Plan, actor: User | None) -> Subscription:
    current = Subscription.objects.filter(pk=account.pk).first()
    if current and current.plan_id == plan.pk and current.status in ("active", "trialing"):
        # Already there (e.g. the same form submitted twice): nothing to change in Stripe.
        return current
    stripe_id = current.stripe_subscription_id if current else None
    client = stripe_client()

    if plan.monthly_price_cents == 0:
        if stripe_id:
            client.v1.subscriptions.cancel(stripe_id)
        status, stripe_id = "active", None
    else:
        card = SavedCard.objects.filter(account=account).order_by("created_at", "id").first()
        if card is None:
            raise PaymentError("Save a card first: add funds once with a new card and keep it saved.")
        customer_id = stripe_customer_ensure(account=account)
        client.v1.customers.update(
            customer_id, params={"invoice_settings": {"default_payment_method": card.stripe_payment_method_id}}
        )
        items: Any = [{"plan": _stripe_plan_ensure(plan)}]
        try:
            if stripe_id:
                remote = client.v1.subscriptions.update(stripe_id, params={"items": items})
            else:
                remote = client.v1.subscriptions.create(
                    params={"customer": customer_id, "items": items, "metadata": {"m3o_account_id": str(account.pk)}}
                )
        except stripe.CardError as exc:
            raise PaymentError(exc.user_message or "The card was declined.") from None
        if remote.status not in ("active", "trialing"):
            if not stripe_id:
                client.v1.subscriptions.cancel(remote.id)
            raise PaymentError("The first payment for this plan failed; check the card and try again.")
        status, stripe_id = str(remote.status), str(remote.id)

    with transaction.atomic():
        subscription, _ = Subscription.objects.update_or_create(
            account=account, defaults={"plan": plan, "stripe_subscription_id": stripe_id, "status": status}
        )
        audit_record(account=account, actor=actor, action="billing.plan_changed", target=plan.slug)
    logger.info("Plan changed", account_id=account.pk, plan=plan.slug, subscription_id=stripe_id)
    return subscription


def subscription_payment_record(*, account_id: int, invoice: dict[str, Any]) -> bool:
    """Record a paid plan invoice in the ledger once: the card payment in, and the plan's price out.

    The two rows cancel out, so the balance does not change, but the ledger
    and the monthly invoice show what was paid for the plan.
    """
    amount_units = int(invoice.get("amount_paid") or 0) * UNITS_PER_CENT
    if amount_units <= 0:
        return False
    with transaction.atomic():
        wallet_apply(
            account_id=account_id,
            kind=LedgerEntry.Kind.SUBSCRIPTION,
            amount_units=amount_units,
            reference=f"subscription:paid:{invoice['id']}",
            description="Plan payment by card",
        )
        wallet_apply(
            account_id=account_id,
            kind=LedgerEntry.Kind.SUBSCRIPTION,
            amount_units=-amount_units,
            reference=f"subscription:price:{invoice['id']}",
            description="Plan price",
            allow_debt=True,
        )
    return True


def subscription_end(*, stripe_subscription_id: str) -> int | None:
    """Put an account whose Stripe subscription ended back on the default plan; return its id."""
    subscription = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    if subscription is None:
        return None
    default = Plan.objects.filter(is_default=True).first()
    if default is None:
        subscription.delete()
    else:
        Subscription.objects.filter(pk=subscription.pk).update(plan=default, stripe_subscription_id=None, status="canceled")
        plan_limits_changed()  # update() sends no signal; the gateway caches plan limits
    logger.info("Subscription ended", account_id=subscription.account_id, subscription_id=stripe_subscription_id)
    return subscription.account_id

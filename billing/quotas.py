"""Free calls and plan limits: what one call costs, and which limits apply to an account.

Pricing of one call, in order:
1. While the account has calls left in the endpoint's free quota this month, the call is free.
2. Otherwise a priced endpoint costs its price.
3. A free endpoint (price 0) is free while the account's monthly free
   allowance lasts, and costs ``M3O_UNITS_PAST_ALLOWANCE`` units after that.

The allowance is the plan's included free calls where the account has a plan
(a subscription or the default plan), else ``M3O_FREE_CALLS_PER_MONTH``.

With the database meter, a free call takes one from its counter with a
conditional UPDATE, so parallel calls cannot use more than the quota; the
Redis meter counts in its reserve script instead (billing/metering.py). If
the call then fails (not 2xx), the meter gives it back. Months are calendar
months in UTC.

Plan limits are read on every call, so they are cached in each process and
dropped on every plan or subscription change through a shared epoch, so a
change of plan applies to the very next call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.authentication import EpochCache, Epochs, epoch_bump
from billing.models import FreeUsage, Plan, Subscription
from billing.selectors import PlanLimits, plan_limits

ALLOWANCE_SCOPE = "allowance"
PLAN_EPOCH_KEY = "m3o:plan-epoch"
PLAN_CACHE_TTL_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Pricing:
    """Everything that decides one call's cost, known before the meter runs."""

    endpoint_id: int
    price_units: int
    free_quota: int
    allowance: int
    past_allowance_units: int


@dataclass(frozen=True, slots=True)
class FreeCall:
    account_id: int
    month: dt.date
    scope: str


@dataclass(frozen=True, slots=True)
class CallCost:
    units: int
    free_call: FreeCall | None


@dataclass(frozen=True, slots=True)
class AccountLimits:
    """The limits the gateway applies to an account: its plan's where set, else the platform defaults."""

    rate_limit_per_minute: int | None
    free_calls_per_month: int


def month_start(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date().replace(day=1)


def _take(account_id: int, month: dt.date, scope: str, quota: int) -> FreeCall | None:
    FreeUsage.objects.bulk_create(
        [FreeUsage(account_id=account_id, month=month, scope=scope)], ignore_conflicts=True
    )
    taken = FreeUsage.objects.filter(account_id=account_id, month=month, scope=scope, used__lt=quota).update(
        used=F("used") + 1
    )
    return FreeCall(account_id, month, scope) if taken else None


def call_cost(*, account_id: int, pricing: Pricing) -> CallCost:
    """Decide what this call costs, taking a free call from a database counter if one applies."""
    month = month_start(timezone.now())
    if pricing.free_quota > 0:
        free_call = _take(account_id, month, f"endpoint:{pricing.endpoint_id}", pricing.free_quota)
        if free_call:
            return CallCost(0, free_call)
    if pricing.price_units > 0:
        return CallCost(pricing.price_units, None)
    if pricing.allowance > 0:
        free_call = _take(account_id, month, ALLOWANCE_SCOPE, pricing.allowance)
        if free_call:
            return CallCost(0, free_call)
    return CallCost(pricing.past_allowance_units, None)


def free_call_return(free_call: FreeCall) -> None:
    """Give a free call back after the call failed, so failures do not use up the quota."""
    FreeUsage.objects.filter(
        account_id=free_call.account_id, month=free_call.month, scope=free_call.scope, used__gt=0
    ).update(used=F("used") - 1)


_plan_cache: EpochCache[AccountLimits] = EpochCache(epoch_name=PLAN_EPOCH_KEY, ttl_seconds=PLAN_CACHE_TTL_SECONDS)


def account_limits(account_id: int, *, epochs: Epochs) -> AccountLimits:
    """Return the account's rate limit and free allowance, from this process's cache when current."""
    return _plan_cache.get(account_id, epochs=epochs, load=lambda: (_limits_from_plan(plan_limits(account_id)), None))


def _limits_from_plan(limits: PlanLimits) -> AccountLimits:
    if not limits.plan_slug:
        return AccountLimits(rate_limit_per_minute=None, free_calls_per_month=settings.M3O_FREE_CALLS_PER_MONTH)
    return AccountLimits(
        rate_limit_per_minute=limits.rate_limit_per_minute, free_calls_per_month=limits.included_free_calls
    )


def plan_cache_clear() -> None:
    """Forget this process's cached plan limits (tests; the epoch does it across processes)."""
    _plan_cache.clear()


def plan_limits_changed() -> None:
    """Make every process reload plan limits; for writes that send no model signal (``update()``)."""
    epoch_bump(PLAN_EPOCH_KEY)
    _plan_cache.clear()


@receiver(post_save, sender=Plan, dispatch_uid="billing_plan_epoch_plan_saved")
@receiver(post_delete, sender=Plan, dispatch_uid="billing_plan_epoch_plan_deleted")
@receiver(post_save, sender=Subscription, dispatch_uid="billing_plan_epoch_subscription_saved")
@receiver(post_delete, sender=Subscription, dispatch_uid="billing_plan_epoch_subscription_deleted")
def _plan_changed(sender: type[Any], **kwargs: Any) -> None:
    # Any plan or subscription change: every process reloads the limits of every account.
    # Plan changes are rare, so one epoch for all accounts keeps the hot path to one read.
    plan_limits_changed()

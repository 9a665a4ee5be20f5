"""Free calls: per-endpoint monthly free quotas and the account's monthly free allowance.

Pricing of one call, in order:
1. While the account has calls left in the endpoint's free quota this month, the call is free.
2. Otherwise a priced endpoint costs its price.
3. A free endpoint (price 0) is free while the account's monthly free
   allowance lasts, and costs ``M3O_UNITS_PAST_ALLOWANCE`` units after that.

A free call takes one from its counter with a conditional UPDATE, so parallel
calls cannot use more than the quota. If the call then fails (not 2xx), the
gateway gives it back. Months are calendar months in UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from billing.models import FreeUsage

ALLOWANCE_SCOPE = "allowance"


@dataclass(frozen=True, slots=True)
class FreeCall:
    account_id: int
    month: dt.date
    scope: str


@dataclass(frozen=True, slots=True)
class CallCost:
    units: int
    free_call: FreeCall | None


def _month_start(now: dt.datetime) -> dt.date:
    return now.astimezone(dt.UTC).date().replace(day=1)


def _take(account_id: int, month: dt.date, scope: str, quota: int) -> FreeCall | None:
    FreeUsage.objects.bulk_create(
        [FreeUsage(account_id=account_id, month=month, scope=scope)], ignore_conflicts=True
    )
    taken = FreeUsage.objects.filter(account_id=account_id, month=month, scope=scope, used__lt=quota).update(
        used=F("used") + 1
    )
    return FreeCall(account_id, month, scope) if taken else None


def call_cost(*, account_id: int, endpoint_id: int, price_units: int, free_quota: int) -> CallCost:
    """Decide what this call costs, taking a free call from a counter if one applies."""
    month = _month_start(timezone.now())
    if free_quota > 0:
        free_call = _take(account_id, month, f"endpoint:{endpoint_id}", free_quota)
        if free_call:
            return CallCost(0, free_call)
    if price_units > 0:
        return CallCost(price_units, None)
    allowance = settings.M3O_FREE_CALLS_PER_MONTH
    if allowance > 0:
        free_call = _take(account_id, month, ALLOWANCE_SCOPE, allowance)
        if free_call:
            return CallCost(0, free_call)
    return CallCost(settings.M3O_UNITS_PAST_ALLOWANCE, None)


def free_call_return(free_call: FreeCall) -> None:
    """Give a free call back after the call failed, so failures do not use up the quota."""
    FreeUsage.objects.filter(
        account_id=free_call.account_id, month=free_call.month, scope=free_call.scope, used__gt=0
    ).update(used=F("used") - 1)

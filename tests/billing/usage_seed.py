"""Seeded usage events for the usage tests: deterministic, spread over keys, services, statuses and hours."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from django.db.models import Count, Sum

from accounts.models import Account, ApiKey
from billing.models import UsageEvent

ENDPOINTS = [("helloworld", "Call", 1_000), ("cache", "Set", 100), ("cache", "Get", 50), ("sms", "Send", 100_000)]
STATUSES = [200, 200, 200, 200, 201, 400, 404, 429, 500, 200]


def seed_events(
    account: Account, keys: list[ApiKey | None], *, start: dt.datetime, hours: int, per_hour: int
) -> list[UsageEvent]:
    """Create ``per_hour`` events in each of ``hours`` hours from ``start``, cycling through keys, endpoints and statuses."""
    events = []
    counter = itertools.count()
    for hour in range(hours):
        for i in range(per_hour):
            n = next(counter)
            service, endpoint, price = ENDPOINTS[n % len(ENDPOINTS)]
            status = STATUSES[(n // len(ENDPOINTS)) % len(STATUSES)]
            key = keys[n % len(keys)]
            events.append(
                UsageEvent(
                    request_id=uuid.uuid4().hex,
                    account=account,
                    api_key=key,
                    service=service,
                    endpoint=endpoint,
                    status_code=status,
                    cost_units=price if 200 <= status < 300 else 0,
                    latency_ms=5 + n % 40,
                    created_at=start + dt.timedelta(hours=hour, seconds=(i * 3600) // per_hour),
                )
            )
    return UsageEvent.objects.bulk_create(events, batch_size=2_000)


def raw_totals(**filters: object) -> dict[str, int]:
    totals = UsageEvent.objects.filter(**filters).aggregate(calls=Count("id"), cost=Sum("cost_units"))
    return {"calls": totals["calls"], "cost": totals["cost"] or 0}

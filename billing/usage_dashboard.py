"""The figures of the dashboard home, composed from the usage selectors."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from accounts.models import Account, ApiKey, User
from accounts.services import user_has_verified_email
from billing.charts import chart_table
from billing.models import UsageDaily, UsageEvent
from billing.usage_selectors import Totals, UsageFilter, usage_report, usage_totals

TOP_SERVICES = 5


def _hour_floor(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def dashboard_figures(*, account_id: int, time_zone: str, now: dt.datetime) -> dict[str, Any]:
    """Spend this month and calls today (in the account's invoice zone), and the last 30 UTC days.

    "This month" starts where the account's invoices cut months, so the figure
    matches the next invoice. NOTE: the hourly totals start on whole UTC hours,
    so in a zone with a half-hour offset the first half hour of the month is
    left out until the invoice is issued.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    local_now = now.astimezone(zone)
    next_hour = _hour_floor(now) + dt.timedelta(hours=1)
    month_start = dt.datetime.combine(local_now.date().replace(day=1), dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    day_start = dt.datetime.combine(local_now.date(), dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    month = usage_totals(UsageFilter(account_id=account_id, start=month_start, end=next_hour, granularity="hour"))
    today = usage_totals(UsageFilter(account_id=account_id, start=day_start, end=next_hour, granularity="hour"))

    utc_tomorrow = dt.datetime.combine(now.astimezone(dt.UTC).date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    last_30 = UsageFilter(account_id=account_id, start=utc_tomorrow - dt.timedelta(days=30), end=utc_tomorrow)
    report = usage_report(last_30)
    services: dict[str, Totals] = {}
    for row in report.endpoints:
        services.setdefault(row.service, Totals()).add(
            row.totals.calls, row.totals.errors, row.totals.cost_units, row.totals.latency_ms_total
        )
    top = sorted(services.items(), key=lambda item: (-item[1].cost_units, -item[1].calls, item[0]))[:TOP_SERVICES]
    return {
        "month_totals": month,
        "month_start": month_start,
        "today_totals": today,
        "last_30_totals": report.totals,
        "chart": chart_table(
            id="chart-30-days",
            title="Calls and spend, last 30 days",
            series=report.series,
            granularity="day",
            metrics=["calls", "spend"],
        ),
        "top_services": top,
    }


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    done: bool
    url_name: str


def getting_started_steps(*, account: Account, user: User) -> list[Step] | None:
    """The first steps of a new account, or None once all are done."""
    steps = [
        Step("Verify your email address", user_has_verified_email(user), "account_email"),
        Step("Create an API key", ApiKey.objects.filter(account=account).exists(), "keys"),
        Step(
            "Make your first call",
            UsageDaily.objects.filter(account=account).exists() or UsageEvent.objects.filter(account=account).exists(),
            "explore",
        ),
    ]
    return None if all(step.done for step in steps) else steps

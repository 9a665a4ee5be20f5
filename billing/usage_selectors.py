"""Reads for usage analytics: charts, tables, per-key figures, the call log and the roll-up's health.

Every figure is the hourly or daily totals plus the events the roll-up has
not reached yet (ids above its cursor). Both parts are read in one SQL
statement, so they come from the same snapshot and an event is counted once
even if a roll-up batch commits meanwhile. Pages are therefore exact as soon
as a call is recorded. Their cost depends on the number of totals rows in
the range, not on the number of calls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Account
from billing.models import UsageDaily, UsageEvent, UsageHourly, UsageRollupCursor, Wallet
from billing.services.usage import CURSOR_NAME, EVENTS, usage_rollup_cursor

Granularity = Literal["hour", "day"]

_CURSOR_TABLE = UsageRollupCursor._meta.db_table
# An event's period and status class, as the roll-up computes them (billing.services.usage).
_EVENT_PERIOD_SQL = {
    ("postgresql", "hour"): "date_trunc('hour', e.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    ("postgresql", "day"): "(e.created_at AT TIME ZONE 'UTC')::date",
    ("sqlite", "hour"): "strftime('%%Y-%%m-%%d %%H:00:00', e.created_at)",
    ("sqlite", "day"): "substr(e.created_at, 1, 10)",
}


@dataclass(frozen=True, slots=True)
class UsageFilter:
    """A usage query: one account, [start, end) aligned to the granularity, optionally one key and one service."""

    account_id: int
    start: dt.datetime
    end: dt.datetime
    granularity: Granularity = "day"
    # An API key's id, 0 for calls made without a key (the playground), None for all.
    key_id: int | None = None
    service: str | None = None


@dataclass(slots=True)
class Totals:
    calls: int = 0
    errors: int = 0
    cost_units: int = 0
    latency_ms_total: int = 0

    @property
    def mean_latency_ms(self) -> int:
        return round(self.latency_ms_total / self.calls) if self.calls else 0

    def add(self, calls: int, errors: int, cost_units: int, latency_ms_total: int) -> None:
        self.calls += calls
        self.errors += errors
        self.cost_units += cost_units
        self.latency_ms_total += latency_ms_total


@dataclass(frozen=True, slots=True)
class Point:
    """One period of a chart."""

    start: dt.datetime
    totals: Totals


@dataclass(frozen=True, slots=True)
class EndpointRow:
    service: str
    endpoint: str
    totals: Totals


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Everything the usage page shows for a filter, read in one query."""

    series: list[Point]
    endpoints: list[EndpointRow]
    totals: Totals = field(default_factory=Totals)


def _period_bounds(f: UsageFilter) -> tuple[object, object]:
    if f.granularity == "day":
        return f.start.astimezone(dt.UTC).date(), f.end.astimezone(dt.UTC).date()
    return f.start, f.end


def _usage_rows_sql(f: UsageFilter, columns: list[str]) -> tuple[str, list[object]]:
    """SQL for the filter's usage grouped by ``columns`` (of period, key_id, service, endpoint, status_class).

    The totals table rows in range, plus the events above the roll-up cursor
    in range, summed. The cursor value read just before only lets the planner
    use the primary key for the events part; the cursor read inside the
    statement is the one that counts, so both parts share one snapshot.
    """
    vendor = connection.vendor
    table, period_column = (UsageDaily, "day") if f.granularity == "day" else (UsageHourly, "hour")
    low, high = _period_bounds(f)
    ops = connection.ops
    if f.granularity == "day":
        low, high = ops.adapt_datefield_value(low), ops.adapt_datefield_value(high)
    else:
        low, high = ops.adapt_datetimefield_value(low), ops.adapt_datetimefield_value(high)
    totals_where = ["t.account_id = %s", f"t.{period_column} >= %s", f"t.{period_column} < %s"]
    totals_params: list[object] = [f.account_id, low, high]
    events_where = [
        "e.id > %s",
        f"e.id > COALESCE((SELECT last_event_id FROM {_CURSOR_TABLE} WHERE name = %s), 0)",
        "e.account_id = %s",
        "e.created_at >= %s",
        "e.created_at < %s",
    ]
    events_params: list[object] = [
        usage_rollup_cursor(),
        CURSOR_NAME,
        f.account_id,
        ops.adapt_datetimefield_value(f.start),
        ops.adapt_datetimefield_value(f.end),
    ]
    if f.key_id is not None:
        totals_where.append("t.key_id = %s")
        totals_params.append(f.key_id)
        events_where.append("COALESCE(e.api_key_id, 0) = %s")
        events_params.append(f.key_id)
    if f.service is not None:
        totals_where.append("t.service = %s")
        totals_params.append(f.service)
        events_where.append("e.service = %s")
        events_params.append(f.service)

    event_columns = {
        "period": _EVENT_PERIOD_SQL[(vendor, f.granularity)],
        "key_id": "COALESCE(e.api_key_id, 0)",
        "service": "e.service",
        "endpoint": "e.endpoint",
        "status_class": "e.status_code / 100",
    }
    totals_columns = {**{name: f"t.{name}" for name in event_columns}, "period": f"t.{period_column}"}
    selected = ", ".join(f"{totals_columns[c]} AS {c}" for c in columns)
    selected_events = ", ".join(f"{event_columns[c]} AS {c}" for c in columns)
    group = ", ".join(columns) if columns else ""
    sql = f"""
        SELECT {group + ', ' if group else ''}SUM(calls), SUM(errors), SUM(cost_units), SUM(latency_ms_total)
        FROM (
            SELECT {selected + ', ' if selected else ''}t.calls, t.errors, t.cost_units, t.latency_ms_total
            FROM {table._meta.db_table} t WHERE {' AND '.join(totals_where)}
            UNION ALL
            SELECT {selected_events + ', ' if selected_events else ''}1,
                   CASE WHEN e.status_code >= 200 AND e.status_code < 300 THEN 0 ELSE 1 END,
                   e.cost_units, e.latency_ms
            FROM {EVENTS} e WHERE {' AND '.join(events_where)}
        ) AS usage_rows
        {'GROUP BY ' + group if group else ''}
    """
    return sql, [*totals_params, *events_params]


def _fetch(sql: str, params: list[object]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_datetime(value: object, granularity: Granularity) -> dt.datetime:
    """A period key from the database (a date, a datetime or SQLite text) as an aware UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if granularity == "hour" else dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    assert isinstance(value, dt.date)
    return dt.datetime.combine(value, dt.time.min, tzinfo=dt.UTC)


def period_starts(f: UsageFilter) -> list[dt.datetime]:
    step = dt.timedelta(hours=1) if f.granularity == "hour" else dt.timedelta(days=1)
    starts, moment = [], f.start
    while moment < f.end:
        starts.append(moment)
        moment += step
    return starts


def usage_report(f: UsageFilter) -> UsageReport:
    """The chart series (every period, zero-filled) and the per service and endpoint table, from one query."""
    rows = _fetch(*_usage_rows_sql(f, ["period", "service", "endpoint"]))
    by_period: dict[dt.datetime, Totals] = {start: Totals() for start in period_starts(f)}
    by_endpoint: dict[tuple[str, str], Totals] = {}
    grand = Totals()
    for period, service, endpoint, *measures in rows:
        measures = [int(m or 0) for m in measures]
        by_period.setdefault(_as_datetime(period, f.granularity), Totals()).add(*measures)
        by_endpoint.setdefault((service, endpoint), Totals()).add(*measures)
        grand.add(*measures)
    series = [Point(start, totals) for start, totals in sorted(by_period.items())]
    endpoints = [
        EndpointRow(service, endpoint, totals)
        for (service, endpoint), totals in sorted(by_endpoint.items(), key=lambda item: (-item[1].cost_units, -item[1].calls, item[0]))
    ]
    return UsageReport(series=series, endpoints=endpoints, totals=grand)


def usage_export_rows(f: UsageFilter) -> list[tuple[dt.datetime, str, str, Totals]]:
    """One row per period, service and endpoint that had calls: the data behind the charts and the table."""
    rows = _fetch(*_usage_rows_sql(f, ["period", "service", "endpoint"]))
    result = []
    for period, service, endpoint, *measures in rows:
        totals = Totals()
        totals.add(*[int(m or 0) for m in measures])
        result.append((_as_datetime(period, f.granularity), service, endpoint, totals))
    result.sort(key=lambda row: (row[0], row[1], row[2]))
    return result


def usage_totals(f: UsageFilter) -> Totals:
    totals = Totals()
    for row in _fetch(*_usage_rows_sql(f, [])):
        totals.add(*[int(m or 0) for m in row])
    return totals


def top_services(f: UsageFilter, *, limit: int) -> list[tuple[str, Totals]]:
    services: list[tuple[str, Totals]] = []
    for service, *measures in _fetch(*_usage_rows_sql(f, ["service"])):
        totals = Totals()
        totals.add(*[int(m or 0) for m in measures])
        services.append((service, totals))
    services.sort(key=lambda item: (-item[1].cost_units, -item[1].calls, item[0]))
    return services[:limit]


def usage_by_key(f: UsageFilter) -> dict[int, Totals]:
    """Usage per key id (0: calls without a key) in the filter's range."""
    result: dict[int, Totals] = {}
    for key_id, *measures in _fetch(*_usage_rows_sql(f, ["key_id"])):
        totals = Totals()
        totals.add(*[int(m or 0) for m in measures])
        result[int(key_id)] = totals
    return result


# --- The call log -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogPage:
    calls: list[UsageEvent]
    # Where the next (older) page starts, or None on the last page.
    next_before: tuple[int, int] | None


def _epoch_us(moment: dt.datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def call_log(
    f: UsageFilter, *, before: tuple[int, int] | None, per_page: int, request_id: str = "", errors_only: bool = False
) -> LogPage:
    """A page of the account's calls in the filter, newest first, starting below ``before`` (epoch µs, id).

    Keyset pagination on the (account, created_at) index, so every page costs
    the same however many calls the account made.
    """
    calls = UsageEvent.objects.filter(account_id=f.account_id, created_at__gte=f.start, created_at__lt=f.end)
    if request_id:
        calls = calls.filter(request_id=request_id)
    if f.key_id is not None:
        calls = calls.filter(api_key__isnull=True) if f.key_id == 0 else calls.filter(api_key_id=f.key_id)
    if f.service is not None:
        calls = calls.filter(service=f.service)
    if errors_only:
        calls = calls.filter(Q(status_code__lt=200) | Q(status_code__gte=300))
    if before is not None:
        moment = dt.datetime.fromtimestamp(before[0] // 1_000_000, tz=dt.UTC).replace(microsecond=before[0] % 1_000_000)
        calls = calls.filter(created_at__lte=moment).exclude(created_at=moment, id__gte=before[1])
    page = list(calls.select_related("api_key").order_by("-created_at", "-id")[: per_page + 1])
    next_before = None
    if len(page) > per_page:
        page = page[:per_page]
        next_before = (_epoch_us(page[-1].created_at), page[-1].pk)
    return LogPage(calls=page, next_before=next_before)


def recent_errors(account_id: int, *, limit: int) -> list[UsageEvent]:
    return list(
        UsageEvent.objects.filter(account_id=account_id, status_code__gte=400)
        .select_related("api_key")
        .order_by("-created_at", "-id")[:limit]
    )


# --- Health and operators -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class RollupStatus:
    last_event_id: int
    # Events recorded but not yet in the totals.
    backlog_events: int
    # When the oldest of those was recorded, or None when there are none.
    oldest_pending_at: dt.datetime | None
    cursor_moved_at: dt.datetime | None

    @property
    def lag_seconds(self) -> float:
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (timezone.now() - self.oldest_pending_at).total_seconds())


def usage_rollup_status() -> RollupStatus:
    """How far behind the roll-up is: the events above its cursor, and the age of the oldest (by id) of them."""
    cursor = UsageRollupCursor.objects.filter(name=CURSOR_NAME).values_list("last_event_id", "updated_at").first()
    last_event_id, moved_at = cursor or (0, None)
    pending = UsageEvent.objects.filter(id__gt=last_event_id)
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    return RollupStatus(
        last_event_id=last_event_id,
        backlog_events=pending.count() if oldest is not None else 0,
        oldest_pending_at=oldest,
        cursor_moved_at=moved_at,
    )


def usage_rollup_backlog() -> int:
    """Events recorded but not yet rolled up: the health figure exported as a metric."""
    return usage_rollup_status().backlog_events


# --- Operators: the whole platform, from the daily totals --------------------


@dataclass(frozen=True, slots=True)
class Trend:
    """A service's or account's figures in a period and the period before it."""

    name: str
    id: int | None
    calls: int
    cost_units: int
    previous_calls: int

    @property
    def growth_percent(self) -> int | None:
        if not self.previous_calls:
            return None
        return round(100 * (self.calls - self.previous_calls) / self.previous_calls)


def platform_daily(*, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.date, int, int, int]]:
    """(day, calls, errors, revenue units) for every UTC day in [first_day, last_day], zero-filled."""
    rows = (
        UsageDaily.objects.filter(day__gte=first_day, day__lte=last_day)
        .values("day")
        .annotate(calls=Sum("calls"), errors=Sum("errors"), units=Sum("cost_units"))
        .order_by()
    )
    found = {row["day"]: (row["calls"], row["errors"], row["units"]) for row in rows}
    days = []
    day = first_day
    while day <= last_day:
        calls, errors, units = found.get(day, (0, 0, 0))
        days.append((day, int(calls), int(errors), int(units)))
        day += dt.timedelta(days=1)
    return days


def _trending(group: str, *, first_day: dt.date, last_day: dt.date) -> list[Trend]:
    span = last_day - first_day + dt.timedelta(days=1)
    rows = (
        UsageDaily.objects.filter(day__gte=first_day - span, day__lte=last_day)
        .values(group)
        .annotate(
            period_calls=Sum("calls", filter=Q(day__gte=first_day)),
            period_units=Sum("cost_units", filter=Q(day__gte=first_day)),
            previous_calls=Sum("calls", filter=Q(day__lt=first_day)),
        )
        .filter(period_calls__gt=0)
        .order_by("-period_units", "-period_calls", group)
    )
    return [
        Trend(
            name=str(row[group]),
            id=row[group] if group == "account_id" else None,
            calls=int(row["period_calls"] or 0),
            cost_units=int(row["period_units"] or 0),
            previous_calls=int(row["previous_calls"] or 0),
        )
        for row in rows
    ]


def top_services_platform(*, first_day: dt.date, last_day: dt.date, limit: int) -> list[Trend]:
    return _trending("service", first_day=first_day, last_day=last_day)[:limit]


def top_accounts_platform(*, first_day: dt.date, last_day: dt.date, offset: int, limit: int) -> list[Trend]:
    """Accounts by revenue in the period, with their names; ``offset`` and ``limit`` page through them."""
    trends = _trending("account_id", first_day=first_day, last_day=last_day)[offset : offset + limit]
    names = dict(Account.objects.filter(pk__in=[t.id for t in trends]).values_list("pk", "name"))
    return [Trend(names.get(t.id, f"account {t.id}"), t.id, t.calls, t.cost_units, t.previous_calls) for t in trends]


@dataclass(frozen=True, slots=True)
class NearCap:
    account_id: int
    account_name: str
    spent_units: int
    cap_units: int

    @property
    def percent(self) -> int:
        return round(100 * self.spent_units / self.cap_units) if self.cap_units else 100


def accounts_near_cap(*, month_start: dt.date, at_least_percent: int, limit: int) -> list[NearCap]:
    """Return the accounts whose spend this UTC month reached ``at_least_percent`` of their monthly cap, highest first."""
    caps = dict(
        Wallet.objects.filter(spending_cap_units__isnull=False).values_list("account_id", "spending_cap_units")
    )
    if not caps:
        return []
    spent = dict(
        UsageDaily.objects.filter(account_id__in=list(caps), day__gte=month_start)
        .values("account_id")
        .annotate(units=Sum("cost_units"))
        .order_by()
        .values_list("account_id", "units")
    )
    near = [
        (account_id, int(spent.get(account_id) or 0), cap)
        for account_id, cap in caps.items()
        if int(spent.get(account_id) or 0) * 100 >= cap * at_least_percent
    ]
    near.sort(key=lambda row: -(row[1] / row[2] if row[2] else 1))
    near = near[:limit]
    names = dict(Account.objects.filter(pk__in=[row[0] for row in near]).values_list("pk", "name"))
    return [NearCap(account_id, names.get(account_id, ""), spent_units, cap) for account_id, spent_units, cap in near]

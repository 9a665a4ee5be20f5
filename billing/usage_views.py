"""The usage page (charts, the per-endpoint table, the call log), its CSV export, and usage per API key."""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import with_membership
from accounts.models import ApiKey, Membership
from billing.charts import chart_table
from billing.models import UNITS_PER_CENT, UsageDaily
from billing.usage_selectors import (
    UsageFilter,
    call_log,
    usage_by_key,
    usage_export_rows,
    usage_report,
)

RANGES = {
    "24h": ("Last 24 hours", dt.timedelta(hours=24)),
    "7d": ("Last 7 days", dt.timedelta(days=7)),
    "30d": ("Last 30 days", dt.timedelta(days=30)),
    "90d": ("Last 90 days", dt.timedelta(days=90)),
}
DEFAULT_RANGE = "30d"
MAX_HOURLY_SPAN = dt.timedelta(days=31)
MAX_SPAN = dt.timedelta(days=366)
ENDPOINTS_PER_PAGE = 25
CALLS_PER_PAGE = 25
KEYS_PER_PAGE = 25
# Service slugs and request ids are short tokens; anything else cannot match and is rejected.
SERVICE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
BEFORE_RE = re.compile(r"^(\d{1,20})-(\d{1,20})$")


@dataclass
class UsageQuery:
    """The usage page's parsed query string."""

    filter: UsageFilter
    range: str
    start_date: str
    end_date: str
    request_id: str
    before: tuple[int, int] | None
    errors: list[str]


def _floor(moment: dt.datetime, granularity: str) -> dt.datetime:
    moment = moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return moment if granularity == "hour" else moment.replace(hour=0)


def _parse_date(raw: str, label: str, errors: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(f"Invalid {label} {raw[:20]!r}: use a date such as 2026-03-31.")
        return None


def parse_usage_query(params: QueryDict, *, account_id: int, key_ids: set[int]) -> UsageQuery:
    """Read range, granularity, key, service, request id and page from the query string.

    A bad value is reported in ``errors`` and replaced by its default, so the
    page still renders (with status 400).
    """
    errors: list[str] = []
    now = timezone.now()

    range_name = params.get("range", DEFAULT_RANGE)
    start_raw, end_raw = params.get("start", "").strip(), params.get("end", "").strip()
    if range_name not in RANGES and range_name != "custom":
        errors.append(f"Unknown range {range_name[:20]!r}: choose one of the listed ranges.")
        range_name = DEFAULT_RANGE
    granularity = params.get("by", "hour" if range_name == "24h" else "day")
    if granularity not in ("hour", "day"):
        errors.append(f"Unknown grouping {granularity[:20]!r}: use day or hour.")
        granularity = "day"

    if range_name == "custom":
        start_day = _parse_date(start_raw, "start date", errors)
        end_day = _parse_date(end_raw, "end date", errors)
        if start_day and end_day and start_day > end_day:
            errors.append("The start date is after the end date.")
        if not (start_day and end_day) or start_day > end_day:
            range_name = DEFAULT_RANGE
        else:
            start = dt.datetime.combine(start_day, dt.time.min, tzinfo=dt.UTC)
            end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    if range_name != "custom":
        end = _floor(now, granularity) + (dt.timedelta(hours=1) if granularity == "hour" else dt.timedelta(days=1))
        start = end - RANGES[range_name][1]
    if end - start > MAX_SPAN:
        errors.append("Choose a range of at most 366 days.")
        start = end - MAX_SPAN
    if granularity == "hour" and end - start > MAX_HOURLY_SPAN:
        errors.append("Group by day for ranges over 31 days.")
        granularity = "day"
        start, end = _floor(start, "day"), _floor(end - dt.timedelta(microseconds=1), "day") + dt.timedelta(days=1)

    key_id: int | None = None
    key_raw = params.get("key", "")
    if key_raw:
        if key_raw.isdigit() and (int(key_raw) in key_ids or int(key_raw) == 0):
            key_id = int(key_raw)
        else:
            errors.append(f"Unknown key {key_raw[:20]!r}: choose one of this account's keys.")

    service = params.get("service", "").strip() or None
    if service is not None and not SERVICE_RE.match(service):
        errors.append(f"Invalid service {service[:20]!r}: use a service name such as helloworld.")
        service = None

    request_id = params.get("q", "").strip()
    if request_id and not REQUEST_ID_RE.match(request_id):
        errors.append(f"Invalid request id {request_id[:20]!r}: paste the X-Request-Id of a call.")
        request_id = ""

    before = None
    if match := BEFORE_RE.match(params.get("before", "")):
        before = (int(match[1]), int(match[2]))
    elif params.get("before"):
        errors.append("Invalid page link: start again from the newest calls.")

    return UsageQuery(
        filter=UsageFilter(
            account_id=account_id, start=start, end=end, granularity=granularity, key_id=key_id, service=service  # type: ignore[arg-type]
        ),
        range=range_name,
        start_date=start.date().isoformat(),
        end_date=(end - dt.timedelta(microseconds=1)).date().isoformat(),
        request_id=request_id,
        before=before,
        errors=errors,
    )


def _account_keys(membership: Membership) -> list[ApiKey]:
    return list(ApiKey.objects.filter(account=membership.account).order_by("-created_at", "-id"))


def _services_used(account_id: int, f: UsageFilter) -> list[str]:
    return list(
        UsageDaily.objects.filter(account_id=account_id, day__gte=f.start.date(), day__lt=f.end.date() + dt.timedelta(days=1))
        .values_list("service", flat=True)
        .distinct()
        .order_by("service")
    )


def _query_string(params: QueryDict, **changes: Any) -> str:
    query = params.copy()
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return query.urlencode()


@require_GET
@with_membership
def usage(request: HttpRequest, membership: Membership) -> HttpResponse:
    keys = _account_keys(membership)
    query = parse_usage_query(request.GET, account_id=membership.account_id, key_ids={key.pk for key in keys})
    f = query.filter
    report = usage_report(f)
    endpoints = Paginator(report.endpoints, ENDPOINTS_PER_PAGE).get_page(request.GET.get("epage"))
    log = call_log(f, before=query.before, per_page=CALLS_PER_PAGE, request_id=query.request_id)
    older = None
    if log.next_before:
        older = _query_string(request.GET, before=f"{log.next_before[0]}-{log.next_before[1]}")
    per = f.granularity
    context = {
        "query": query,
        "f": f,
        "chart": chart_table(
            id="chart-usage",
            title=f"Calls, spend and errors per {per}",
            series=report.series,
            granularity=per,
            metrics=["calls", "spend", "errors"],
            split=True,
        ),
        "ranges": RANGES,
        "keys": keys,
        "services": _services_used(membership.account_id, f),
        "report": report,
        "endpoints": endpoints,
        "log": log,
        "older_query": older,
        "newest_query": _query_string(request.GET, before=None) if query.before else None,
        "export_query": _query_string(request.GET, before=None, epage=None, q=None),
        "endpoint_page_query": _query_string(request.GET, epage=None),
    }
    status = 400 if query.errors else 200
    if request.htmx and request.htmx.target == "call-log":
        return render(request, "billing/usage.html#call-log", context, status=status)
    template = "billing/usage.html#usage-body" if request.htmx else "billing/usage.html"
    return render(request, template, context, status=status)


def _csv_cell(value: str) -> str:
    # A leading =, +, - or @ makes spreadsheets evaluate the cell as a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


@require_GET
@with_membership
def usage_export(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The usage page's data as CSV: one row per period, service and endpoint with calls."""
    keys = _account_keys(membership)
    query = parse_usage_query(request.GET, account_id=membership.account_id, key_ids={key.pk for key in keys})
    if query.errors:
        return HttpResponse(" ".join(query.errors), status=400, content_type="text/plain; charset=utf-8")
    f = query.filter
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="m3o-usage-{query.start_date}-to-{query.end_date}-by-{f.granularity}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["period_start_utc", "service", "endpoint", "calls", "errors", "cost_units", "cost_usd"])
    for start, service, endpoint, totals in usage_export_rows(f):
        writer.writerow(
            [
                start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                _csv_cell(service),
                _csv_cell(endpoint),
                totals.calls,
                totals.errors,
                totals.cost_units,
                f"{totals.cost_units / (UNITS_PER_CENT * 100):.6f}",
            ]
        )
    return response


@require_GET
@with_membership
def key_usage(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Calls and spend per API key in the last 30 days, and when each was last used, to find stale keys."""
    now = timezone.now()
    end = _floor(now, "day") + dt.timedelta(days=1)
    f = UsageFilter(account_id=membership.account_id, start=end - dt.timedelta(days=30), end=end)
    page = Paginator(
        ApiKey.objects.filter(account=membership.account).order_by("revoked_at", "-last_used_at", "-created_at", "-id"),
        KEYS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    per_key = usage_by_key(f)
    stale_before = now - dt.timedelta(days=30)
    rows = [
        {
            "key": key,
            "totals": per_key.get(key.pk),
            "stale": key.revoked_at is None and (key.last_used_at or key.created_at) < stale_before,
            "inactive": key.revoked_at is not None or key.is_expired(now),
        }
        for key in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "keyless": per_key.get(0),
        "can_manage": membership.can_manage_keys,
    }
    return render(request, "billing/key_usage.html", context)

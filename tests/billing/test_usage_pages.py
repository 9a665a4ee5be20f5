"""The dashboard, the usage page, its CSV export, usage per key and the operators' overview."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter

import pytest
import time_machine

from billing.clock import month_end_run
from billing.models import Invoice, InvoiceLine, UsageEvent
from billing.services.usage import usage_rollup
from tests.billing.usage_seed import seed_events
from tests.conftest import Persona
from tests.factories import make_key

NOV_1 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
NOV_30_EVENING = dt.datetime(2026, 11, 30, 20, 30, tzinfo=dt.UTC)
PAGES = ["/dashboard/", "/billing/usage/", "/billing/usage/?range=7d&by=hour", "/billing/usage/keys/", "/billing/usage/export.csv"]


def _units(page: str, element_id: str) -> int:
    match = re.search(rf'id="{element_id}" data-units="(\d+)"', page)
    assert match, element_id
    return int(match[1])


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_pages_render_before_any_call(owner: Persona) -> None:
    for url in PAGES:
        assert owner.client.get(url).status_code == 200, url


def test_a_seeded_month_shows_the_same_totals_everywhere(owner: Persona) -> None:
    other_key, _ = make_key(owner.user, name="second key")
    seed_events(owner.account, [owner.key, other_key, None], start=NOV_1 - dt.timedelta(days=2), hours=48, per_hour=2)
    november = seed_events(owner.account, [owner.key, other_key, None], start=NOV_1, hours=29 * 24 + 20, per_hour=3)
    month_units = sum(event.cost_units for event in november)
    charged = Counter()
    for event in november:
        charged[(event.service, event.endpoint)] += event.cost_units
    # Half the events in the totals, half still above the roll-up cursor.
    usage_rollup(batch_events=len(november) // 2, max_batches=1)

    with time_machine.travel(NOV_30_EVENING, tick=False):
        dashboard = owner.client.get("/dashboard/").content.decode()
        query = {"range": "custom", "start": "2026-11-01", "end": "2026-11-30"}
        page = owner.client.get("/billing/usage/", query).content.decode()
        rows = _csv(owner.client.get("/billing/usage/export.csv", query))

    assert _units(dashboard, "month-spend") == month_units
    assert _units(page, "total-spend") == month_units
    assert f'id="total-calls">{len(november):,}<' in page
    assert sum(int(row["cost_units"]) for row in rows) == month_units
    assert sum(int(row["calls"]) for row in rows) == len(november)
    csv_by_endpoint = Counter()
    for row in rows:
        csv_by_endpoint[(row["service"], row["endpoint"])] += int(row["cost_units"])

    month_end_run(now=dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC))

    invoice = Invoice.objects.get(account=owner.account, month=NOV_1.date())
    assert invoice.usage_units == month_units
    lines = {(line.service, line.endpoint): line.amount_units for line in invoice.lines.filter(kind=InvoiceLine.Kind.USAGE)}
    assert lines == {key: units for key, units in csv_by_endpoint.items() if units} == {k: v for k, v in charged.items() if v}


def test_usage_page_filters_by_key_and_service(owner: Persona) -> None:
    other_key, _ = make_key(owner.user, name="second key")
    with time_machine.travel(NOV_30_EVENING, tick=False):
        events = seed_events(owner.account, [owner.key, other_key], start=NOV_30_EVENING - dt.timedelta(hours=10), hours=10, per_hour=8)
        by_key = owner.client.get("/billing/usage/", {"key": other_key.pk}).content.decode()
        by_service = owner.client.get("/billing/usage/", {"service": "cache", "by": "hour", "range": "24h"}).content.decode()

    other = [e for e in events if e.api_key_id == other_key.pk]
    assert _units(by_key, "total-spend") == sum(e.cost_units for e in other)
    cache = [e for e in events if e.service == "cache"]
    assert _units(by_service, "total-spend") == sum(e.cost_units for e in cache)
    assert f'id="total-calls">{len(cache)}<' in by_service


def test_call_log_finds_a_call_by_request_id_and_pages_through_calls(owner: Persona) -> None:
    with time_machine.travel(NOV_30_EVENING, tick=False):
        events = seed_events(owner.account, [owner.key], start=NOV_30_EVENING - dt.timedelta(hours=2), hours=2, per_hour=60)
        target = events[17]
        found = owner.client.get("/billing/usage/", {"q": target.request_id}).content.decode()
        first = owner.client.get("/billing/usage/").content.decode()
        older_link = re.search(r'href="\?([^"#]*before=[^"#]*)#calls"', first)
        assert older_link
        second = owner.client.get("/billing/usage/?" + older_link[1].replace("&amp;", "&")).content.decode()

    assert found.count('class="call-row"') == 1 and target.request_id in found
    first_ids = set(re.findall(r'<code class="small">([0-9a-f]{32})</code>', first))
    second_ids = set(re.findall(r'<code class="small">([0-9a-f]{32})</code>', second))
    assert len(first_ids) == 25 and len(second_ids) == 25 and not first_ids & second_ids


def test_other_accounts_calls_are_invisible(owner: Persona, outsider: Persona) -> None:
    with time_machine.travel(NOV_30_EVENING, tick=False):
        theirs = seed_events(outsider.account, [outsider.key], start=NOV_30_EVENING - dt.timedelta(hours=1), hours=1, per_hour=5)
        page = owner.client.get("/billing/usage/", {"q": theirs[0].request_id}).content.decode()
        foreign_key = owner.client.get("/billing/usage/", {"key": outsider.key.pk})
        rows = _csv(owner.client.get("/billing/usage/export.csv"))

    assert 'class="call-row"' not in page
    assert foreign_key.status_code == 400 and "Unknown key" in foreign_key.content.decode()
    assert rows == []


@pytest.mark.parametrize(
    "query",
    [
        {"range": "forever"},
        {"by": "minute"},
        {"range": "custom", "start": "2026-13-01", "end": "2026-11-01"},
        {"range": "custom", "start": "2026-11-30", "end": "2026-11-01"},
        {"range": "custom", "start": "2020-01-01", "end": "2026-11-01"},
        {"range": "90d", "by": "hour"},
        {"key": "abc"},
        {"service": "no such/service"},
        {"q": "x" * 200},
        {"before": "not-a-cursor"},
    ],
)
def test_bad_filters_are_explained_not_500(owner: Persona, query: dict[str, str]) -> None:
    page = owner.client.get("/billing/usage/", query)
    export = owner.client.get("/billing/usage/export.csv", query)

    assert page.status_code == 400 and 'role="alert"' in page.content.decode()
    assert export.status_code == 400


def test_usage_per_key_shows_calls_spend_and_stale_keys(owner: Persona) -> None:
    stale_key, _ = make_key(owner.user, name="old deploy")
    stale_key.__class__.objects.filter(pk=stale_key.pk).update(created_at=NOV_1 - dt.timedelta(days=90))
    with time_machine.travel(NOV_30_EVENING, tick=False):
        events = seed_events(owner.account, [owner.key], start=NOV_30_EVENING - dt.timedelta(hours=3), hours=3, per_hour=4)
        page = owner.client.get("/billing/usage/keys/").content.decode()

    row = page[page.index(f'id="key-{owner.key.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'data-units="{sum(e.cost_units for e in events)}"' in row
    assert f">{len(events)}<" in row
    stale_row = page[page.index(f'id="key-{stale_key.pk}"') :]
    assert "stale" in stale_row[: stale_row.index("</tr>")]


def test_dashboard_shows_getting_started_until_done(owner: Persona) -> None:
    page = owner.client.get("/dashboard/").content.decode()
    assert 'id="getting-started"' in page and "Make your first call" in page

    owner.call()

    assert 'id="getting-started"' not in owner.client.get("/dashboard/").content.decode()


@time_machine.travel(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC))
def test_operator_overview_shows_the_business_and_the_lag(operator, owner: Persona) -> None:  # type: ignore[no-untyped-def]
    # At noon, so the seeded hours fall on one day, which the page shows as one row.
    now = dt.datetime.now(dt.UTC)
    events = seed_events(owner.account, [owner.key], start=now - dt.timedelta(hours=5), hours=3, per_hour=4)
    usage_rollup()
    seed_events(owner.account, [owner.key], start=now - dt.timedelta(minutes=30), hours=1, per_hour=3)

    page = operator.get("/admin/billing/usagedaily/overview/").content.decode()

    assert "<strong>3</strong> events not rolled up yet" in page
    assert owner.account.name in page
    revenue = sum(e.cost_units for e in events)
    assert f'data-units="{revenue}"' in page or revenue == 0
    assert owner.client.get("/admin/billing/usagedaily/overview/").status_code == 302


# Measured with small data; the large run must not need more. Each includes the
# session, user and membership reads and the first-request session record.
QUERY_LIMITS = {
    "/dashboard/": 23,
    "/billing/usage/": 14,
    "/billing/usage/?range=7d&by=hour": 14,
    "/billing/usage/keys/": 13,
    "/billing/usage/export.csv": 11,
}


@pytest.mark.parametrize("size", ["small", "large"])
def test_pages_take_a_constant_number_of_queries(owner: Persona, operator, size: str, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    keys = [owner.key, *[make_key(owner.user, name=f"key {n}")[0] for n in range(2 if size == "small" else 30)], None]
    with time_machine.travel(NOV_30_EVENING, tick=False):
        hours, per_hour = (2, 2) if size == "small" else (24 * 40, 4)
        seed_events(owner.account, keys, start=NOV_30_EVENING - dt.timedelta(hours=hours), hours=hours, per_hour=per_hour)
        usage_rollup(batch_events=max(1, UsageEvent.objects.count() // 2), max_batches=1)
        for url, limit in QUERY_LIMITS.items():
            with django_assert_max_num_queries(limit):
                assert owner.client.get(url).status_code == 200
        # One more than before the spending cap existed: the accounts-near-their-caps list reads it.
        with django_assert_max_num_queries(17):
            assert operator.get("/admin/billing/usagedaily/overview/").status_code == 200

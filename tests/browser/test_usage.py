"""Usage analytics in a real browser: range, key filter, CSV export, search by request id; screenshots saved."""

from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from billing.services.usage import usage_rollup
from tests.billing.usage_seed import seed_events
from tests.browser.test_billing import sign_in
from tests.factories import UserFactory, make_key, personal_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(os.environ.get("M3O_TEST_ARTIFACTS", "test-artifacts"))


def test_explore_usage_filter_export_and_find_a_call(page, live_server, tmp_path: Path) -> None:
    user = UserFactory(email="usage@example.com")
    account = personal_account(user)
    web_key, _ = make_key(user, name="web")
    batch_key, _ = make_key(user, name="batch jobs")
    now = dt.datetime.now(dt.UTC)
    events = seed_events(account, [web_key, batch_key, None], start=now - dt.timedelta(days=20), hours=20 * 24 - 1, per_hour=2)
    usage_rollup(batch_events=len(events) // 2, max_batches=1)  # half rolled up, half still raw
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(f"{message.text} at {message.location} on {page.url}")
        if message.type == "error"
        else None,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    sign_in(page, user.email)
    page.wait_for_selector("#chart-30-days[data-drawn]")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.goto("/billing/usage/")
    page.wait_for_selector("#chart-usage[data-drawn]")
    assert page.locator("#total-calls").inner_text() == f"{len(events):,}"

    # Last 7 days.
    end = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    week = [e for e in events if e.created_at >= end - dt.timedelta(days=7)]
    page.select_option("#range", "7d")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#total-calls")).to_have_text(f"{len(week):,}")

    # Only the batch key.
    batch_week = [e for e in week if e.api_key_id == batch_key.pk]
    page.select_option("#key", str(batch_key.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#total-calls")).to_have_text(f"{len(batch_week):,}")
    assert f"key={batch_key.pk}" in page.url
    page.wait_for_selector("#chart-usage[data-drawn]")
    page.screenshot(path=str(ARTIFACTS / "usage.png"), full_page=True)

    # The CSV has the same calls and spend.
    with page.expect_download() as download:
        page.click("#export-csv")
    path = tmp_path / "usage.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(path.open()))
    assert sum(int(row["calls"]) for row in rows) == len(batch_week)
    assert sum(int(row["cost_units"]) for row in rows) == sum(e.cost_units for e in batch_week)

    # Find one call by its request id.
    wanted = batch_week[len(batch_week) // 2]
    page.fill("#q", wanted.request_id)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#call-table .call-row")).to_have_count(1)
    row = page.locator("#call-table .call-row").inner_text()
    assert wanted.request_id in row and f"{wanted.service}/{wanted.endpoint}" in row

    assert not [error for error in console_errors if "Content Security Policy" in error], "\n".join(console_errors)

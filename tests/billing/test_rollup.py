"""The usage roll-up: exact, rerunnable, safe with late and in-flight events (killed: tests/reliability/test_faults.py)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.db.models import Count, Sum
from django.test import Client

from billing.models import UsageDaily, UsageEvent, UsageHourly, UsageRollupCursor
from billing.services.usage import usage_events_prune, usage_rollup
from billing.usage_selectors import usage_rollup_status
from tests.billing.usage_seed import seed_events
from tests.conftest import Persona

START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _grouped_raw(period: str) -> dict[tuple, tuple[int, int, int, int]]:
    from django.db.models.functions import TruncDate, TruncHour

    trunc = TruncHour("created_at", tzinfo=dt.UTC) if period == "hour" else TruncDate("created_at", tzinfo=dt.UTC)
    rows = (
        UsageEvent.objects.annotate(period=trunc)
        .values("account_id", "period", "api_key_id", "service", "endpoint", "status_code")
        .annotate(calls=Count("id"), cost=Sum("cost_units"), latency=Sum("latency_ms"))
    )
    result: dict[tuple, list[int]] = {}
    for row in rows:
        key = (row["account_id"], row["period"], row["api_key_id"] or 0, row["service"], row["endpoint"], row["status_code"] // 100)
        errors = 0 if row["status_code"] // 100 == 2 else row["calls"]
        totals = result.setdefault(key, [0, 0, 0, 0])
        for index, value in enumerate((row["calls"], errors, row["cost"], row["latency"])):
            totals[index] += value
    return {key: tuple(value) for key, value in result.items()}


def _rolled(model: type[UsageHourly] | type[UsageDaily], period: str) -> dict[tuple, tuple[int, int, int, int]]:
    return {
        (r.account_id, getattr(r, period), r.key_id, r.service, r.endpoint, r.status_class): (
            r.calls, r.errors, r.cost_units, r.latency_ms_total
        )
        for r in model.objects.all()
    }


def assert_totals_exact() -> None:
    assert _rolled(UsageHourly, "hour") == _grouped_raw("hour")
    assert _rolled(UsageDaily, "day") == _grouped_raw("day")


def test_rollup_matches_the_raw_events_per_hour_and_day(owner: Persona, outsider: Persona) -> None:
    seed_events(owner.account, [owner.key, None], start=START, hours=50, per_hour=7)
    seed_events(outsider.account, [outsider.key], start=START + dt.timedelta(minutes=30), hours=30, per_hour=5)

    result = usage_rollup(batch_events=100)

    assert result.complete and result.batches == 5  # 500 events in batches of 100
    assert_totals_exact()
    assert UsageRollupCursor.objects.get().last_event_id == UsageEvent.objects.order_by("-id").first().pk


def test_rerun_changes_nothing(owner: Persona) -> None:
    seed_events(owner.account, [owner.key], start=START, hours=5, per_hour=10)
    usage_rollup(batch_events=7)
    before = _rolled(UsageDaily, "day"), _rolled(UsageHourly, "hour")

    assert usage_rollup(batch_events=7).batches == 0

    assert (_rolled(UsageDaily, "day"), _rolled(UsageHourly, "hour")) == before


def test_stopping_after_half_the_batches_then_rerunning_gives_exact_totals(owner: Persona) -> None:
    seed_events(owner.account, [owner.key, None], start=START, hours=10, per_hour=10)

    first = usage_rollup(batch_events=10, max_batches=5)

    assert not first.complete
    assert usage_rollup_status().backlog_events == 50
    assert usage_rollup(batch_events=10).batches == 5
    assert usage_rollup_status().backlog_events == 0
    assert_totals_exact()


def test_late_event_is_added_to_its_own_hour_and_day(owner: Persona) -> None:
    seed_events(owner.account, [owner.key], start=START, hours=48, per_hour=2)
    usage_rollup()
    day_one = UsageDaily.objects.filter(day=START.date()).aggregate(calls=Sum("calls"))["calls"]

    # A call from the first day, recorded only now (e.g. flushed late by the meter).
    seed_events(owner.account, [owner.key], start=START + dt.timedelta(hours=3, minutes=5), hours=1, per_hour=1)
    usage_rollup()

    assert UsageDaily.objects.filter(day=START.date()).aggregate(calls=Sum("calls"))["calls"] == day_one + 1
    assert_totals_exact()


def test_a_failed_batch_changes_nothing_and_the_next_run_catches_up(owner: Persona) -> None:
    seed_events(owner.account, [owner.key], start=START, hours=4, per_hour=10)
    usage_rollup(batch_events=10, max_batches=2)

    # The batch rolls back when anything in it fails, here the events table briefly missing a column.
    with pytest.raises(Exception), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE billing_usageevent RENAME COLUMN latency_ms TO latency_ms_renamed")
        usage_rollup(batch_events=10)
    assert UsageRollupCursor.objects.get().last_event_id == UsageEvent.objects.order_by("id")[19].pk

    usage_rollup(batch_events=10)
    assert_totals_exact()


def test_prune_deletes_only_old_events_already_rolled_up(owner: Persona, settings: object) -> None:
    settings.M3O_USAGE_RETENTION_DAYS = 62  # type: ignore[attr-defined]
    now = START + dt.timedelta(days=100)
    old = seed_events(owner.account, [owner.key], start=START, hours=2, per_hour=5)
    usage_rollup()
    late_old = seed_events(owner.account, [owner.key], start=START, hours=1, per_hour=3)  # not rolled up yet
    recent = seed_events(owner.account, [owner.key], start=now - dt.timedelta(days=1), hours=1, per_hour=4)

    assert usage_events_prune(now=now, chunk=4) == len(old)

    remaining = set(UsageEvent.objects.values_list("pk", flat=True))
    assert remaining == {event.pk for event in late_old + recent}
    usage_rollup()
    assert UsageDaily.objects.filter(day=START.date()).aggregate(calls=Sum("calls"))["calls"] == len(old) + len(late_old)


def test_backlog_is_a_metric(owner: Persona, settings: object) -> None:
    settings.M3O_METRICS_TOKEN = "metrics-token"  # type: ignore[attr-defined]
    seed_events(owner.account, [owner.key], start=START, hours=1, per_hour=3)

    body = Client().get("/metrics", headers={"Authorization": "Bearer metrics-token"}).content.decode()

    assert "m3o_usage_rollup_backlog_events 3.0" in body
    usage_rollup()
    body = Client().get("/metrics", headers={"Authorization": "Bearer metrics-token"}).content.decode()
    assert "m3o_usage_rollup_backlog_events 0.0" in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rollups_count_every_event_once(owner: Persona) -> None:
    seed_events(owner.account, [owner.key, None], start=START, hours=20, per_hour=30)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            usage_rollup(batch_events=13)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert_totals_exact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_event_committed_after_a_higher_id_is_not_skipped(owner: Persona) -> None:
    """An insert that took a lower id but commits later must still be rolled up."""
    inserted = threading.Event()
    release = threading.Event()

    def slow_insert() -> None:
        try:
            with transaction.atomic():
                seed_events(owner.account, [owner.key], start=START, hours=1, per_hour=1)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    writer = threading.Thread(target=slow_insert)
    writer.start()
    assert inserted.wait(10)
    seed_events(owner.account, [owner.key], start=START, hours=1, per_hour=1)  # higher id, committed first

    rollup = threading.Thread(target=lambda: (usage_rollup(), connections.close_all()))
    rollup.start()
    time.sleep(0.5)
    assert rollup.is_alive(), "the roll-up must wait for the insert in flight"
    release.set()
    writer.join()
    rollup.join(10)

    assert UsageHourly.objects.aggregate(calls=Sum("calls"))["calls"] == 2
    assert usage_rollup_status().backlog_events == 0

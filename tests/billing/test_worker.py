"""Billing tasks run by a real Celery worker over Redis, against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import pytest

from django.utils import timezone

from billing.models import Invoice, UsageDaily
from billing.services.invoices import month_start, previous_month
from billing.tasks import invoices_issue, usage_rollup
from tests.billing.test_invoices import insert_usage
from m3o_web.celery import app as celery_app
from tests.conftest import Persona
from tests.factories import UserFactory, personal_account
from tests.processes import start_worker, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[str]:
    """Start a Celery worker on a queue of its own, pointed at the test database."""
    celery_app.conf.task_always_eager = False
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    process = start_worker(tmp_path, queue, "worker.log")
    try:
        yield queue
    finally:
        stop(process)


def test_worker_rolls_usage_up_and_rerun_changes_nothing(owner: Persona, worker_queue: str, tmp_path: Path) -> None:
    owner.call()
    owner.call()

    usage_rollup.apply_async(queue=worker_queue)
    assert wait_for(lambda: UsageDaily.objects.filter(account=owner.account, calls=2).exists()), (
        tmp_path / "worker.log"
    ).read_text()[-3000:]

    usage_rollup.apply_async(queue=worker_queue)
    usage_rollup.apply_async(queue=worker_queue)
    log = tmp_path / "worker.log"
    assert wait_for(lambda: log.read_text().count("succeeded in") == 3), log.read_text()[-3000:]
    row = UsageDaily.objects.get(account=owner.account)
    assert (row.calls, row.cost_units) == (2, 2_000)


def test_two_workers_invoice_each_account_once(tmp_path: Path, settings) -> None:
    celery_app.conf.task_always_eager = False
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS)
    last_month = previous_month(month_start(now - grace, zoneinfo.ZoneInfo("UTC")))
    during = dt.datetime.combine(last_month, dt.time(12), tzinfo=dt.UTC)
    accounts = [personal_account(UserFactory()) for _ in range(12)]
    for account in accounts:
        for endpoint in ("Call", "Stream"):
            insert_usage(account, count=3, units=7, at=during, service="helloworld", endpoint=endpoint,
                         prefix=f"{account.pk}-{endpoint}-")
    # Each worker also takes the invoice emails its invoices queue.
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    workers = [start_worker(tmp_path, f"{queue},{celery_app.conf.task_default_queue}", f"worker{n}") for n in (1, 2)]
    logs = [tmp_path / "worker1", tmp_path / "worker2"]
    try:
        assert wait_for(lambda: all("ready." in log.read_text() for log in logs), timeout=60), logs[0].read_text()[-3000:]
        for _ in range(6):
            invoices_issue.apply_async(queue=queue)

        def runs(log: Path) -> int:
            return log.read_text().count("billing.tasks.invoices_issue[")  # one "received" and one "succeeded" line each

        assert wait_for(lambda: sum(runs(log) for log in logs) == 12, timeout=120), logs[0].read_text()[-3000:]
    finally:
        for worker in workers:
            stop(worker)

    assert all(runs(log) > 0 for log in logs), "both workers should have invoiced"
    assert "Traceback" not in logs[0].read_text() + logs[1].read_text()
    assert Invoice.objects.filter(month=last_month).count() == 12
    for account in accounts:
        invoice = Invoice.objects.get(account=account, month=last_month)
        assert (invoice.lines.count(), invoice.usage_units) == (2, 42)

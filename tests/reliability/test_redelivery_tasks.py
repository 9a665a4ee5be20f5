"""Every Celery task delivered twice, in shuffled order, to a real worker on PostgreSQL and Redis.

The test seeds work for every task. There are calls metered in Redis, last
month's usage to invoice, an issued invoice not yet emailed, a stale hold, old
usage events, an expired idempotency record and an unsent key notice. One
account is below its auto top-up threshold (localstripe) and one below a
balance alert; a cron job and a feed are due (a fake site on loopback), and a
provider alert is queued. Each task message is then sent twice, all in one
shuffled order. Afterwards the periodic tasks run once more in pipeline order,
so that every task has seen the others' output. Balances, ledgers, invoices, usage totals, emails and
callbacks must be what one run of each leaves.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import subprocess
import sys
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import ApiKey, User
from billing.models import AutoTopup, BalanceAlert, Hold, Invoice, LedgerEntry, Payment, UsageDaily, UsageEvent, Wallet
from billing.services import wallet_apply, wallet_reconcile
from billing.services.invoices import invoice_issue, month_start, previous_month
from billing.services.thresholds import auto_topups_start_due
from m3o_web.celery import app as celery_app
from services.builtin.cron.models import Job
from services.builtin.rss.models import Entry, Feed
from services.models import IdempotencyRecord
from tests.billing.test_invoices import insert_usage
from tests.billing.test_thresholds import enable_auto_topup, save_card
from tests.conftest import _persona
from tests.localstripe import localstripe_url, stripe_api  # noqa: F401
from tests.processes import ROOT, process_env, wait_for
from tests.services.builtin.outbound_fake import FakeSite, fake_site


SEED = 17
DOLLAR = 1_000_000
PROJECT_PACKAGES = ("accounts.", "billing.", "catalog.", "services.", "m3o_web.")
# The tasks beat schedules, in the order each one's input comes from the one before.
PERIODIC_IN_PIPELINE_ORDER = [
    "billing.tasks.meter_flush",
    "billing.tasks.usage_rollup",
    "billing.tasks.usage_events_prune",
    "billing.tasks.holds_release_expired",
    "billing.tasks.invoices_issue",
    "billing.tasks.balance_thresholds_check",
    "billing.tasks.wallets_reconcile",
    "services.tasks.idempotency_records_purge",
    "services.builtin.cron.tasks.dispatch_due",
    "services.builtin.rss.tasks.crawl_due",
]


def project_tasks() -> set[str]:
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if name.startswith(PROJECT_PACKAGES)}


@pytest.fixture
def site() -> Iterator[FakeSite]:
    with fake_site("127.0.0.1") as served:
        yield served


def start_worker(tmp_path: Path, queues: str, **env: str) -> tuple[subprocess.Popen, Path]:
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "m3o_web", "worker", "--pool", "solo", "-Q", queues,
         "--without-gossip", "--without-mingle", "--loglevel", "INFO", "--hostname", f"redelivery-{uuid.uuid4().hex[:6]}@%h"],
        cwd=ROOT, env=process_env(tmp_path, **env), stdout=log, stderr=subprocess.STDOUT,
    )
    return process, log_path


def usage_insert(account: Any, *, count: int, units: int, at: dt.datetime, prefix: str) -> None:
    """Insert charged helloworld calls with their ledger rows, and take their cost from the balance too."""
    insert_usage(account, count=count, units=units, at=at, service="helloworld", endpoint="Call", prefix=prefix)
    Wallet.objects.filter(pk=account.pk).update(balance_units=F("balance_units") - count * units)


def finished(log: str) -> int:
    return len(re.findall(r"\] (succeeded in|raised|retry:)", log))


def subjects(log: str, subject: str) -> int:
    return log.count(f"Subject: {subject}")


def test_suite_covers_every_task() -> None:
    """A new task fails this test until the redelivery test below sends it."""
    assert project_tasks() == {
        *PERIODIC_IN_PIPELINE_ORDER,
        "billing.tasks.invoice_send",
        "billing.tasks.invoices_send",
        "billing.tasks.auto_topup_run",
        "services.builtin.cron.tasks.run_job",
        "services.builtin.rss.tasks.crawl",
        "services.providers.tasks.provider_alert_send",
        "accounts.tasks.api_key_created_notify",
    }


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_every_task_redelivered_in_shuffled_order_applies_once(
    stripe_api: str, site: FakeSite, redis_meter: None, tmp_path: Path, settings, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS)
    last_month = previous_month(month_start(now - grace, zoneinfo.ZoneInfo("UTC")))
    during = dt.datetime.combine(last_month, dt.time(12), tzinfo=dt.UTC)
    User.objects.create_superuser("ops@example.com", "ops passphrase 123")

    # The caller: two calls metered in Redis, last month's usage, a stale hold, old events, an expired replay record.
    caller = _persona("caller@example.com")
    assert caller.call().status_code == 200
    assert caller.call().status_code == 200
    usage_insert(caller.account, count=3, units=7, at=during, prefix="last-")
    old = now - dt.timedelta(days=settings.M3O_USAGE_RETENTION_DAYS + 5)
    usage_insert(caller.account, count=4, units=1, at=old, prefix="old-")
    Wallet.objects.filter(pk=caller.account.pk).update(balance_units=Wallet.objects.get(pk=caller.account.pk).balance_units - 500)
    Hold.objects.create(wallet_id=caller.account.pk, request_id="stale-hold", amount_units=500,
                        created_at=now - dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS + 60))
    IdempotencyRecord.objects.create(account=caller.account, key="old", request_hash="0" * 64, request_id="r-old",
                                     created_at=now - dt.timedelta(days=2))
    ApiKey.objects.filter(pk=caller.key.pk).update(notice_sent_at=None)
    job = Job.objects.create(account=caller.account, name="tick", interval_seconds=3600,
                             callback_url=f"{site.url}/cron-callback", next_run_at=now - dt.timedelta(seconds=5))
    feed = Feed.objects.create(account=caller.account, name="news", url=f"{site.url}/feed.xml", next_crawl_at=now)

    # An account with an issued invoice that was not emailed yet.
    billed = _persona("billed@example.com")
    usage_insert(billed.account, count=2, units=9, at=during, prefix="billed-")
    billed_invoice = invoice_issue(account_id=billed.account.pk, month=last_month)
    assert billed_invoice is not None
    Invoice.objects.filter(pk=billed_invoice.pk).update(emailed_at=None)  # the in-process eager task emailed it

    # An account below its auto top-up threshold, with its attempt already queued once, and one below an alert.
    topped = _persona("topped@example.com")
    save_card(topped, stripe_api)
    assert enable_auto_topup(topped, threshold="5", amount="20") == 302
    wallet_apply(account_id=topped.account.pk, kind=LedgerEntry.Kind.USAGE, amount_units=4 * DOLLAR - topped.balance,
                 reference="usage:spent")
    topped_before = topped.balance
    payments_before = Payment.objects.filter(account=topped.account).count()
    alerted = _persona("alerted@example.com")
    BalanceAlert.objects.create(account=alerted.account, threshold_units=2 * alerted.balance)
    # From here on, tasks queued by the code under test go to the worker.
    celery_app.conf.task_always_eager = False
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    attempt_ids = auto_topups_start_due(now=now)
    assert len(attempt_ids) == 1

    alert = {"service": "weather", "provider": "openweather", "problem": "auth", "status": 401, "alert_id": uuid.uuid4().hex}
    messages: list[tuple[str, tuple, dict]] = [(name, (), {}) for name in PERIODIC_IN_PIPELINE_ORDER]
    messages += [
        ("billing.tasks.invoice_send", (billed_invoice.pk,), {}),
        ("billing.tasks.invoices_send", ([billed_invoice.pk],), {}),
        ("billing.tasks.auto_topup_run", (attempt_ids[0],), {}),
        ("services.builtin.cron.tasks.run_job", (job.pk, job.next_run_at.isoformat()), {}),
        ("services.builtin.rss.tasks.crawl", (feed.pk,), {}),
        ("services.providers.tasks.provider_alert_send", (), alert),
        ("accounts.tasks.api_key_created_notify", (caller.key.pk,), {}),
    ]
    assert {name for name, _, _ in messages} == project_tasks()
    deliveries = random.Random(SEED).sample(messages * 2, 2 * len(messages))

    worker, log_path = start_worker(
        tmp_path, f"{queue},{celery_app.conf.task_default_queue}",
        M3O_METER="redis", M3O_UPSTREAM_ALLOW_PRIVATE="true", STRIPE_API_BASE=stripe_api,
    )
    try:
        assert wait_for(lambda: "ready." in log_path.read_text(), timeout=60), log_path.read_text()[-3000:]
        for name, args, kwargs in deliveries:
            celery_app.send_task(name, args=args, kwargs=kwargs, queue=queue)
        for name in PERIODIC_IN_PIPELINE_ORDER:
            celery_app.send_task(name, queue=queue)
        sent = len(deliveries) + len(PERIODIC_IN_PIPELINE_ORDER)
        assert wait_for(lambda: finished(log_path.read_text()) >= sent, timeout=150), log_path.read_text()[-4000:]
        # Tasks the others queued (emails, auto top-ups, cron runs, crawls) run last; wait until the worker is idle.
        settled: list[int] = []
        assert wait_for(lambda: settled.append(finished(log_path.read_text())) or settled[-15:] == [settled[-1]] * 15, timeout=60)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    log = log_path.read_text()
    assert "Traceback" not in log, log[-4000:]

    # Usage: the two metered calls are in the database once, rolled up once; old events pruned after their roll-up.
    today = UsageEvent.objects.filter(account=caller.account, created_at__gte=now - dt.timedelta(hours=1))
    assert today.count() == 2
    charged = -LedgerEntry.objects.filter(wallet_id=caller.account.pk, kind=LedgerEntry.Kind.USAGE,
                                          created_at__gte=now - dt.timedelta(hours=1)).aggregate(total=Sum("amount_units"))["total"]
    assert charged == today.aggregate(total=Sum("cost_units"))["total"]
    daily = UsageDaily.objects.filter(account=caller.account).aggregate(calls=Sum("calls"), cost=Sum("cost_units"))
    assert daily == {"calls": 2 + 3 + 4, "cost": charged + 3 * 7 + 4 * 1}
    assert not UsageEvent.objects.filter(account=caller.account, created_at__lt=old + dt.timedelta(days=1)).exists()

    # Money: the hold came back once; the auto top-up charged once; every wallet matches its ledger.
    assert not Hold.objects.exists()
    assert Payment.objects.filter(account=topped.account).count() == payments_before + 1
    assert list(AutoTopup.objects.filter(account=topped.account).values_list("status", flat=True)) == [AutoTopup.Status.SUCCEEDED]
    assert topped.balance == topped_before + 20 * DOLLAR
    for persona in (caller, billed, topped, alerted):
        assert wallet_reconcile(account_id=persona.account.pk).ok

    # Invoices: one per account and month, each emailed once.
    assert Invoice.objects.filter(month=last_month).count() == 2
    for invoice in Invoice.objects.filter(month=last_month):
        assert subjects(log, f"[M3O] Invoice {invoice.number} ") == 1
    caller_invoice = Invoice.objects.get(account=caller.account, month=last_month)
    assert caller_invoice.usage_units == 3 * 7

    # Other emails and side effects, once each.
    assert subjects(log, "[M3O] New API key created") == 1
    assert subjects(log, "[M3O] Balance below") == 1
    assert subjects(log, "[M3O] weather: provider openweather") == 1
    assert subjects(log, "[M3O] Automatic top-up failed") == 0
    assert subjects(log, "[M3O] ") == 5
    assert "do not reconcile" not in log
    assert not IdempotencyRecord.objects.filter(key="old").exists()
    assert [seen.path for seen in site.requests if seen.method == "POST"] == ["/cron-callback"]
    assert Entry.objects.filter(feed=feed).count() == 2
    job.refresh_from_db()
    assert job.last_status == 200

    with capsys.disabled():
        print(f"\nredelivery: {len(messages)} task messages of {len(project_tasks())} tasks, "
              f"each delivered twice ({len(deliveries)} deliveries)")

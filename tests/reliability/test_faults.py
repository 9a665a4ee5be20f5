"""Faults injected into real processes: a killed Celery worker, a restarted Redis, a dropped database connection.

Each test injects its faults on purpose at a point where the work is half
done, then checks that nothing was lost or counted twice. The number of
faults injected is printed in the run's summary (tests/reliability/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import signal
import subprocess
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from celery import Task
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Sum
from django.utils import timezone

from billing import metering
from billing.flusher import meter_flush
from billing.models import BillingProfile, Invoice, LedgerEntry, UsageEvent, UsageHourly, UsageRollupCursor, Wallet
from billing.services import wallet_reconcile
from billing.services.invoices import invoice_issue, month_start, previous_month
from billing.tasks import invoices_issue, usage_rollup
from m3o_web.celery import app as celery_app
from services.builtin.db.models import Record
from services.ratelimit import get_rate_limiter
from tests.billing.test_invoices import insert_usage
from tests.billing.test_rollup import START, assert_totals_exact
from tests.billing.usage_seed import seed_events
from tests.conftest import Persona
from tests.factories import UserFactory, account_with_key, personal_account
from tests.processes import free_port, start_worker, stop, wait_for
from tests.reliability.conftest import tally

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- helpers -------------------------------------------------------------------------------------


@contextmanager
def held_open(work: Callable[[], object]) -> Iterator[None]:
    """Run ``work`` in a transaction on a connection of its own, keep it open (and its locks held), then roll it back."""
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                started.set()
                release.wait(timeout=120)
                transaction.set_rollback(True)
        except BaseException as exc:  # noqa: BLE001 - raised in the test below
            errors.append(exc)
        finally:
            started.set()
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        started.wait(timeout=30)
        if errors:
            raise errors[0]
        yield
    finally:
        release.set()
        thread.join(timeout=60)


def lock_waiter() -> int | None:
    """The process id of a backend of this database that is waiting for a lock, if any."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid() ORDER BY backend_start LIMIT 1"
        )
        row = cursor.fetchone()
    return row[0] if row else None


def log_tail(path: Path) -> str:
    return path.read_text()[-3000:] if path.exists() else ""


def kill_worker_midway(tmp_path: Path, queues: str, task: Task, **env: str) -> None:
    """Start a worker, send it ``task`` on the first of ``queues`` and SIGKILL it once the task waits on the test's lock."""
    log = tmp_path / "worker.log"
    worker = start_worker(tmp_path, queues, log.name, **env)
    try:
        task.apply_async(queue=queues.split(",")[0])
        assert wait_for(lambda: lock_waiter() is not None, timeout=90), log_tail(log)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
        tally("faults injected")
    finally:
        if worker.poll() is None:
            worker.kill()


def restart_worker_and_run(tmp_path: Path, queues: str, task: Task, *, times: int, **env: str) -> None:
    """Start a new worker and send it ``task`` ``times`` times, as beat does on its next ticks; wait for every run."""
    log = tmp_path / "worker.log"

    def successes() -> int:
        return sum(1 for line in log.read_text().splitlines() if f"{task.name}[" in line and " succeeded in " in line)

    before = successes()
    worker = start_worker(tmp_path, queues, log.name, **env)
    try:
        for _ in range(times):
            task.apply_async(queue=queues.split(",")[0])
        assert wait_for(lambda: successes() - before == times, timeout=120), log_tail(log)
    finally:
        stop(worker)
    assert "Traceback" not in log.read_text()


@pytest.fixture
def queue() -> str:
    celery_app.conf.task_always_eager = False
    return f"m3o-test-{uuid.uuid4().hex[:8]}"


# --- (a) a Celery worker killed midway through the roll-up and month-end invoicing ----------------


@pytest.mark.redis
def test_killed_rollup_worker_resumes_with_exact_totals(owner: Persona, queue: str, tmp_path: Path) -> None:
    # 40 hours of 100 events in batches of 100 ids: a batch per hour, each its own transaction.
    seed_events(owner.account, [owner.key, None], start=START, hours=40, per_hour=100)
    last_id = UsageEvent.objects.order_by("-id").values_list("id", flat=True).first()
    blocked = UsageEvent.objects.filter(created_at__gte=START + dt.timedelta(hours=20)).order_by("id").first()
    # An uncommitted total on hour 20's key makes the roll-up wait there, inside that hour's batch.
    def block_hour_20() -> None:
        UsageHourly.objects.create(
            account=owner.account, hour=START + dt.timedelta(hours=20), key_id=blocked.api_key_id or 0,
            service=blocked.service, endpoint=blocked.endpoint, status_class=blocked.status_code // 100,
        )

    env = {"M3O_ROLLUP_BATCH_EVENTS": "100"}

    with held_open(block_hour_20):
        kill_worker_midway(tmp_path, queue, usage_rollup, **env)
    cursor = UsageRollupCursor.objects.get().last_event_id
    assert 0 < cursor < last_id, "the roll-up was not killed midway"

    restart_worker_and_run(tmp_path, queue, usage_rollup, times=1, **env)

    assert UsageRollupCursor.objects.get().last_event_id == last_id
    assert_totals_exact()


@pytest.mark.redis
def test_killed_invoicing_worker_issues_each_invoice_once(queue: str, tmp_path: Path) -> None:
    # Accounts are invoiced a zone at a time, each zone's batch in its own transaction.
    zones = ["UTC", "Europe/Paris", "Asia/Tokyo"]
    accounts = {zone: [personal_account(UserFactory()) for _ in range(4)] for zone in zones}
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.M3O_INVOICE_GRACE_SECONDS)
    months = {zone: previous_month(month_start(now - grace, zoneinfo.ZoneInfo(zone))) for zone in zones}
    for zone, members in accounts.items():
        during = dt.datetime.combine(months[zone], dt.time(12), tzinfo=dt.UTC) + dt.timedelta(days=10)
        for account in members:
            BillingProfile.objects.update_or_create(account=account, defaults={"time_zone": zone})
            insert_usage(account, count=3, units=7, at=during, service="helloworld", endpoint="Call", prefix=f"{account.pk}-")
    paris = accounts["Europe/Paris"][2]
    queues = f"{queue},{celery_app.conf.task_default_queue}"  # the invoice emails go to the default queue

    # Another transaction holding Paris's third invoice makes the Paris batch wait on the unique (account, month).
    with held_open(lambda: invoice_issue(account_id=paris.pk, month=months["Europe/Paris"])):
        kill_worker_midway(tmp_path, queues, invoices_issue)
    issued_before = set(Invoice.objects.values_list("account_id", flat=True))
    assert issued_before == {account.pk for account in accounts["UTC"]}, "the invoicing was not killed midway"

    # Twice: the second run is a duplicate delivery and must issue nothing.
    restart_worker_and_run(tmp_path, queues, invoices_issue, times=2)

    assert Invoice.objects.count() == 12
    for zone, members in accounts.items():
        for account in members:
            invoice = Invoice.objects.get(account=account)
            assert (invoice.month, invoice.lines.count(), invoice.usage_units) == (months[zone], 1, 21)


# --- (b) Redis restarted during a burst of gateway calls --------------------------------------------


class RedisServer:
    """A redis-server of this test's own on a free loopback port, with no persistence: a restart loses everything."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--maxmemory-policy", "noeviction", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.is_up, timeout=20), "redis-server did not start"

    def is_up(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)


@pytest.fixture
def own_redis(tmp_path: Path, settings, monkeypatch) -> Iterator[RedisServer]:
    """Meter, rate-limit and cache on a Redis server this test starts and kills (never the shared one)."""
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}}
    settings.M3O_METER = "redis"
    monkeypatch.setattr(metering, "_client", None)
    monkeypatch.setattr(metering, "_meters", {})
    get_rate_limiter.cache_clear()
    try:
        yield server
    finally:
        get_rate_limiter.cache_clear()
        if server.process and server.process.poll() is None:
            server.kill()


PRICE = 1_000  # helloworld/Call


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server: apt-get install redis-server")
def test_redis_restart_loses_one_flush_interval_at_most(live_server, own_redis: RedisServer, settings) -> None:
    settings.M3O_RATE_LIMIT_PER_KEY = settings.M3O_RATE_LIMIT_PER_ACCOUNT = 1_000_000
    interval = settings.M3O_METER_FLUSH_SECONDS
    account, secret = account_with_key()
    stop_burst = threading.Event()
    responses: list[tuple[float, int, str, dict]] = []  # (time of the response, status, request id, body)
    flushes: list[tuple[float, float]] = []  # (started, finished) of each flush that completed

    def flusher() -> None:
        # Celery beat's meter_flush every M3O_METER_FLUSH_SECONDS, as in production.
        try:
            while not stop_burst.wait(interval):
                started = time.monotonic()
                try:
                    meter_flush()
                except Exception:  # noqa: BLE001 - Redis is down for a moment; beat's next run catches up
                    continue
                flushes.append((started, time.monotonic()))
        finally:
            connections.close_all()

    def caller() -> None:
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as client:
            while not stop_burst.is_set():
                response = client.post("/v1/helloworld/Call", content=b'{"name": "Alice"}')
                responses.append((time.monotonic(), response.status_code, response.headers["X-Request-Id"], response.json()))

    threads = [threading.Thread(target=flusher)] + [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(interval * 2.5)
        killed_at = time.monotonic()
        own_redis.kill()
        tally("faults injected")
        time.sleep(0.5)  # calls meanwhile find no meter
        own_redis.start()
        time.sleep(interval * 2.5)
    finally:
        stop_burst.set()
        for thread in threads:
            thread.join(timeout=60)
    while meter_flush().events:
        pass

    ok = {request_id: at for at, status, request_id, _ in responses if status == 200}
    rejected = [body for _, status, _, body in responses if status != 200]
    events = UsageEvent.objects.filter(account=account)
    recorded = dict(events.filter(status_code=200).values_list("request_id", "status_code"))
    assert all(body["id"] == "v1.meter_unavailable" for body in rejected), rejected[:3]
    assert rejected, "no call reached the meter while Redis was down"
    assert set(recorded) <= set(ok), "a call that failed was recorded as a success"
    # A refused call is recorded, free, when Redis is back by the time the call settles.
    assert not events.exclude(status_code=200).exclude(status_code=503, cost_units=0).exists()
    # The documented bound (billing/metering.py): only calls settled after the last flush before the kill,
    # so at most one flush interval of calls. Calls settle just after their response, hence the slack.
    last_flush_before_kill = max((started for started, finished in flushes if finished < killed_at), default=0.0)
    lost = {request_id: at for request_id, at in ok.items() if request_id not in recorded}
    assert all(last_flush_before_kill - 0.5 <= at <= killed_at + 0.5 for at in lost.values()), (
        sorted(at - killed_at for at in lost.values())
    )
    assert all(killed_at - at <= interval + 1.0 for at in lost.values()), "lost calls older than one flush interval"
    # Each recorded call charged once; the wallet agrees with its ledger and is not overdrawn.
    charged = -(LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE)
                .aggregate(total=Sum("amount_units"))["total"] or 0)
    assert charged == len(recorded) * PRICE
    assert wallet_reconcile(account_id=account.pk).ok
    assert Wallet.objects.get(pk=account.pk).balance_units >= 0
    print(f"Redis restart: {len(responses)} calls, {len(ok)} returned 200, {len(rejected)} rejected with 503, {len(lost)} lost")


# --- (c) the database connection dropped mid-request -----------------------------------------------


@pytest.mark.parametrize("meter", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_dropped_database_connection_gives_503_then_recovers(live_server, settings, meter: str) -> None:
    settings.M3O_METER = meter
    account, secret = account_with_key()
    headers = {"Authorization": f"Bearer {secret}"}
    body = json.dumps({"table": "t", "id": "1", "record": {"name": "Ada"}})

    def create() -> httpx.Response:
        return httpx.post(f"{live_server.url}/v1/db/Create", content=body, headers=headers, timeout=60)

    first = httpx.post(f"{live_server.url}/v1/helloworld/Call", content=b'{"name": "A"}', headers=headers, timeout=60)
    assert first.status_code == 200

    # The request's backend waits on a lock the test holds; the test then terminates that backend.
    def lock_records() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{Record._meta.db_table}" IN ACCESS EXCLUSIVE MODE')

    with held_open(lock_records), ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(create)
        assert wait_for(lambda: lock_waiter() is not None, timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [lock_waiter()])
        tally("faults injected")
        dropped = pending.result(timeout=60)

    assert dropped.status_code == 503, dropped.content
    assert dropped.json()["id"] == "v1.database_unavailable"
    assert dropped.headers["Retry-After"] == "5"
    assert not Record.objects.exists()

    recovered = create()  # the same server process, not restarted

    assert recovered.status_code == 200, recovered.content
    assert Record.objects.filter(account=account, record_id="1").count() == 1
    if meter == "redis":
        while meter_flush().events:
            pass
    assert UsageEvent.objects.filter(account=account, status_code=200).count() == 2
    assert wallet_reconcile(account_id=account.pk).ok
    # The price reserved for the dropped call was released: only the other two calls are paid for.
    expected = int(first.headers["X-M3O-Balance"]) - int(recovered.headers["X-M3O-Cost"])
    assert int(recovered.headers["X-M3O-Balance"]) == expected, "the dropped call was charged"
    assert Wallet.objects.get(pk=account.pk).balance_units == expected

"""The Redis meter and its flusher: exactly-once charging, syncing with PostgreSQL, and the loss bound."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import redis
import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Sum

from billing.flusher import UsageRow, meter_flush, stream_batch_read, usage_lines_write, usage_rows_write
from billing.metering import (
    HOLDS_KEY,
    STREAM_KEY,
    CallRecord,
    RedisMeter,
    Reservation,
    SettleQueue,
    SpendingCapReached,
    get_meter,
    redis_client,
    settle_queue_drain,
)
from billing.models import FreeUsage, Hold, LedgerEntry, UsageEvent, Wallet
from billing.quotas import Pricing
from billing.services import wallet_apply, wallet_reconcile
from catalog.models import Endpoint
from tests.conftest import Persona
from tests.processes import free_port
from tests.factories import UserFactory, make_key, personal_account, set_price

PRICE = 1_000

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("redis_meter")]


def ledger_sum(account_id: int) -> int:
    return LedgerEntry.objects.filter(wallet_id=account_id).aggregate(total=Sum("amount_units"))["total"] or 0


def usage_charges(account_id: int) -> int:
    """Calls charged in the ledger: the flusher writes one usage row per account and batch, for their total."""
    total = LedgerEntry.objects.filter(wallet_id=account_id, kind=LedgerEntry.Kind.USAGE).aggregate(
        total=Sum("amount_units")
    )["total"]
    assert (total or 0) % PRICE == 0
    return -(total or 0) // PRICE


def test_call_writes_no_database_row_until_flushed(owner: Persona) -> None:
    before = owner.balance

    response = owner.call()

    assert response.status_code == 200
    assert response["X-M3O-Cost"] == str(PRICE)
    assert response["X-M3O-Balance"] == str(before - PRICE)
    assert not UsageEvent.objects.exists()
    assert owner.balance == before

    result = meter_flush()

    assert (result.events, result.inserted, result.charged_units) == (1, 1, PRICE)
    event = UsageEvent.objects.get()
    assert (event.account_id, event.api_key_id, event.service, event.endpoint) == (
        owner.account.pk, owner.key.pk, "helloworld", "Call"
    )
    assert (event.status_code, event.cost_units) == (200, PRICE)
    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert (wallet.balance_units, wallet.metered_units) == (before - PRICE, PRICE)
    assert usage_charges(owner.account.pk) == 1
    assert wallet_reconcile(account_id=owner.account.pk).ok
    assert redis_client().xlen(STREAM_KEY) == 0


def test_failed_call_is_recorded_and_not_charged(owner: Persona) -> None:
    before = owner.balance

    response = owner.call(body={})  # 400: "name" is required

    assert response.status_code == 400
    assert response["X-M3O-Cost"] == "0"
    meter_flush()
    assert UsageEvent.objects.get().cost_units == 0
    assert owner.balance == before
    assert usage_charges(owner.account.pk) == 0


def test_flush_redelivered_changes_nothing(owner: Persona) -> None:
    for _ in range(3):
        owner.call()
    settle_queue_drain()  # the gateway settles successful calls after responding
    client = redis_client()
    entries = client.xrange(STREAM_KEY)

    meter_flush()
    # A flusher killed after its commit but before deleting the entries: they come round again.
    for _, fields in entries:
        client.xadd(STREAM_KEY, fields)
    again = meter_flush()

    assert (again.events, again.inserted, again.charged_units) == (3, 0, 0)
    assert UsageEvent.objects.count() == 3
    assert usage_charges(owner.account.pk) == 3
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_flusher_killed_before_commit_loses_nothing(owner: Persona) -> None:
    before = owner.balance
    for _ in range(2):
        owner.call()
    settle_queue_drain()
    lines = [line for _, fields in redis_client().xrange(STREAM_KEY) for line in fields[b"v"].split(b"\n")]
    with pytest.raises(RuntimeError), transaction.atomic():
        usage_lines_write(lines)
        raise RuntimeError("killed")  # the transaction rolls back, as when the process dies

    assert not UsageEvent.objects.exists()
    meter_flush()
    assert UsageEvent.objects.count() == 2
    assert owner.balance == before - 2 * PRICE


def test_top_up_reaches_redis_balance_at_once(owner: Persona) -> None:
    before = owner.balance
    owner.call()

    wallet_apply(account_id=owner.account.pk, kind="topup", amount_units=50_000, reference="topup:test")
    response = owner.call()

    assert response["X-M3O-Balance"] == str(before + 50_000 - 2 * PRICE)
    meter_flush()
    assert owner.balance == before + 50_000 - 2 * PRICE
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_refund_into_debt_blocks_calls(owner: Persona) -> None:
    before = owner.balance
    owner.call()
    wallet_apply(
        account_id=owner.account.pk, kind="refund", amount_units=-(before + 5_000), reference="refund:test",
        allow_debt=True,
    )

    response = owner.call()

    assert response.status_code == 402
    assert response.json()["id"] == "v1.insufficient_credit"
    meter_flush()
    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert wallet.balance_units == 0
    assert wallet.debt_units == 5_000 + PRICE
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_overspend_on_a_stale_snapshot_becomes_debt_not_a_negative_balance(owner: Persona) -> None:
    owner.call()  # loads the snapshot
    # A debit the meter was never told about (as if the invalidation was lost in a crash).
    Wallet.objects.filter(pk=owner.account.pk).update(balance_units=PRICE // 2)

    assert owner.call().status_code == 200
    meter_flush()

    wallet = Wallet.objects.get(pk=owner.account.pk)
    assert wallet.balance_units == 0
    assert wallet.debt_units > 0
    assert owner.call().status_code == 402


def test_redis_crash_loses_only_unflushed_calls(owner: Persona) -> None:
    before = owner.balance
    for _ in range(3):
        owner.call()
    meter_flush()
    for _ in range(2):
        owner.call()  # not flushed yet

    redis_client().flushdb()  # Redis lost everything

    assert UsageEvent.objects.count() == 3
    assert owner.balance == before - 3 * PRICE
    # The meter reloads the account from PostgreSQL; the two lost calls are neither charged nor recorded.
    response = owner.call()
    assert response.status_code == 200
    assert response["X-M3O-Balance"] == str(before - 4 * PRICE)
    meter_flush()
    assert UsageEvent.objects.count() == 4
    assert owner.balance == before - 4 * PRICE
    assert wallet_reconcile(account_id=owner.account.pk).ok


def test_stale_hold_is_released_by_the_flusher(owner: Persona, settings) -> None:
    meter = get_meter()
    assert isinstance(meter, RedisMeter)
    before = meter.balance(account_id=owner.account.pk)
    pricing = Pricing(endpoint_id=1, price_units=PRICE, free_quota=0, allowance=0, past_allowance_units=0)
    meter.reserve(account_id=owner.account.pk, request_id="died", pricing=pricing)
    assert meter.balance(account_id=owner.account.pk) == before - PRICE

    assert meter_flush().holds_released == 0
    with time_machine.travel(dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS + 5)):
        assert meter_flush().holds_released == 1
        assert meter_flush().holds_released == 0

    assert meter.balance(account_id=owner.account.pk) == before
    assert not redis_client().hexists(HOLDS_KEY, "died")


def test_free_quota_counts_in_redis_and_is_copied(owner: Persona) -> None:
    Endpoint.objects.filter(service__slug="helloworld", name="Call").update(free_quota=2)

    costs = [int(owner.call()["X-M3O-Cost"]) for _ in range(3)]
    failed = owner.call(body={})

    assert costs == [0, 0, PRICE]
    assert failed["X-M3O-Cost"] == "0"
    meter_flush()
    assert FreeUsage.objects.get(account=owner.account, scope__startswith="endpoint:").used == 2


def test_free_endpoint_uses_plan_allowance(owner: Persona, settings) -> None:
    from billing.models import Plan

    settings.M3O_FREE_CALLS_PER_MONTH = 100
    settings.M3O_UNITS_PAST_ALLOWANCE = 7
    set_price("helloworld", "Call", 0)
    Plan.objects.create(name="Starter", slug="starter", included_free_calls=2, is_default=True)

    assert [int(owner.call()["X-M3O-Cost"]) for _ in range(3)] == [0, 0, 7]


def test_spending_cap_stops_calls_with_402(owner: Persona) -> None:
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=2 * PRICE)

    statuses = [owner.call().status_code for _ in range(3)]

    assert statuses == [200, 200, 402]
    body = owner.call().json()
    assert body["id"] == "v1.spending_cap"
    assert "spending cap" in body["detail"]


def test_spending_cap_counts_flushed_usage_after_a_redis_crash(owner: Persona) -> None:
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=2 * PRICE)
    owner.call()
    meter_flush()
    redis_client().flushdb()

    assert [owner.call().status_code for _ in range(2)] == [200, 402]


# --- Under concurrency, against a live server on PostgreSQL -----------------------------


def _call_in_parallel(url: str, secret: str, count: int) -> list[httpx.Response]:
    def call(_: int) -> httpx.Response:
        return httpx.post(url, content=b'{"name": "Alice"}', headers={"Authorization": f"Bearer {secret}"}, timeout=30)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_never_overdraw(live_server, settings) -> None:
    remainder = 123
    settings.M3O_SIGNUP_CREDIT_UNITS = 7 * PRICE + remainder
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)

    responses = _call_in_parallel(f"{live_server.url}/v1/helloworld/Call", secret, 20)
    meter_flush()

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 7
    assert statuses.count(402) == 13
    assert Wallet.objects.get(pk=account.pk).balance_units == remainder
    assert usage_charges(account.pk) == 7
    assert ledger_sum(account.pk) == remainder
    assert not Hold.objects.exists()
    assert wallet_reconcile(account_id=account.pk).ok
    assert UsageEvent.objects.filter(account=account).count() == 20
    assert UsageEvent.objects.filter(account=account, cost_units=PRICE).count() == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_calls_cannot_overshoot_spending_cap(live_server) -> None:
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)
    Wallet.objects.filter(pk=account.pk).update(spending_cap_units=5 * PRICE + 1)

    responses = _call_in_parallel(f"{live_server.url}/v1/helloworld/Call", secret, 16)
    meter_flush()

    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 5
    assert {r.json()["id"] for r in responses if r.status_code == 402} == {"v1.spending_cap"}
    assert usage_charges(account.pk) == 5
    assert wallet_reconcile(account_id=account.pk).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_flushers_at_once_charge_once() -> None:
    user = UserFactory()
    account = personal_account(user)
    before = Wallet.objects.get(pk=account.pk).balance_units
    now = dt.datetime.now(dt.UTC)
    rows = [
        UsageRow(f"req-{i}", account.pk, None, "helloworld", "Call", 200, PRICE, 1, "api", now) for i in range(200)
    ]
    barrier = threading.Barrier(2)

    def flush() -> int:
        barrier.wait()
        try:
            return usage_rows_write(rows).charged_units
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        charged = list(pool.map(lambda _: flush(), range(2)))

    assert sorted(charged) == [0, 200 * PRICE]
    assert UsageEvent.objects.filter(account=account).count() == 200
    assert usage_charges(account.pk) == 200
    assert Wallet.objects.get(pk=account.pk).balance_units == before - 200 * PRICE
    assert wallet_reconcile(account_id=account.pk).ok


def test_settlements_sent_twice_charge_once(owner: Persona) -> None:
    meter = get_meter()
    assert isinstance(meter, RedisMeter)
    pricing = Pricing(endpoint_id=1, price_units=PRICE, free_quota=0, allowance=0, past_allowance_units=0)
    calls = [
        (
            CallRecord(f"req-{i}", owner.account.pk, None, "helloworld", "Call", 200, 1),
            meter.reserve(account_id=owner.account.pk, request_id=f"req-{i}", pricing=pricing),
        )
        for i in range(3)
    ]

    meter.settle_many(calls)
    meter.settle_many(calls)  # a batch resent after a connection error
    result = meter_flush()

    assert (result.events, result.inserted, result.charged_units) == (3, 3, 3 * PRICE)
    assert redis_client().xlen(STREAM_KEY) == 0
    assert usage_charges(owner.account.pk) == 3
    assert not redis_client().hlen(HOLDS_KEY)


def test_settle_many_rejects_failed_calls(owner: Persona) -> None:
    meter = get_meter()
    assert isinstance(meter, RedisMeter)
    failed = CallRecord("req-failed", owner.account.pk, None, "helloworld", "Call", 500, 1)

    with pytest.raises(ValueError, match="successful calls only"):
        meter.settle_many([(failed, Reservation(cost_units=PRICE, free_scope="", month=dt.date(2027, 1, 1)))])
    assert redis_client().xlen(STREAM_KEY) == 0


@pytest.mark.parametrize("batch_size", [1, 4, 7, 100])
def test_stream_batch_size_counts_lines(batch_size: int) -> None:
    client = redis_client()
    client.delete(STREAM_KEY)
    sizes = [1, 5, 1, 1, 12, 3, 1, 1, 1, 8]  # lines per entry: single calls and settled batches
    expected = [f"line-{i}".encode() for i in range(sum(sizes))]
    remaining = iter(expected)
    for size in sizes:
        client.xadd(STREAM_KEY, {"v": b"\n".join(next(remaining) for _ in range(size))})

    read: list[bytes] = []
    while True:
        entry_ids, lines = stream_batch_read(client, batch_size)
        if not entry_ids:
            break
        assert len(lines) < batch_size + max(sizes)
        read.extend(lines)
        client.xdel(STREAM_KEY, *entry_ids)

    assert read == expected


def test_usage_line_round_trips_awkward_text() -> None:
    from billing.flusher import _row_from_line, usage_line

    row = UsageRow("r\\t1", 5, None, "a\tb", "c\\nd\n", 200, 3, 4, "api", dt.datetime(2027, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC))
    assert _row_from_line(usage_line(row)) == row


def test_playground_call_is_settled_on_redis(owner: Persona) -> None:
    response = owner.client.post(
        "/playground/helloworld/Call/run", data='{"name": "Alice"}', content_type="application/json"
    )
    meter_flush()
    assert response.status_code == 200
    assert UsageEvent.objects.filter(account=owner.account, source="playground", cost_units=PRICE).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_settlements_charged_once(live_server) -> None:
    user = UserFactory()
    account = personal_account(user)
    _, secret = make_key(user)
    before = Wallet.objects.get(pk=account.pk).balance_units

    responses = _call_in_parallel(f"{live_server.url}/v1/helloworld/Call", secret, 48)
    meter_flush()

    assert [response.status_code for response in responses] == [200] * 48
    assert UsageEvent.objects.filter(account=account, cost_units=PRICE).count() == 48
    assert usage_charges(account.pk) == 48
    assert Wallet.objects.get(pk=account.pk).balance_units == before - 48 * PRICE
    assert not redis_client().hlen(HOLDS_KEY)
    assert wallet_reconcile(account_id=account.pk).ok


def test_queued_settlement_survives_a_script_cache_flush(owner: Persona) -> None:
    owner.call()
    redis_client().script_flush()  # as after a Redis restart: the settle script must be loaded again
    owner.call()
    meter_flush()

    assert usage_charges(owner.account.pk) == 2
    assert not redis_client().hlen(HOLDS_KEY)


def test_unreachable_settlement_leaves_call_uncharged(owner: Persona, monkeypatch) -> None:
    before = owner.balance
    meter = get_meter()
    assert isinstance(meter, RedisMeter)

    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there
    with monkeypatch.context() as patch:
        patch.setattr(meter, "settle_queue", SettleQueue(RedisMeter(unreachable)))
        assert owner.call().status_code == 200
        meter.settle_queue.drain()

    # The hold stays and expires; the flusher then gives it back: nothing charged, nothing recorded.
    assert redis_client().hlen(HOLDS_KEY) == 1
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)):
        meter_flush()
    assert usage_charges(owner.account.pk) == 0
    assert not UsageEvent.objects.exists()
    assert owner.balance == before


def test_settle_resend_after_dropped_connections(owner: Persona) -> None:
    # Connections used less than IDLE_CHECK_SECONDS ago are not polled, so after Redis
    # drops them (CLIENT KILL, a failover) each one fails one request. The resend must still succeed.
    name = f"meter-test-{secrets.token_hex(4)}"
    client = redis.Redis.from_url(django_settings.REDIS_URL, client_name=name)
    meter = RedisMeter(client)
    pricing = Pricing(endpoint_id=1, price_units=PRICE, free_quota=0, allowance=0, past_allowance_units=0)
    calls = [
        (
            CallRecord(f"req-drop-{i}", owner.account.pk, None, "helloworld", "Call", 200, 1),
            meter.reserve(account_id=owner.account.pk, request_id=f"req-drop-{i}", pricing=pricing),
        )
        for i in range(3)
    ]

    # Four connections became idle just now, as after a burst from four threads.
    runner = meter._scripts
    busy = [runner._checkout() for _ in range(4)]
    for idle_connection in busy:
        idle_connection.send_command("PING")
        idle_connection.read_response()
        runner._idle.append((idle_connection, time.monotonic()))
    for client_entry in client.client_list():
        if client_entry["name"] == name and client_entry["cmd"] != "client|list":
            client.client_kill_filter(_id=client_entry["id"])

    meter.settle_many(calls)
    result = meter_flush()

    assert result.events == 3
    assert result.charged_units == 3 * PRICE
    assert usage_charges(owner.account.pk) == 3
    assert not redis_client().hlen(HOLDS_KEY)


def test_spending_cap_late_call_across_month(owner: Persona) -> None:
    # A call priced just before midnight UTC can reach Redis after a call priced just after it.
    meter = get_meter()
    assert isinstance(meter, RedisMeter)
    Wallet.objects.filter(pk=owner.account.pk).update(spending_cap_units=2 * PRICE)
    pricing = Pricing(endpoint_id=1, price_units=PRICE, free_quota=0, allowance=0, past_allowance_units=0)
    end_of_january = dt.datetime(2027, 1, 31, 23, 59, 59, tzinfo=dt.UTC)
    start_of_february = dt.datetime(2027, 2, 1, 0, 0, 1, tzinfo=dt.UTC)

    def reserved(at: dt.datetime, request_id: str) -> bool:
        with time_machine.travel(at, tick=False):
            try:
                meter.reserve(account_id=owner.account.pk, request_id=request_id, pricing=pricing)
            except SpendingCapReached:
                return False
        return True

    january = [reserved(end_of_january, f"jan-{i}") for i in range(3)]
    february_first = reserved(start_of_february, "feb-0")
    january_late = reserved(end_of_january, "jan-late")
    february_rest = [reserved(start_of_february, f"feb-{i}") for i in range(1, 3)]

    assert january == [True, True, False]
    assert february_first
    # Whichever month counts the late call, neither month passes the cap.
    assert january_late + february_first + sum(february_rest) <= 2

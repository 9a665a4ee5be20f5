"""Settle the Redis meter's usage into the database in batches.

``meter_flush`` (Celery beat, every ``M3O_METER_FLUSH_SECONDS``) reads the
meter's event stream in order and, per batch, in one transaction: inserts the
usage events, one ledger row per charged call and one balance change per
wallet. Only after that commits are the entries deleted from the stream.

Idempotent by request id: an event whose request id is already in the
database inserts nothing and debits nothing (``ON CONFLICT DO NOTHING``, and
the debit is the sum of the ledger rows this batch actually inserted). So a
flusher killed between its commit and the stream deletion, a redelivered
task, or two flushers at once change nothing the second time.

The same pass releases holds of calls that never settled (older than
``M3O_HOLD_TTL_SECONDS``) and copies free-call counts to ``FreeUsage``, the
copy a Redis crash falls back to.

A debit larger than the balance, possible only if the meter's snapshot missed
a debit (see billing/metering.py), takes the balance to zero and records the
rest as debt, which blocks the account's calls until a top-up pays it:
balances never go below zero and no charged call is dropped.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import redis
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from accounts.models import Account, ApiKey
from billing.metering import (
    FREE_DIRTY_KEY,
    HOLDS_KEY,
    PREFIX,
    STREAM_KEY,
    RedisMeter,
    meter_invalidate,
    redis_client,
)
from billing.models import FreeUsage, LedgerEntry, UsageEvent, Wallet

logger = structlog.get_logger(__name__)

LOCK_KEY = PREFIX + "flush-lock"
LOCK_TTL_MS = 60_000
BATCH_SIZE = 5_000

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# Take up to ARGV[1] changed free counters and their values at once.
_FREE_TAKE = """
local keys = redis.call('SPOP', KEYS[1], tonumber(ARGV[1]))
if #keys == 0 then return {} end
local values = redis.call('MGET', unpack(keys))
local out = {}
for i = 1, #keys do
  table.insert(out, keys[i])
  table.insert(out, values[i] or false)
end
return out
"""


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One call's usage event as the meter recorded it."""

    request_id: str
    account_id: int
    api_key_id: int | None
    service: str
    endpoint: str
    status_code: int
    cost_units: int
    latency_ms: int
    source: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BatchResult:
    inserted: int
    charged_units: int
    accounts_in_debt: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FlushResult:
    events: int
    inserted: int
    charged_units: int
    holds_released: int
    free_counters: int
    locked_out: bool = False


def usage_rows_write(rows: list[UsageRow]) -> BatchResult:
    """Record usage events, their ledger rows and the balance changes in one transaction, idempotently."""
    if not rows:
        return BatchResult(0, 0)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted, debits = _write_postgresql(rows)
        else:
            inserted, debits = _write_portable(rows)
        in_debt = _wallets_debit(debits)
    for account_id in in_debt:
        logger.error("Metered usage exceeded the balance; the rest is recorded as debt", account_id=account_id)
        meter_invalidate(account_id)
    return BatchResult(inserted, sum(debits.values()), tuple(in_debt))


_BATCH_TABLE = "m3o_usage_batch"
_COLUMNS = (
    "request_id", "account_id", "api_key_id", "service", "endpoint",
    "status_code", "cost_units", "latency_ms", "source", "created_at",
)


def _write_postgresql(rows: list[UsageRow]) -> tuple[int, dict[int, int]]:
    usage, ledger = UsageEvent._meta.db_table, LedgerEntry._meta.db_table
    keys, accounts = ApiKey._meta.db_table, Account._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_BATCH_TABLE} (request_id varchar(64), account_id bigint, "
            "api_key_id bigint, service varchar(64), endpoint varchar(64), status_code integer, "
            "cost_units bigint, latency_ms integer, source varchar(16), created_at timestamptz) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {_BATCH_TABLE} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    (row.request_id, row.account_id, row.api_key_id, row.service, row.endpoint,
                     row.status_code, row.cost_units, row.latency_ms, row.source, row.created_at)
                )
        # One statement: the ledger rows follow exactly the events inserted now,
        # and the debits are exactly the ledger rows inserted now.
        cursor.execute(
            f"""
            WITH batch AS (
                SELECT DISTINCT ON (b.request_id) b.request_id, b.account_id, k.id AS api_key_id, b.service,
                       b.endpoint, b.status_code, b.cost_units, b.latency_ms, b.source, b.created_at
                FROM {_BATCH_TABLE} b
                JOIN {accounts} a ON a.id = b.account_id
                LEFT JOIN {keys} k ON k.id = b.api_key_id
                ORDER BY b.request_id, b.cost_units DESC
            ), events AS (
                INSERT INTO {usage} ({columns})
                SELECT {columns} FROM batch
                ON CONFLICT (request_id) DO NOTHING
                RETURNING request_id, account_id, service, endpoint, cost_units, created_at
            ), charges AS (
                INSERT INTO {ledger} (wallet_id, kind, amount_units, reference, description, created_at)
                SELECT account_id, 'usage', -cost_units, 'usage:' || request_id,
                       left(service || '/' || endpoint, 200), created_at
                FROM events WHERE cost_units > 0
                ON CONFLICT (reference) DO NOTHING
                RETURNING wallet_id, amount_units
            )
            SELECT (SELECT count(*) FROM events), wallet_id, -sum(amount_units)
            FROM charges GROUP BY wallet_id
            UNION ALL SELECT (SELECT count(*) FROM events), NULL, 0
            """
        )
        results = cursor.fetchall()
    inserted = int(results[0][0]) if results else 0
    debits = {int(wallet_id): int(units) for _, wallet_id, units in results if wallet_id is not None}
    return inserted, debits


def _write_portable(rows: list[UsageRow]) -> tuple[int, dict[int, int]]:
    """The same as the PostgreSQL path through the ORM, for SQLite (one writer at a time)."""
    unique = {}
    for row in rows:
        if row.request_id not in unique or row.cost_units > unique[row.request_id].cost_units:
            unique[row.request_id] = row
    ids = list(unique)
    existing = set(UsageEvent.objects.filter(request_id__in=ids).values_list("request_id", flat=True))
    accounts = set(Account.objects.filter(pk__in={r.account_id for r in unique.values()}).values_list("pk", flat=True))
    keys = set(
        ApiKey.objects.filter(pk__in={r.api_key_id for r in unique.values() if r.api_key_id}).values_list(
            "pk", flat=True
        )
    )
    new = [r for r in unique.values() if r.request_id not in existing and r.account_id in accounts]
    UsageEvent.objects.bulk_create(
        [
            UsageEvent(
                request_id=r.request_id, account_id=r.account_id,
                api_key_id=r.api_key_id if r.api_key_id in keys else None, service=r.service,
                endpoint=r.endpoint, status_code=r.status_code, cost_units=r.cost_units,
                latency_ms=r.latency_ms, source=r.source, created_at=r.created_at,
            )
            for r in new
        ]
    )
    charged = [r for r in new if r.cost_units > 0]
    references = set(
        LedgerEntry.objects.filter(reference__in=[f"usage:{r.request_id}" for r in charged]).values_list(
            "reference", flat=True
        )
    )
    entries = [
        LedgerEntry(
            wallet_id=r.account_id, kind=LedgerEntry.Kind.USAGE, amount_units=-r.cost_units,
            reference=f"usage:{r.request_id}", description=f"{r.service}/{r.endpoint}"[:200],
            created_at=r.created_at,
        )
        for r in charged
        if f"usage:{r.request_id}" not in references
    ]
    LedgerEntry.objects.bulk_create(entries)
    debits: dict[int, int] = defaultdict(int)
    for entry in entries:
        debits[entry.wallet_id] -= entry.amount_units
    return len(new), dict(debits)


def _wallets_debit(debits: dict[int, int]) -> list[int]:
    """Debit each wallet its batch total; return the wallets left in debt."""
    in_debt = []
    # In id order, so two writers locking several wallets cannot deadlock.
    for account_id in sorted(debits):
        units = debits[account_id]
        # Both SET expressions read the row as it was before the UPDATE.
        Wallet.objects.filter(pk=account_id).update(
            balance_units=Greatest(F("balance_units") - units, Value(0)),
            debt_units=F("debt_units") + Greatest(Value(units) - F("balance_units"), Value(0)),
            metered_units=F("metered_units") + units,
        )
        if Wallet.objects.filter(pk=account_id, debt_units__gt=0).exists():
            in_debt.append(account_id)
    return in_debt


def _row_from_fields(fields: dict[bytes, bytes]) -> UsageRow:
    text = {name.decode(): value.decode() for name, value in fields.items()}
    return UsageRow(
        request_id=text["r"],
        account_id=int(text["a"]),
        api_key_id=int(text["k"]) if text["k"] else None,
        service=text["s"],
        endpoint=text["e"],
        status_code=int(text["st"]),
        cost_units=int(text["c"]),
        latency_ms=int(text["l"]),
        source=text["src"],
        created_at=dt.datetime.fromtimestamp(float(text["t"]), tz=dt.UTC),
    )


def meter_flush(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> FlushResult:
    """Move the meter's events into the database, release stale holds and copy free counts.

    One flusher at a time holds a lock in Redis; a second one returns at once.
    """
    client = redis_client()
    token = uuid.uuid4().hex
    if not client.set(LOCK_KEY, token, nx=True, px=LOCK_TTL_MS):
        return FlushResult(0, 0, 0, 0, 0, locked_out=True)
    events = inserted = charged = 0
    try:
        batches = 0
        while max_batches is None or batches < max_batches:
            entries = client.xrange(STREAM_KEY, count=batch_size)
            if not entries:
                break
            result = usage_rows_write([_row_from_fields(fields) for _, fields in entries])
            # Only now, after the commit: a crash before this line makes the next flush redo the batch, harmlessly.
            client.xdel(STREAM_KEY, *[entry_id for entry_id, _ in entries])
            client.eval(_EXTEND, 1, LOCK_KEY, token, LOCK_TTL_MS)
            events += len(entries)
            inserted += result.inserted
            charged += result.charged_units
            batches += 1
        released = holds_release_stale(client)
        counters = free_counts_copy(client)
    finally:
        client.eval(_UNLOCK, 1, LOCK_KEY, token)
    if events or released:
        logger.info(
            "Meter flushed", events=events, inserted=inserted, charged_units=charged, holds_released=released
        )
    return FlushResult(events, inserted, charged, released, counters)


def holds_release_stale(client: redis.Redis) -> int:
    """Give back the holds of calls older than M3O_HOLD_TTL_SECONDS that never settled."""
    meter = RedisMeter(client)
    cutoff = time.time() - settings.M3O_HOLD_TTL_SECONDS
    released = 0
    for request_id, value in client.hscan_iter(HOLDS_KEY, count=1000):
        text = value.decode()
        if float(text.rsplit("|", 1)[1]) < cutoff and meter.release_hold(request_id=request_id.decode(), value=text):
            logger.warning("Stale meter hold released", request_id=request_id.decode())
            released += 1
    return released


def free_counts_copy(client: redis.Redis, *, chunk: int = 1000) -> int:
    """Copy changed free-call counters from Redis to FreeUsage, the copy a Redis crash falls back to."""
    copied = 0
    while True:
        flat = client.eval(_FREE_TAKE, 1, FREE_DIRTY_KEY, chunk)
        if not flat:
            return copied
        pairs = list(zip(flat[0::2], flat[1::2]))
        try:
            _free_usage_upsert(pairs)
        except Exception:
            # Put them back so the next flush copies them.
            client.sadd(FREE_DIRTY_KEY, *[key for key, _ in pairs])
            raise
        copied += len(pairs)


def _free_usage_upsert(pairs: Iterable[tuple[bytes, bytes | None]]) -> None:
    rows = []
    for key, value in pairs:
        if value is None:
            continue
        # m3o:meter:f:<account>:<YYYY-MM>:<scope>
        _, _, _, account, month, scope = key.decode().split(":", 5)
        rows.append(
            FreeUsage(
                account_id=int(account), month=dt.date.fromisoformat(month + "-01"), scope=scope, used=int(value)
            )
        )
    existing = set(Account.objects.filter(pk__in={row.account_id for row in rows}).values_list("pk", flat=True))
    FreeUsage.objects.bulk_create(
        [row for row in rows if row.account_id in existing],
        update_conflicts=True,
        unique_fields=["account", "month", "scope"],
        update_fields=["used"],
    )

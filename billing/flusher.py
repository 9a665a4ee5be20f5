"""Settle the Redis meter's usage into the database in batches.

``meter_flush`` (Celery beat, every ``M3O_METER_FLUSH_SECONDS``) reads the
meter's event stream in order and, per batch, in one transaction: inserts the
usage events, the ledger rows for their charges and one balance change per
wallet. Only after that commits are the entries deleted from the stream. A
stream entry contains one usage event, or the events of the calls the gateway
settled together (``metering.SettleQueue``), one line each.

The ledger gets one usage row per account and month in each batch, for the
total of the charged events the batch inserted ("<n> charged calls"); the
usage events keep the per-call detail that invoices are built from.

Idempotent by request id: an event whose request id is already in the
database inserts nothing and so charges nothing (``ON CONFLICT DO NOTHING``,
and the ledger rows and debits are computed from the events this batch
actually inserted, in the same transaction). So a
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
import re
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
    COPY_NULL,
    FREE_DIRTY_KEY,
    HOLDS_KEY,
    PREFIX,
    STREAM_KEY,
    CallRecord,
    RedisMeter,
    meter_invalidate,
    redis_client,
    settle_queue_drain,
    usage_line_parts,
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
    """Record usage events given as rows; see ``usage_lines_write``."""
    return usage_lines_write([usage_line(row) for row in rows])


def usage_line(row: UsageRow) -> bytes:
    head, tail = usage_line_parts(
        CallRecord(
            request_id=row.request_id, account_id=row.account_id, api_key_id=row.api_key_id, service=row.service,
            endpoint=row.endpoint, status_code=row.status_code, latency_ms=row.latency_ms, source=row.source,
        ),
        at=row.created_at,
    )
    return f"{head}{row.cost_units}{tail}".encode()


def usage_lines_write(lines: list[bytes]) -> BatchResult:
    """Record usage events, their ledger rows and the balance changes in one transaction, idempotently.

    ``lines`` are usage events in COPY text (``metering.usage_line_parts``).
    The ledger gets one row per account and month (UTC) of the events this
    call inserted, for their total: an event already in the database inserts
    nothing and so adds nothing to any ledger row or balance.
    """
    if not lines:
        return BatchResult(0, 0)
    batch = uuid.uuid4().hex
    with transaction.atomic():
        if connection.vendor == "postgresql":
            inserted, charges = _events_insert_postgresql(lines)
        else:
            inserted, charges = _events_insert_portable([_row_from_line(line) for line in lines])
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    wallet_id=charge.account_id,
                    kind=LedgerEntry.Kind.USAGE,
                    amount_units=-charge.units,
                    reference=f"usage:flush:{batch}:{charge.account_id}:{charge.month:%Y-%m}",
                    description=f"{charge.calls} charged calls",
                    created_at=charge.last_at,
                )
                for charge in charges
            ]
        )
        debits: dict[int, int] = defaultdict(int)
        for charge in charges:
            debits[charge.account_id] += charge.units
        in_debt = _wallets_debit(dict(debits))
    for account_id in in_debt:
        logger.error("Metered usage exceeded the balance; the rest is recorded as debt", account_id=account_id)
        meter_invalidate(account_id)
    return BatchResult(inserted, sum(debits.values()), tuple(in_debt))


_ESCAPED = re.compile(r"\\(.)")
_UNESCAPE = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def _row_from_line(line: bytes) -> UsageRow:
    fields = line.decode().split("\t")

    def text(value: str) -> str:
        return _ESCAPED.sub(lambda match: _UNESCAPE.get(match.group(1), match.group(1)), value)

    return UsageRow(
        request_id=text(fields[0]),
        account_id=int(fields[1]),
        api_key_id=None if fields[2] == COPY_NULL else int(fields[2]),
        service=text(fields[3]),
        endpoint=text(fields[4]),
        status_code=int(fields[5]),
        cost_units=int(fields[6]),
        latency_ms=int(fields[7]),
        source=text(fields[8]),
        created_at=dt.datetime.fromisoformat(fields[9]),
    )


@dataclass(frozen=True, slots=True)
class _Charge:
    """The charged events one batch inserted for one account in one month."""

    account_id: int
    month: dt.date
    calls: int
    units: int
    last_at: dt.datetime


_BATCH_TABLE = "m3o_usage_batch"
# The columns of a usage line, in order (billing.metering.usage_line_parts).
USAGE_COLUMNS = (
    "request_id", "account_id", "api_key_id", "service", "endpoint",
    "status_code", "cost_units", "latency_ms", "source", "created_at",
)


def _events_insert_postgresql(lines: list[bytes]) -> tuple[int, list[_Charge]]:
    usage, keys, accounts = UsageEvent._meta.db_table, ApiKey._meta.db_table, Account._meta.db_table
    columns = ", ".join(USAGE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_BATCH_TABLE} (request_id varchar(64), account_id bigint, "
            "api_key_id bigint, service varchar(64), endpoint varchar(64), status_code integer, "
            "cost_units bigint, latency_ms integer, source varchar(16), created_at timestamptz) ON COMMIT DELETE ROWS"
        )
        with cursor.copy(f"COPY {_BATCH_TABLE} ({columns}) FROM STDIN") as copy:
            copy.write(b"\n".join(lines) + b"\n")
        # One statement, so the charges are exactly those of the events inserted now.
        # Events of a deleted account are dropped; a deleted key's are kept without it.
        # A request id twice in one batch inserts once: DO NOTHING skips the second.
        cursor.execute(
            f"""
            WITH events AS (
                INSERT INTO {usage} ({columns})
                SELECT b.request_id, b.account_id, k.id, b.service, b.endpoint, b.status_code, b.cost_units,
                       b.latency_ms, b.source, b.created_at
                FROM {_BATCH_TABLE} b
                JOIN {accounts} a ON a.id = b.account_id
                LEFT JOIN {keys} k ON k.id = b.api_key_id
                ON CONFLICT (request_id) DO NOTHING
                RETURNING account_id, cost_units, created_at
            )
            SELECT account_id, (date_trunc('month', created_at AT TIME ZONE 'UTC'))::date, count(*),
                   sum(cost_units), max(created_at), (SELECT count(*) FROM events)
            FROM events WHERE cost_units > 0 GROUP BY 1, 2
            UNION ALL SELECT NULL, NULL, 0, 0, NULL, (SELECT count(*) FROM events)
            """
        )
        results = cursor.fetchall()
    inserted = int(results[0][5])
    charges = [
        _Charge(int(account_id), month, int(calls), int(units), last_at)
        for account_id, month, calls, units, last_at, _ in results
        if account_id is not None
    ]
    return inserted, charges


def _events_insert_portable(rows: list[UsageRow]) -> tuple[int, list[_Charge]]:
    """Insert the events as the PostgreSQL path does, through the ORM, for SQLite (one writer at a time)."""
    existing = set(
        UsageEvent.objects.filter(request_id__in=[r.request_id for r in rows]).values_list("request_id", flat=True)
    )
    accounts = set(Account.objects.filter(pk__in={r.account_id for r in rows}).values_list("pk", flat=True))
    keys = set(ApiKey.objects.filter(pk__in={r.api_key_id for r in rows if r.api_key_id}).values_list("pk", flat=True))
    new = [r for r in rows if r.request_id not in existing and r.account_id in accounts]
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
    groups: dict[tuple[int, dt.date], list[UsageRow]] = defaultdict(list)
    for r in new:
        if r.cost_units > 0:
            groups[(r.account_id, r.created_at.astimezone(dt.UTC).date().replace(day=1))].append(r)
    charges = [
        _Charge(account_id, month, len(group), sum(r.cost_units for r in group), max(r.created_at for r in group))
        for (account_id, month), group in groups.items()
    ]
    return len(new), charges


def _wallets_debit(debits: dict[int, int]) -> list[int]:
    """Debit each wallet its batch total in one UPDATE; return the wallets left in debt."""
    if not debits:
        return []
    if connection.vendor != "postgresql":
        for account_id, units in sorted(debits.items()):
            # Both SET expressions read the row as it was before the UPDATE.
            Wallet.objects.filter(pk=account_id).update(
                balance_units=Greatest(F("balance_units") - units, Value(0)),
                debt_units=F("debt_units") + Greatest(Value(units) - F("balance_units"), Value(0)),
                metered_units=F("metered_units") + units,
            )
        return list(Wallet.objects.filter(pk__in=debits, debt_units__gt=0).values_list("pk", flat=True))
    table = Wallet._meta.db_table
    values = ", ".join(["(%s::bigint, %s::bigint)"] * len(debits))
    params = [value for item in sorted(debits.items()) for value in item]
    with connection.cursor() as cursor:
        # The SET expressions read the row as it was before the UPDATE, so the
        # balance and the debt change from the same old balance.
        cursor.execute(
            f"""
            UPDATE {table} AS w SET
                balance_units = GREATEST(w.balance_units - d.units, 0),
                debt_units = w.debt_units + GREATEST(d.units - w.balance_units, 0),
                metered_units = w.metered_units + d.units,
                updated_at = now()
            FROM (VALUES {values}) AS d(account_id, units)
            WHERE w.account_id = d.account_id
            RETURNING w.account_id, w.debt_units
            """,
            params,
        )
        return [account_id for account_id, debt in cursor.fetchall() if debt > 0]


def meter_flush(*, batch_size: int = BATCH_SIZE, max_batches: int | None = None) -> FlushResult:
    """Move the meter's events into the database, release stale holds and copy free counts.

    One flusher at a time holds a lock in Redis; a second one returns at once.
    """
    settle_queue_drain()  # calls this process responded to but has not settled yet
    client = redis_client()
    token = uuid.uuid4().hex
    if not client.set(LOCK_KEY, token, nx=True, px=LOCK_TTL_MS):
        return FlushResult(0, 0, 0, 0, 0, locked_out=True)
    events = inserted = charged = 0
    try:
        batches = 0
        while max_batches is None or batches < max_batches:
            entry_ids, lines = stream_batch_read(client, batch_size)
            if not entry_ids:
                break
            result = usage_lines_write(lines)
            # Only now, after the commit: a crash before this line makes the next flush redo the batch, harmlessly.
            client.xdel(STREAM_KEY, *entry_ids)
            client.eval(_EXTEND, 1, LOCK_KEY, token, LOCK_TTL_MS)
            events += len(lines)
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


def stream_batch_read(client: redis.Redis, batch_size: int) -> tuple[list[bytes], list[bytes]]:
    """Read the oldest stream entries with about ``batch_size`` usage lines; return their ids and the lines.

    An entry contains one line, or many when the settle queue charged a batch
    of calls at once. Entries are read in chunks sized by the lines per entry
    seen so far, and the batch ends with the entry that reaches
    ``batch_size``, so it has fewer lines than ``batch_size`` plus one entry's.
    """
    entry_ids: list[bytes] = []
    lines: list[bytes] = []
    start: bytes | str = "-"
    want = batch_size
    while want > 0:
        chunk = client.xrange(STREAM_KEY, min=start, count=want)
        for entry_id, fields in chunk:
            entry_ids.append(entry_id)
            lines.extend(fields[b"v"].split(b"\n"))
            if len(lines) >= batch_size:
                return entry_ids, lines
        if len(chunk) < want:
            break
        start = b"(" + chunk[-1][0]
        want = (batch_size - len(lines)) * len(entry_ids) // len(lines)
    return entry_ids, lines


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

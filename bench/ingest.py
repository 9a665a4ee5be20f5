#!/usr/bin/env python
"""Usage ingest benchmark: usage events recorded per second into PostgreSQL, against a bare COPY, in one run.

Generates --events usage events (half of them charged) for --accounts
accounts and records them three ways, each into an empty table:

1. baseline: a bare COPY of the same rows into a copy of the usage table
   (same columns and indexes), with no ledger rows or balance changes;
2. batch write: billing.flusher.usage_rows_write in batches of --batch,
   which inserts the usage events, one ledger row per charged event and one
   balance change per wallet, idempotently by request id;
3. flusher: the same events put on the Redis meter's stream first (not
   timed), then billing.flusher.meter_flush, the production path: read the
   stream, write the batches, delete the entries.

Prints events/s for each and the ratio against the baseline, then checks
that the ledger contains exactly the charged units, every wallet reconciles
and no balance is below zero.

Usage: .venv/bin/python bench/ingest.py [--events 200000] [--accounts 100] [--batch 5000]
Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults to the local
servers, a database named m3o_bench and Redis database 9).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRICE = 1_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="usage events per method (default 200000)")
    parser.add_argument("--accounts", type=int, default=100, help="accounts the events belong to (default 100)")
    parser.add_argument("--batch", type=int, default=5_000, help="events per transaction (default 5000)")
    parser.add_argument(
        "--recreate-database", action="store_true", help="drop and create the benchmark database first"
    )
    args = parser.parse_args()

    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m3o_bench"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "M3O_METER": "redis",
        "M3O_SIGNUP_CREDIT_UNITS": "0",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from gateway import _create_database  # noqa: E402  (bench/gateway.py, the sibling script)

    _create_database(env["DATABASE_URL"], recreate=args.recreate_database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "m3o_web.settings"
    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.db.models import Count, Sum

    from accounts.models import Account
    from billing.flusher import UsageRow, meter_flush, usage_line, usage_rows_write
    from billing.metering import STREAM_KEY, redis_client
    from billing.models import LedgerEntry, UsageEvent, Wallet
    from billing.services import wallet_apply, wallet_open, wallet_reconcile

    cache.clear()
    run = secrets.token_hex(4)
    accounts = []
    for index in range(args.accounts):
        account = Account.objects.create(name=f"ingest {run} {index}")
        wallet_open(account=account)
        wallet_apply(account_id=account.pk, kind="grant", amount_units=10**13, reference=f"bench:ingest:{run}:{index}")
        accounts.append(account.pk)

    def rows(method: str) -> list[UsageRow]:
        now = dt.datetime.now(dt.UTC)
        return [
            UsageRow(
                request_id=f"{run}-{method}-{i}",
                account_id=accounts[i % len(accounts)],
                api_key_id=None,
                service="helloworld",
                endpoint="Call",
                status_code=200 if i % 2 == 0 else 400,
                cost_units=PRICE if i % 2 == 0 else 0,
                latency_ms=3,
                source="api",
                created_at=now,
            )
            for i in range(args.events)
        ]

    usage_table = UsageEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_usage_copy")
        cursor.execute(f"CREATE TABLE bench_usage_copy (LIKE {usage_table} INCLUDING ALL)")
    columns = ("request_id", "account_id", "api_key_id", "service", "endpoint", "status_code", "cost_units",
               "latency_ms", "source", "created_at")

    baseline_rows = rows("copy")
    started = time.perf_counter()
    for start in range(0, len(baseline_rows), args.batch):
        with connection.cursor() as cursor, cursor.copy(f"COPY bench_usage_copy ({', '.join(columns)}) FROM STDIN") as copy:
            for row in baseline_rows[start : start + args.batch]:
                copy.write_row(tuple(getattr(row, name) for name in columns))
    baseline = args.events / (time.perf_counter() - started)

    batch_rows = rows("batch")
    started = time.perf_counter()
    for start in range(0, len(batch_rows), args.batch):
        usage_rows_write(batch_rows[start : start + args.batch])
    batch = args.events / (time.perf_counter() - started)

    client = redis_client()
    pipeline = client.pipeline(transaction=False)
    for row in rows("stream"):
        pipeline.xadd(STREAM_KEY, {"v": usage_line(row)})  # as the meter's settle script writes it
    pipeline.execute()
    started = time.perf_counter()
    flushed = 0
    while (result := meter_flush(batch_size=args.batch)).events or result.locked_out:
        flushed += result.events
    flusher = flushed / (time.perf_counter() - started)

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_usage_copy")

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.events} events, "
          f"{args.accounts} accounts, batches of {args.batch}")
    print(f"{'method':<42} {'events/s':>10} {'ratio':>7}")
    for name, rate in (
        ("baseline: bare COPY into a usage table copy", baseline),
        ("batch write: events + ledger + balances", batch),
        ("flusher: Redis stream -> PostgreSQL", flusher),
    ):
        print(f"{name:<42} {rate:>10.0f} {rate / baseline:>7.1%}")

    charged = args.events // 2 + args.events % 2
    totals = LedgerEntry.objects.filter(wallet_id__in=accounts, kind=LedgerEntry.Kind.USAGE).aggregate(
        rows=Count("id"), units=Sum("amount_units")
    )
    events = UsageEvent.objects.filter(account_id__in=accounts).count()
    reconciled = all(wallet_reconcile(account_id=pk).ok for pk in accounts)
    negative = Wallet.objects.filter(balance_units__lt=0).count()
    print(
        f"usage events {events} (expected {2 * args.events}), charged {2 * charged} x price {PRICE} = "
        f"{2 * charged * PRICE}, usage ledger {-(totals['units'] or 0)} in {totals['rows']} rows, "
        f"reconciles {reconciled}, negative wallets {negative}"
    )
    if events != 2 * args.events or -(totals["units"] or 0) != 2 * charged * PRICE:
        sys.exit("Ingest invariant broken: see the line above.")
    if not reconciled or negative:
        sys.exit("Money invariant broken: see the line above.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Roll-up benchmark: time to roll N usage events up into hourly and daily totals, against a bare GROUP BY.

Seeds N usage events on PostgreSQL (spread over accounts, keys, endpoints,
statuses and a week of hours), then in the same run times:

- baseline: one bare ``SELECT ... GROUP BY`` of the same events per hour and
  dimension (rows counted in the database, none sent to the client);
- roll-up: ``billing.services.usage.usage_rollup`` from an empty cursor,
  in its production batches.

Prints both times, events per second and the ratio, then checks that the
totals equal the raw events (calls and units) and exits non-zero if not.

Usage: .venv/bin/python bench/rollup.py [--events 10000000] [--accounts 200] [--recreate-database]
Needs PostgreSQL (DATABASE_URL; defaults to a database m3o_bench_usage on the local server).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway import _create_database  # noqa: E402

SERVICES = [("helloworld", "Call"), ("cache", "Set"), ("cache", "Get"), ("db", "Create"), ("db", "Read"),
            ("sms", "Send"), ("url", "Shorten"), ("weather", "Forecast")]
PRICES = [1_000, 100, 50, 200, 100, 100_000, 500, 2_000]
DAYS = 7


def django_setup(database_url: str) -> None:
    env = {"SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40), "DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "m3o_web.settings"}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True)
    import django

    django.setup()


def bench_accounts(count: int) -> list[Any]:
    from accounts.models import Account

    tag = secrets.token_hex(4)
    return Account.objects.bulk_create([Account(name=f"bench {tag} {n}") for n in range(count)])


def seed(*, events: int, accounts: list[Any], days: int = DAYS) -> tuple[int, int]:
    """Replace all usage data with ``events`` events of ``accounts`` over the last ``days``; return their count and units.

    Creates two API keys per account.
    """
    from django.db import connection

    from accounts.models import ApiKey

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE billing_usageevent, billing_usagehourly, billing_usagedaily, billing_usagerollupcursor"
        )
    tag = secrets.token_hex(4)
    keys = ApiKey.objects.bulk_create(
        [ApiKey(account=a, name=f"key {i}", prefix=f"m3o_{tag}{i}", key_hash=secrets.token_hex(32), scopes=["*"])
         for a in accounts for i in range(2)]
    )
    account_ids = [a.pk for a in accounts]
    key_ids = [k.pk for k in keys]
    services = [s for s, _ in SERVICES]
    endpoints = [e for _, e in SERVICES]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Loading without the secondary indexes and building them afterwards is several times faster.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'billing_usageevent'::regclass AND contype = 'u'"
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'billing_usageevent' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'billing_usageevent'::regclass)"
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f'ALTER TABLE billing_usageevent DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Each account calls 3 of the 8 endpoints with 2 keys (80% / 20%); x mixes the row
        # number so that they combine freely. Status: 95% 200, 3% 4xx, 2% 500; only 200 costs.
        cursor.execute(
            """
            INSERT INTO billing_usageevent
                (request_id, account_id, api_key_id, service, endpoint, status_code, cost_units, latency_ms, source, created_at)
            SELECT %s || '-' || g, a.ids[1 + g %% %s],
                   k.ids[1 + 2 * (g %% %s) + CASE WHEN (x >> 24) %% 10 < 8 THEN 0 ELSE 1 END],
                   s.names[1 + (g %% %s + 3 * ((x >> 8) %% 3)) %% 8], e.names[1 + (g %% %s + 3 * ((x >> 8) %% 3)) %% 8],
                   CASE WHEN (x >> 16) %% 100 < 2 THEN 500 WHEN (x >> 16) %% 100 < 3 THEN 429
                        WHEN (x >> 16) %% 100 < 4 THEN 404 WHEN (x >> 16) %% 100 < 5 THEN 400 ELSE 200 END,
                   CASE WHEN (x >> 16) %% 100 < 5 THEN 0 ELSE p.units[1 + (g %% %s + 3 * ((x >> 8) %% 3)) %% 8] END,
                   5 + x %% 90, 'api',
                   now() - make_interval(secs => (g::float8 / %s) * %s)
            FROM (SELECT g, (g * 2654435761) %% 4294967296 AS x FROM generate_series(1, %s) AS g) AS numbers,
                 (SELECT %s::bigint[] AS ids) a, (SELECT %s::bigint[] AS ids) k,
                 (SELECT %s::text[] AS names) s, (SELECT %s::text[] AS names) e, (SELECT %s::bigint[] AS units) p
            """,
            [tag, *[len(accounts)] * 5, events, days * 86_400, events,
             account_ids, key_ids, services, endpoints, PRICES],
        )
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE billing_usageevent ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute("VACUUM ANALYZE billing_usageevent")
        cursor.execute("SELECT COUNT(*), COALESCE(SUM(cost_units), 0) FROM billing_usageevent")
        count, units = cursor.fetchone()
    print(f"seeded {count:,} events for {len(accounts)} accounts in {time.perf_counter() - started:.1f} s")
    return count, int(units)


def baseline_seconds() -> tuple[float, int]:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM (
                SELECT account_id, date_trunc('hour', created_at AT TIME ZONE 'UTC'), COALESCE(api_key_id, 0),
                       service, endpoint, status_code / 100, COUNT(*), SUM(cost_units), SUM(latency_ms)
                FROM billing_usageevent
                GROUP BY 1, 2, 3, 4, 5, 6
            ) AS grouped
            """
        )
        groups = cursor.fetchone()[0]
    return time.perf_counter() - started, groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="usage events to roll up (default 10,000,000)")
    parser.add_argument("--accounts", type=int, default=200, help="accounts the events belong to (default 200)")
    parser.add_argument("--batch", type=int, default=None, help="events per roll-up batch (default M3O_ROLLUP_BATCH_EVENTS)")
    parser.add_argument("--recreate-database", action="store_true", help="drop and create the benchmark database first")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m3o_bench_usage")
    _create_database(url, recreate=args.recreate_database)
    django_setup(url)
    from django.conf import settings
    from django.db.models import Sum

    from billing.models import UsageDaily, UsageHourly
    from billing.services.usage import usage_rollup

    count, units = seed(events=args.events, accounts=bench_accounts(args.accounts))

    baseline, groups = baseline_seconds()
    started = time.perf_counter()
    result = usage_rollup(batch_events=args.batch)
    rollup = time.perf_counter() - started

    batch = args.batch or settings.M3O_ROLLUP_BATCH_EVENTS
    print(f"baseline (bare GROUP BY, {groups:,} hourly groups): {baseline:.2f} s, {count / baseline:,.0f} events/s")
    print(f"roll-up ({result.batches} batches of {batch:,} ids): {rollup:.2f} s, {count / rollup:,.0f} events/s")
    print(f"ratio (roll-up / baseline time): {rollup / baseline:.2f}")

    hourly = UsageHourly.objects.aggregate(calls=Sum("calls"), units=Sum("cost_units"))
    daily = UsageDaily.objects.aggregate(calls=Sum("calls"), units=Sum("cost_units"))
    exact = hourly == daily == {"calls": count, "units": units}
    print(f"totals exact {exact}: events {count:,} / {units:,} units; hourly {hourly}; daily {daily}")
    if not exact:
        sys.exit("The roll-up totals differ from the raw events.")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Invoicing benchmark: issue a month's invoices for many accounts, against a bare bulk INSERT, in one run.

Seeds the accounts and a month of charged calls in bulk with SQL (each
account calls --lines service endpoints --calls-per-line times), then times
the real month-end code, billing.services.invoices.invoices_issue_due, as
Celery beat runs it. The baseline is a bare INSERT ... SELECT of the same
number of invoice and line rows into copies of the invoice tables. Prints
both times and their ratio, then checks the invoices: one per account, each
with its lines and the exact total, and that a second run issues nothing new.

Usage: .venv/bin/python bench/invoices.py [--accounts 10000] [--lines 20] [--calls-per-line 5]
Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL; defaults to the local
servers, a database named m3o_bench_invoices and Redis database 9).
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
MONTH = dt.date(2026, 11, 1)
# An hour after November ends in UTC, past the default 15-minute grace.
NOW = dt.datetime(2026, 12, 1, 1, tzinfo=dt.UTC)
UNITS = 7  # price of each seeded call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts to invoice (default 10000)")
    parser.add_argument("--lines", type=int, default=20, help="service endpoints called by each account (default 20)")
    parser.add_argument("--calls-per-line", type=int, default=5, help="charged calls per endpoint and account (default 5)")
    parser.add_argument("--recreate-database", action="store_true", help="drop and create the benchmark database first")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m3o_bench_invoices"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    _create_database(env["DATABASE_URL"], recreate=args.recreate_database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "m3o_web.settings"
    django.setup()
    from django.db import connection
    from django.db.models import Sum

    from billing.models import Invoice, InvoiceLine
    from billing.services.invoices import invoices_issue_due
    from m3o_web.celery import app as celery_app

    first, last = _seed(connection, accounts=args.accounts, lines=args.lines, calls=args.calls_per_line)
    account_ids = range(first, last + 1)
    events = args.accounts * args.lines * args.calls_per_line
    print(f"seeded {args.accounts:,} accounts, {events:,} usage events in {MONTH:%B %Y}")

    baseline = _baseline(connection, invoices=args.accounts, lines=args.accounts * args.lines)

    started = time.perf_counter()
    issued = invoices_issue_due(now=NOW)
    elapsed = time.perf_counter() - started
    # The invoice emails the run queued are not part of this benchmark.
    celery_app.control.purge()

    print(f"{'step':<34} {'seconds':>8}")
    print(f"{'baseline: bare INSERT of the rows':<34} {baseline:>8.2f}")
    print(f"{'invoices_issue_due':<34} {elapsed:>8.2f}")
    print(f"ratio (invoicing / baseline): {elapsed / baseline:.1f}x; "
          f"{args.accounts / elapsed:,.0f} invoices/s, {args.accounts * args.lines / elapsed:,.0f} lines/s")

    invoices = Invoice.objects.filter(account_id__in=account_ids, month=MONTH)
    count = invoices.count()
    lines = InvoiceLine.objects.filter(invoice__in=invoices).count()
    wrong_totals = invoices.exclude(usage_units=args.lines * args.calls_per_line * UNITS).count()
    sums = InvoiceLine.objects.filter(invoice__in=invoices).aggregate(calls=Sum("calls"), units=Sum("amount_units"))
    expected_calls = args.accounts * args.lines * args.calls_per_line
    again = invoices_issue_due(now=NOW)
    celery_app.control.purge()
    print(f"invoices {count:,} (expected {args.accounts:,}), lines {lines:,} (expected {args.accounts * args.lines:,}), "
          f"wrong totals {wrong_totals}, calls on lines {sums['calls']:,} (expected {expected_calls:,}), "
          f"second run new invoices {len(set(again) - set(issued))}, invoices after second run {invoices.count():,}")
    if (count != args.accounts or lines != args.accounts * args.lines or wrong_totals or invoices.count() != count
            or sums["calls"] != expected_calls or sums["units"] != expected_calls * UNITS):
        sys.exit("Invoicing invariant broken: see the line above.")


def _seed(connection, *, accounts: int, lines: int, calls: int) -> tuple[int, int]:
    """Insert the accounts, their wallets and a month of charged calls; return the first and last account id."""
    during = dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_account (name, kind, status, status_message, created_at) "
            "SELECT 'bench ' || n, 'team', 'active', '', %s FROM generate_series(1, %s) AS n RETURNING id",
            [during, accounts],
        )
        ids = [row[0] for row in cursor.fetchall()]
        first, last = min(ids), max(ids)
        cursor.execute(
            "INSERT INTO billing_wallet (account_id, balance_units, debt_units, metered_units, updated_at) "
            "SELECT id, 0, 0, 0, %s FROM accounts_account WHERE id BETWEEN %s AND %s",
            [during, first, last],
        )
        # One call per (account, endpoint, n), spread over the month's second half.
        cursor.execute(
            "INSERT INTO billing_usageevent (request_id, account_id, service, endpoint, status_code, cost_units, "
            "latency_ms, source, created_at) "
            "SELECT 'bench-' || a.id || '-' || e || '-' || n, a.id, 'service' || (e %% 5), 'Endpoint' || e, 200, %s, 1, "
            "'api', %s + (n || ' minutes')::interval "
            "FROM accounts_account a, generate_series(1, %s) AS e, generate_series(1, %s) AS n "
            "WHERE a.id BETWEEN %s AND %s",
            [UNITS, during, lines, calls, first, last],
        )
        cursor.execute("ANALYZE")
    return first, last


def _baseline(connection, *, invoices: int, lines: int) -> float:
    """Time a bare INSERT ... SELECT of as many invoice and line rows into copies of the invoice tables."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_invoice_lines, bench_invoices")
        cursor.execute("CREATE TABLE bench_invoices (LIKE billing_invoice INCLUDING ALL)")
        cursor.execute("CREATE TABLE bench_invoice_lines (LIKE billing_invoiceline INCLUDING ALL)")
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_invoices (id, account_id, month, number, time_zone, starts_at, ends_at, usage_units, "
            "total_cents, issued_at) "
            "SELECT n, n, %s, 'B-' || n, 'UTC', %s, %s, 700, 0, now() FROM generate_series(1, %s) AS n",
            [MONTH, dt.datetime(2026, 11, 1, tzinfo=dt.UTC), NOW, invoices],
        )
        cursor.execute(
            "INSERT INTO bench_invoice_lines (id, invoice_id, kind, service, endpoint, description, calls, amount_units) "
            "SELECT n, 1 + n %% %s, 'usage', 'service', 'Endpoint', 'service/Endpoint', 5, 35 FROM generate_series(1, %s) AS n",
            [invoices, lines],
        )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_invoice_lines, bench_invoices")
    return elapsed


def _create_database(url: str, *, recreate: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if recreate:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()

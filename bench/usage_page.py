#!/usr/bin/env python
"""Usage page benchmark: server time of the usage page for an account with N usage events, against a trivial view.

Seeds N usage events for one account over 30 days on PostgreSQL, rolls them
up, then records a further batch of events that stay above the roll-up
cursor (as between two roll-up runs). Then, in the same process and in
alternating rounds after a warm-up, it times Django handling:

- baseline: ``GET /healthz``, a view that returns a constant;
- the usage page, ``GET /billing/usage/`` (30 days by day) and by hour for 7
  days, and the dashboard, for the seeded account's signed-in user.

Time is measured around the whole request handling (middleware, view,
queries, template), with no network in between. Prints the median and p95
of each, the ratio to the baseline, and the number of SQL queries per page.

Usage: .venv/bin/python bench/usage_page.py [--events 1000000] [--rounds 30] [--recreate-database]
Needs PostgreSQL (DATABASE_URL; defaults to a database m3o_bench_usage_page on the local server).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.gateway import _create_database  # noqa: E402
from bench.rollup import django_setup, seed  # noqa: E402

PENDING_EVENTS = 2_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="usage events of the account (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--recreate-database", action="store_true", help="drop and create the benchmark database first")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m3o_bench_usage_page")
    os.environ.update({"ALLOWED_HOSTS": "testserver", "DEBUG": "0"})
    _create_database(url, recreate=args.recreate_database)
    django_setup(url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account, User
    from billing.models import UsageEvent
    from billing.services.usage import usage_rollup

    # Pages are rendered without collectstatic's manifest.
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

    email = f"bench-{secrets.token_hex(6)}@example.com"
    user = User.objects.create_user(email, secrets.token_urlsafe(16))
    account = Account.objects.get(memberships__user=user)
    count, _ = seed(events=args.events, accounts=[account], days=30)
    started = time.perf_counter()
    usage_rollup()
    print(f"rolled up in {time.perf_counter() - started:.1f} s")
    pending = [
        UsageEvent(request_id=f"pending-{secrets.token_hex(8)}-{n}", account=account, service="helloworld",
                   endpoint="Call", status_code=200, cost_units=1_000, latency_ms=7)
        for n in range(PENDING_EVENTS)
    ]
    UsageEvent.objects.bulk_create(pending, batch_size=1_000)
    print(f"account has {count + PENDING_EVENTS:,} events, {PENDING_EVENTS:,} of them not rolled up")

    client = Client()
    client.force_login(user)
    pages = {
        "baseline /healthz": "/healthz",
        "usage page, 30 days by day": "/billing/usage/",
        "usage page, 7 days by hour": "/billing/usage/?range=7d&by=hour",
        "dashboard": "/dashboard/",
    }
    queries = {}
    for name, path in pages.items():
        for _ in range(3):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries[name] = len(captured.captured_queries)

    timings: dict[str, list[float]] = {name: [] for name in pages}
    for _ in range(args.rounds):
        for name, path in pages.items():
            started = time.perf_counter()
            client.get(path)
            timings[name].append((time.perf_counter() - started) * 1000)

    baseline = statistics.median(timings["baseline /healthz"])
    for name, values in timings.items():
        values.sort()
        median = statistics.median(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        ratio = f"{median / baseline:.1f}x baseline" if name != "baseline /healthz" else "baseline"
        print(f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms, {queries[name]} queries ({ratio})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Gateway benchmark: POST /v1/helloworld/Call against a bare baseline, in one run.

Starts granian on loopback (two workers by default, as deploy/ runs it) with
PostgreSQL and Redis, creates an account and key, and loads both endpoints
with wrk in alternating rounds after a warm-up:

1. maximum load: each round keeps --connections requests in flight;
2. offered load: both endpoints at the same rate, half the gateway's maximum
   (the median of step 1), paced by wrk's per-request delay.

Prints requests/s, p50 and p99 of each and the ratios, then flushes the
meter and checks the money invariants: the usage ledger equals the
successful calls times the price, every wallet reconciles with its ledger
and no balance is below zero.

Usage: .venv/bin/python bench/gateway.py [--rounds 3] [--seconds 10] [--connections 32] [--workers 2]
Needs wrk (apt-get install wrk), PostgreSQL and Redis (DATABASE_URL, REDIS_URL;
defaults to the local servers and a database named m3o_bench).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
BODY = '{"name": "Alice"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(
    url: str, *, seconds: int, connections: int, headers: dict[str, str], script_dir: Path, rate: float = 0.0
) -> dict[str, float]:
    """Run wrk once; with ``rate``, each connection waits so that all together offer about that many requests/s."""
    header_lines = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items())
    script = f'wrk.method = "POST"\nwrk.body = \'{BODY}\'\n{header_lines}{pacing(rate, connections)}'
    return wrk_script(url, script, seconds=seconds, connections=connections, script_dir=script_dir)


def pacing(rate: float, connections: int) -> str:
    """Return wrk's delay() hook that makes ``connections`` connections offer about ``rate`` requests/s, or nothing for 0."""
    return f"function delay() return {connections * 1000 / rate:.3f} end\n" if rate else ""


def wrk_script(url: str, script: str, *, seconds: int, connections: int, script_dir: Path) -> dict[str, float]:
    """Run wrk once with the Lua ``script``; return requests/s, p50 and p99 in ms, non-2xx responses and socket errors."""
    lua = script_dir / "load.lua"
    lua.write_text(script)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "requests": float(re.search(r"(\d+) requests in", output).group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _latency(output, "50%"),
        "p99_ms": _latency(output, "99%"),
        "errors": float(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0.0,
        "socket_errors": float(sum(int(n) for n in socket_errors.groups())) if socket_errors else 0.0,
    }


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per endpoint (default 3)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each round in seconds (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent wrk connections (default 32)")
    parser.add_argument(
        "--workers", type=int, default=2, help="granian worker processes (default 2, as deploy/ runs the web app)"
    )
    parser.add_argument(
        "--paced-connections", type=int, default=8, help="wrk connections for the offered-load rounds (default 8)"
    )
    parser.add_argument(
        "--recreate-database", action="store_true", help="drop and create the benchmark database first"
    )
    args = parser.parse_args()

    env = bench_env()
    setup(env, recreate=args.recreate_database)
    account, secret = bench_account()

    # The server's warnings and errors, printed below if any call failed.
    server_log = tempfile.TemporaryFile("w+")
    server, base = start_server(env, workers=args.workers, log=server_log)
    try:
        targets = {
            "baseline": (f"{base}/v1/bench/echo", {}),
            "gateway": (f"{base}/v1/helloworld/Call", {"Authorization": f"Bearer {secret}"}),
        }
        peak: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        offered: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        with tempfile.TemporaryDirectory() as scratch:
            run = functools.partial(wrk, seconds=args.seconds, script_dir=Path(scratch))
            for name, (url, headers) in targets.items():  # warm-up
                run(url, connections=args.connections, headers=headers, seconds=max(args.seconds // 3, 1))
            for _ in range(args.rounds):
                for name, (url, headers) in targets.items():
                    peak[name].append(run(url, connections=args.connections, headers=headers))
            rate = _median([r["rps"] for r in peak["gateway"]]) / 2
            for _ in range(args.rounds):
                for name, (url, headers) in targets.items():
                    offered[name].append(run(url, connections=args.paced_connections, headers=headers, rate=rate))
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; granian workers {args.workers}")
    print(f"{'load':<26} {'endpoint':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for label, results, clients in (
        (f"maximum, {args.connections} connections", peak, args.connections),
        (f"offered {rate:.0f}/s, {args.paced_connections} conns", offered, args.paced_connections),
    ):
        for name, rounds in results.items():
            print(
                f"{label:<26} {name:<10} {_median([r['rps'] for r in rounds]):>9.0f} "
                f"{_median([r['p50_ms'] for r in rounds]):>8.2f} {_median([r['p99_ms'] for r in rounds]):>8.2f} "
                f"{sum(r['errors'] for r in rounds):>8.0f}"
            )
    if any(r["errors"] for rounds in (*peak.values(), *offered.values()) for r in rounds):
        server_log.seek(0)
        problems = [line for line in server_log if "warn" in line.lower() or "error" in line.lower()]
        print(f"server warnings and errors ({len(problems)}, last 10):", *problems[-10:], sep="\n  ", end="")
    ratio = _median([r["rps"] for r in peak["gateway"]]) / _median([r["rps"] for r in peak["baseline"]])
    p99_ratio = _median([r["p99_ms"] for r in offered["gateway"]]) / _median([r["p99_ms"] for r in offered["baseline"]])
    print(f"ratio (gateway / baseline req/s, median of {args.rounds} rounds): {ratio:.1%} (target >= 30%)")
    print(f"p99 ratio at the same offered load (gateway / baseline): {p99_ratio:.2f}x (target <= 3x)")

    if not money_invariants(account):
        sys.exit("Money invariant broken: see the line above.")


def bench_env() -> dict[str, str]:
    """Return the environment of the benchmark and of the servers it starts: production settings on loopback."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/m3o_bench"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"),
        "M3O_BENCH_BASELINE": "1",
        "M3O_RATE_LIMIT_PER_KEY": "100000000",
        "M3O_RATE_LIMIT_PER_ACCOUNT": "100000000",
        "LOG_LEVEL": "WARNING",
    }


def setup(env: dict[str, str], *, recreate: bool) -> None:
    """Create and migrate the benchmark database, then set Django up in this process with ``env``."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    _create_database(env["DATABASE_URL"], recreate=recreate)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "m3o_web.settings"
    django.setup()
    from django.core.cache import cache

    cache.clear()


def bench_account() -> tuple[Any, str]:
    """Create a verified user whose account has a balance of 10**15 units; return the account and an all-services key."""
    from allauth.account.models import EmailAddress

    from accounts.models import Account, ApiKey, User
    from accounts.services import api_key_create
    from billing.services import wallet_apply

    email = f"bench-{secrets.token_hex(6)}@example.com"
    user = User.objects.create_user(email, secrets.token_urlsafe(16))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    account = Account.objects.get(memberships__user=user)
    _, secret = api_key_create(account=account, name="bench", scopes=[ApiKey.ALL_SERVICES], created_by=user)
    wallet_apply(account_id=account.pk, kind="grant", amount_units=10**15, reference=f"bench:{secrets.token_hex(8)}")
    return account, secret


def start_server(env: dict[str, str], *, workers: int, log: IO[str] | None = None) -> tuple[subprocess.Popen, str]:
    """Start granian with the production WSGI app on a free loopback port; return it and its base URL once ready.

    The server's output goes to ``log``, or nowhere.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-ws", "m3o_web.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(f"{base}/healthz")
    except SystemExit:
        server.terminate()
        raise
    return server, base


def money_invariants(account: Any) -> bool:
    """Flush the meter, print the account's money checks on one line and return whether all of them hold.

    Every successful call is charged its endpoint's price (or nothing, within
    a free quota), failed calls are free, the usage ledger equals the sum of
    the charges, the wallet reconciles with its ledger and no balance is negative.
    """
    from django.conf import settings
    from django.db.models import Count, Sum

    from billing.models import LedgerEntry, UsageEvent, Wallet
    from billing.services import wallet_reconcile
    from catalog.models import Endpoint

    flushed = 0
    if settings.M3O_METER == "redis":
        from billing.flusher import meter_flush

        while (result := meter_flush()).events or result.locked_out:
            flushed += result.events
    events = UsageEvent.objects.filter(account=account)
    successes = events.filter(status_code__lt=300)
    groups = successes.values("service", "endpoint", "cost_units").annotate(calls=Count("id"))
    prices = {(e.service.slug, e.name): e.price_units for e in Endpoint.objects.select_related("service")}
    mispriced = sum(g["calls"] for g in groups if g["cost_units"] not in (0, prices.get((g["service"], g["endpoint"]))))
    failed_charged = events.filter(status_code__gte=300, cost_units__gt=0).count()
    charges = successes.aggregate(total=Sum("cost_units"))["total"] or 0
    charged = LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE).aggregate(
        total=Sum("amount_units")
    )["total"] or 0
    reconciled = wallet_reconcile(account_id=account.pk)
    negative = Wallet.objects.filter(balance_units__lt=0).count()
    print(
        f"meter {settings.M3O_METER}, flushed {flushed} events; successful calls {successes.count()} charged "
        f"{charges} ({mispriced} not at their price, {failed_charged} failed calls charged), usage ledger {-charged}, "
        f"reconciles {reconciled.ok}, negative wallets {negative}"
    )
    return charges == -charged and not mispriced and not failed_charged and reconciled.ok and not negative


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _create_database(url: str, *, recreate: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if recreate:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"The server did not answer at {url} within 30 seconds.")


if __name__ == "__main__":
    main()

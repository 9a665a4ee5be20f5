#!/usr/bin/env python
"""Gateway benchmark: POST /v1/helloworld/Call against a bare baseline, in one run.

Starts granian (one worker by default) on loopback with PostgreSQL and Redis,
creates an account and key, and loads both endpoints with wrk in alternating
rounds after a warm-up. Prints requests/s, p50 and p99 of each and the ratio,
then checks the money invariants: every successful call charged once, the
ledger equal to the balance, no balance below zero.

Usage: .venv/bin/python bench/gateway.py [--rounds 3] [--seconds 10] [--connections 32] [--workers 1]
Needs wrk (apt-get install wrk), PostgreSQL and Redis (DATABASE_URL, REDIS_URL;
defaults to the local servers and a database named m3o_bench).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = '{"name": "Alice"}'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wrk(url: str, *, seconds: int, connections: int, headers: dict[str, str], script_dir: Path) -> dict[str, float]:
    lua = script_dir / "post.lua"
    header_lines = "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items())
    lua.write_text(f'wrk.method = "POST"\nwrk.body = \'{BODY}\'\n{header_lines}')
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _latency(output, "50%"),
        "p99_ms": _latency(output, "99%"),
        "errors": float(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0.0,
    }


def _latency(output: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per endpoint (default 3)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each round in seconds (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent wrk connections (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="granian worker processes (default 1)")
    parser.add_argument(
        "--recreate-database", action="store_true", help="drop and create the benchmark database first"
    )
    args = parser.parse_args()

    env = {
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
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    _create_database(env["DATABASE_URL"], recreate=args.recreate_database)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)

    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "m3o_web.settings"
    django.setup()
    from django.core.cache import cache

    from allauth.account.models import EmailAddress

    from accounts.models import Account, ApiKey, User
    from accounts.services import api_key_create
    from billing.models import LedgerEntry, UsageEvent, Wallet
    from billing.services import wallet_apply, wallet_reconcile

    cache.clear()
    email = f"bench-{secrets.token_hex(6)}@example.com"
    user = User.objects.create_user(email, secrets.token_urlsafe(16))
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    account = Account.objects.get(memberships__user=user)
    _, secret = api_key_create(account=account, name="bench", scopes=[ApiKey.ALL_SERVICES], created_by=user)
    wallet_apply(account_id=account.pk, kind="grant", amount_units=10**15, reference=f"bench:{secrets.token_hex(8)}")

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(args.workers), "--no-ws", "m3o_web.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/healthz")
        base = f"http://127.0.0.1:{port}"
        targets = {
            "baseline": (f"{base}/v1/bench/echo", {}),
            "gateway": (f"{base}/v1/helloworld/Call", {"Authorization": f"Bearer {secret}"}),
        }
        results: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        with tempfile.TemporaryDirectory() as scratch:
            for name, (url, headers) in targets.items():  # warm-up
                wrk(url, seconds=max(args.seconds // 3, 1), connections=args.connections, headers=headers, script_dir=Path(scratch))
            for _ in range(args.rounds):
                for name, (url, headers) in targets.items():
                    results[name].append(
                        wrk(url, seconds=args.seconds, connections=args.connections, headers=headers, script_dir=Path(scratch))
                    )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"{'endpoint':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    summary = {}
    for name, rounds in results.items():
        best = max(rounds, key=lambda r: r["rps"])
        median_rps = sorted(r["rps"] for r in rounds)[len(rounds) // 2]
        summary[name] = (median_rps, best)
        print(f"{name:<10} {median_rps:>10.0f} {best['p50_ms']:>8.2f} {best['p99_ms']:>8.2f} {sum(r['errors'] for r in rounds):>8.0f}")
    ratio = summary["gateway"][0] / summary["baseline"][0]
    print(f"ratio (gateway / baseline req/s, median of {args.rounds} rounds): {ratio:.1%}")

    successes = UsageEvent.objects.filter(account=account, status_code=200).count()
    charged = LedgerEntry.objects.filter(wallet_id=account.pk, kind=LedgerEntry.Kind.USAGE).count()
    reconciled = wallet_reconcile(account_id=account.pk)
    negative = Wallet.objects.filter(balance_units__lt=0).count()
    print(f"successful calls {successes}, usage ledger entries {charged}, reconciles {reconciled.ok}, negative wallets {negative}")
    if successes != charged or not reconciled.ok or negative:
        sys.exit("Money invariant broken: see the line above.")


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

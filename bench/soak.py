#!/usr/bin/env python
"""Soak test: the production server configuration at half its maximum throughput, minute after minute.

Starts what a deployment runs, on loopback: granian serving the WSGI app
(PostgreSQL, the Redis meter), a Celery worker and Celery beat (which
settles the meter into PostgreSQL every M3O_METER_FLUSH_SECONDS). One
account's key then calls a mix of services with wrk, in equal shares:
helloworld Call, db Update and db Read of 100 records, cache Set and
cache Get of 100 keys.

1. Measure the maximum: --probe-seconds of the mix with --connections
   always in flight (skipped when --rate is given).
2. Offer half of it (or --rate) for --minutes, one wrk run a minute, paced
   by wrk's delay() hook. Print each minute's achieved rate, p50, p99,
   non-2xx responses and socket errors.
3. Meanwhile sample the resident memory (RSS, from /proc) of every server
   and worker process every --sample-seconds. Print each process's first
   and last sample and the growth.
4. Stop the processes, flush the meter and check the money invariants.

Exits non-zero if any call failed, any process grew by more than
--max-growth-mib, or a money invariant is broken.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--rate N] [--workers 1]
Needs wrk (apt-get install wrk), PostgreSQL and Redis (DATABASE_URL, REDIS_URL;
defaults to the local servers, a database named m3o_bench and Redis database 9).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from gateway import ROOT, bench_account, bench_env, money_invariants, pacing, setup, start_server, wrk_script

RECORDS = 100  # db records and cache keys the mix updates and reads

# One call of each in turn; the Lua below builds the bodies, with a random record id.
MIX = """
local calls = {
  function(id, n) return "/v1/helloworld/Call", '{"name": "Alice"}' end,
  function(id, n) return "/v1/db/Update", '{"table": "soak", "record": {"id": "' .. id .. '", "n": ' .. n .. '}}' end,
  function(id, n) return "/v1/db/Read", '{"table": "soak", "id": "' .. id .. '"}' end,
  function(id, n) return "/v1/cache/Set", '{"key": "k' .. id .. '", "value": "' .. n .. '"}' end,
  function(id, n) return "/v1/cache/Get", '{"key": "k' .. id .. '"}' end,
}
local n = 0
request = function()
  n = n + 1
  local path, body = calls[n % #calls + 1](math.random(1, RECORDS), n)
  return wrk.format("POST", path, nil, body)
end
"""


@dataclass
class Sampler:
    """Samples the RSS of process trees every ``interval`` seconds in a background thread."""

    roots: dict[str, subprocess.Popen]
    interval: float
    samples: dict[str, list[int]] = field(default_factory=dict)  # "role pid" -> RSS in KiB, in order
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def sample(self) -> None:
        for role, process in self.roots.items():
            for pid in [process.pid, *descendants(process.pid)]:
                rss = rss_kib(pid)
                if rss is not None:
                    name = role if pid == process.pid else f"{role} child"
                    self.samples.setdefault(f"{name} {pid}", []).append(rss)

    def latest(self) -> dict[str, int]:
        return {name: values[-1] for name, values in self.samples.items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def rss_kib(pid: int) -> int | None:
    """Return the resident set size of ``pid`` in KiB, or None if it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def descendants(pid: int) -> list[int]:
    """Return the pids of every process below ``pid`` (children, grandchildren and so on), read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The command name in field 2 may contain spaces, so split after its closing parenthesis.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return sorted(found)


def start_celery(env: dict[str, str], var_dir: Path) -> dict[str, subprocess.Popen]:
    """Start a Celery worker and Celery beat as deploy/compose.yaml runs them, logging to ``var_dir``.

    Returns once both have started, so that the memory samples begin after start-up.
    """
    processes = {}
    ready = {}
    for role, command, line in (
        ("celery worker", ["worker", "--concurrency", "1", "--without-gossip", "--without-mingle"], " ready."),
        ("celery beat", ["beat", "--schedule", str(var_dir / "celerybeat-schedule")], "beat: Starting..."),
    ):
        path = var_dir / f"{role.replace(' ', '-')}.log"
        processes[role] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "m3o_web", *command, "--loglevel", "INFO"],
            cwd=ROOT, env={**env, "M3O_VAR_DIR": str(var_dir)}, stdout=path.open("w"), stderr=subprocess.STDOUT,
        )
        ready[role] = (path, line)
    deadline = time.monotonic() + 120
    for role, (path, line) in ready.items():
        while line not in path.read_text():
            if processes[role].poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{role} did not start within 120 s; the end of its log:\n{path.read_text()[-2000:]}")
            time.sleep(0.2)
    return processes


def seed_records(base: str, secret: str) -> None:
    """Create the db records and cache keys the mix updates and reads, through the gateway."""
    import urllib.request

    def post(path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{base}{path}", data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {secret}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    for record in range(1, RECORDS + 1):
        post("/v1/db/Create", {"table": "soak", "record": {"id": str(record), "n": 0}})
        post("/v1/cache/Set", {"key": f"k{record}", "value": "0"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10, help="length of the soak in minutes (default 10)")
    parser.add_argument("--rate", type=float, default=0.0, help="offered requests/s; default: half the measured maximum")
    parser.add_argument("--probe-seconds", type=int, default=20, help="length of the maximum-throughput run (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the maximum (default 16)")
    parser.add_argument("--paced-connections", type=int, default=8, help="wrk connections for the soak (default 8)")
    parser.add_argument(
        "--workers", type=int, default=2, help="granian worker processes (default 2, as deploy/ runs the web app)"
    )
    parser.add_argument("--sample-seconds", type=float, default=10.0, help="seconds between RSS samples (default 10)")
    parser.add_argument(
        "--max-growth-mib", type=float, default=20.0,
        help="maximum growth of a process's RSS from its first to its last sample, in MiB (default 20)",
    )
    parser.add_argument("--minute-seconds", type=int, default=60, help=argparse.SUPPRESS)  # shorter minutes for the smoke test
    parser.add_argument("--recreate-database", action="store_true", help="drop and create the benchmark database first")
    args = parser.parse_args()

    env = bench_env()
    setup(env, recreate=args.recreate_database)
    account, secret = bench_account()

    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        server, base = start_server(env, workers=args.workers)
        processes = {"granian": server, **start_celery(env, scratch_dir)}
        sampler = Sampler(roots=processes, interval=args.sample_seconds)
        try:
            seed_records(base, secret)
            script = f'RECORDS = {RECORDS}\nwrk.headers["Authorization"] = "Bearer {secret}"\n{MIX}'

            def run(seconds: int, connections: int, rate: float = 0.0) -> dict[str, float]:
                return wrk_script(
                    base, script + pacing(rate, connections), seconds=seconds, connections=connections,
                    script_dir=scratch_dir,
                )

            if args.rate:
                rate = args.rate
                print(f"offered rate {rate:.0f} requests/s (--rate)")
            else:
                probe = run(args.probe_seconds, args.connections)
                rate = probe["rps"] / 2
                print(
                    f"maximum: {probe['rps']:.0f} requests/s with {args.connections} connections "
                    f"(p99 {probe['p99_ms']:.1f} ms, {probe['errors']:.0f} non-2xx); offering half: {rate:.0f}/s"
                )
            print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; granian workers {args.workers}")
            print(f"{'minute':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock err':>8}  RSS MiB per process")
            sampler.start()
            minutes = []
            for minute in range(1, args.minutes + 1):
                result = run(args.minute_seconds, args.paced_connections, rate)
                minutes.append(result)
                memory = ", ".join(f"{name} {kib / 1024:.0f}" for name, kib in sorted(sampler.latest().items()))
                print(
                    f"{minute:>6} {result['rps']:>8.0f} {result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f} "
                    f"{result['errors']:>8.0f} {result['socket_errors']:>8.0f}  {memory}",
                    flush=True,
                )
            sampler.stop()
            sampler.sample()  # the last sample, right at the end of the load
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                process.wait(timeout=60)

    requests = sum(result["requests"] for result in minutes)
    errors = sum(result["errors"] + result["socket_errors"] for result in minutes)
    print(f"requests {requests:.0f}, errors {errors:.0f} (non-2xx responses and socket errors)")
    grown = []
    print(f"{'process':<28} {'first MiB':>10} {'last MiB':>10} {'growth MiB':>11}  (samples)")
    for name, values in sorted(tracked(sampler.samples).items()):
        growth = (values[-1] - values[0]) / 1024
        print(f"{name:<28} {values[0] / 1024:>10.1f} {values[-1] / 1024:>10.1f} {growth:>+11.1f}  ({len(values)})")
        if growth > args.max_growth_mib:
            grown.append(name)
    print(f"memory flat (no process grew by more than {args.max_growth_mib:g} MiB): {not grown}")

    invariants = money_invariants(account)
    failures = [
        *(["calls failed"] if errors else []),
        *([f"memory grew: {', '.join(grown)}"] if grown else []),
        *(["money invariant broken"] if not invariants else []),
    ]
    if failures:
        sys.exit("Soak failed: " + "; ".join(failures) + ". See the lines above.")


def tracked(samples: dict[str, list[int]]) -> dict[str, list[int]]:
    """Keep the processes sampled from start to end, because one that started or exited midway has no growth to compare."""
    longest = max((len(values) for values in samples.values()), default=0)
    return {name: values for name, values in samples.items() if len(values) == longest}


if __name__ == "__main__":
    main()

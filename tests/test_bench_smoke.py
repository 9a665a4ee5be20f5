"""A tiny run of each benchmark, so the scripts cannot rot. Figures are not checked here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings

from tests.processes import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk: apt-get install wrk")
def test_gateway_benchmark_runs() -> None:
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/m3o_bench_smoke"
    result = subprocess.run(
        [
            sys.executable, "bench/gateway.py", "--rounds", "1", "--seconds", "1", "--connections", "4",
            "--recreate-database",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"]},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio (gateway / baseline" in result.stdout
    assert "p99 ratio at the same offered load" in result.stdout
    assert "reconciles True" in result.stdout


def test_ingest_benchmark_runs() -> None:
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/m3o_bench_smoke_ingest"
    result = subprocess.run(
        [sys.executable, "bench/ingest.py", "--events", "2000", "--accounts", "5", "--batch", "500", "--recreate-database"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"]},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "flusher: Redis stream -> PostgreSQL" in result.stdout
    assert "reconciles True" in result.stdout


def _bench_database_url(name: str) -> str:
    database = settings.DATABASES["default"]
    return f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{name}"


def _run_bench(args: list[str], database: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args, "--recreate-database"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _bench_database_url(database)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_rollup_benchmark_runs() -> None:
    result = _run_bench(["bench/rollup.py", "--events", "3000", "--accounts", "5", "--batch", "1000"], "m3o_bench_rollup_smoke")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio (roll-up / baseline time)" in result.stdout
    assert "totals exact True" in result.stdout


def test_usage_page_benchmark_runs() -> None:
    result = _run_bench(["bench/usage_page.py", "--events", "3000", "--rounds", "2"], "m3o_bench_usage_page_smoke")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "usage page, 30 days by day: median" in result.stdout


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk: apt-get install wrk")
def test_soak_benchmark_runs() -> None:
    result = _run_bench(
        ["bench/soak.py", "--minutes", "2", "--minute-seconds", "3", "--rate", "20", "--sample-seconds", "1"],
        "m3o_bench_soak_smoke",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "RSS MiB per process" in result.stdout
    assert "memory flat (no process grew by more than 20 MiB): True" in result.stdout
    assert "reconciles True" in result.stdout

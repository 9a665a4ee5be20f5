"""A tiny run of bench/invoices.py, so the script cannot rot. Its figures are not checked here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.processes import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_invoice_benchmark_runs() -> None:
    database = settings.DATABASES["default"]
    # Named after this run's test database, so parallel test runs do not share it.
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}_bench_invoices"
    result = subprocess.run(
        [sys.executable, "bench/invoices.py", "--accounts", "20", "--lines", "3", "--calls-per-line", "2", "--recreate-database"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": os.environ["REDIS_URL"]},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ratio (invoicing / baseline)" in result.stdout
    assert "invoices 20 (expected 20), lines 60 (expected 60), wrong totals 0" in result.stdout

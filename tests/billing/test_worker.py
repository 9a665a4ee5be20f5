"""Billing tasks run by a real Celery worker over Redis, against PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from billing.models import UsageDaily
from billing.tasks import usage_rollup_daily
from m3o_web.celery import app as celery_app
from tests.conftest import Persona

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _test_database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[str]:
    """Start a Celery worker on a queue of its own, pointed at the test database."""
    celery_app.conf.task_always_eager = False
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "M3O_VAR_DIR": str(tmp_path)}
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "m3o_web", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_worker_rolls_usage_up_and_rerun_changes_nothing(owner: Persona, worker_queue: str, tmp_path: Path) -> None:
    owner.call()
    owner.call()

    usage_rollup_daily.apply_async(queue=worker_queue)
    assert _wait_for(lambda: UsageDaily.objects.filter(account=owner.account, calls=2).exists()), (
        tmp_path / "worker.log"
    ).read_text()[-3000:]

    usage_rollup_daily.apply_async(queue=worker_queue)
    usage_rollup_daily.apply_async(queue=worker_queue)
    log = tmp_path / "worker.log"
    assert _wait_for(lambda: log.read_text().count("succeeded in") == 3), log.read_text()[-3000:]
    row = UsageDaily.objects.get(account=owner.account)
    assert (row.calls, row.cost_units) == (2, 2_000)

"""Billing tasks run by a real Celery worker over Redis, against PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing.models import UsageDaily
from billing.tasks import usage_rollup
from m3o_web.celery import app as celery_app
from tests.conftest import Persona
from tests.processes import ROOT, process_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[str]:
    """Start a Celery worker on a queue of its own, pointed at the test database."""
    celery_app.conf.task_always_eager = False
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    env = process_env(tmp_path)
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


def test_worker_rolls_usage_up_and_rerun_changes_nothing(owner: Persona, worker_queue: str, tmp_path: Path) -> None:
    owner.call()
    owner.call()

    usage_rollup.apply_async(queue=worker_queue)
    assert wait_for(lambda: UsageDaily.objects.filter(account=owner.account, calls=2).exists()), (
        tmp_path / "worker.log"
    ).read_text()[-3000:]

    usage_rollup.apply_async(queue=worker_queue)
    usage_rollup.apply_async(queue=worker_queue)
    log = tmp_path / "worker.log"
    assert wait_for(lambda: log.read_text().count("succeeded in") == 3), log.read_text()[-3000:]
    row = UsageDaily.objects.get(account=owner.account)
    assert (row.calls, row.cost_units) == (2, 2_000)

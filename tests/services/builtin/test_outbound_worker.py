"""Cron callbacks and rss crawls run by a real Celery worker over Redis, against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from m3o_web.celery import app as celery_app
from services.builtin.cron.models import Job
from services.builtin.cron.tasks import dispatch_due
from services.builtin.rss.models import Entry, Feed
from services.builtin.rss.tasks import crawl_due
from tests.conftest import Persona
from tests.processes import start_worker, stop, wait_for
from tests.services.builtin.outbound_fake import FakeSite, fake_site

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site() -> Iterator[FakeSite]:
    with fake_site() as fake:
        yield fake


@pytest.fixture
def worker_queue(tmp_path: Path) -> Iterator[str]:
    """Start a Celery worker on a queue of its own and the default queue, where dispatchers send runs."""
    celery_app.conf.task_always_eager = False
    queue = f"m3o-test-{uuid.uuid4().hex[:8]}"
    # Only 127.0.0.1 is allowed, so the worker must still reject the other loopback spellings.
    process = start_worker(tmp_path, f"{queue},celery", "worker.log", M3O_UPSTREAM_ALLOWED_HOSTS="127.0.0.1")
    try:
        yield queue
    finally:
        stop(process)


def test_worker_runs_callbacks_and_crawls(owner: Persona, site: FakeSite, worker_queue: str, tmp_path: Path) -> None:
    due = timezone.now() - dt.timedelta(seconds=1)
    port = site.url.rsplit(":", 1)[1]
    Job.objects.create(account=owner.account, name="ok", interval_seconds=60, callback_url=f"{site.url}/hook", next_run_at=due)
    Job.objects.create(
        account=owner.account, name="rejected", interval_seconds=60,
        callback_url=f"http://2130706433:{port}/secret", next_run_at=due,
    )
    Feed.objects.create(account=owner.account, name="news", url=f"{site.url}/feed.xml", next_crawl_at=due)
    log = tmp_path / "worker.log"

    dispatch_due.apply_async(queue=worker_queue)
    crawl_due.apply_async(queue=worker_queue)

    assert wait_for(lambda: Job.objects.filter(last_run_at__isnull=False).count() == 2), log.read_text()[-3000:]
    assert wait_for(lambda: Entry.objects.count() == 2), log.read_text()[-3000:]
    assert sorted(seen.path for seen in site.requests) == ["/feed.xml", "/hook"]
    assert Job.objects.get(name="ok").last_status == 200
    error = Job.objects.get(name="rejected").last_error
    assert error["id"] == "cron.callback"
    assert "private or reserved address" in error["detail"]

"""Cron runs. Both tasks are safe to run twice or concurrently.

dispatch_due claims each due job by moving its next_run_at on with a
compare-and-set, so two dispatchers never queue the same slot. run_job claims
the slot again through last_slot, so a redelivered run is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import structlog
from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from m3o_web.errors import ApiError, BadGateway
from m3o_web.tasks import enqueue
from services import outbound
from services.builtin.cron.models import Job

logger = structlog.get_logger(__name__)

DISPATCH_BATCH = 1000
# The callback's response body is not read or stored; this caps it all the same.
CALLBACK_MAX_BYTES = 64 * 1024


def next_after(slot: dt.datetime, interval: int, now: dt.datetime) -> dt.datetime:
    """Return the first run time after ``now`` on the job's grid; missed runs are skipped, not caught up."""
    periods = max(math.floor((now - slot).total_seconds() / interval) + 1, 1)
    return slot + dt.timedelta(seconds=periods * interval)


@shared_task
def dispatch_due() -> int:
    """Queue one run for each job that is due, and return how many were queued."""
    now = timezone.now()
    due = Job.objects.filter(next_run_at__lte=now).order_by("next_run_at").values_list(
        "pk", "next_run_at", "interval_seconds"
    )[:DISPATCH_BATCH]
    queued = 0
    for pk, slot, interval in due:
        claimed = Job.objects.filter(pk=pk, next_run_at=slot).update(next_run_at=next_after(slot, interval, now))
        if claimed and enqueue(run_job, pk, slot.isoformat()):
            queued += 1
    return queued


@shared_task
def run_job(job_pk: int, slot_iso: str) -> str:
    """Post to the job's callback URL for the run due at ``slot_iso``, and record the outcome on the job."""
    slot = dt.datetime.fromisoformat(slot_iso)
    claimed = (
        Job.objects.filter(pk=job_pk).filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot)).update(last_slot=slot)
    )
    if not claimed:
        return "skipped"
    job = Job.objects.filter(pk=job_pk).first()
    if job is None:
        return "deleted"
    payload = json.dumps({"job": job.name, "scheduled": slot_iso}).encode()
    status: int | None = None
    error: dict | None = None
    try:
        response = outbound.fetch(
            "POST",
            job.callback_url,
            account_id=job.account_id,
            error_id="cron.callback",
            headers={"Content-Type": "application/json", "X-M3O-Delivery": f"{job.pk}:{slot_iso}"},
            content=payload,
            max_bytes=CALLBACK_MAX_BYTES,
            read_body=False,
        )
        status = response.status
        if not 200 <= status < 300:
            error = BadGateway(
                f"The callback returned HTTP {status}; a run succeeds only with a 2xx status.", error_id="cron.callback"
            ).envelope()
    except ApiError as exc:
        error = exc.envelope()
    Job.objects.filter(pk=job_pk).update(last_run_at=timezone.now(), last_status=status, last_error=error)
    if error:
        logger.info("Cron callback failed", job=job_pk, error_id=error["id"], status=status)
        return "failed"
    return "ok"

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from services import outbound
from services.builtin.cron.models import Job
from services.builtin.quota import check_room
from services.kit import BadRequest, CallContext, Forbidden, NotFound


def _error_id(context: CallContext) -> str:
    return f"cron.{context.endpoint.lower()}"


def _jobs(account_id: int) -> QuerySet[Job]:
    return Job.objects.filter(account_id=account_id)


def schedule(context: CallContext) -> dict[str, Any]:
    """Create a job, or replace the interval and callback of the caller's job of that name."""
    error_id = _error_id(context)
    name = context.body["name"]
    interval = context.body["interval"]
    minimum = settings.M3O_CRON_MIN_INTERVAL_SECONDS
    if interval < minimum:
        raise BadRequest(
            f"The interval is {interval} seconds; the shortest allowed is {minimum}.",
            error_id=error_id,
            fields={"interval": f"Must be at least {minimum}."},
        )
    callback = context.body["callback"]
    outbound.check_url(callback, error_id=error_id, field="callback")
    first_run = timezone.now() + dt.timedelta(seconds=interval)

    with transaction.atomic():
        jobs = _jobs(context.account_id)
        job = jobs.select_for_update().filter(name=name).first()
        if job is None:
            stored = jobs.count()
            cap = settings.M3O_CRON_MAX_JOBS_PER_ACCOUNT
            if stored >= cap:
                raise Forbidden(
                    f"This account has {stored} cron jobs, the most it may keep. Delete a job to schedule another.",
                    error_id="cron.row_limit",
                )
            check_room(account_id=context.account_id, service="cron", stored=stored)
            job = Job.objects.create(
                account_id=context.account_id,
                name=name,
                interval_seconds=interval,
                callback_url=callback,
                next_run_at=first_run,
            )
        else:
            job.interval_seconds = interval
            job.callback_url = callback
            job.next_run_at = first_run
            job.save(update_fields=["interval_seconds", "callback_url", "next_run_at"])
    return {"job": job.as_dict()}


def jobs(context: CallContext) -> dict[str, Any]:
    return {"jobs": [job.as_dict() for job in _jobs(context.account_id).order_by("name")]}


def delete(context: CallContext) -> dict[str, Any]:
    deleted, _ = _jobs(context.account_id).filter(name=context.body["name"]).delete()
    if not deleted:
        raise NotFound(f"No cron job named {context.body['name'][:100]!r}.", error_id=_error_id(context))
    return {"name": context.body["name"]}


def purge_account(account_id: int) -> None:
    _jobs(account_id).delete()

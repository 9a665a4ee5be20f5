"""The Celery application, configured from Django settings (CELERY_*)."""

from __future__ import annotations

import os
from typing import Any

import structlog
from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "m3o_web.settings")

app = Celery("m3o")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _bind_task_id(task_id: str, task: Any, **kwargs: Any) -> None:
    """Put the task's id and name on every log line the task writes."""
    structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name)


@task_postrun.connect
def _unbind_task_id(**kwargs: Any) -> None:
    structlog.contextvars.unbind_contextvars("task_id", "task")

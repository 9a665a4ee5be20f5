"""Queueing Celery tasks without letting a broker outage fail the request."""

from __future__ import annotations

from typing import Any

import structlog
from celery import Task
from kombu.exceptions import OperationalError

logger = structlog.get_logger(__name__)


def enqueue(task: Task, *args: Any) -> bool:
    """Queue a task; when the broker is unreachable, log it and return False instead of raising.

    Use it only for tasks whose loss is acceptable or repaired by a periodic
    task, because the task is then not run at all.
    """
    try:
        task.delay(*args)
    except OperationalError as exc:
        logger.error("Task not queued: broker unreachable", task=task.name, args=args, error=str(exc))
        return False
    return True

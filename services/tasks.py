"""Periodic gateway tasks. Each is safe to run twice or concurrently."""

from __future__ import annotations

from celery import shared_task

from services.idempotency import purge_expired


@shared_task
def idempotency_records_purge() -> int:
    """Delete stored Idempotency-Key responses older than 24 hours."""
    return purge_expired()

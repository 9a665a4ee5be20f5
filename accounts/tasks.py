"""Celery tasks of accounts. Each takes ids, re-reads rows and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def api_key_created_notify(key_id: int) -> bool:
    from accounts.services import api_key_send_created_notice

    return api_key_send_created_notice(key_id=key_id)

"""Periodic billing tasks. Each is safe to run twice or concurrently."""

from __future__ import annotations

import datetime as dt
import time

import structlog
from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from billing.models import Hold, Wallet
from m3o_web.metrics import ROLLUP_FINISHED_CACHE_KEY
from billing.services import hold_release, usage_rollup_day, wallet_reconcile

logger = structlog.get_logger(__name__)


@shared_task
def usage_rollup_daily(days_back: int = 1) -> int:
    """Recompute daily usage totals for today and the previous ``days_back`` UTC days."""
    today = timezone.now().astimezone(dt.UTC).date()
    written = 0
    for offset in range(days_back, -1, -1):
        written += usage_rollup_day(day=today - dt.timedelta(days=offset))
    logger.info("Usage rolled up", days=days_back + 1, rows=written)
    cache.set(ROLLUP_FINISHED_CACHE_KEY, time.time(), timeout=None)
    return written


@shared_task
def holds_release_expired() -> int:
    """Release holds older than M3O_HOLD_TTL_SECONDS: their calls died before settling."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS)
    released = 0
    for hold_id in Hold.objects.filter(created_at__lt=cutoff).values_list("id", flat=True):
        released += hold_release(hold_id=hold_id)
    return released


@shared_task
def wallets_reconcile() -> int:
    """Check every wallet against its ledger; return how many do not reconcile."""
    mismatched = 0
    for account_id in Wallet.objects.values_list("account_id", flat=True).iterator():
        mismatched += not wallet_reconcile(account_id=account_id).ok
    return mismatched

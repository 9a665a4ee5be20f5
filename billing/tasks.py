"""Periodic billing tasks. Each is safe to run twice or concurrently."""

from __future__ import annotations

import datetime as dt
import time

import structlog
import stripe
from celery import Task, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from billing.models import Hold
from billing.services import hold_release
from billing.services.invoices import invoice_email, invoices_issue_due
from billing.services.usage import usage_events_prune as usage_events_prune_run
from billing.services.usage import usage_rollup as usage_rollup_run
from billing.services.operations import reconcile_alert_send, reconcile_all
from billing.services.thresholds import (
    auto_topup_charge,
    auto_topup_finish,
    auto_topups_start_due,
    balance_alerts_check,
    stripe_error_is_transient,
)
from m3o_web.metrics import ROLLUP_FINISHED_CACHE_KEY

logger = structlog.get_logger(__name__)


@shared_task
def usage_rollup() -> int:
    """Add the usage events not yet rolled up to the hourly and daily totals; return the batches run.

    Safe to run twice, concurrently, or after a run was killed: see billing.services.usage.
    """
    result = usage_rollup_run()
    if result.complete:
        cache.set(ROLLUP_FINISHED_CACHE_KEY, time.time(), timeout=None)
    return result.batches


@shared_task
def usage_events_prune() -> int:
    """Delete raw usage events past M3O_USAGE_RETENTION_DAYS that are already in the totals."""
    return usage_events_prune_run(now=timezone.now())


@shared_task
def holds_release_expired() -> int:
    """Release holds older than M3O_HOLD_TTL_SECONDS: their calls died before settling."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.M3O_HOLD_TTL_SECONDS)
    released = 0
    for hold_id in Hold.objects.filter(created_at__lt=cutoff).values_list("id", flat=True):
        released += hold_release(hold_id=hold_id)
    return released


@shared_task
def meter_flush() -> int:
    """Settle the Redis meter's usage into the database; return the events moved. Safe to run twice or at once."""
    if settings.M3O_METER != "redis":
        return 0
    from billing.flusher import meter_flush as flush

    return flush().events


@shared_task
def wallets_reconcile() -> int:
    """Check every wallet against its ledger, email the operators any mismatch; return how many mismatch.

    Running it twice sends the report twice, which is harmless: it changes no data.
    """
    mismatched = reconcile_all()
    if mismatched:
        reconcile_alert_send(mismatched=mismatched)
    logger.info("Wallets reconciled", mismatched=len(mismatched))
    return len(mismatched)


@shared_task
def invoices_issue() -> int:
    """Issue the invoices of every account whose month has ended in its zone; return how many were issued or found."""
    issued = invoices_issue_due(now=timezone.now())
    logger.info("Invoices issued", invoices=len(issued))
    return len(issued)


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def invoice_send(invoice_id: int) -> bool:
    """Email an issued invoice once; a second run finds it sent and does nothing."""
    return invoice_email(invoice_id=invoice_id)


@shared_task
def invoices_send(invoice_ids: list[int]) -> int:
    """Email a batch of issued invoices once each; one whose email fails is retried on its own by invoice_send."""
    sent = 0
    for invoice_id in invoice_ids:
        try:
            sent += invoice_email(invoice_id=invoice_id)
        except Exception:
            # invoice_email logged it and released its claim; the retry backs off without holding up the batch.
            invoice_send.apply_async((invoice_id,), countdown=60)
    return sent


@shared_task
def balance_thresholds_check() -> int:
    """Send balance alerts and queue auto top-ups for accounts below their thresholds; return the top-ups queued."""
    balance_alerts_check()
    return len(auto_topups_start_due(now=timezone.now()))


@shared_task(bind=True, max_retries=5)
def auto_topup_run(self: Task, auto_topup_id: int) -> str:
    """Charge one queued auto top-up, retrying Stripe outages with exponential backoff.

    After the last retry, or on an error that a retry cannot fix, the attempt
    fails and the account's owners are emailed. Safe to run twice.
    """
    try:
        return auto_topup_charge(auto_topup_id=auto_topup_id)
    except stripe.StripeError as exc:
        log = logger.bind(auto_topup_id=auto_topup_id, retries=self.request.retries, error=str(exc))
        if stripe_error_is_transient(exc) and self.request.retries < self.max_retries:
            log.warning("Auto top-up failed at Stripe; retrying")
            countdown = settings.M3O_AUTO_TOPUP_RETRY_BASE_SECONDS * 2**self.request.retries
            raise self.retry(exc=exc, countdown=countdown) from None
        log.error("Auto top-up failed at Stripe; giving up")
        return auto_topup_finish(
            auto_topup_id=auto_topup_id, succeeded=False, message="The payment provider could not be reached."
        )

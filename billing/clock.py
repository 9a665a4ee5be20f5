"""The billing clock: run the month-end tasks as of a given time, for tests and operators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import structlog

from billing.services.invoices import invoices_issue_due
from billing.services.operations import reconcile_alert_send, reconcile_all
from billing.services.usage import usage_rollup

logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MonthEndResult:
    invoice_ids: list[int]
    rollup_batches: int
    mismatched_wallets: int


def month_end_run(*, now: dt.datetime) -> MonthEndResult:
    """Run what Celery beat runs around a month end, as if the time were ``now``.

    Rolls up the usage events recorded so far, issues the invoices due at
    ``now``, and reconciles wallets (emailing operators on a mismatch). Each step is idempotent, so running it twice changes nothing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    batches = usage_rollup().batches
    invoice_ids = invoices_issue_due(now=now)
    mismatched = reconcile_all()
    if mismatched:
        reconcile_alert_send(mismatched=mismatched)
    logger.info("Month-end tasks run", at=now.isoformat(), invoices=len(invoice_ids), mismatched=len(mismatched))
    return MonthEndResult(invoice_ids=invoice_ids, rollup_batches=batches, mismatched_wallets=len(mismatched))

"""Operator actions on wallets: credit grants, adjustments and the reconcile report."""

from __future__ import annotations

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from accounts.models import Account, User
from accounts.services import audit_record
from billing.models import LedgerEntry, Wallet
from billing.services.wallet import BalanceTooLow, ReconcileResult, wallet_apply, wallet_reconcile

logger = structlog.get_logger(__name__)

OPERATOR_KINDS = (LedgerEntry.Kind.GRANT, LedgerEntry.Kind.ADJUSTMENT)


def wallet_credit_by_operator(
    *, account: Account, actor: User | None, kind: str, amount_units: int, reason: str, reference: str
) -> LedgerEntry:
    """Grant credit or adjust a balance, with the reason in the ledger and the audit log.

    Idempotent by ``reference``: the admin form carries one per form load, so a
    double submit applies once. A grant must be positive; an adjustment may be
    negative but cannot take the balance below zero.
    """
    if kind not in OPERATOR_KINDS:
        raise ValueError(f"kind must be one of {OPERATOR_KINDS}, not {kind!r}")
    if kind == LedgerEntry.Kind.GRANT and amount_units <= 0:
        raise BalanceTooLow("A grant must be a positive amount; use an adjustment to take credit away.")
    if amount_units == 0:
        raise ValueError("amount_units must not be zero")

    with transaction.atomic():
        already = LedgerEntry.objects.filter(reference=f"operator:{reference}").exists()
        entry = wallet_apply(
            account_id=account.pk,
            kind=kind,
            amount_units=amount_units,
            reference=f"operator:{reference}",
            description=reason[:200],
        )
        if not already:
            audit_record(
                account=account, actor=actor, action=f"billing.{kind}", target=entry.reference, amount_units=amount_units, reason=reason
            )
    logger.info("Operator changed a balance", account_id=account.pk, kind=kind, amount_units=amount_units, actor_id=actor.pk if actor else None)
    return entry


def reconcile_all() -> list[ReconcileResult]:
    """Check every wallet against its ledger; return the ones that do not reconcile."""
    mismatched = []
    for account_id in Wallet.objects.values_list("account_id", flat=True).iterator():
        result = wallet_reconcile(account_id=account_id)
        if not result.ok:
            mismatched.append(result)
    return mismatched


def operator_emails() -> list[str]:
    if settings.M3O_OPERATOR_EMAILS:
        return list(settings.M3O_OPERATOR_EMAILS)
    return list(User.objects.filter(is_superuser=True, is_active=True).values_list("email", flat=True))


def reconcile_alert_send(*, mismatched: list[ReconcileResult]) -> bool:
    """Email the operators the accounts whose balance differs from their ledger sum."""
    recipients = operator_emails()
    if not mismatched or not recipients:
        return False
    lines = [
        f"account {result.account_id}: balance {result.balance_units} - debt {result.debt_units} + held "
        f"{result.held_units} = {result.balance_units - result.debt_units + result.held_units} units, "
        f"ledger sum {result.ledger_units} units (difference {result.difference_units})"
        for result in mismatched
    ]
    body = (
        f"{len(mismatched)} wallet(s) do not match their ledger:\n\n"
        + "\n".join(lines)
        + f"\n\nThe report is also in admin: {settings.SITE_URL}/admin/billing/wallet/reconcile/\n"
    )
    send_mail(f"[M3O] {len(mismatched)} wallet(s) do not reconcile", body, None, recipients)
    return True

"""Writes for wallets and the ledger."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F, Sum, Value
from django.db.models.functions import Greatest, Least

from accounts.models import Account
from billing.models import Hold, LedgerEntry, Wallet

logger = structlog.get_logger(__name__)


class BalanceTooLow(Exception):
    """A debit would take the balance below zero."""


def wallet_open(*, account: Account) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(account=account)
    return wallet


def wallet_apply(
    *,
    account_id: int,
    kind: str,
    amount_units: int,
    reference: str,
    description: str = "",
    allow_debt: bool = False,
) -> LedgerEntry:
    """Change the balance by ``amount_units`` with a ledger entry, exactly once per reference.

    Applying the same reference again returns the first entry and changes
    nothing, so a redelivered webhook or retried task is harmless. A credit
    pays off any debt first and adds the rest to the balance. A debit larger
    than the balance raises BalanceTooLow and changes nothing, unless
    ``allow_debt`` is set: then the balance goes to zero and the remainder
    becomes debt.
    """
    existing = LedgerEntry.objects.filter(reference=reference).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                wallet_id=account_id,
                kind=kind,
                amount_units=amount_units,
                reference=reference,
                description=description,
            )
            if not _wallet_update(account_id=account_id, amount_units=amount_units, allow_debt=allow_debt):
                raise BalanceTooLow(f"Wallet {account_id} cannot cover {amount_units} units.")
    except IntegrityError:
        # A concurrent writer applied the same reference first.
        return LedgerEntry.objects.get(reference=reference)
    logger.info("Wallet changed", account_id=account_id, kind=kind, amount_units=amount_units, reference=reference)
    return entry


def _wallet_update(*, account_id: int, amount_units: int, allow_debt: bool) -> bool:
    """Apply one balance change in a single UPDATE; False if a debit does not fit and debt is not allowed.

    Every SET expression reads the row's values from before the UPDATE, in
    SQLite as in PostgreSQL. So each pair below uses the same old balance and
    debt, and concurrent writers cannot interleave.
    """
    wallets = Wallet.objects.filter(pk=account_id)
    if amount_units >= 0:
        paid_debt = Least(F("debt_units"), Value(amount_units))
        return bool(
            wallets.update(
                balance_units=F("balance_units") + amount_units - paid_debt,
                debt_units=F("debt_units") - paid_debt,
            )
        )
    debit = -amount_units
    if not allow_debt:
        return bool(wallets.filter(balance_units__gte=debit).update(balance_units=F("balance_units") - debit))
    return bool(
        wallets.update(
            balance_units=Greatest(F("balance_units") - debit, Value(0)),
            debt_units=F("debt_units") + Greatest(Value(debit) - F("balance_units"), Value(0)),
        )
    )


@dataclass(frozen=True)
class ReconcileResult:
    account_id: int
    balance_units: int
    held_units: int
    ledger_units: int
    debt_units: int = 0

    @property
    def ok(self) -> bool:
        return self.balance_units - self.debt_units + self.held_units == self.ledger_units

    @property
    def difference_units(self) -> int:
        """How far the wallet is above its ledger (negative: below)."""
        return self.balance_units - self.debt_units + self.held_units - self.ledger_units


def wallet_reconcile(*, account_id: int) -> ReconcileResult:
    """Check that balance minus debt plus open holds equals the sum of the ledger."""
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(pk=account_id)
        held = Hold.objects.filter(wallet_id=account_id).aggregate(total=Sum("amount_units"))["total"] or 0
        ledger = LedgerEntry.objects.filter(wallet_id=account_id).aggregate(total=Sum("amount_units"))["total"] or 0
    result = ReconcileResult(account_id, wallet.balance_units, held, ledger, wallet.debt_units)
    if not result.ok:
        logger.error(
            "Wallet does not reconcile",
            account_id=account_id,
            balance_units=wallet.balance_units,
            debt_units=wallet.debt_units,
            held_units=held,
            ledger_units=ledger,
        )
    return result


def hold_release(*, hold_id: int) -> bool:
    """Give a stale hold's units back to the balance; False if it was settled meanwhile."""
    with transaction.atomic():
        hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            return False
        hold.delete()
        Wallet.objects.filter(pk=hold.wallet_id).update(balance_units=F("balance_units") + hold.amount_units)
    logger.warning("Stale hold released", request_id=hold.request_id, account_id=hold.wallet_id)
    return True

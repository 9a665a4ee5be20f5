"""Charging and usage recording for gateway calls, behind one small interface.

The gateway calls ``reserve`` before dispatching a call and ``settle`` after it,
whatever the outcome. ``DatabaseMeter`` writes straight to the database; a
Redis implementation with batched settlement can replace it through the
``M3O_METER`` setting without changing the gateway.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Protocol

import structlog
from django.db import IntegrityError, transaction
from django.db.models import F

from billing.models import Hold, LedgerEntry, UsageEvent, Wallet

logger = structlog.get_logger(__name__)


class InsufficientCredit(Exception):
    """The balance does not cover the price, or the account owes debt.

    ``balance_units`` is the balance minus any debt, so it is negative while
    the account owes money (after a refund that exceeded the balance).
    """

    def __init__(self, *, balance_units: int, price_units: int) -> None:
        super().__init__(f"balance {balance_units} is below the price {price_units}")
        self.balance_units = balance_units
        self.price_units = price_units


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The facts the gateway records about a finished call."""

    request_id: str
    account_id: int
    api_key_id: int | None
    service: str
    endpoint: str
    status_code: int
    latency_ms: int
    source: str = UsageEvent.Source.API


@dataclass(frozen=True, slots=True)
class Settlement:
    charged_units: int
    balance_units: int


class Meter(Protocol):
    def reserve(self, *, account_id: int, request_id: str, price_units: int) -> None:
        """Take the price from the balance for the call's duration; raise InsufficientCredit if it does not fit."""

    def settle(self, *, record: CallRecord, price_units: int) -> Settlement:
        """Charge the reserved price if the call succeeded (2xx), release it otherwise.

        Record one usage event and return what was charged and the balance
        afterwards. Settling the same request id twice changes nothing the
        second time.
        """

    def balance(self, *, account_id: int) -> int:
        """Return the account's spendable balance minus any debt, in units."""


def is_chargeable(status_code: int) -> bool:
    return 200 <= status_code < 300


class DatabaseMeter:
    """Meter on the database: a conditional UPDATE reserves, one transaction settles."""

    def reserve(self, *, account_id: int, request_id: str, price_units: int) -> None:
        # An account in debt gets 402 on every call, free ones included, until a top-up pays the debt.
        if price_units <= 0:
            if Wallet.objects.filter(pk=account_id, debt_units__gt=0).exists():
                raise InsufficientCredit(balance_units=self.balance(account_id=account_id), price_units=price_units)
            return
        with transaction.atomic():
            # The condition makes check-and-debit one statement, so parallel
            # calls cannot both pass the check on the same last units.
            updated = Wallet.objects.filter(pk=account_id, balance_units__gte=price_units, debt_units=0).update(
                balance_units=F("balance_units") - price_units
            )
            if not updated:
                raise InsufficientCredit(balance_units=self.balance(account_id=account_id), price_units=price_units)
            Hold.objects.create(wallet_id=account_id, request_id=request_id, amount_units=price_units)

    def settle(self, *, record: CallRecord, price_units: int) -> Settlement:
        charge = is_chargeable(record.status_code) and price_units > 0
        try:
            with transaction.atomic():
                held = Hold.objects.filter(request_id=record.request_id).delete()[0] if price_units > 0 else 0
                if price_units > 0 and not held:
                    # The hold was released by holds_release_expired before the call ended.
                    charge = charge and self._debit_late(record, price_units)
                if charge:
                    LedgerEntry.objects.create(
                        wallet_id=record.account_id,
                        kind=LedgerEntry.Kind.USAGE,
                        amount_units=-price_units,
                        reference=f"usage:{record.request_id}",
                        description=f"{record.service}/{record.endpoint}",
                    )
                elif held:
                    Wallet.objects.filter(pk=record.account_id).update(balance_units=F("balance_units") + price_units)
                UsageEvent.objects.create(
                    request_id=record.request_id,
                    account_id=record.account_id,
                    api_key_id=record.api_key_id,
                    service=record.service,
                    endpoint=record.endpoint,
                    status_code=record.status_code,
                    cost_units=price_units if charge else 0,
                    latency_ms=record.latency_ms,
                    source=record.source,
                )
        except IntegrityError:
            # The usage event or ledger reference exists: this request id was settled already.
            logger.warning("Call already settled", request_id=record.request_id, account_id=record.account_id)
            charge = False
        return Settlement(
            charged_units=price_units if charge else 0, balance_units=self.balance(account_id=record.account_id)
        )

    def _debit_late(self, record: CallRecord, price_units: int) -> bool:
        debited = Wallet.objects.filter(pk=record.account_id, balance_units__gte=price_units).update(
            balance_units=F("balance_units") - price_units
        )
        if not debited:
            logger.error(
                "Call not charged: hold expired and balance too low",
                request_id=record.request_id,
                account_id=record.account_id,
                price_units=price_units,
            )
        return bool(debited)

    def balance(self, *, account_id: int) -> int:
        """Return the spendable balance minus any debt, in units."""
        row = Wallet.objects.filter(pk=account_id).values_list("balance_units", "debt_units").first()
        if row is None:
            return 0
        balance_units, debt_units = row
        return balance_units - debt_units


@cache
def get_meter() -> Meter:
    # settings.M3O_METER is validated at start-up; "database" is the only meter so far.
    return DatabaseMeter()

"""Billing's reactions to account events."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from accounts.models import Account
from accounts.signals import account_created
from billing.models import LedgerEntry
from billing.services import wallet_apply, wallet_open


@receiver(account_created, dispatch_uid="billing_open_wallet")
def open_wallet_with_signup_credit(sender: type[Account], account: Account, **kwargs: Any) -> None:
    """Open a wallet for every new account and, when configured, grant the promotional credit."""
    wallet_open(account=account)
    credit = settings.M3O_SIGNUP_CREDIT_UNITS
    if credit > 0:
        wallet_apply(
            account_id=account.pk,
            kind=LedgerEntry.Kind.GRANT,
            amount_units=credit,
            reference=f"grant:signup:{account.pk}",
            description="Signup credit",
        )

"""Reads for wallets, the ledger and usage."""

from __future__ import annotations

from accounts.models import Account
from billing.models import LedgerEntry, UsageEvent, Wallet


def wallet_for_account(account: Account) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(account=account)
    return wallet


def recent_calls(account: Account, *, limit: int) -> list[UsageEvent]:
    return list(UsageEvent.objects.filter(account=account).select_related("api_key").order_by("-created_at", "-id")[:limit])


def ledger_for_account(account: Account, *, limit: int) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(wallet_id=account.pk).order_by("-created_at", "-id")[:limit])

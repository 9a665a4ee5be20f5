"""Reads for wallets, the ledger and usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Sum

from accounts.models import Account
from billing.models import LedgerEntry, UsageEvent, Wallet


def wallet_for_account(account: Account) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(account=account)
    return wallet


def recent_calls(account: Account, *, limit: int) -> list[UsageEvent]:
    return list(UsageEvent.objects.filter(account=account).select_related("api_key").order_by("-created_at", "-id")[:limit])


def ledger_for_account(account: Account, *, limit: int) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(wallet_id=account.pk).order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True, slots=True)
class EndpointUsage:
    """One account's successful calls to one endpoint in a period, and what they were charged."""

    account_id: int
    account_name: str
    calls: int
    charged_units: int


def endpoint_usage_by_account(*, service: str, endpoint: str, start: datetime, end: datetime) -> list[EndpointUsage]:
    """Successful (2xx) calls to ``service/endpoint`` in [start, end), per account, most charged first."""
    rows = (
        UsageEvent.objects.filter(
            service=service,
            endpoint__iexact=endpoint,
            status_code__gte=200,
            status_code__lt=300,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values("account_id", "account__name")
        .annotate(calls=Count("id"), charged_units=Sum("cost_units"))
        .order_by("-charged_units", "-calls", "account_id")
    )
    return [
        EndpointUsage(
            account_id=row["account_id"],
            account_name=row["account__name"],
            calls=row["calls"],
            charged_units=row["charged_units"] or 0,
        )
        for row in rows
    ]

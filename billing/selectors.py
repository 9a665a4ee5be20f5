"""Reads for wallets, the ledger and usage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Sum

from accounts.models import Account, Membership
from billing.models import (
    AutoTopup,
    BalanceAlert,
    BillingProfile,
    Invoice,
    LedgerEntry,
    Payment,
    Plan,
    SavedCard,
    Subscription,
    UsageEvent,
    Wallet,
)


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

def payments_for_account(account: Account, *, limit: int) -> list[Payment]:
    return list(Payment.objects.filter(account=account).order_by("-created_at", "-id")[:limit])


def saved_cards_for_account(account: Account) -> list[SavedCard]:
    return list(SavedCard.objects.filter(account=account).order_by("created_at", "id"))


def ledger_with_running_balance(account_id: int, *, limit: int) -> list[tuple[LedgerEntry, int]]:
    """Return the newest ledger entries, each with the ledger sum up to and including it (balance history)."""
    entries = list(LedgerEntry.objects.filter(wallet_id=account_id).order_by("-created_at", "-id")[:limit])
    total = LedgerEntry.objects.filter(wallet_id=account_id).aggregate(total=Sum("amount_units"))["total"] or 0
    history = []
    for entry in entries:
        history.append((entry, total))
        total -= entry.amount_units
    return history


def invoices_for_account(account: Account, *, limit: int) -> list[Invoice]:
    return list(Invoice.objects.filter(account=account).order_by("-month")[:limit])


def invoice_time_zone(account: Account) -> str:
    return BillingProfile.objects.filter(pk=account.pk).values_list("time_zone", flat=True).first() or "UTC"


def billing_contact_emails(account_id: int) -> list[str]:
    """Return the addresses of the account's owners and billing members, who get invoices and payment emails."""
    roles = (Membership.Role.OWNER, Membership.Role.BILLING)
    return list(
        Membership.objects.filter(account_id=account_id, role__in=roles, user__is_active=True)
        .values_list("user__email", flat=True)
        .order_by("user__email")
    )


def balance_alerts_for_account(account: Account) -> list[BalanceAlert]:
    return list(BalanceAlert.objects.filter(account=account).order_by("percent_of_last_topup", "-threshold_units"))


def auto_topups_for_account(account: Account, *, limit: int) -> list[AutoTopup]:
    return list(AutoTopup.objects.filter(account=account).select_related("payment").order_by("-created_at")[:limit])


@dataclass(frozen=True)
class PlanLimits:
    """The limits of an account's plan, where None is no limit."""

    plan_slug: str
    included_free_calls: int
    rate_limit_per_minute: int | None
    storage_cap_mb: int | None
    max_rows_per_service: int | None = None


def plan_limits(account_id: int) -> PlanLimits:
    """Return the limits of the account's plan: its subscription's, else the default plan's, else none.

    The data services read the storage caps through ``services.kit.storage_limits``.
    NOTE: the gateway does not read the rate limit and included calls yet.
    """
    subscription = Subscription.objects.select_related("plan").filter(pk=account_id).first()
    plan = subscription.plan if subscription else Plan.objects.filter(is_default=True).first()
    if plan is None:
        return PlanLimits(plan_slug="", included_free_calls=0, rate_limit_per_minute=None, storage_cap_mb=None)
    return PlanLimits(
        plan_slug=plan.slug,
        included_free_calls=plan.included_free_calls,
        rate_limit_per_minute=plan.rate_limit_per_minute,
        storage_cap_mb=plan.storage_cap_mb,
        max_rows_per_service=plan.max_rows_per_service,
    )


def plans_offered() -> list[Plan]:
    return list(Plan.objects.filter(is_active=True))

"""Wallets, the ledger, holds for calls in flight, and usage.

All money is in integer units: 1 unit = US$0.000001.

Invariant, checked by ``wallet_reconcile``: for every wallet,
``balance_units + sum(open holds) == sum(ledger amounts)``. The balance is what
the account can still spend; a hold is the price of a call in flight, taken
from the balance when the call starts and either charged (a ledger row) or
given back when it ends.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Account, ApiKey


class Wallet(models.Model):
    # Keyed by the account, so the hot path can address a wallet by account id.
    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="wallet")
    balance_units = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(balance_units__gte=0), name="billing_wallet_balance_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.account}"


class LedgerEntry(models.Model):
    """One balance change. Append-only: never updated or deleted."""

    class Kind(models.TextChoices):
        GRANT = "grant"  # promotional credit, e.g. at signup
        TOPUP = "topup"  # money paid in
        USAGE = "usage"  # a charged call (negative)
        REFUND = "refund"  # money returned to the account
        ADJUSTMENT = "adjustment"  # an operator's correction, either sign

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_units = models.BigIntegerField(help_text="Positive adds to the balance, negative takes from it.")
    # Unique per business event (e.g. "usage:<request id>", "grant:signup:<account id>"),
    # so a retried write cannot apply twice.
    reference = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_units} ({self.reference})"


class Hold(models.Model):
    """The price of a call in flight, already taken from the wallet's balance."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    request_id = models.CharField(max_length=64, unique=True)
    amount_units = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_units__gt=0), name="billing_hold_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Hold {self.amount_units} for {self.request_id}"


class UsageEvent(models.Model):
    """One call through the gateway, charged or not."""

    class Source(models.TextChoices):
        API = "api"
        PLAYGROUND = "playground"

    request_id = models.CharField(max_length=64, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="usage_events")
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    service = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    cost_units = models.BigIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="billing_usage_account_time"),
            models.Index(fields=["created_at"], name="billing_usage_time"),
        ]

    def __str__(self) -> str:
        return f"{self.service}/{self.endpoint} {self.status_code} ({self.request_id})"


class UsageDaily(models.Model):
    """Usage events rolled up per account, UTC day, service and endpoint."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="usage_daily")
    day = models.DateField()
    service = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    calls = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    cost_units = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "usage daily totals"
        ordering = ["-day", "service", "endpoint"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "service", "endpoint"], name="billing_usage_daily_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service}/{self.endpoint}: {self.calls}"


class FreeUsage(models.Model):
    """Free calls an account used in one calendar month (UTC), per counter.

    ``scope`` is "allowance" for the account's monthly free allowance, or
    "endpoint:<id>" for an endpoint's monthly free quota.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")
    scope = models.CharField(max_length=40)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "free usage"
        constraints = [
            models.UniqueConstraint(fields=["account", "month", "scope"], name="billing_free_usage_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.month:%Y-%m}: {self.used}"

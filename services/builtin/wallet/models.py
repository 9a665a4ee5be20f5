from __future__ import annotations

from typing import Any

from django.db import models

# The largest balance a wallet may hold: 2**53 - 1, the largest integer JavaScript clients read exactly.
MAX_BALANCE = 9_007_199_254_740_991


class EndUserWallet(models.Model):
    """A wallet the caller keeps for one of its own users, in the caller's own integer units."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    wallet_id = models.CharField(max_length=256)
    name = models.CharField(max_length=1000, blank=True)
    description = models.TextField(blank=True)
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "wallet_id"], name="builtin_wallet_unique_wallet"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0, balance__lte=MAX_BALANCE), name="builtin_wallet_balance_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.wallet_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.wallet_id,
            "name": self.name,
            "description": self.description,
            "balance": self.balance,
            "created": self.created_at.isoformat(),
        }


class WalletTransaction(models.Model):
    """One change of one wallet's balance; a transfer writes two, one per wallet."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    wallet = models.ForeignKey(EndUserWallet, on_delete=models.CASCADE, related_name="transactions")
    transaction_id = models.UUIDField()
    # Positive for a credit or an incoming transfer, negative for a debit or an outgoing one.
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    reference = models.CharField(max_length=1000, blank=True)
    visible = models.BooleanField(default=True)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["wallet", "-created_at"], name="builtin_wallet_txn_recent")]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="builtin_wallet_txn_not_zero")]

    def __str__(self) -> str:
        return str(self.transaction_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.transaction_id),
            "created": self.created_at.isoformat(),
            "amount": self.amount,
            "balance": self.balance_after,
            "reference": self.reference,
            "visible": self.visible,
            "metadata": self.metadata,
        }


class WalletOperation(models.Model):
    """A Credit, Debit or Transfer made with an idempotency key, so a retry replays its result.

    The key is unique per account: the row is written in the same transaction as the
    balance change, so two concurrent requests with one key change the balance once.
    """

    class Kind(models.TextChoices):
        CREDIT = "credit"
        DEBIT = "debit"
        TRANSFER = "transfer"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=256)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The request's wallet ids and amount, to refuse a reused key with a different request.
    wallet_id = models.CharField(max_length=256)
    to_wallet_id = models.CharField(max_length=256, blank=True)
    amount = models.BigIntegerField()
    # The response of the first request, returned again on a replay.
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="builtin_wallet_unique_operation_key")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.idempotency_key}"

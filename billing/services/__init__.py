"""Writes for billing: wallets and the ledger, card payments, operator actions."""

from __future__ import annotations

from billing.services.wallet import (
    BalanceTooLow,
    ReconcileResult,
    hold_release,
    wallet_apply,
    wallet_open,
    wallet_reconcile,
)

__all__ = [
    "BalanceTooLow",
    "ReconcileResult",
    "hold_release",
    "wallet_apply",
    "wallet_open",
    "wallet_reconcile",
]

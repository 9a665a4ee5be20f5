"""Operator forms in admin (credit grants and adjustments, refunds) and the spending cap form."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms

from billing.models import LedgerEntry
from m3o_web.money import UNITS_PER_DOLLAR


class WalletCreditForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(LedgerEntry.Kind.GRANT, "Grant (credit, e.g. promotional)"), (LedgerEntry.Kind.ADJUSTMENT, "Adjustment (either sign)")]
    )
    amount = forms.DecimalField(
        max_digits=14, decimal_places=6, help_text="US dollars, up to 6 decimals (1 unit = $0.000001); negative takes credit away."
    )
    reason = forms.CharField(max_length=200, help_text="Shown in the ledger and the audit log.")
    # One per form load, so that submitting the same form twice applies once.
    reference = forms.CharField(max_length=64, widget=forms.HiddenInput, initial=lambda: uuid.uuid4().hex)

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("Enter a non-zero amount.")
        return amount

    @property
    def amount_units(self) -> int:
        return int(self.cleaned_data["amount"] * UNITS_PER_DOLLAR)


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"), help_text="US dollars.")
    reason = forms.CharField(max_length=200)

    @property
    def amount_cents(self) -> int:
        return int(self.cleaned_data["amount"] * 100)


class SpendingCapForm(forms.Form):
    cap = forms.DecimalField(
        label="Monthly spending cap (US dollars)",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Calls get 402 once this month's charges reach it. Months are calendar months in UTC.",
    )

    @property
    def cap_units(self) -> int:
        return int(self.cleaned_data["cap"] * UNITS_PER_DOLLAR)

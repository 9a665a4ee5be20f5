from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services import MAX_KEY_NAME_LENGTH

MAX_EXPIRY_DAYS = 3650


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_KEY_NAME_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "e.g. production backend", "autocomplete": "off"}),
    )
    all_services = forms.BooleanField(required=False, initial=True, label="All services")
    expires_on = forms.DateField(
        required=False,
        label="Expires on (optional)",
        help_text="The key works until the end of this day (UTC).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    services = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Only these services")

    def __init__(self, *args: Any, service_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = service_choices

    def scopes(self) -> list[str]:
        if self.cleaned_data["all_services"]:
            return [ApiKey.ALL_SERVICES]
        return list(self.cleaned_data["services"])

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data.get("expires_on")
        today = timezone.now().astimezone(dt.UTC).date()
        if day is not None and day < today:
            raise forms.ValidationError("Choose today or a later date.")
        if day is not None and day > today + dt.timedelta(days=MAX_EXPIRY_DAYS):
            raise forms.ValidationError("Choose a date within ten years.")
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("all_services") and not cleaned.get("services"):
            raise forms.ValidationError("Choose all services, or at least one service.")
        return cleaned


class ApiKeyRotateForm(forms.Form):
    GRACE_CHOICES = [
        ("0", "Immediately"),
        ("3600", "In 1 hour"),
        ("86400", "In 24 hours"),
        ("604800", "In 7 days"),
        ("2592000", "In 30 days"),
    ]
    grace = forms.TypedChoiceField(choices=GRACE_CHOICES, coerce=int, initial="86400", label="Old key stops")

    def grace_period(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.cleaned_data["grace"])


class AccountDeleteForm(forms.Form):
    CONFIRMATION = "delete my account"

    confirmation = forms.CharField(
        label=f'Type "{CONFIRMATION}" to confirm',
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_confirmation(self) -> str:
        value = self.cleaned_data["confirmation"].strip().lower()
        if value != self.CONFIRMATION:
            raise forms.ValidationError(f'Type "{self.CONFIRMATION}" exactly to confirm.')
        return value

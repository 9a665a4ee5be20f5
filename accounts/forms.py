from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import ApiKey
from accounts.services import MAX_KEY_NAME_LENGTH


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_KEY_NAME_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "e.g. production backend", "autocomplete": "off"}),
    )
    all_services = forms.BooleanField(required=False, initial=True, label="All services")
    services = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Only these services")

    def __init__(self, *args: Any, service_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["services"].choices = service_choices

    def scopes(self) -> list[str]:
        if self.cleaned_data["all_services"]:
            return [ApiKey.ALL_SERVICES]
        return list(self.cleaned_data["services"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("all_services") and not cleaned.get("services"):
            raise forms.ValidationError("Choose all services, or at least one service.")
        return cleaned

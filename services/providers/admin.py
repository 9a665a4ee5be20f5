"""Operator admin: choose each provider-backed service's provider and enter its credential."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import structlog
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from catalog import crypto
from catalog.models import Service
from services.providers import dispatch
from services.providers.models import ProviderConfig

logger = structlog.get_logger(__name__)

MAX_CACHE_SECONDS = 86_400


def _provider_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (service.title, [(adapter.name, adapter.title) for adapter in service.adapters])
        for service in dispatch.all_services()
    ]


class ProviderConfigForm(forms.ModelForm):
    provider = forms.ChoiceField(choices=_provider_choices, help_text="Pick one of the chosen service's providers.")
    credential = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="API key or token; for providers that need two parts, ACCOUNT:SECRET. Stored encrypted "
        "and never shown again; leave blank to keep the stored one.",
    )
    credential_clear = forms.BooleanField(required=False, label="Remove the stored credential")
    cache_seconds = forms.JSONField(
        required=False,
        initial=dict,
        label="Cache lifetimes",
        help_text='Seconds each endpoint\'s responses are cached, e.g. {"Rates": 60}. Leave out an endpoint '
        "to never cache it. Responses of private endpoints are cached per account.",
    )

    class Meta:
        model = ProviderConfig
        fields = ["service", "provider", "base_url", "cache_seconds", "connect_timeout_ms", "read_timeout_ms"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slugs = [service.slug for service in dispatch.all_services()]
        self.fields["service"].queryset = Service.objects.filter(slug__in=slugs).order_by("name")

    def clean_base_url(self) -> str:
        url: str = self.cleaned_data.get("base_url", "")
        if url and urlsplit(url).scheme not in {"http", "https"}:
            raise ValidationError("Use an http:// or https:// address.")
        if url and (urlsplit(url).query or urlsplit(url).fragment):
            raise ValidationError("The address cannot have a query string or fragment.")
        return url

    def clean_credential(self) -> str:
        credential: str = self.cleaned_data.get("credential", "")
        if any(character in credential for character in "\r\n\x00"):
            raise ValidationError("The credential cannot contain line breaks or NUL characters.")
        return credential

    def clean_connect_timeout_ms(self) -> int:
        return _in_range(self.cleaned_data["connect_timeout_ms"], 100, 60_000)

    def clean_read_timeout_ms(self) -> int:
        return _in_range(self.cleaned_data["read_timeout_ms"], 100, 120_000)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        service_row: Service | None = cleaned.get("service")
        service = dispatch.get(service_row.slug) if service_row else None
        if service is None:
            return cleaned

        adapter = service.adapter(cleaned.get("provider", ""))
        if adapter is None:
            names = ", ".join(a.title for a in service.adapters)
            self.add_error("provider", f"{service.title} can use only these providers: {names}.")
            return cleaned
        keeps_stored = self.instance.has_credential and not cleaned.get("credential_clear")
        if adapter.needs_credential and not (cleaned.get("credential") or keeps_stored):
            self.add_error("credential", f"{adapter.title} needs a credential. {adapter.credential_help}")

        lifetimes = cleaned.get("cache_seconds") or {}
        if not isinstance(lifetimes, dict):
            self.add_error("cache_seconds", 'Enter an object such as {"Rates": 60}.')
            return cleaned
        endpoints = set(adapter.endpoints)
        for name, seconds in lifetimes.items():
            if name not in endpoints:
                self.add_error("cache_seconds", f"{name} is not an endpoint of {service.title}: use one of "
                               f"{', '.join(sorted(endpoints))}.")
            elif isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= MAX_CACHE_SECONDS:
                self.add_error("cache_seconds", f"The lifetime of {name} must be a whole number of seconds "
                               f"from 0 to {MAX_CACHE_SECONDS}.")
        cleaned["cache_seconds"] = lifetimes
        return cleaned


def _in_range(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValidationError(f"Use a value from {low} to {high} milliseconds.")
    return value


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    form = ProviderConfigForm
    list_display = ["service", "provider_title", "credential_display", "base_url", "updated_at"]
    list_select_related = ["service"]
    readonly_fields = ["credential_display", "updated_at", "updated_by"]
    fields = [
        "service",
        "provider",
        ("credential", "credential_display", "credential_clear"),
        "base_url",
        "cache_seconds",
        ("connect_timeout_ms", "read_timeout_ms"),
        ("updated_at", "updated_by"),
    ]

    @admin.display(description="Provider")
    def provider_title(self, config: ProviderConfig) -> str:
        service = dispatch.get(config.service.slug)
        adapter = service.adapter(config.provider) if service else None
        return adapter.title if adapter else f"{config.provider} (unknown)"

    @admin.display(description="Stored credential")
    def credential_display(self, config: ProviderConfig) -> str:
        if not config.has_credential:
            return "none"
        return f"set, ending in …{config.credential_last4}" if config.credential_last4 else "set"

    def save_model(self, request: HttpRequest, obj: ProviderConfig, form: forms.ModelForm, change: bool) -> None:
        credential = form.cleaned_data.get("credential", "")
        if credential:
            obj.credential_encrypted = crypto.encrypt(credential)
            # Only long credentials show their end: four characters of a short one give too much away.
            obj.credential_last4 = credential[-4:] if len(credential) >= 12 else ""
        elif form.cleaned_data.get("credential_clear"):
            obj.credential_encrypted = ""
            obj.credential_last4 = ""
        obj.updated_at = timezone.now()
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        logger.info(
            "Service provider settings saved",
            service=obj.service.slug,
            provider=obj.provider,
            credential_changed=bool(credential) or bool(form.cleaned_data.get("credential_clear")),
            user_id=request.user.pk,
        )

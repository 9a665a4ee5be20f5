"""Forms behind the operator admin: every operator mistake becomes a form error, never a 500."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from catalog.models import Endpoint, Service, UpstreamConfig
from catalog.validation import PLACEHOLDER, examples_problems, schema_problems

# The gateway routes only names of this shape (services/gateway.py ENDPOINT_NAME).
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
# An HTTP header name is an RFC 9110 token.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers the proxy sets itself or that only make sense hop by hop.
RESERVED_HEADERS = {
    "host", "content-length", "content-type", "transfer-encoding", "connection", "keep-alive", "upgrade",
    "te", "trailer", "proxy-authorization", "proxy-authenticate", "x-request-id", "accept", "user-agent",
}


class ServiceAdminForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = ["slug", "name", "tagline", "description", "category", "icon", "status", "backend"]

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if slug != slug.lower():
            raise ValidationError(f"Use lower case only, e.g. {slug.lower()!r}; the gateway matches slugs lower-cased.")
        return slug


def _check_upstream_path(path: str) -> None:
    if not path.startswith("/"):
        raise ValidationError(f"The upstream path must start with '/', e.g. /{path.lstrip('/')}.")
    if "?" in path or "#" in path:
        raise ValidationError("The upstream path cannot contain '?' or '#'; query parameters come from the body.")
    for name in PLACEHOLDER.findall(path):
        if not name.isidentifier():
            raise ValidationError(f"{{{name}}} is not a valid placeholder; use a body field name such as {{id}}.")
    if PLACEHOLDER.sub("", path).count("{") or PLACEHOLDER.sub("", path).count("}"):
        raise ValidationError("The upstream path has an unmatched '{' or '}'.")


class EndpointInlineForm(forms.ModelForm):
    """An endpoint row on the service page; a new endpoint needs its first price here."""

    price_units = forms.IntegerField(
        min_value=0,
        required=False,
        label="Price (units)",
        help_text="New endpoints only: price per successful call in units (1 unit = US$0.000001). "
        "Change an existing price with its Change price link.",
    )

    class Meta:
        model = Endpoint
        fields = ["name", "description", "free_quota", "streaming", "position", "upstream_method", "upstream_path"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2, "cols": 40})}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if not ENDPOINT_NAME.fullmatch(name):
            raise ValidationError(
                "Use a letter followed by up to 63 letters, digits or underscores, e.g. Call or ListItems."
            )
        return name

    def clean_upstream_path(self) -> str:
        path: str = self.cleaned_data.get("upstream_path", "").strip()
        if path:
            _check_upstream_path(path)
        return path

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("name") and cleaned.get("price_units") is None:
            self.add_error("price_units", "Set the price of the new endpoint (0 for free).")
        return cleaned


class EndpointInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        service: Service = self.instance
        names: set[str] = set()
        for form in self.forms:
            if not form.has_changed() and form.instance.pk is None:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = form.cleaned_data
            name = (data.get("name") or "").lower()
            if name in names:
                form.add_error("name", "Another endpoint of this service has this name (names ignore case).")
            names.add(name)
            if service.backend == Service.Backend.UPSTREAM:
                if not data.get("upstream_method"):
                    form.add_error("upstream_method", "Upstream endpoints need the HTTP method to call.")
                if not data.get("upstream_path"):
                    form.add_error("upstream_path", "Upstream endpoints need the path to call, e.g. /v1/lookup.")


class EndpointAdminForm(forms.ModelForm):
    class Meta:
        model = Endpoint
        fields = [
            "service", "name", "description", "free_quota", "streaming", "position",
            "upstream_method", "upstream_path", "request_schema", "response_schema", "examples",
        ]

    clean_name = EndpointInlineForm.clean_name
    clean_upstream_path = EndpointInlineForm.clean_upstream_path

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # Built-in schemas are read-only in admin, so they come from the instance.
        request_schema = cleaned.get("request_schema", self.instance.request_schema)
        response_schema = cleaned.get("response_schema", self.instance.response_schema)
        schemas_ok = True
        for name, schema in (("request_schema", request_schema), ("response_schema", response_schema)):
            problems = schema_problems(schema, label=name.replace("_", " "))
            if problems:
                schemas_ok = False
                if name in self.fields:
                    self.add_error(name, problems)
                else:
                    raise ValidationError(problems)
        if schemas_ok and "examples" in cleaned:
            problems = examples_problems(
                cleaned["examples"], request_schema=request_schema, response_schema=response_schema
            )
            if problems:
                self.add_error("examples", problems)
        return cleaned


class UpstreamConfigForm(forms.ModelForm):
    credential = forms.CharField(
        required=False,
        strip=True,
        max_length=4_000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave blank to keep the stored credential.",
    )
    credential_clear = forms.BooleanField(required=False, label="Remove the stored credential")

    class Meta:
        model = UpstreamConfig
        fields = [
            "base_url", "credential_placement", "credential_name", "credential_prefix",
            "connect_timeout_ms", "read_timeout_ms",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.has_credential:
            ending = f" ending in …{self.instance.credential_last4}" if self.instance.credential_last4 else ""
            self.fields["credential"].help_text = (
                f"A credential{ending} is stored, encrypted. Enter a new one to replace it, or leave blank to keep it."
            )

    def clean_base_url(self) -> str:
        url: str = self.cleaned_data["base_url"].strip()
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise ValidationError("The base URL must start with https:// (or http:// for local testing).")
        if parts.username or parts.password:
            raise ValidationError("Put the credential in the credential field, not in the URL.")
        if parts.query or parts.fragment:
            raise ValidationError("The base URL cannot have a query string or fragment.")
        return url.rstrip("/")

    def clean_credential_name(self) -> str:
        name: str = self.cleaned_data.get("credential_name", "").strip()
        placement = self.cleaned_data.get("credential_placement")
        if placement == UpstreamConfig.Placement.HEADER and name:
            if not HEADER_NAME.fullmatch(name):
                raise ValidationError(f"{name!r} is not a valid HTTP header name.")
            if name.lower() in RESERVED_HEADERS:
                raise ValidationError(f"The proxy sets {name} itself; use another header, e.g. Authorization.")
        return name

    def clean_connect_timeout_ms(self) -> int:
        return _in_range(self.cleaned_data["connect_timeout_ms"], 100, 60_000)

    def clean_read_timeout_ms(self) -> int:
        return _in_range(self.cleaned_data["read_timeout_ms"], 100, 300_000)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        placement = cleaned.get("credential_placement")
        if placement in {UpstreamConfig.Placement.HEADER, UpstreamConfig.Placement.QUERY}:
            if not cleaned.get("credential_name") and "credential_name" not in self.errors:
                self.add_error("credential_name", "Name the header or query parameter that carries the credential.")
            will_have_credential = cleaned.get("credential") or (
                self.instance.has_credential and not cleaned.get("credential_clear")
            )
            if not will_have_credential:
                self.add_error("credential", "Enter the credential, or set the placement to Not sent.")
        prefix = cleaned.get("credential_prefix", "")
        if any(character in prefix for character in "\r\n\x00"):
            self.add_error("credential_prefix", "The prefix cannot contain line breaks or NUL characters.")
        credential = cleaned.get("credential", "")
        if any(character in credential for character in "\r\n\x00"):
            self.add_error("credential", "The credential cannot contain line breaks or NUL characters.")
        return cleaned


def _in_range(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValidationError(f"Use a value from {low} to {high} milliseconds.")
    return value


class UpstreamConfigFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        service: Service = self.instance
        filled = [
            form for form in self.forms
            if (form.instance.pk or form.has_changed()) and not (self.can_delete and self._should_delete_form(form))
        ]
        if service.backend == Service.Backend.UPSTREAM and not filled:
            raise ValidationError("An upstream service needs its upstream settings: at least the base URL.")


class PriceChangeForm(forms.Form):
    price_units = forms.IntegerField(
        min_value=0,
        max_value=10**15,
        label="New price (units)",
        help_text="Price per successful call in units; 1 unit = US$0.000001, so 1,000 units = US$0.001.",
    )
    effective_from = forms.DateTimeField(
        required=False,
        help_text="When the price starts, in UTC (YYYY-MM-DD HH:MM). Leave blank for now. Cannot be in the past.",
    )
    note = forms.CharField(required=False, max_length=200, help_text="Why the price changes, for the history.")

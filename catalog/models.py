"""Services and their endpoints, as developers see them and operators price them."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Category(models.Model):
    """A group of services on the explore page, e.g. "Communications"."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=64, unique=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower numbers are listed first.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"  # hidden from the catalog and the gateway
        PUBLISHED = "published"  # listed and callable
        DEPRECATED = "deprecated"  # callable, marked as deprecated in the catalog

    class Backend(models.TextChoices):
        BUILTIN = "builtin", "Built-in"  # handled in-process by a package under services/builtin/
        UPSTREAM = "upstream"  # proxied to a third-party HTTP API

    slug = models.SlugField(max_length=64, unique=True, help_text="Lower-case name used in /v1/<slug>/<endpoint>.")
    name = models.CharField(max_length=100)
    tagline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    icon = models.CharField(max_length=64, blank=True, help_text="An emoji or a short icon name.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.BUILTIN)
    # Names of the fields an operator changed in admin. Syncing a built-in
    # service from its code leaves these fields alone.
    operator_fields = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(slug=Lower("slug")), name="catalog_service_slug_lower_case"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_callable(self) -> bool:
        return self.status in {self.Status.PUBLISHED, self.Status.DEPRECATED}


class Endpoint(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=64, help_text="PascalCase, e.g. Call. Matched case-insensitively.")
    description = models.TextField(blank=True)
    request_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema (2020-12) of the request body.")
    response_schema = models.JSONField(
        default=dict, blank=True, help_text="JSON Schema (2020-12) of the response body."
    )
    examples = models.JSONField(
        default=list, blank=True, help_text='A list of {"title", "request", "response"} objects.'
    )
    free_quota = models.PositiveIntegerField(default=0, help_text="Free calls per account per calendar month.")
    streaming = models.BooleanField(default=False, help_text="The endpoint streams its response.")
    position = models.PositiveSmallIntegerField(default=0)
    # Upstream services only: the HTTP request the gateway sends for this endpoint.
    upstream_method = models.CharField(
        max_length=8,
        blank=True,
        choices=[(method, method) for method in ("GET", "POST", "PUT", "PATCH", "DELETE")],
        help_text="Upstream services only. GET and DELETE send the body's fields as query parameters.",
    )
    upstream_path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Upstream services only. Appended to the base URL; {field} is replaced by that body field.",
    )
    operator_fields = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["service", "position", "name"]
        constraints = [
            models.UniqueConstraint("service", Lower("name"), name="catalog_endpoint_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.name}"

    @property
    def price_units(self) -> int:
        """Price of one successful call now, in units; selectors annotate it to save a query."""
        annotated = self.__dict__.get("current_price_units")
        if annotated is not None:
            return int(annotated)
        from catalog.selectors import endpoint_price_at

        return endpoint_price_at(endpoint=self, at=timezone.now())


class EndpointPrice(models.Model):
    """One price of an endpoint from a date on. Rows are only ever added, never edited.

    The price in effect at a moment is the row with the latest effective_from
    at or before it, so a change scheduled for next month leaves this month's
    calls at the old price.
    """

    class Source(models.TextChoices):
        CODE = "code"  # the default a built-in service declares
        OPERATOR = "operator"  # set in admin

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="prices")
    # Price of one successful call in units (1 unit = US$0.000001).
    price_units = models.BigIntegerField()
    effective_from = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.OPERATOR)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["endpoint", "-effective_from"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_units__gte=0), name="catalog_price_non_negative"),
            models.UniqueConstraint(fields=["endpoint", "effective_from"], name="catalog_price_one_per_instant"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.price_units} units from {self.effective_from:%Y-%m-%d %H:%M}"


class UpstreamConfig(models.Model):
    """Connection settings for the third-party HTTP API behind an upstream service."""

    class Placement(models.TextChoices):
        NONE = "none", "Not sent"
        HEADER = "header", "HTTP header"
        QUERY = "query", "Query parameter"

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="upstream")
    base_url = models.URLField(max_length=500, help_text="e.g. https://api.example.com/v2")
    credential_placement = models.CharField(max_length=8, choices=Placement.choices, default=Placement.HEADER)
    credential_name = models.CharField(
        max_length=100, blank=True, help_text="Header or query parameter name, e.g. Authorization or api_key."
    )
    credential_prefix = models.CharField(
        max_length=50, blank=True, help_text='Text sent before the credential, e.g. "Bearer " (with the space).'
    )
    # Fernet token of the credential (catalog/crypto.py); never shown back in full.
    credential_encrypted = models.TextField(blank=True, editable=False)
    credential_last4 = models.CharField(max_length=4, blank=True, editable=False)
    connect_timeout_ms = models.PositiveIntegerField(default=3_000)
    read_timeout_ms = models.PositiveIntegerField(default=15_000)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(connect_timeout_ms__gte=100, connect_timeout_ms__lte=60_000),
                name="catalog_upstream_connect_timeout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(read_timeout_ms__gte=100, read_timeout_ms__lte=300_000),
                name="catalog_upstream_read_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug} → {self.base_url}"

    @property
    def has_credential(self) -> bool:
        return bool(self.credential_encrypted)

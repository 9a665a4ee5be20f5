"""Services and their endpoints, as developers see them and operators price them."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Service(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"  # hidden from the catalog and the gateway
        PUBLISHED = "published"  # listed and callable
        DEPRECATED = "deprecated"  # callable, marked as deprecated in the catalog

    class Backend(models.TextChoices):
        BUILTIN = "builtin"  # handled in-process by a package under services/builtin/
        UPSTREAM = "upstream"  # proxied to a third-party HTTP API

    slug = models.SlugField(max_length=64, unique=True, help_text="Lower-case name used in /v1/<slug>/<endpoint>.")
    name = models.CharField(max_length=100)
    tagline = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    category = models.CharField(max_length=64, blank=True)
    icon = models.CharField(max_length=64, blank=True, help_text="An emoji or a short icon name.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.BUILTIN)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_callable(self) -> bool:
        return self.status in {self.Status.PUBLISHED, self.Status.DEPRECATED}


class Endpoint(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=64, help_text="PascalCase, e.g. Call. Matched case-insensitively.")
    description = models.TextField(blank=True)
    request_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the request body.")
    response_schema = models.JSONField(default=dict, blank=True, help_text="JSON Schema of the response body.")
    examples = models.JSONField(
        default=list, blank=True, help_text='A list of {"title", "request", "response"} objects.'
    )
    # Price of one successful call in units (1 unit = US$0.000001).
    price_units = models.BigIntegerField(default=0)
    free_quota = models.PositiveIntegerField(default=0, help_text="Free calls per account per calendar month.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["service", "position", "name"]
        constraints = [
            models.UniqueConstraint("service", Lower("name"), name="catalog_endpoint_name_ci_unique"),
            models.CheckConstraint(condition=models.Q(price_units__gte=0), name="catalog_endpoint_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug}/{self.name}"

"""The operator's choice of provider for each provider-backed service, with its credential."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import User
from catalog.models import Service


class ProviderConfig(models.Model):
    """The provider that serves a service's calls, and how to reach it.

    The credential is stored as a Fernet token (catalog/crypto.py) and only its
    last four characters are ever shown again.
    """

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="provider_config")
    provider = models.CharField(max_length=64, help_text="The adapter that serves this service's calls.")
    credential_encrypted = models.TextField(blank=True, editable=False)
    credential_last4 = models.CharField(max_length=4, blank=True, editable=False)
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="Leave blank to use the provider's own address. A private or loopback address is rejected "
        "unless its host is in M3O_UPSTREAM_ALLOWED_HOSTS.",
    )
    # Endpoint name -> seconds an answer is served from the cache; absent or 0 is not cached.
    cache_seconds = models.JSONField(default=dict, blank=True)
    connect_timeout_ms = models.PositiveIntegerField(default=3_000)
    read_timeout_ms = models.PositiveIntegerField(default=10_000)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = "service provider"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(connect_timeout_ms__gte=100, connect_timeout_ms__lte=60_000),
                name="providers_connect_timeout_range",
            ),
            models.CheckConstraint(
                condition=models.Q(read_timeout_ms__gte=100, read_timeout_ms__lte=120_000),
                name="providers_read_timeout_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.slug} → {self.provider}"

    @property
    def has_credential(self) -> bool:
        return bool(self.credential_encrypted)

"""Gateway storage: responses to calls sent with an Idempotency-Key."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accounts.models import Account, User


class IdempotencyRecord(models.Model):
    """The outcome of the first call with a given Idempotency-Key, replayed to repeats for 24 hours."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of service, endpoint and raw body: a repeat must send the same request.
    request_hash = models.CharField(max_length=64)
    request_id = models.CharField(max_length=64)
    # Null while the first call is still running.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(default=b"")
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="services_idempotency_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.request_id})"


class PlaygroundRun(models.Model):
    """A call a user ran in the playground, kept so they can run it again (the last 50 per user)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    service = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    request_body = models.TextField()
    status_code = models.PositiveSmallIntegerField()
    request_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="services_playground_user_time")]

    def __str__(self) -> str:
        return f"{self.service}/{self.endpoint} {self.status_code}"

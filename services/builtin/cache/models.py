from __future__ import annotations

from django.db import models


class CacheEntry(models.Model):
    """One cached value, under a key the account chose."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=512)
    value = models.TextField()
    # Null means the entry never expires.
    expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="builtin_cache_unique_account_key")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.key}"

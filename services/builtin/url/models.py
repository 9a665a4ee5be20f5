from __future__ import annotations

from django.db import models


class ShortURL(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # Unique across all accounts, because /u/<short_id> is one public namespace.
    short_id = models.CharField(max_length=64, unique=True)
    destination = models.URLField(max_length=2048)
    hits = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.short_id

from __future__ import annotations

from django.db import models


class Secret(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=512)
    # A Fernet token from catalog.crypto.encrypt; the plain value is never stored.
    value_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="builtin_secret_unique_account_key")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.key}"

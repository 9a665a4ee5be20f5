from __future__ import annotations

from django.db import models


class Record(models.Model):
    """One JSON record in one of an account's tables; a table exists while it has records."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    table = models.CharField(max_length=128)
    record_id = models.CharField(max_length=256)
    # The record as the caller sent it, with "id" set to record_id.
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "table", "record_id"], name="builtin_db_unique_record")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.table}/{self.record_id}"

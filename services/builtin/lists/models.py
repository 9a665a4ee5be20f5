from __future__ import annotations

from typing import Any

from django.db import models


class ItemList(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    list_id = models.CharField(max_length=256)
    name = models.CharField(max_length=1000, blank=True)
    items = models.JSONField(default=list)
    # The stored name and items as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "list_id"], name="builtin_lists_unique_list")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.list_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.list_id,
            "name": self.name,
            "items": list(self.items),
            "created": self.created_at.isoformat(),
            "updated": self.updated_at.isoformat(),
        }

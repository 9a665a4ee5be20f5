from __future__ import annotations

from django.db import models


class Note(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    note_id = models.CharField(max_length=256)
    title = models.CharField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "note_id"], name="builtin_notes_unique_note")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.note_id}"

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.note_id,
            "title": self.title,
            "text": self.text,
            "created": self.created_at.isoformat(),
            "updated": self.updated_at.isoformat(),
        }

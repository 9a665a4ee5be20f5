from __future__ import annotations

from django.db import models


class Comment(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    comment_id = models.CharField(max_length=256)
    # What the comment is about, such as a page or a ticket; List can filter by it.
    subject = models.CharField(max_length=1000, blank=True)
    text = models.TextField(blank=True)
    # The stored subject and text as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "comment_id"], name="builtin_comments_unique_comment")
        ]
        indexes = [models.Index(fields=["account", "subject", "created_at"], name="builtin_comments_subject")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.comment_id}"

    def as_dict(self) -> dict[str, str]:
        return {
            "id": self.comment_id,
            "subject": self.subject,
            "text": self.text,
            "created": self.created_at.isoformat(),
            "updated": self.updated_at.isoformat(),
        }

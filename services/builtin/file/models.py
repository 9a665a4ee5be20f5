from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import models


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class FileSpace(models.Model):
    """The opaque id that scopes an account's public file URLs, created with its first public file.

    The URLs name this id rather than the account, so that they reveal
    nothing about the account and stay the same across saves.
    """

    account = models.OneToOneField("accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="+")
    public_id = models.CharField(max_length=32, unique=True, default=new_public_id)

    def __str__(self) -> str:
        return self.public_id


class StoredFile(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # A name that groups files, such as a website. It contains no slash.
    project = models.CharField(max_length=100)
    # Slash-separated and starting with a slash, such as /docs/readme.txt.
    path = models.CharField(max_length=400)
    content = models.TextField(blank=True)
    metadata = models.JSONField(default=dict)
    public = models.BooleanField(default=False)
    # The content's UTF-8 size plus the metadata as compact JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "project", "path"], name="builtin_file_unique_path")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.project}{self.path}"

    def url(self, public_id: str | None) -> str:
        """Return the file's public URL, or an empty string for a private file."""
        if not self.public or public_id is None:
            return ""
        return f"{settings.SITE_URL}/f/{public_id}/{quote(self.project, safe='')}{quote(self.path, safe='/')}"

    def as_dict(self, public_id: str | None, *, content: bool = True) -> dict[str, Any]:
        return {
            "project": self.project,
            "path": self.path,
            "content": self.content if content else "",
            "metadata": dict(self.metadata),
            "public": self.public,
            "url": self.url(public_id),
            "created": self.created_at.isoformat(),
            "updated": self.updated_at.isoformat(),
        }

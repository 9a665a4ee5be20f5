from __future__ import annotations

from typing import Any

from django.db import models


class SearchIndex(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # Any characters: the name is only ever compared as a value, within the account.
    name = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="builtin_search_unique_index")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "created": self.created_at.isoformat()}


class SearchDocument(models.Model):
    """A JSON record in an index, returned as stored when a search finds it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    index = models.ForeignKey(SearchIndex, on_delete=models.CASCADE, related_name="documents")
    doc_id = models.CharField(max_length=256)
    data = models.JSONField()
    # The size of the JSON the caller sent, counted against the plan's storage cap.
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["index", "doc_id"], name="builtin_search_unique_document")]

    def __str__(self) -> str:
        return self.doc_id

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.doc_id, "data": self.data}


class SearchField(models.Model):
    """One searchable value of a document: its dotted path and its words, lower-cased and space-separated.

    The full-text index over ``text`` is backend-specific and created by migration 0002:
    a GIN expression index on PostgreSQL, an FTS5 table kept in step by triggers on SQLite.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="fields")
    path = models.CharField(max_length=1000)
    text = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["document", "path"], name="builtin_search_field_path")]

    def __str__(self) -> str:
        return self.path

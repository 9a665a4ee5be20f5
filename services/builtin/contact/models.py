from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.functions import Lower

# The repeated details of a contact, each a JSON list of {"label": ..., <value field>: ...}.
DETAIL_FIELDS = {
    "phones": "number",
    "emails": "address",
    "links": "url",
    "addresses": "location",
    "social_medias": "username",
}


class Contact(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    contact_id = models.CharField(max_length=256)
    name = models.CharField(max_length=1000)
    phones = models.JSONField(default=list)
    emails = models.JSONField(default=list)
    links = models.JSONField(default=list)
    addresses = models.JSONField(default=list)
    social_medias = models.JSONField(default=list)
    birthday = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    # The stored contact as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "contact_id"], name="builtin_contact_unique_contact")
        ]
        # List pages through contacts by name, ignoring case.
        indexes = [models.Index("account", Lower("name"), name="builtin_contact_name")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.contact_id}"

    def details(self) -> dict[str, Any]:
        """Return what the caller stored, without the id and times."""
        return {
            "name": self.name,
            **{field: list(getattr(self, field)) for field in DETAIL_FIELDS},
            "birthday": self.birthday.isoformat() if self.birthday else "",
            "note": self.note,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.contact_id,
            **self.details(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }

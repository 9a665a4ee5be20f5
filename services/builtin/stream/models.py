from __future__ import annotations

from typing import Any

from django.db import models


class Channel(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=1000, blank=True)
    # The stored name and description as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="builtin_stream_unique_channel")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "created": self.created_at.isoformat()}


class Message(models.Model):
    # The account is repeated from the channel so that the caps count an account's messages without a join.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=36, unique=True)
    text = models.TextField()
    # The stored text as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "created_at"], name="builtin_stream_msg_order")]

    def __str__(self) -> str:
        return self.message_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "channel": self.channel.name,
            "text": self.text,
            "timestamp": self.created_at.isoformat(),
        }

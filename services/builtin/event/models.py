"""Durable topics: numbered messages per topic, and each consumer group's position."""

from __future__ import annotations

from django.db import models


class Topic(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=128)
    # The offset of the newest message; messages are numbered 1, 2, 3... per topic.
    last_offset = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="builtin_event_unique_topic")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.name}"


class Message(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="messages")
    offset = models.BigIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "offset"], name="builtin_event_unique_offset")]

    def as_dict(self) -> dict[str, object]:
        return {
            "topic": self.topic.name,
            "offset": self.offset,
            "message": self.payload,
            "timestamp": self.created_at.isoformat(),
        }


class Group(models.Model):
    """A consumer group: every message of the topic goes to one of its consumers, once."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=128)
    # The offset of the next message the group gets.
    next_offset = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "name"], name="builtin_event_unique_group")]

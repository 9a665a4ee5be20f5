"""Chat rooms, their members and their messages.

A member is a user id chosen by the caller (the caller's own users), not a
platform user: the account owns every room, and its members are who may send
to a room and join its live stream.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class Room(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    room_id = models.CharField(max_length=256)
    name = models.CharField(max_length=1000)
    description = models.CharField(max_length=10_000, blank=True)
    # The stored name, description and member ids as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "room_id"], name="builtin_chat_unique_room")]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.room_id}"

    def as_dict(self, user_ids: list[str]) -> dict[str, Any]:
        return {
            "id": self.room_id,
            "name": self.name,
            "description": self.description,
            "user_ids": user_ids,
            "created": self.created_at.isoformat(),
        }


class Member(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user_id = models.CharField(max_length=256)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user_id"], name="builtin_chat_unique_member")]

    def __str__(self) -> str:
        return f"{self.room_id}:{self.user_id}"


class Message(models.Model):
    # The account is repeated from the room so that the caps count an account's messages without a join.
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    message_id = models.CharField(max_length=36, unique=True)
    # An id the sender chose to make a retried Send store the message once; empty when none was given.
    client = models.CharField(max_length=256, blank=True)
    user_id = models.CharField(max_length=256)
    subject = models.CharField(max_length=1000, blank=True)
    text = models.TextField()
    # The stored subject and text as compact UTF-8 JSON, counted against the plan's byte cap.
    size_bytes = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "client"], condition=~models.Q(client=""), name="builtin_chat_unique_client"
            )
        ]
        indexes = [models.Index(fields=["room", "id"], name="builtin_chat_msg_order")]

    def __str__(self) -> str:
        return self.message_id

    def as_dict(self, room_id: str) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "client": self.client,
            "room_id": room_id,
            "user_id": self.user_id,
            "subject": self.subject,
            "text": self.text,
            "sent": self.sent_at.isoformat(),
        }

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models.functions import Lower


def _unix(moment: dt.datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


class EndUser(models.Model):
    """A user of the caller's own app; nothing to do with the platform's users."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # The id callers use: a UUID unless they chose one at creation.
    user_id = models.CharField(max_length=256)
    username = models.CharField(max_length=128)
    email = models.CharField(max_length=254)
    # A Django password hash (the platform's PASSWORD_HASHERS), never the password.
    password = models.CharField(max_length=256)
    verified = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    profile = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user_id"], name="builtin_user_unique_id"),
            # Usernames and emails are unique per account whatever their case, as sign-in ignores case.
            models.UniqueConstraint("account", Lower("username"), name="builtin_user_unique_username"),
            models.UniqueConstraint("account", Lower("email"), name="builtin_user_unique_email"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.user_id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "username": self.username,
            "email": self.email,
            "created": _unix(self.created_at),
            "updated": _unix(self.updated_at),
            "verified": self.verified,
            "verificationDate": _unix(self.verified_at),
            "profile": self.profile,
        }


class EndUserSession(models.Model):
    """A signed-in session. The caller keeps the session id, and only its SHA-256 is stored."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(EndUser, on_delete=models.CASCADE, related_name="sessions")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"session {self.pk} of {self.user_id}"

    def as_dict(self, session_id: str) -> dict[str, Any]:
        return {
            "id": session_id,
            "userId": self.user.user_id,
            "created": _unix(self.created_at),
            "expires": _unix(self.expires_at),
        }


class EndUserToken(models.Model):
    """A single-use secret sent by email: a verification link, a password reset code or a magic link.

    Only its SHA-256 is stored. ``used_at`` is set by a conditional UPDATE, so of two
    concurrent uses of one token exactly one succeeds.
    """

    class Purpose(models.TextChoices):
        VERIFY_EMAIL = "verify_email"  # proves the address, from SendVerificationEmail
        RESET_PASSWORD = "reset_password"  # allows one ResetPassword, from SendPasswordResetEmail
        MAGIC_LINK = "magic_link"  # signs in through VerifyToken, from SendMagicLink

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(EndUser, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    secret_hash = models.CharField(max_length=64, unique=True)
    # The address the token was sent to: a token stops working when the user's email changes.
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.purpose} token {self.pk}"

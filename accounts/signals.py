"""Signals accounts sends, and its receivers.

Other apps react to account events through these signals, so that accounts
depends on no other app (billing opens the wallet on ``account_created``).
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from accounts.models import Account, ApiKey, User

# Sent inside the transaction that creates an account; kwargs: account.
account_created = Signal()

# Sent inside the transaction that closes an account, so that every app
# deletes the data it stores for it; kwargs: account_id.
account_closed = Signal()


@receiver(post_save, sender=User, dispatch_uid="accounts_personal_account")
def create_personal_account(sender: type[User], instance: User, created: bool, raw: bool, **kwargs: Any) -> None:
    if created and not raw:
        from accounts.services import account_create_personal

        account_create_personal(user=instance)


@receiver(post_save, sender=ApiKey, dispatch_uid="accounts_key_saved")
@receiver(post_save, sender=Account, dispatch_uid="accounts_account_saved")
def invalidate_cached_keys(sender: type, instance: object, created: bool, **kwargs: Any) -> None:
    """Drop cached keys after a key or account is saved, because admin edits of scopes, expiry or status change who can call."""
    if not created:
        from accounts.authentication import auth_epoch_bump

        auth_epoch_bump()

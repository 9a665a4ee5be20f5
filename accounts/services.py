"""Writes for users, accounts and API keys."""

from __future__ import annotations

import datetime as dt

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.authentication import auth_epoch_bump
from accounts.keys import VISIBLE_PREFIX_LENGTH, generate_key, hash_key
from accounts.models import Account, ApiKey, AuditEvent, Membership, User
from accounts.signals import account_closed, account_created
from accounts.tasks import api_key_created_notify
from m3o_web.tasks import enqueue

logger = structlog.get_logger(__name__)

MAX_KEY_NAME_LENGTH = 100
MAX_ROTATION_GRACE = dt.timedelta(days=30)


class AccountDeletionError(Exception):
    """Raised when a user cannot be deleted yet. Its message is shown to the user."""


class KeyCreationError(Exception):
    """Raised when a key cannot be created. Its message is shown to the user."""


def account_create_personal(*, user: User) -> Account:
    with transaction.atomic():
        account = Account.objects.create(name=user.email, kind=Account.Kind.PERSONAL)
        Membership.objects.create(account=account, user=user, role=Membership.Role.OWNER)
        account_created.send(sender=Account, account=account)
    logger.info("Personal account created", account_id=account.pk, user_id=user.pk)
    return account


def user_has_verified_email(user: User) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def audit_record(*, account: Account | None, actor: User | None, action: str, target: str = "", **data: object) -> None:
    """Write an audit event; call it inside the transaction that makes the change."""
    AuditEvent.objects.create(account=account, actor=actor, action=action, target=target, data=data)


def _check_key_fields(*, name: str, scopes: list[str], expires_at: dt.datetime | None) -> str:
    name = name.strip()
    if not name:
        raise KeyCreationError("Give the key a name, for example the app that will use it.")
    if len(name) > MAX_KEY_NAME_LENGTH:
        raise KeyCreationError(f"The key name is too long: at most {MAX_KEY_NAME_LENGTH} characters.")
    if not scopes:
        raise KeyCreationError("Choose at least one service, or all services.")
    if expires_at is not None and expires_at <= timezone.now():
        raise KeyCreationError("The expiry date must be in the future.")
    return name


def _check_may_create_keys(*, account: Account, user: User) -> None:
    if not user_has_verified_email(user):
        raise KeyCreationError("Verify your email address before creating API keys.")
    if not account.is_active:
        raise KeyCreationError(f"This account is suspended: {account.status_message or 'contact support.'}")


def _insert_key(
    *, account: Account, name: str, scopes: list[str], created_by: User, expires_at: dt.datetime | None,
    rotated_from: ApiKey | None = None,
) -> tuple[ApiKey, str]:
    secret = generate_key()
    key = ApiKey.objects.create(
        account=account,
        name=name,
        prefix=secret[:VISIBLE_PREFIX_LENGTH],
        key_hash=hash_key(secret),
        scopes=sorted(set(scopes)),
        created_by=created_by,
        expires_at=expires_at,
        rotated_from=rotated_from,
    )
    # A broker outage loses only this notice; the key itself is created.
    transaction.on_commit(lambda: enqueue(api_key_created_notify, key.pk))
    return key, secret


def api_key_create(
    *, account: Account, name: str, scopes: list[str], created_by: User, expires_at: dt.datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret, which is never retrievable again."""
    name = _check_key_fields(name=name, scopes=scopes, expires_at=expires_at)
    _check_may_create_keys(account=account, user=created_by)

    with transaction.atomic():
        key, secret = _insert_key(
            account=account, name=name, scopes=scopes, created_by=created_by, expires_at=expires_at
        )
        audit_record(
            account=account, actor=created_by, action="api_key.created", target=f"api_key:{key.pk}",
            name=name, prefix=key.prefix, scopes=key.scopes,
            expires_at=expires_at.isoformat() if expires_at else None,
        )
    logger.info("API key created", key_id=key.pk, account_id=account.pk, user_id=created_by.pk)
    return key, secret


def api_key_rotate(*, key: ApiKey, actor: User, grace: dt.timedelta) -> tuple[ApiKey, str]:
    """Issue a replacement key; the old one keeps working for ``grace``, then stops.

    The new key has the old one's name, scopes and expiry. Rotating a revoked
    or expired key is refused.
    """
    if grace < dt.timedelta(0) or grace > MAX_ROTATION_GRACE:
        raise KeyCreationError("Choose a grace period between now and 30 days.")
    _check_may_create_keys(account=key.account, user=actor)

    with transaction.atomic():
        # Locking the old key makes two rotations of it at once run one after the other.
        old = ApiKey.objects.select_for_update().get(pk=key.pk)
        if not old.is_usable:
            raise KeyCreationError("This key is revoked or expired; create a new key instead.")
        now = timezone.now()
        new, secret = _insert_key(
            account=old.account, name=old.name, scopes=old.scopes, created_by=actor,
            expires_at=old.expires_at, rotated_from=old,
        )
        old_stops_at = now + grace
        if old.expires_at is None or old.expires_at > old_stops_at:
            old.expires_at = old_stops_at
            old.save(update_fields=["expires_at"])
        audit_record(
            account=old.account, actor=actor, action="api_key.rotated", target=f"api_key:{old.pk}",
            name=old.name, old_prefix=old.prefix, new_prefix=new.prefix, old_key_stops_at=old.expires_at.isoformat(),
        )
        auth_epoch_bump()
    logger.info("API key rotated", key_id=old.pk, new_key_id=new.pk, account_id=old.account_id)
    return new, secret


def api_key_send_created_notice(*, key_id: int) -> bool:
    """Email the key's creator that a key was created, at most once per key.

    A new key can spend the account's balance, so its creator hears about it
    even when someone else used their session. Returns whether an email went out.
    """
    marked = ApiKey.objects.filter(pk=key_id, notice_sent_at__isnull=True).update(notice_sent_at=timezone.now())
    if not marked:
        return False
    key = ApiKey.objects.select_related("account", "created_by").get(pk=key_id)
    if key.created_by is None:
        return False
    scopes = "all services" if ApiKey.ALL_SERVICES in key.scopes else ", ".join(key.scopes)
    try:
        send_mail(
            subject="[M3O] New API key created",
            message=(
                f"A new API key \"{key.name}\" ({key.prefix}…) was created for the account {key.account.name}, "
                f"with access to {scopes}.\n\n"
                f"If this was not you, revoke it now at {settings.SITE_URL}/keys/ and change your password."
            ),
            from_email=None,
            recipient_list=[key.created_by.email],
        )
    except Exception:
        # Release the claim so that the task's retry can send it.
        ApiKey.objects.filter(pk=key_id).update(notice_sent_at=None)
        raise
    logger.info("API key notice sent", key_id=key.pk, account_id=key.account_id)
    return True


def api_key_revoke(*, key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke a key; the next call made with it is rejected. Revoking twice is a no-op."""
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if updated:
            auth_epoch_bump()
            audit_record(
                account=key.account, actor=actor, action="api_key.revoked", target=f"api_key:{key.pk}",
                name=key.name, prefix=key.prefix,
            )
    key.refresh_from_db(fields=["revoked_at"])
    if updated:
        logger.info("API key revoked", key_id=key.pk, account_id=key.account_id)
    return key


def account_close(*, account: Account, actor: User | None) -> None:
    """Close an account: revoke its keys and delete its stored service data.

    Wallet, ledger, usage and invoice rows stay for accounting; they reference
    the account, which is kept with an anonymous name.
    """
    with transaction.atomic():
        now = timezone.now()
        revoked = ApiKey.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now)
        account.status = Account.Status.CLOSED
        account.status_message = "This account was closed by its owner."
        account.name = f"Closed account {account.pk}"
        account.save(update_fields=["status", "status_message", "name"])
        account_closed.send(sender=Account, account_id=account.pk)
        audit_record(account=account, actor=actor, action="account.closed", revoked_keys=revoked)
        auth_epoch_bump()
    logger.info("Account closed", account_id=account.pk, revoked_keys=revoked)


def user_delete(*, user: User) -> None:
    """Delete a user: close the accounts only they belong to, leave the others, anonymise the user.

    A sole owner of an account that has other members must hand ownership
    over first, so that no team is left without an owner.
    """
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount
    from allauth.usersessions.models import UserSession

    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        memberships = list(Membership.objects.select_related("account").filter(user=user))
        for membership in memberships:
            # Lock the team's memberships as member_leave does, so an owner leaving at the same
            # moment is counted after it commits rather than before.
            others = [
                other
                for other in Membership.objects.select_for_update().filter(account=membership.account).order_by("pk")
                if other.user_id != user.pk
            ]
            is_last_owner = membership.role == Membership.Role.OWNER and not any(
                other.role == Membership.Role.OWNER for other in others
            )
            if others and is_last_owner:
                raise AccountDeletionError(
                    f"You are the only owner of {membership.account.name}. Make another member an owner first."
                )
        for membership in memberships:
            if not Membership.objects.filter(account=membership.account).exclude(user=user).exists():
                account_close(account=membership.account, actor=user)
                # Security events keep their actions, but not addresses or names.
                AuditEvent.objects.filter(account=membership.account).update(data={})
            else:
                audit_record(account=membership.account, actor=user, action="member.left")
            membership.delete()

        EmailAddress.objects.filter(user=user).delete()
        SocialAccount.objects.filter(user=user).delete()
        Authenticator.objects.filter(user=user).delete()
        for session in UserSession.objects.filter(user=user):
            session.end()
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.name = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.set_unusable_password()
        user.save()
    logger.info("User deleted", user_id=user.pk)

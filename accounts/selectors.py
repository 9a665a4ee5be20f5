"""Reads for accounts and API keys."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Account, ApiKey, AuditEvent, Invitation, Membership, User

SESSION_ACCOUNT_KEY = "m3o_account_id"


def membership_for_request(request: HttpRequest) -> Membership | None:
    """Return the signed-in user's membership in the account the session has selected.

    Falls back to the user's personal account, then to any account they belong to.
    """
    user = request.user
    if not isinstance(user, User):
        return None
    memberships = (
        Membership.objects.select_related("account").filter(user=user).exclude(account__status=Account.Status.CLOSED)
    )
    selected = request.session.get(SESSION_ACCOUNT_KEY)
    if selected is not None:
        membership = memberships.filter(account_id=selected).first()
        if membership:
            return membership
    return (
        memberships.filter(account__kind=Account.Kind.PERSONAL).first()
        or memberships.order_by("created_at").first()
    )


def membership_select(request: HttpRequest, account_id: object) -> bool:
    """Make ``account_id`` the session's current account if the user is a member; return whether it is."""
    user = request.user
    try:
        account_id = int(str(account_id))
    except ValueError:
        return False
    if not isinstance(user, User) or not Membership.objects.filter(user=user, account_id=account_id).exists():
        return False
    request.session[SESSION_ACCOUNT_KEY] = account_id
    return True


def memberships_of_user(user: User) -> list[Membership]:
    """Return the user's memberships, personal account first, for the account switcher."""
    return list(
        Membership.objects.select_related("account")
        .filter(user=user)
        .exclude(account__status=Account.Status.CLOSED)
        .order_by("account__kind", "account__name", "account_id")
    )


def members_of_account(account: Account) -> list[Membership]:
    return list(Membership.objects.select_related("user").filter(account=account).order_by("created_at", "pk"))


def pending_invitations(account: Account) -> list[Invitation]:
    return list(
        Invitation.objects.select_related("invited_by")
        .filter(account=account, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
    )


def api_keys_for_account(account: Account) -> list[ApiKey]:
    return list(ApiKey.objects.filter(account=account).order_by("revoked_at", "-created_at"))


def audit_events_for_account(account: Account) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(account=account).select_related("actor").order_by("-created_at", "-id")

"""Reads for accounts and API keys."""

from __future__ import annotations

from django.http import HttpRequest

from django.db.models import QuerySet

from accounts.models import Account, ApiKey, AuditEvent, Membership, User

SESSION_ACCOUNT_KEY = "m3o_account_id"


def membership_for_request(request: HttpRequest) -> Membership | None:
    """Return the signed-in user's membership in the account the session has selected.

    Falls back to the user's personal account, then to any account they belong to.
    """
    user = request.user
    if not isinstance(user, User):
        return None
    memberships = Membership.objects.select_related("account").filter(user=user)
    selected = request.session.get(SESSION_ACCOUNT_KEY)
    if selected is not None:
        membership = memberships.filter(account_id=selected).first()
        if membership:
            return membership
    return (
        memberships.filter(account__kind=Account.Kind.PERSONAL).first()
        or memberships.order_by("created_at").first()
    )


def api_keys_for_account(account: Account) -> list[ApiKey]:
    return list(ApiKey.objects.filter(account=account).order_by("revoked_at", "-created_at"))


def audit_events_for_account(account: Account) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(account=account).select_related("actor").order_by("-created_at", "-id")

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from accounts.permissions import permissions_of
from accounts.selectors import membership_for_request, memberships_of_user


def current_account(request: HttpRequest) -> dict[str, Any]:
    """Expose the account the dashboard is showing, the user's role in it and the accounts they can switch to."""
    if not hasattr(request, "user") or not request.user.is_authenticated:
        return {"social_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS)}
    membership = getattr(request, "_m3o_membership", None) or membership_for_request(request)
    request._m3o_membership = membership  # type: ignore[attr-defined]
    return {
        "current_membership": membership,
        "current_account": membership.account if membership else None,
        "current_permissions": {str(permission) for permission in permissions_of(membership)} if membership else set(),
        # Lazy: only pages that render the switcher pay for the query.
        "account_memberships": SimpleLazyObject(lambda: memberships_of_user(request.user)),  # type: ignore[arg-type]
        "social_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS),
    }

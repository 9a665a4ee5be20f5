from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accounts.selectors import membership_for_request


def current_account(request: HttpRequest) -> dict[str, Any]:
    """Expose the account the dashboard is showing as ``current_account``."""
    if not hasattr(request, "user") or not request.user.is_authenticated:
        return {"social_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS)}
    membership = getattr(request, "_m3o_membership", None) or membership_for_request(request)
    request._m3o_membership = membership  # type: ignore[attr-defined]
    return {
        "current_membership": membership,
        "current_account": membership.account if membership else None,
        "social_enabled": bool(settings.SOCIALACCOUNT_PROVIDERS),
    }

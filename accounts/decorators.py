from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Membership
from accounts.permissions import PERMISSION_NAMES, VIEW_PERMISSIONS, Permission, has_permission
from accounts.selectors import membership_for_request, membership_select
from m3o_web.errors import Forbidden, NotFound, error_response

View = Callable[..., HttpResponse]


def with_membership(view: View) -> View:
    """Require a signed-in member whose role has the permission VIEW_PERMISSIONS gives this view.

    ``?account=<id>`` selects that account first, so a link can name the account
    it shows; an account the user is not a member of is a 404, revealing nothing.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        requested = request.GET.get("account")
        if requested is not None and not membership_select(request, requested):
            if _wants_json(request):
                return error_response(NotFound("No such account.", error_id="v1.account_not_found"))
            raise Http404("No such account.")
        membership: Membership | None = membership_for_request(request)
        if membership is None:
            if _wants_json(request):
                return error_response(Forbidden("You are not a member of any account.", error_id="v1.role"))
            return HttpResponse("You are not a member of any account.", status=403)
        url_name = request.resolver_match.url_name if request.resolver_match else None
        permission = VIEW_PERMISSIONS.get(url_name or "")
        if permission is None:
            raise ImproperlyConfigured(f"The view {url_name!r} is not listed in accounts.permissions.VIEW_PERMISSIONS.")
        if not has_permission(membership, permission):
            return _forbidden(request, membership, permission)
        request._m3o_membership = membership  # type: ignore[attr-defined]
        return view(request, membership, *args, **kwargs)

    wrapper.m3o_membership_view = True  # type: ignore[attr-defined]
    return wrapper


def _wants_json(request: HttpRequest) -> bool:
    """Return whether the request came from a script that reads the error envelope, not a page."""
    return "application/json" in request.headers.get("Accept", "") or request.content_type == "application/json"


def _forbidden(request: HttpRequest, membership: Membership, permission: Permission) -> HttpResponse:
    message = (
        f"Your role in {membership.account.name} is {membership.role}, which cannot {PERMISSION_NAMES[permission]}. "
        "Ask an owner of the account to change your role."
    )
    if _wants_json(request):
        return error_response(Forbidden(message, error_id="v1.role"))
    request._m3o_membership = membership  # type: ignore[attr-defined]
    return render(request, "accounts/forbidden.html", {"message": message}, status=403)

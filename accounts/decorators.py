from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from accounts.models import Membership
from accounts.selectors import membership_for_request

View = Callable[..., HttpResponse]


def with_membership(view: View) -> View:
    """Require a signed-in user and pass their membership in the current account."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership: Membership | None = membership_for_request(request)
        if membership is None:
            return HttpResponse("You are not a member of any account.", status=403)
        request._m3o_membership = membership  # type: ignore[attr-defined]
        return view(request, membership, *args, **kwargs)

    return wrapper

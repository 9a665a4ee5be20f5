"""Middleware wrappers that step aside for the /v1 API gateway.

The gateway authenticates each request with an API key, so loading a session,
checking a CSRF token, resolving request.user or reading flash messages would
only cost time on the hot path. These subclasses pass /v1 requests straight on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.usersessions.middleware import UserSessionsMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware

def is_api_request(request: HttpRequest) -> bool:
    """True for /v1 and everything under it, in any case and with extra leading slashes."""
    path = request.path_info.lstrip("/").lower()
    return path == "v1" or path.startswith("v1/")


class _ApiBypass:
    # Only the synchronous path is wrapped; the platform runs under WSGI.
    async_capable = False
    sync_capable = True
    get_response: Callable[[HttpRequest], HttpResponse]

    def __call__(self, request: HttpRequest) -> Any:
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class ApiBypassSessionMiddleware(_ApiBypass, SessionMiddleware):
    pass


class ApiBypassCsrfViewMiddleware(_ApiBypass, CsrfViewMiddleware):
    def process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        # process_view is called by the handler, not by __call__.
        if is_api_request(request):
            return None
        return super().process_view(request, *args, **kwargs)


class ApiBypassAuthenticationMiddleware(_ApiBypass, AuthenticationMiddleware):
    pass


class ApiBypassMessageMiddleware(_ApiBypass, MessageMiddleware):
    pass


class ApiBypassUserSessionsMiddleware(_ApiBypass, UserSessionsMiddleware):
    pass

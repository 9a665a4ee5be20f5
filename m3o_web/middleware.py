"""Project middleware.

The ApiBypass* wrappers step aside for the /v1 API gateway: it authenticates
each request with an API key, so loading a session, checking a CSRF token,
resolving request.user or reading flash messages would only cost time on the
hot path. ComponentFailureMiddleware turns outages into 503 pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import redis
import structlog
from allauth.usersessions.middleware import UserSessionsMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from m3o_web.errors import ServiceUnavailable, error_response

logger = structlog.get_logger(__name__)


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
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError, AttributeError):
            # The session could not be loaded or saved because its store is
            # down; the response (a 503 page by then) goes out without it.
            if response.status_code != 503:
                raise
            return response


class ApiBypassAuthenticationMiddleware(_ApiBypass, AuthenticationMiddleware):
    pass


class ApiBypassMessageMiddleware(_ApiBypass, MessageMiddleware):
    pass


class ApiBypassUserSessionsMiddleware(_ApiBypass, UserSessionsMiddleware):
    pass


class ComponentFailureMiddleware:
    """Return 503 when the database or Redis is unreachable, instead of a 500 with a traceback.

    The gateway handles these failures itself; this covers the web pages,
    which need both (sessions in the database, sign-in rate limits in Redis).
    Failures inside other middleware reach handler500, which returns the same 503.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_component_failure(exception):
            return None
        logger.error("Request failed: component unavailable", path=request.path, error=str(exception))
        return component_unavailable(request)


def is_component_failure(exception: BaseException | None) -> bool:
    return isinstance(exception, OperationalError | InterfaceError | redis.ConnectionError | redis.TimeoutError)


def component_unavailable(request: HttpRequest) -> HttpResponse:
    """Build the 503 for an outage: the envelope on /v1, a plain page elsewhere that needs no database or session."""
    if is_api_request(request):
        return error_response(
            ServiceUnavailable("A platform component is unavailable. Retry shortly.", headers={"Retry-After": "5"})
        )
    # Rendered without the request, because context processors would read the session and user.
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


class RequestIdLogMiddleware:
    """Give each request an id, bind it to every log line written while handling it, and return it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        if "X-Request-Id" not in response:
            response["X-Request-Id"] = request_id
        return response

from __future__ import annotations

from collections.abc import Callable

import structlog
from allauth.socialaccount.models import SocialApp
from django.http import Http404, HttpRequest, HttpResponse

logger = structlog.get_logger(__name__)


class UnconfiguredProviderMiddleware:
    """Answer 404 for the sign-in URLs of a social provider that has no OAuth client configured.

    allauth serves every installed provider's URLs and raises SocialApp.DoesNotExist
    when the provider has no client, which would otherwise be a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SocialApp.DoesNotExist):
            return None
        logger.info("Sign-in with an unconfigured provider", path=request.path)
        raise Http404("This sign-in provider is not enabled on this platform.")

"""Project-wide views: the landing page and error handlers that speak JSON on /v1."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from m3o_web.errors import InternalError, NotFound, error_response
from m3o_web.middleware import component_unavailable, is_api_request, is_component_failure


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any /v1 path that is not /v1/<service>/<endpoint>."""
    return error_response(
        NotFound(f"No API route {request.path}. Call POST /v1/<service>/<endpoint>.", error_id="v1.not_found")
    )


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_request(request):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its except block, so the exception is at hand.
    if is_component_failure(sys.exc_info()[1]):
        return component_unavailable(request)
    if is_api_request(request):
        return error_response(InternalError("The platform failed to handle this request. Try again shortly."))
    return defaults.server_error(request)

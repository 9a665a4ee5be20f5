"""The in-browser playground: pick an endpoint, edit a request, run it as the signed-in account.

A run goes through the gateway's own pipeline (execute_call) with the
current account standing in for an API key: scopes, rate limits,
validation, pricing and charging all apply, and the usage event is marked
as coming from the playground.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import with_membership
from accounts.models import Membership
from accounts.selectors import membership_for_request
from accounts.services import user_has_verified_email
from billing.models import UsageEvent
from catalog.reference import snippets
from catalog.services import ExampleRejected, endpoint_example_add
from catalog.selectors import endpoint_for_call, services_listed
from m3o_web.errors import ApiError, BadRequest, Forbidden, NotFound, error_response
from services.gateway import ENDPOINT_NAME, SERVICE_NAME, execute_call, route
from services.models import PlaygroundRun
from services.playground_access import (
    TICKET_MAX_AGE_SECONDS,
    TICKET_SUBPROTOCOL,
    playground_caller,
    run_refusal,
    stream_ticket_issue,
)

HISTORY_LENGTH = 50
MAX_SHARED_REQUEST_CHARS = 4_000


def _initial_request(request: HttpRequest, examples: list[Any]) -> str:
    """Return the request for the editor: a shared one from ?request=, else the first example, else {}."""
    shared = request.GET.get("request", "")
    if shared and len(shared) <= MAX_SHARED_REQUEST_CHARS:
        try:
            parsed = json.loads(shared)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return json.dumps(parsed, indent=2)
    for example in examples:
        if isinstance(example, dict) and isinstance(example.get("request"), dict):
            return json.dumps(example["request"], indent=2)
    return "{}"


@require_GET
def playground(request: HttpRequest, service: str = "", endpoint: str = "") -> HttpResponse:
    """Show the playground. Signed-out visitors can read and edit requests; running needs an account."""
    membership = membership_for_request(request) if request.user.is_authenticated else None
    services = list(services_listed())
    if not services:
        raise Http404("No services are published yet.")
    if not service:
        first = services[0]
        service, endpoint = first.slug, first.endpoints.all()[0].name
    selected = None
    if SERVICE_NAME.fullmatch(service) and ENDPOINT_NAME.fullmatch(endpoint):
        selected = endpoint_for_call(service_slug=service, endpoint_name=endpoint)
    if selected is None:
        raise Http404(f"No endpoint {service[:64]}/{endpoint[:64]}.")

    initial = _initial_request(request, selected.examples)
    try:
        snippet_request = json.loads(initial)
    except ValueError:
        snippet_request = {}
    history = PlaygroundRun.objects.filter(user=request.user)[:HISTORY_LENGTH] if membership else []
    context = {
        "services": services,
        "selected": selected,
        "initial_request": initial,
        "request_schema": json.dumps(selected.request_schema, indent=2),
        "snippets": snippets(
            base_url=settings.SITE_URL,
            service=selected.service.slug,
            endpoint=selected.name,
            request=snippet_request,
            fields=(selected.request_schema.get("properties") or {}).keys(),
        ),
        "history": history,
        "can_save_example": membership is not None and request.user.is_staff,
        "signed_in": membership is not None,
        "request_schema_json": selected.request_schema,
        "can_run": membership is not None
        and membership.can_manage_keys
        and user_has_verified_email(request.user),  # type: ignore[arg-type]
    }
    return render(request, "services/playground.html", context)


@require_POST
@with_membership
def playground_run(request: HttpRequest, membership: Membership, service: str, endpoint: str) -> HttpResponse:
    refusal = run_refusal(membership)
    if refusal is not None:
        return error_response(refusal)

    response = execute_call(
        request, service, endpoint, caller=playground_caller(membership), source=UsageEvent.Source.PLAYGROUND
    )

    _remember(membership, service, endpoint, request.body, response)
    return response


@require_POST
@with_membership
def playground_stream_ticket(
    request: HttpRequest, membership: Membership, service: str, endpoint: str
) -> HttpResponse:
    """Issue a ticket to open one stream of the endpoint over WebSocket as this member (see playground_access)."""
    refusal = run_refusal(membership)
    if refusal is not None:
        return error_response(refusal)
    try:
        selected = route(service, endpoint)
    except ApiError as error:
        return error_response(error)
    if not selected.streaming:
        return error_response(
            BadRequest(
                f"{selected.service.slug}/{selected.name} is not a stream. Run it with the Run button instead.",
                error_id="v1.not_a_stream",
            )
        )
    if not request.session.session_key:
        request.session.save()
    session_key = request.session.session_key or ""
    ticket = stream_ticket_issue(membership=membership, session_key=session_key, endpoint=selected)
    return JsonResponse(
        {
            "ticket": ticket,
            "subprotocol": TICKET_SUBPROTOCOL + ticket,
            "path": f"/v1/{selected.service.slug}/{selected.name}",
            "expires_in": TICKET_MAX_AGE_SECONDS,
        },
        headers={"Cache-Control": "no-store"},
    )


def _remember(membership: Membership, service: str, endpoint: str, body: bytes, response: HttpResponse) -> None:
    """Keep the run in the user's history if it reached an endpoint, dropping runs past the last 50."""
    if response.status_code == 404 or len(body) > MAX_SHARED_REQUEST_CHARS:
        return
    PlaygroundRun.objects.create(
        user=membership.user,
        account=membership.account,
        service=service.lower()[:64],
        endpoint=endpoint[:64],
        request_body=body.decode("utf-8", errors="replace"),
        status_code=response.status_code,
        request_id=response.get("X-Request-Id", ""),
    )
    stale = PlaygroundRun.objects.filter(user=membership.user).values_list("id", flat=True)[HISTORY_LENGTH:]
    PlaygroundRun.objects.filter(id__in=list(stale)).delete()


@require_POST
@with_membership
def playground_save_example(request: HttpRequest, membership: Membership, service: str, endpoint: str) -> HttpResponse:
    """Add the request and response of a run to the endpoint's catalog examples (operators only)."""
    if not request.user.is_staff:
        return error_response(Forbidden("Only operators can save examples.", error_id="v1.operator_only"))
    selected = None
    if SERVICE_NAME.fullmatch(service) and ENDPOINT_NAME.fullmatch(endpoint):
        selected = endpoint_for_call(service_slug=service, endpoint_name=endpoint)
    if selected is None:
        return error_response(NotFound(f"No endpoint {service[:64]}/{endpoint[:64]}."))
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        endpoint_example_add(
            endpoint=selected,
            title=str(payload.get("title", "")),
            request=payload.get("request"),
            response=payload.get("response"),
        )
    except (ValueError, RecursionError):
        return error_response(BadRequest('Send {"title", "request", "response"} as a JSON object.'))
    except ExampleRejected as exc:
        return error_response(BadRequest(f"The example does not match the endpoint's schemas: {exc}"))
    return JsonResponse({"saved": True, "examples": len(selected.examples)})

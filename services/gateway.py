"""The gateway: ``POST /v1/<service>/<endpoint>``, the product's hot path.

Steps: route, authenticate, authorize, parse and validate, reserve the price,
dispatch, settle, respond. Any step may raise an ApiError, which is rendered
in the error envelope and never charged.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.models import ApiKey
from accounts.selectors import api_key_for_secret
from accounts.services import api_key_touch
from billing.metering import CallRecord, InsufficientCredit, get_meter
from catalog.models import Endpoint, Service
from catalog.selectors import endpoint_for_call
from m3o_web.errors import (
    ApiError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PaymentRequired,
    Unauthorized,
    error_response,
)
from services import registry
from services.credentials import key_from_authorization
from services.kit import CallContext
from services.payload import parse_body, read_body, validate_body
from services.upstream import upstream_call

logger = structlog.get_logger(__name__)

# Names that can exist at all; anything else is a 404 before any database query.
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def format_usd(units: int) -> str:
    return f"US${units / 1_000_000:.6f}"


@csrf_exempt
def gateway(request: HttpRequest, service: str, endpoint: str) -> HttpResponse:
    request_id = uuid.uuid4().hex
    started = time.perf_counter()
    call = _Call(request=request, request_id=request_id, started=started)
    try:
        response = call.run(service, endpoint)
    except ApiError as error:
        response = error_response(error)
        call.settle(status_code=error.code, response=response)
    except Exception:
        logger.exception("Gateway call failed", request_id=request_id, service=service, endpoint=endpoint)
        error = InternalError(
            f"The call failed inside the platform and was not charged. Quote request id {request_id} to support."
        )
        response = error_response(error)
        call.settle(status_code=error.code, response=response)
    response["X-Request-Id"] = request_id
    return response


class _Call:
    """One gateway call's state between steps, so errors can still be settled."""

    def __init__(self, *, request: HttpRequest, request_id: str, started: float) -> None:
        self.request = request
        self.request_id = request_id
        self.started = started
        self.key: ApiKey | None = None
        self.endpoint: Endpoint | None = None
        self.price_units = 0
        self.reserved = False
        self.settled = False

    def run(self, service_slug: str, endpoint_name: str) -> HttpResponse:
        endpoint = self.endpoint = self._route(service_slug, endpoint_name)
        if self.request.method != "POST":
            raise MethodNotAllowed(
                f"{self.request.method} is not allowed; call endpoints with POST and a JSON body.",
                headers={"Allow": "POST"},
            )
        self.key = self._authenticate()
        self._authorize(self.key, endpoint)

        raw = read_body(self.request, max_bytes=settings.M3O_MAX_BODY_BYTES)
        body = parse_body(raw, max_bytes=settings.M3O_MAX_BODY_BYTES, max_depth=settings.M3O_MAX_JSON_DEPTH)
        validate_body(body, endpoint.request_schema)

        self._reserve(endpoint.price_units)
        result = self._dispatch(endpoint, body)

        # allow_nan=False: a handler's NaN would otherwise go out as invalid JSON and be charged.
        response = HttpResponse(json.dumps(result, allow_nan=False), content_type="application/json")
        self.settle(status_code=200, response=response)
        return response

    def _route(self, service_slug: str, endpoint_name: str) -> Endpoint:
        endpoint = None
        if SERVICE_NAME.fullmatch(service_slug) and ENDPOINT_NAME.fullmatch(endpoint_name):
            endpoint = endpoint_for_call(service_slug=service_slug, endpoint_name=endpoint_name)
        if endpoint is None:
            raise NotFound(
                f"No endpoint {service_slug[:64]}/{endpoint_name[:64]}. See {settings.SITE_URL}/explore/ for the services "
                "and their endpoints.",
                error_id="v1.not_found",
            )
        return endpoint

    def _authenticate(self) -> ApiKey:
        secret = key_from_authorization(self.request.headers.get("Authorization", ""))
        if not secret:
            raise Unauthorized(
                "Missing API key. Send it as 'Authorization: Bearer <key>'; "
                f"create one at {settings.SITE_URL}/keys/.",
                error_id="v1.missing_key",
            )
        key = api_key_for_secret(secret)
        if key is None:
            raise Unauthorized(
                f"Invalid API key. Check the key, or create a new one at {settings.SITE_URL}/keys/.",
                error_id="v1.invalid_key",
            )
        if key.is_revoked:
            raise Unauthorized(
                f"This API key ({key.prefix}…) was revoked. Create a new one at {settings.SITE_URL}/keys/.",
                error_id="v1.key_revoked",
            )
        if key.is_expired():
            raise Unauthorized(
                f"This API key ({key.prefix}…) has expired. Create a new one at {settings.SITE_URL}/keys/.",
                error_id="v1.key_expired",
            )
        api_key_touch(key=key, resolution_seconds=settings.M3O_KEY_LAST_USED_RESOLUTION_SECONDS)
        return key

    def _authorize(self, key: ApiKey, endpoint: Endpoint) -> None:
        account = key.account
        if not account.is_active:
            message = account.status_message or "Contact support to restore access."
            raise Forbidden(f"This account is suspended: {message}", error_id="v1.account_suspended")
        if not key.allows_service(endpoint.service.slug):
            raise Forbidden(
                f"This API key may not call the {endpoint.service.slug} service. Use a key whose scopes "
                f"include it, or create one at {settings.SITE_URL}/keys/.",
                error_id="v1.key_scope",
            )

    def _reserve(self, price_units: int) -> None:
        assert self.key is not None
        try:
            get_meter().reserve(account_id=self.key.account_id, request_id=self.request_id, price_units=price_units)
        except InsufficientCredit as exc:
            raise PaymentRequired(
                f"Insufficient credit: this call costs {price_units} units ({format_usd(price_units)}) and the "
                f"balance is {exc.balance_units} units ({format_usd(exc.balance_units)}). "
                f"Add funds at {settings.SITE_URL}/billing/.",
                headers={"X-M3O-Balance": str(exc.balance_units)},
            ) from None
        self.price_units = price_units
        self.reserved = True

    def _dispatch(self, endpoint: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        assert self.key is not None
        if endpoint.service.backend == Service.Backend.UPSTREAM:
            return upstream_call(endpoint=endpoint, body=body, request_id=self.request_id)
        service = registry.get(endpoint.service.slug)
        builtin_endpoint = service.endpoint(endpoint.name) if service else None
        if builtin_endpoint is None:
            raise NotFound(
                f"The {endpoint.service.slug} service has no handler for {endpoint.name} on this platform.",
                error_id="v1.not_implemented",
            )
        context = CallContext(
            account_id=self.key.account_id,
            request_id=self.request_id,
            service=endpoint.service.slug,
            endpoint=endpoint.name,
            body=body,
        )
        return builtin_endpoint.handler(context)

    def settle(self, *, status_code: int, response: HttpResponse) -> None:
        """Charge or release the reservation and record the call; only calls with a known key are recorded."""
        if self.key is None or self.settled:
            return
        self.settled = True
        record = CallRecord(
            request_id=self.request_id,
            account_id=self.key.account_id,
            api_key_id=self.key.pk,
            service=self.endpoint.service.slug if self.endpoint else "",
            endpoint=self.endpoint.name if self.endpoint else "",
            status_code=status_code,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
        )
        settlement = get_meter().settle(record=record, price_units=self.price_units if self.reserved else 0)
        response["X-M3O-Cost"] = str(settlement.charged_units)
        response["X-M3O-Balance"] = str(settlement.balance_units)

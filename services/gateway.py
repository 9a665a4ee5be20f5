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
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import KeyState, key_cache
from billing.metering import CallRecord, InsufficientCredit, get_meter, is_chargeable
from billing.quotas import FreeCall, call_cost, free_call_return
from catalog.models import Endpoint, Service
from catalog.selectors import endpoint_for_call
from m3o_web.metrics import record_call
from m3o_web.money import dollars
from m3o_web.errors import (
    ApiError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PaymentRequired,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    error_response,
)
from services import registry
from services import idempotency
from services.credentials import key_from_authorization
from services.kit import CallContext
from services.payload import parse_body, read_body, validate_body
from services.ratelimit import Decision, default_limits, get_rate_limiter
from services.upstream import upstream_call

logger = structlog.get_logger(__name__)

# Names that can exist at all; anything else is a 404 before any database query.
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def format_usd(units: int) -> str:
    return f"US${dollars(units):.6f}"


@csrf_exempt
def gateway(request: HttpRequest, service: str, endpoint: str) -> HttpResponse:
    return execute_call(request, service, endpoint)


def execute_call(
    request: HttpRequest, service: str, endpoint: str, *, caller: KeyState | None = None, source: str = "api"
) -> HttpResponse:
    """Run one call through the whole pipeline and return its response.

    ``caller`` replaces the API key for callers authenticated another way
    (the playground passes the signed-in account); every other step is the same.
    """
    # RequestIdLogMiddleware gave the request its id and bound it to the logs.
    request_id = getattr(request, "request_id", None) or uuid.uuid4().hex
    started = time.perf_counter()
    call = _Call(request=request, request_id=request_id, started=started, caller=caller, source=source)
    try:
        response = call.run(service, endpoint)
    except ApiError as error:
        response = call.fail(error)
    except DatabaseError as exc:
        # The call was not charged: either the reservation failed, or the
        # settlement did and the hold is released by holds_release_expired.
        logger.error("Gateway call failed: database unavailable", request_id=request_id, error=str(exc))
        response = call.fail(
            ServiceUnavailable(
                "The platform's database is unavailable, so the call was not completed or charged. Retry shortly.",
                error_id="v1.database_unavailable",
                headers={"Retry-After": "5"},
            )
        )
    except Exception:
        logger.exception("Gateway call failed", request_id=request_id, service=service, endpoint=endpoint)
        response = call.fail(
            InternalError(
                f"The call failed inside the platform and was not charged. Quote request id {request_id} to support."
            )
        )
    if "X-Request-Id" not in response:  # a replayed response keeps the first call's id
        response["X-Request-Id"] = request_id
    try:
        call.finish_idempotency(response)
    except DatabaseError as exc:
        logger.error("Idempotency record not stored", request_id=request_id, error=str(exc))
    if call.rate_decision is not None:
        for name, value in call.rate_decision.headers().items():
            response[name] = value
    call.log(response)
    return response


# The steps below are functions so the streaming transport (services/streaming)
# runs the very same checks as a call.


def route(service_slug: str, endpoint_name: str) -> Endpoint:
    """Find the endpoint of ``/v1/<service>/<endpoint>``; 404 for anything else."""
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


def authenticate(authorization: str) -> KeyState:
    """Return the key named by an Authorization header value; 401 if it is missing or unusable."""
    secret = key_from_authorization(authorization)
    if not secret:
        raise Unauthorized(
            "Missing API key. Send it as 'Authorization: Bearer <key>'; "
            f"create one at {settings.SITE_URL}/keys/.",
            error_id="v1.missing_key",
        )
    key = key_cache.authenticate(secret)
    if key is None:
        raise Unauthorized(
            f"Invalid API key. Check the key, or create a new one at {settings.SITE_URL}/keys/.",
            error_id="v1.invalid_key",
        )
    check_key(key)
    return key


def check_key(key: KeyState) -> None:
    """401 if the key was revoked or has expired."""
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


def authorize(key: KeyState, endpoint: Endpoint) -> None:
    """403 unless the key's account is active and the key's scopes include the endpoint's service."""
    if not key.account_active:
        message = key.account_status_message or "Contact support to restore access."
        raise Forbidden(f"This account is suspended: {message}", error_id="v1.account_suspended")
    if not key.allows_service(endpoint.service.slug):
        raise Forbidden(
            f"This API key may not call the {endpoint.service.slug} service. Use a key whose scopes "
            f"include it, or create one at {settings.SITE_URL}/keys/.",
            error_id="v1.key_scope",
        )


def rate_limit(key: KeyState) -> tuple[Decision, TooManyRequests | None]:
    """Count one request against the key's and the account's limits; the error is set past them."""
    limits = default_limits()
    decision = get_rate_limiter().hit(key_id=key.key_id, account_id=key.account_id, limits=limits)
    if not decision.allowed:
        return decision, TooManyRequests(
            f"Rate limit reached: {decision.limit} calls per {limits.window_seconds} seconds. "
            f"Retry after {decision.reset_seconds} seconds.",
        )
    return decision, None


def reserve(*, account_id: int, request_id: str, price_units: int) -> None:
    """Hold the price against the account's balance; 402 when it does not fit."""
    try:
        get_meter().reserve(account_id=account_id, request_id=request_id, price_units=price_units)
    except InsufficientCredit as exc:
        raise PaymentRequired(
            f"Insufficient credit: this call costs {price_units} units ({format_usd(price_units)}) and the "
            f"balance is {exc.balance_units} units ({format_usd(exc.balance_units)}). "
            f"Add funds at {settings.SITE_URL}/billing/.",
            headers={"X-M3O-Balance": str(exc.balance_units)},
        ) from None


class _Call:
    """One gateway call's state between steps, so errors can still be settled."""

    def __init__(
        self, *, request: HttpRequest, request_id: str, started: float, caller: KeyState | None, source: str
    ) -> None:
        self.request = request
        self.caller = caller
        self.source = source
        self.request_id = request_id
        self.started = started
        self.key: KeyState | None = None
        self.endpoint: Endpoint | None = None
        self.price_units = 0
        self.reserved = False
        self.settled = False
        self.rate_decision: Decision | None = None
        self.idempotency_key: str | None = None
        self.handler_ran = False
        self.free_call: FreeCall | None = None

    def run(self, service_slug: str, endpoint_name: str) -> HttpResponse:
        endpoint = self.endpoint = self._route(service_slug, endpoint_name)
        if self.request.method != "POST":
            raise MethodNotAllowed(
                f"{self.request.method} is not allowed; call endpoints with POST and a JSON body.",
                headers={"Allow": "POST"},
            )
        self.key = self.caller or self._authenticate()
        self._authorize(self.key, endpoint)
        self._rate_limit(self.key)

        raw = read_body(self.request, max_bytes=settings.M3O_MAX_BODY_BYTES)
        body = parse_body(raw, max_bytes=settings.M3O_MAX_BODY_BYTES, max_depth=settings.M3O_MAX_JSON_DEPTH)
        validate_body(body, endpoint.request_schema)
        replay = self._claim_idempotency_key(service_slug, endpoint_name, raw)
        if replay is not None:
            return replay

        cost = call_cost(
            account_id=self.key.account_id,
            endpoint_id=endpoint.pk,
            price_units=endpoint.price_units,
            free_quota=endpoint.free_quota,
        )
        self.free_call = cost.free_call
        self._reserve(cost.units)
        result = self._dispatch(endpoint, body)

        # allow_nan=False: a handler's NaN would otherwise go out as invalid JSON and be charged.
        response = HttpResponse(json.dumps(result, allow_nan=False), content_type="application/json")
        self.settle(status_code=200, response=response)
        return response

    def _route(self, service_slug: str, endpoint_name: str) -> Endpoint:
        return route(service_slug, endpoint_name)

    def _authenticate(self) -> KeyState:
        return authenticate(self.request.headers.get("Authorization", ""))

    def _authorize(self, key: KeyState, endpoint: Endpoint) -> None:
        authorize(key, endpoint)

    def _claim_idempotency_key(self, service_slug: str, endpoint_name: str, raw: bytes) -> HttpResponse | None:
        header = self.request.headers.get("Idempotency-Key")
        if header is None:
            return None
        assert self.key is not None
        key = idempotency.check_key(header)
        replay = idempotency.claim(
            account_id=self.key.account_id,
            key=key,
            hash_value=idempotency.request_hash(service=service_slug, endpoint=endpoint_name, raw_body=raw),
            request_id=self.request_id,
        )
        if replay is None:
            self.idempotency_key = key
        return replay

    def finish_idempotency(self, response: HttpResponse) -> None:
        if self.idempotency_key is None or self.key is None:
            return
        idempotency.complete(
            account_id=self.key.account_id, key=self.idempotency_key, response=response, handler_ran=self.handler_ran
        )

    def _rate_limit(self, key: KeyState) -> None:
        self.rate_decision, error = rate_limit(key)
        if error is not None:
            raise error

    def _reserve(self, price_units: int) -> None:
        assert self.key is not None
        reserve(account_id=self.key.account_id, request_id=self.request_id, price_units=price_units)
        self.price_units = price_units
        self.reserved = True

    def _dispatch(self, endpoint: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        assert self.key is not None
        if endpoint.service.backend == Service.Backend.UPSTREAM:
            self.handler_ran = True
            return upstream_call(endpoint=endpoint, body=body, request_id=self.request_id)
        service = registry.get(endpoint.service.slug)
        builtin_endpoint = service.endpoint(endpoint.name) if service else None
        if builtin_endpoint is None:
            raise NotFound(
                f"The {endpoint.service.slug} service has no handler for {endpoint.name} on this platform.",
                error_id="v1.not_implemented",
            )
        self.handler_ran = True
        context = CallContext(
            account_id=self.key.account_id,
            request_id=self.request_id,
            service=endpoint.service.slug,
            endpoint=endpoint.name,
            body=body,
        )
        return builtin_endpoint.handler(context)

    def fail(self, error: ApiError) -> HttpResponse:
        """Render an error and release the call's reservation, if the database lets us."""
        response = error_response(error)
        try:
            self.settle(status_code=error.code, response=response)
        except DatabaseError as exc:
            logger.error("Failed call not settled", request_id=self.request_id, error=str(exc))
        return response

    def log(self, response: HttpResponse) -> None:
        """Write the call's one log line and metrics: ids and figures, never the key, the body or a credential."""
        record_call(
            service=self.endpoint.service.slug if self.endpoint else "",
            endpoint=self.endpoint.name if self.endpoint else "",
            status=response.status_code,
            seconds=time.perf_counter() - self.started,
            units=int(response.get("X-M3O-Cost", 0)),
        )
        logger.info(
            "Gateway call",
            request_id=self.request_id,
            account_id=self.key.account_id if self.key else None,
            key_prefix=self.key.prefix if self.key else None,
            service=self.endpoint.service.slug if self.endpoint else None,
            endpoint=self.endpoint.name if self.endpoint else None,
            status=response.status_code,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            units=int(response.get("X-M3O-Cost", 0)),
        )

    def settle(self, *, status_code: int, response: HttpResponse) -> None:
        """Charge or release the reservation and record the call; only calls with a known key are recorded."""
        if self.key is None or self.settled:
            return
        self.settled = True
        record = CallRecord(
            request_id=self.request_id,
            account_id=self.key.account_id,
            # Callers without a key (the playground) carry a negative stand-in id.
            api_key_id=self.key.key_id if self.key.key_id > 0 else None,
            service=self.endpoint.service.slug if self.endpoint else "",
            endpoint=self.endpoint.name if self.endpoint else "",
            status_code=status_code,
            latency_ms=int((time.perf_counter() - self.started) * 1000),
            source=self.source,
        )
        if self.free_call is not None and not is_chargeable(status_code):
            free_call_return(self.free_call)
        settlement = get_meter().settle(record=record, price_units=self.price_units if self.reserved else 0)
        response["X-M3O-Cost"] = str(settlement.charged_units)
        response["X-M3O-Balance"] = str(settlement.balance_units)

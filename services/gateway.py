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
from collections.abc import Callable
from typing import Any, NoReturn

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import EPOCH_CACHE_KEY, Epochs, KeyState, epoch_redis_key, epochs_read, key_cache
from billing.metering import (
    CallRecord,
    EpochGuard,
    EpochsChanged,
    InsufficientCredit,
    MeterUnavailable,
    RateLimitExceeded,
    RateWindow,
    RedisMeter,
    Reservation,
    SpendingCapReached,
    get_meter,
    settle_later,
)
from billing.quotas import PLAN_EPOCH_KEY, AccountLimits, Pricing, account_limits
from catalog.models import Endpoint, Service
from catalog.selectors import CATALOG_EPOCH_KEY, endpoint_for_call, endpoint_for_call_cached
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
from services.ratelimit import (
    Decision,
    Limits,
    current_window,
    decision_from_counts,
    get_rate_limiter,
    limits_for_plan,
)
from services.upstream import upstream_call

logger = structlog.get_logger(__name__)

# Names that can exist at all; anything else is a 404 before any database query.
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
ENDPOINT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def format_usd(units: int) -> str:
    return f"US${dollars(units):.6f}"


# The epochs of the in-process caches a call reads (API keys, catalog, plans).
EPOCH_NAMES = (EPOCH_CACHE_KEY, CATALOG_EPOCH_KEY, PLAN_EPOCH_KEY)
# With the Redis meter, the epochs last seen by this process: the meter's
# script checks them, so a call needs no round trip of its own to read them.
_seen_epochs: Epochs | None = None


def _epochs_for_call() -> Epochs:
    global _seen_epochs
    if settings.M3O_METER != "redis":
        return epochs_read(*EPOCH_NAMES)
    if _seen_epochs is None or not _seen_epochs.reachable:
        _seen_epochs = epochs_read(*EPOCH_NAMES)
    return _seen_epochs


def current_epochs() -> Epochs:
    """Return the shared cache epochs as a call reads them, for callers outside the gateway (streams)."""
    return _epochs_for_call()


def _epochs_seen(values: list[bytes | None]) -> Epochs:
    global _seen_epochs
    _seen_epochs = Epochs(dict(zip(EPOCH_NAMES, values)))
    return _seen_epochs


# The guard of the epochs last seen, built once per change of them rather than per call.
_last_guard: tuple[Epochs, EpochGuard] | None = None


def _guard(epochs: Epochs) -> EpochGuard:
    global _last_guard
    last = _last_guard
    if last is not None and last[0] is epochs:
        return last[1]
    values = tuple(value if isinstance(value, bytes) else None for value in map(epochs.get, EPOCH_NAMES))
    guard = EpochGuard(keys=tuple(epoch_redis_key(name) for name in EPOCH_NAMES), values=values)
    _last_guard = (epochs, guard)
    return guard


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
    """Count one request against the key's and the account's limits (by plan); the error is set past them."""
    limits = limits_for_plan(account_limits(key.account_id, epochs=_epochs_for_call()).rate_limit_per_minute)
    decision = get_rate_limiter().hit(key_id=key.key_id, account_id=key.account_id, limits=limits)
    if not decision.allowed:
        return decision, TooManyRequests(
            f"Rate limit reached: {decision.limit} calls per {limits.window_seconds} seconds. "
            f"Retry after {decision.reset_seconds} seconds.",
        )
    return decision, None


def reserve(reserve_call: Callable[[], Reservation], *, request_id: str) -> Reservation:
    """Run a meter reservation and turn its refusals into the envelope: 402 for credit or cap, 503 if unreachable."""
    try:
        return reserve_call()
    except MeterUnavailable as exc:
        logger.error("Gateway call failed: meter unavailable", request_id=request_id, error=str(exc))
        raise ServiceUnavailable(
            "The platform's metering store is unavailable, so the call was not completed or charged. "
            "Retry shortly.",
            error_id="v1.meter_unavailable",
            headers={"Retry-After": "5"},
        ) from None
    except SpendingCapReached as exc:
        raise PaymentRequired(
            f"Monthly spending cap reached: this account's calls were charged {exc.spent_units} units "
            f"({format_usd(exc.spent_units)}) this month of a cap of {exc.cap_units} units "
            f"({format_usd(exc.cap_units)}), and this call costs {exc.price_units} units. Raise or clear the "
            f"cap at {settings.SITE_URL}/billing/spending-cap/, or wait for the next month (UTC).",
            error_id="v1.spending_cap",
        ) from None
    except InsufficientCredit as exc:
        price_units = exc.price_units
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
        self.reservation: Reservation | None = None
        self.settled = False
        self.rate_decision: Decision | None = None
        self.idempotency_key: str | None = None
        self.handler_ran = False
        self.epochs: Epochs = _epochs_for_call()

    def run(self, service_slug: str, endpoint_name: str) -> HttpResponse:
        # The key, endpoint and plan come from in-process caches read under
        # self.epochs. The Redis meter checks those epochs in the same script
        # that counts the rate limit and reserves the price. If one changed,
        # the script counts nothing, and the steps run again on fresh reads.
        for _ in range(3):
            try:
                endpoint = self.endpoint = self._route(service_slug, endpoint_name)
                if self.request.method != "POST":
                    raise MethodNotAllowed(
                        f"{self.request.method} is not allowed; call endpoints with POST and a JSON body.",
                        headers={"Allow": "POST"},
                    )
                self.key = self.caller or self._authenticate()
                self._authorize(self.key, endpoint)
            except (NotFound, Unauthorized, Forbidden):
                # A refusal read from a cache never reaches the meter's epoch check,
                # so confirm it against the current epochs before responding.
                if not self._epochs_refreshed():
                    raise
                continue
            limits = account_limits(self.key.account_id, epochs=self.epochs)
            if self._admit(self.key, endpoint, limits):
                break
        else:
            raise ServiceUnavailable(
                "The platform's configuration kept changing during this call, so it was not completed or charged. "
                "Retry shortly.",
                error_id="v1.retry",
                headers={"Retry-After": "1"},
            )

        raw = read_body(self.request, max_bytes=settings.M3O_MAX_BODY_BYTES)
        body = parse_body(raw, max_bytes=settings.M3O_MAX_BODY_BYTES, max_depth=settings.M3O_MAX_JSON_DEPTH)
        validate_body(body, endpoint.request_schema)
        replay = self._claim_idempotency_key(service_slug, endpoint_name, raw)
        if replay is not None:
            self._release_reservation()
            return replay

        result = self._dispatch(endpoint, body)

        # allow_nan=False: a handler's NaN would otherwise go out as invalid JSON and be charged.
        content = json.dumps(result, allow_nan=False)
        if self._settles_after_sending():
            response: HttpResponse = _SettledAfterSending(content, content_type="application/json")
            self.settle_after_sending(response)
            return response
        response = HttpResponse(content, content_type="application/json")
        self.settle(status_code=200, response=response)
        return response

    def _route(self, service_slug: str, endpoint_name: str) -> Endpoint:
        endpoint = None
        if SERVICE_NAME.fullmatch(service_slug) and ENDPOINT_NAME.fullmatch(endpoint_name):
            endpoint = endpoint_for_call_cached(
                service_slug=service_slug, endpoint_name=endpoint_name, epochs=self.epochs
            )
        if endpoint is None:
            raise NotFound(
                f"No endpoint {service_slug[:64]}/{endpoint_name[:64]}. See {settings.SITE_URL}/explore/ for the services "
                "and their endpoints.",
                error_id="v1.not_found",
            )
        return endpoint

    def _authenticate(self) -> KeyState:
        secret = key_from_authorization(self.request.headers.get("Authorization", ""))
        if not secret:
            raise Unauthorized(
                "Missing API key. Send it as 'Authorization: Bearer <key>'; "
                f"create one at {settings.SITE_URL}/keys/.",
                error_id="v1.missing_key",
            )
        key = key_cache.authenticate(secret, epochs=self.epochs)
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
        return key

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

    def _epochs_refreshed(self) -> bool:
        """Read the epochs again if this call used the ones last seen; True if they had changed."""
        if settings.M3O_METER != "redis":
            return False
        fresh = epochs_read(*EPOCH_NAMES)
        if not fresh.reachable or all(fresh.get(name) == self.epochs.get(name) for name in EPOCH_NAMES):
            return False
        self.epochs = _epochs_seen([fresh.get(name) for name in EPOCH_NAMES])  # type: ignore[misc]
        return True

    def _admit(self, key: KeyState, endpoint: Endpoint, account: AccountLimits) -> bool:
        """Count the call against the rate limits and reserve its price; False if the caches were stale."""
        limits = limits_for_plan(account.rate_limit_per_minute)
        pricing = Pricing(
            endpoint_id=endpoint.pk,
            price_units=endpoint.price_units,
            free_quota=endpoint.free_quota,
            allowance=account.free_calls_per_month,
            past_allowance_units=settings.M3O_UNITS_PAST_ALLOWANCE,
        )
        meter = get_meter()
        if not isinstance(meter, RedisMeter):
            self._rate_limit(key, limits)
            self._reserve(lambda: meter.reserve(account_id=key.account_id, request_id=self.request_id, pricing=pricing))
            return True

        window = current_window(key_id=key.key_id, account_id=key.account_id, limits=limits)
        rate = RateWindow(
            key_counter=window.key_counter,
            account_counter=window.account_counter,
            key_limit=limits.key_limit,
            account_limit=limits.account_limit,
            ttl_seconds=window.ttl_seconds,
        )
        try:
            self._reserve(
                lambda: meter.reserve(
                    account_id=key.account_id,
                    request_id=self.request_id,
                    pricing=pricing,
                    rate=rate,
                    guard=_guard(self.epochs),
                )
            )
        except EpochsChanged as changed:
            self.epochs = _epochs_seen(changed.values)
            return False
        except RateLimitExceeded as exc:
            self._rate_limited(
                decision_from_counts(
                    allowed=False, key_count=exc.key_count, account_count=exc.account_count, limits=limits,
                    reset=window.reset_seconds,
                ),
                limits,
            )
        assert self.reservation is not None and self.reservation.rate_counts is not None
        key_count, account_count = self.reservation.rate_counts
        self.rate_decision = decision_from_counts(
            allowed=True, key_count=key_count, account_count=account_count, limits=limits, reset=window.reset_seconds
        )
        return True

    def _rate_limit(self, key: KeyState, limits: Limits) -> None:
        decision = get_rate_limiter().hit(key_id=key.key_id, account_id=key.account_id, limits=limits)
        if not decision.allowed:
            self._rate_limited(decision, limits)
        self.rate_decision = decision

    def _rate_limited(self, decision: Decision, limits: Limits) -> NoReturn:
        self.rate_decision = decision
        raise TooManyRequests(
            f"Rate limit reached: {decision.limit} calls per {limits.window_seconds} seconds. "
            f"Retry after {decision.reset_seconds} seconds.",
        )

    def _release_reservation(self) -> None:
        """Give back the reservation of a call that returns a stored response (an idempotent replay)."""
        if self.reservation is None or self.key is None:
            return
        get_meter().release(account_id=self.key.account_id, request_id=self.request_id, reservation=self.reservation)
        self.reservation = None
        self.settled = True  # a replay records no usage event of its own

    def _reserve(self, reserve_call: Callable[[], Reservation]) -> None:
        self.reservation = reserve(reserve_call, request_id=self.request_id)

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

    def _settles_after_sending(self) -> bool:
        # The Redis meter's reservation already knows a successful call's cost and balance.
        # Only /v1 returns this response to the server; the playground renders its own.
        return (
            self.source == "api"
            and self.reservation is not None
            and self.reservation.balance_units is not None
            and isinstance(get_meter(), RedisMeter)
        )

    def settle_after_sending(self, response: _SettledAfterSending) -> None:
        """Answer with the reserved cost and balance, and settle once the response has been sent.

        Settling changes neither for a successful call, so the client need not
        wait for it: the meter's settle queue sends it with others (see
        billing.metering.SettleQueue). If the process dies before that, the
        hold expires and the call is not charged, as when it dies during the call.
        """
        assert self.reservation is not None and self.reservation.balance_units is not None
        record = self._record(200)
        reservation = self.reservation
        self.settled = True
        response["X-M3O-Cost"] = str(reservation.cost_units)
        response["X-M3O-Balance"] = str(reservation.balance_units)
        response.after_sending = lambda: settle_later(record, reservation)

    def settle(self, *, status_code: int, response: HttpResponse) -> None:
        """Charge or release the reservation and record the call; only calls with a known key are recorded."""
        if self.key is None or self.settled:
            return
        self.settled = True
        record = self._record(status_code)
        try:
            settlement = get_meter().settle(record=record, reservation=self.reservation)
        except MeterUnavailable as exc:
            # The hold stays in the meter and is released when it expires, so the call is not charged.
            logger.error("Call not settled: meter unavailable", request_id=self.request_id, error=str(exc))
            return
        response["X-M3O-Cost"] = str(settlement.charged_units)
        response["X-M3O-Balance"] = str(settlement.balance_units)

    def _record(self, status_code: int) -> CallRecord:
        assert self.key is not None
        return CallRecord(
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


class _SettledAfterSending(HttpResponse):
    """A successful call's response that settles the call when the server closes it, after sending it."""

    after_sending: Callable[[], None] | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            after, self.after_sending = self.after_sending, None
            if after is not None:
                after()

"""The adapter layer: one stable API per service over interchangeable third-party providers.

A provider-backed service declares its endpoints with our own schemas, as a
built-in service does, plus one ``Adapter`` per provider. For each endpoint an
adapter gives a ``Mapping``: how to turn our validated request into the
provider's HTTP call, and how to turn the provider's JSON back into our
response. Errors are mapped here once for every adapter:

- the provider rejects the caller's input (400, 404, 422, or an adapter's
  own reading of the body)           -> 400 ``<service>.invalid_request``
- the provider rejects our credential  -> 503 ``<service>.unavailable``, operators alerted
- the provider's rate limit or quota   -> 503 with Retry-After
- the provider times out               -> 504 ``<service>.provider_timeout``
- anything else the provider gets wrong -> 502 ``<service>.provider_error``

Every call goes out through services.upstream.upstream_send, the proxy's
outbound guard. Error messages never name the provider, its address or the
credential: callers see our service, not what is behind it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
from collections.abc import Callable, Mapping as MappingType, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from django.core.cache import cache

from m3o_web.errors import ApiError, BadGateway, BadRequest, GatewayTimeout, ServiceUnavailable
from services.kit import CallContext
from services.upstream import decode_json, upstream_send

logger = structlog.get_logger(__name__)

# Retry-After sent when a rate-limited provider does not say how long to wait.
DEFAULT_RETRY_AFTER_SECONDS = 60
MAX_RETRY_AFTER_SECONDS = 3600
MAX_REASON_CHARS = 300


class InputRejected(Exception):
    """Raised by a mapping when the provider's response means the caller's input cannot be served."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


class ProviderProblem(Exception):
    """Raised by an in-process mapping for a failure the error mapping handles like an HTTP one."""

    def __init__(self, problem: Problem, reason: str = "") -> None:
        super().__init__(reason or problem.value)
        self.problem = problem
        self.reason = reason


class Problem(enum.Enum):
    INPUT = "input"  # the caller's request: 400
    AUTH = "auth"  # our credential was rejected: 503 and an operator alert
    QUOTA = "quota"  # the operator's plan with the provider is used up: 503 and an operator alert
    RATE_LIMIT = "rate_limit"  # too many calls for now: 503 with Retry-After
    PROVIDER = "provider"  # the provider failed: 502


@dataclass(frozen=True, slots=True)
class Classified:
    problem: Problem
    reason: str = ""
    retry_after: int | None = None


@dataclass(frozen=True, kw_only=True)
class Auth:
    """Where the operator's credential goes in each provider request."""

    kind: str = "none"  # none, header, query or basic ("user:password" in the credential)
    name: str = ""
    prefix: str = ""

    @property
    def needs_credential(self) -> bool:
        return self.kind != "none"


NO_AUTH = Auth()


@dataclass(frozen=True, kw_only=True)
class ProviderRequest:
    path: str
    method: str = "GET"
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Which of the adapter's base URLs the path is relative to; an operator's override replaces them all.
    # In the path, {account} stands for the part of a user:password credential before the colon.
    host: str = "default"


@dataclass(frozen=True, kw_only=True)
class Mapping:
    """One endpoint on one provider: our request to their call, their JSON back to our response.

    ``before`` is an earlier call (such as geocoding a place name) whose
    mapped result is merged into the body the main request sees.
    ``run`` replaces HTTP altogether for providers that run in-process.
    """

    request: Callable[[dict[str, Any]], ProviderRequest] | None = None
    response: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    before: Mapping | None = None
    run: Callable[[CallContext, ProviderSettings], dict[str, Any]] | None = None


def default_reason(payload: Any) -> str:
    """The provider's own explanation in the common shapes: message, error, error.message, errors[0].message."""
    if isinstance(payload, dict):
        for name in ("message", "Message", "reason", "error_description", "info", "detail", "title"):
            if isinstance(payload.get(name), str):
                return payload[name]
        error = payload.get("error")
        if isinstance(error, str):
            return error
        if isinstance(error, dict):
            return default_reason(error)
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            return default_reason(errors[0])
    return ""


@dataclass(frozen=True, kw_only=True)
class Adapter:
    name: str  # stored in the provider settings, e.g. open-meteo
    title: str  # shown to operators, e.g. Open-Meteo
    endpoints: MappingType[str, Mapping]
    base_urls: MappingType[str, str] = field(default_factory=dict)
    auth: Auth = NO_AUTH
    credential_help: str = ""
    # Extracts the provider's explanation from an error body.
    reason: Callable[[Any], str] = default_reason
    # Reads a provider body for errors the status code does not show (some answer 200 with an error).
    inspect: Callable[[int, Any], Classified | None] | None = None
    headers: MappingType[str, str] = field(default_factory=dict)

    @property
    def needs_credential(self) -> bool:
        return self.auth.needs_credential


@dataclass(frozen=True, kw_only=True)
class ProviderSettings:
    """What a call needs from the operator's settings, with the credential decrypted."""

    provider: str
    credential: str = ""
    base_url: str = ""
    connect_timeout_ms: int = 3_000
    read_timeout_ms: int = 10_000
    cache_seconds: MappingType[str, int] = field(default_factory=dict)
    version: str = ""  # changes whenever the settings do, so cached answers from older settings are not served


@dataclass(frozen=True, kw_only=True)
class ProviderService:
    """A service's endpoints, adapters and which endpoints return only public data (shared in the cache)."""

    slug: str
    title: str
    adapters: Sequence[Adapter]
    # The adapter used when an operator has chosen none; None means the service is unavailable until then.
    default_provider: str | None = None
    public_data: frozenset[str] = frozenset()

    def adapter(self, name: str) -> Adapter | None:
        return next((adapter for adapter in self.adapters if adapter.name == name), None)


def classify_status(status: int, payload: Any, headers: httpx.Headers, adapter: Adapter) -> Classified | None:
    """Map the provider's HTTP status (and body, where the adapter reads it) to a problem, or None for success."""
    if adapter.inspect is not None:
        found = adapter.inspect(status, payload)
        if found is not None:
            return found
    if 200 <= status < 300:
        return None
    if status in (401, 403):
        return Classified(Problem.AUTH)
    if status == 429:
        return Classified(Problem.RATE_LIMIT, retry_after=retry_after_seconds(headers.get("Retry-After")))
    if status == 402:
        return Classified(Problem.QUOTA)
    if status in (400, 404, 409, 422):
        return Classified(Problem.INPUT, reason=adapter.reason(payload))
    return Classified(Problem.PROVIDER, reason=f"HTTP {status}")


def retry_after_seconds(value: str | None) -> int:
    if value and value.strip().isdigit():
        return max(1, min(int(value.strip()), MAX_RETRY_AFTER_SECONDS))
    return DEFAULT_RETRY_AFTER_SECONDS


def redact(text: str, secret: str) -> str:
    """Remove the credential, and each part of a user:password one, from provider text."""
    for part in {secret, *secret.split(":")}:
        if len(part) >= 4:
            text = text.replace(part, "[redacted]")
    return text


class ProviderCall:
    """One gateway call to one provider: sends the mapped requests and raises our errors."""

    def __init__(
        self, *, service: ProviderService, adapter: Adapter, settings: ProviderSettings, context: CallContext
    ) -> None:
        self.service = service
        self.adapter = adapter
        self.settings = settings
        self.context = context
        self.log = logger.bind(
            request_id=context.request_id, service=service.slug, endpoint=context.endpoint, provider=adapter.name
        )

    def run(self, mapping: Mapping, body: dict[str, Any]) -> dict[str, Any]:
        try:
            if mapping.run is not None:
                return mapping.run(self.context, self.settings)
            if mapping.before is not None:
                body = {**body, **self.run(mapping.before, body)}
            assert mapping.request is not None and mapping.response is not None
            payload = self._send(mapping.request(body))
            return mapping.response(payload, body)
        except InputRejected as exc:
            raise self._input_error(exc.reason, exc.field) from None
        except ProviderProblem as exc:
            raise self._error(Classified(exc.problem, reason=exc.reason), 0) from None
        except ApiError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # The provider answered 2xx in a shape the mapping does not know.
            self.log.warning("Provider response not understood", error=type(exc).__name__)
            raise BadGateway(
                f"The {self.service.title} service's data provider sent a response it could not read. "
                "The call was not charged; try again later.",
                error_id=f"{self.service.slug}.provider_error",
            ) from None

    def _url(self, request: ProviderRequest) -> str:
        base = self.settings.base_url or self.adapter.base_urls[request.host]
        path = request.path
        if "{account}" in path:
            path = path.replace("{account}", quote(self.settings.credential.split(":", 1)[0], safe=""))
        return base.rstrip("/") + path

    def _send(self, request: ProviderRequest) -> Any:
        params = {name: _query_value(value) for name, value in request.params.items() if value is not None}
        headers = {**self.adapter.headers, **request.headers}
        auth = self.adapter.auth
        credential = self.settings.credential
        if auth.kind == "header":
            headers[auth.name] = auth.prefix + credential
        elif auth.kind == "query":
            params[auth.name] = credential
        elif auth.kind == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(credential.encode("utf-8")).decode("ascii")

        try:
            reply = upstream_send(
                method=request.method,
                url=self._url(request),
                params=params,
                headers=headers,
                json_body=request.json,
                form=request.form,
                connect_timeout_ms=self.settings.connect_timeout_ms,
                read_timeout_ms=self.settings.read_timeout_ms,
                request_id=self.context.request_id,
            )
        except httpx.TimeoutException as exc:
            self.log.warning("Provider call timed out", error=type(exc).__name__)
            raise GatewayTimeout(
                f"The {self.service.title} service's data provider timed out. "
                "The call was not charged; try again later.",
                error_id=f"{self.service.slug}.provider_timeout",
            ) from None
        except httpx.HTTPError as exc:
            self.log.warning("Provider call failed", error=type(exc).__name__)
            raise self._provider_error() from None
        except BadGateway as exc:
            # The outbound guard rejected the address or the response size. The log line tells operators which.
            self.log.warning("Provider call rejected by the outbound guard", detail=redact(exc.detail, credential))
            raise self._provider_error() from None

        try:
            payload = decode_json(reply.content)
        except ValueError:
            payload = None
        found = classify_status(reply.status_code, payload, reply.headers, self.adapter)
        if found is None and payload is None:
            found = Classified(Problem.PROVIDER, reason="invalid JSON")
        if found is not None:
            raise self._error(found, reply.status_code)
        return payload

    def _error(self, found: Classified, status: int) -> ApiError:
        slug, title = self.service.slug, self.service.title
        if found.problem is Problem.INPUT:
            return self._input_error(found.reason, None)
        if found.problem in (Problem.AUTH, Problem.QUOTA):
            self.log.error("Provider rejected the platform's credential or quota", provider_status=status,
                           problem=found.problem.value)
            from services.providers.tasks import provider_alert

            provider_alert(service=slug, provider=self.adapter.name, problem=found.problem.value, status=status)
            return ServiceUnavailable(
                f"The {title} service is temporarily unavailable: its data provider rejected the platform's "
                "access. The operators have been alerted. The call was not charged; try again later.",
                error_id=f"{slug}.unavailable",
                headers={"Retry-After": str(DEFAULT_RETRY_AFTER_SECONDS * 5)},
            )
        if found.problem is Problem.RATE_LIMIT:
            retry_after = found.retry_after or DEFAULT_RETRY_AFTER_SECONDS
            self.log.warning("Provider rate limit reached", provider_status=status, retry_after=retry_after)
            return ServiceUnavailable(
                f"The {title} service is busy: its data provider's rate limit was reached. "
                f"The call was not charged; retry after {retry_after} seconds.",
                error_id=f"{slug}.provider_rate_limited",
                headers={"Retry-After": str(retry_after)},
            )
        self.log.warning("Provider failed", provider_status=status, reason=found.reason)
        return self._provider_error()

    def _provider_error(self) -> BadGateway:
        return BadGateway(
            f"The {self.service.title} service's data provider failed. "
            "The call was not charged; try again later.",
            error_id=f"{self.service.slug}.provider_error",
        )

    def _input_error(self, reason: str, field_name: str | None) -> BadRequest:
        reason = redact(" ".join(reason.split())[:MAX_REASON_CHARS], self.settings.credential).rstrip(".")
        detail = f"The {self.service.title} service cannot answer this request"
        detail += f": {reason}." if reason else "; check the fields and try again."
        return BadRequest(
            detail,
            error_id=f"{self.slug}.invalid_request",
            fields={field_name: reason or "Not accepted."} if field_name else None,
        )

    @property
    def slug(self) -> str:
        return self.service.slug


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


def cache_key(*, service: str, endpoint: str, settings: ProviderSettings, account_id: int | None,
              body: dict[str, Any]) -> str:
    """Return the cache key of one response. Public-data endpoints share it across accounts, others never do."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
    owner = "public" if account_id is None else f"account:{account_id}"
    return f"providers:v1:{service}:{endpoint.lower()}:{settings.provider}:{settings.version}:{owner}:{digest}"


def cached_call(
    *, service: ProviderService, endpoint: str, settings: ProviderSettings, context: CallContext,
    compute: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Return the cached response when the operator set a lifetime for the endpoint, else compute it."""
    seconds = settings.cache_seconds.get(endpoint, 0)
    if seconds <= 0:
        return compute()
    account_id = None if endpoint in service.public_data else context.account_id
    key = cache_key(service=service.slug, endpoint=endpoint, settings=settings, account_id=account_id,
                    body=context.body)
    try:
        hit = cache.get(key)
    except Exception as exc:  # the cache (Redis) is down: answer from the provider
        logger.warning("Provider cache unavailable", service=service.slug, error=type(exc).__name__)
        return compute()
    if isinstance(hit, dict):
        return hit
    result = compute()
    try:
        cache.set(key, result, timeout=seconds)
    except Exception as exc:
        logger.warning("Provider cache unavailable", service=service.slug, error=type(exc).__name__)
    return result

"""The upstream proxy: one gateway call to a service backed by a third-party HTTP API.

The request to the upstream is built from scratch: the caller's headers,
including its M3O key, are never forwarded, and the upstream's response
headers are never passed back, so no hop-by-hop header crosses the proxy.
The operator's credential is added as the service's upstream settings specify.

Every connection goes through the outbound guard in services/outbound.py:
the upstream host is resolved and every address checked (private, loopback,
link-local, which includes cloud metadata at 169.254.169.254, and other
non-public addresses are rejected unless allowed by M3O_UPSTREAM_ALLOWED_HOSTS
or M3O_UPSTREAM_ALLOW_PRIVATE), and the connection goes to the checked
address, so a second DNS answer cannot redirect it. Redirects are not
followed, for the same reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import structlog
from django.conf import settings

from catalog.crypto import DecryptionFailed, decrypt
from catalog.models import Endpoint, UpstreamConfig
from catalog.validation import PLACEHOLDER
from m3o_web.errors import BadGateway, BadRequest, GatewayTimeout
from services import outbound

logger = structlog.get_logger(__name__)

USER_AGENT = "M3O-Gateway/1"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(raw: bytes) -> Any:
    """Parse an upstream's JSON body strictly (no NaN or Infinity); an empty body is {}. Raises ValueError."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant) if raw.strip() else {}
    except (UnicodeDecodeError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def _fill_path(template: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Replace each {field} in the upstream path with that body field, URL-encoded; return the rest of the body."""
    remaining = dict(body)

    def substitute(match: Any) -> str:
        name = match.group(1)
        value = remaining.pop(name, None)
        if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
            raise BadRequest(
                f"The field {name} is required and must be a non-empty string or a number.",
                error_id="v1.invalid_request",
                fields={name: "This field is required."},
            )
        if str(value) in {".", ".."}:
            # A dot segment would move the request outside the operator's path.
            raise BadRequest(
                f"The field {name} cannot be '.' or '..'.",
                error_id="v1.invalid_request",
                fields={name: "Must not be '.' or '..'."},
            )
        return quote(str(value), safe="")

    return PLACEHOLDER.sub(substitute, template), remaining


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _credential(config: UpstreamConfig) -> str:
    try:
        return decrypt(config.credential_encrypted)
    except DecryptionFailed:
        logger.error("Upstream credential cannot be decrypted", service_id=config.service_id)
        raise BadGateway(
            "The upstream service is misconfigured: its stored credential cannot be decrypted. "
            "An operator must enter it again in admin."
        ) from None


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    status_code: int
    headers: httpx.Headers
    content: bytes


def upstream_send(
    *,
    method: str,
    url: str,
    request_id: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    connect_timeout_ms: int,
    read_timeout_ms: int,
) -> UpstreamResponse:
    """Send one HTTP request to a third-party API through the outbound guard and return its capped response.

    The host is resolved and checked (see the module docstring), the response
    is read up to M3O_UPSTREAM_MAX_RESPONSE_BYTES within
    M3O_UPSTREAM_MAX_CALL_SECONDS. Raises BadGateway when the host is refused
    or the response too large, and lets httpx.TimeoutException and other
    httpx.HTTPError through so that each caller words the failure itself.
    ``headers`` may replace the default Accept and User-Agent.
    """
    base = urlsplit(url)
    host = base.hostname or ""
    port = base.port or (443 if base.scheme == "https" else 80)
    address = outbound.resolve(host, port)

    # Connect to the checked address; Host and TLS SNI still name the host, so virtual hosts and certificates work.
    destination = outbound.Destination(
        scheme=base.scheme,
        host=host,
        port=port,
        explicit_port=base.port is not None,
        target=base.path + (f"?{base.query}" if base.query else ""),
    )
    target, host_header, extensions = outbound.pinned(destination, address)
    request_headers = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
    request_headers["X-Request-Id"] = request_id
    request_headers["Host"] = host_header
    timeout = httpx.Timeout(
        connect=connect_timeout_ms / 1000,
        read=read_timeout_ms / 1000,
        write=read_timeout_ms / 1000,
        pool=connect_timeout_ms / 1000,
    )
    request = outbound.client.build_request(
        method,
        target,
        params=params or None,
        headers=request_headers,
        json=json_body,
        data=form,
        extensions=extensions,
        timeout=timeout,
    )
    deadline = time.monotonic() + settings.M3O_UPSTREAM_MAX_CALL_SECONDS
    response = outbound.client.send(request, stream=True)
    try:
        raw = outbound.read_capped(
            response, settings.M3O_UPSTREAM_MAX_RESPONSE_BYTES, deadline, what="upstream response"
        )
    finally:
        response.close()
    return UpstreamResponse(status_code=response.status_code, headers=response.headers, content=raw)


def upstream_call(*, endpoint: Endpoint, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """Send one validated call to the endpoint's upstream and return its JSON object response.

    Raises BadGateway (502) or GatewayTimeout (504) for every upstream failure,
    and the gateway charges nothing for either.
    """
    service = endpoint.service
    config = UpstreamConfig.objects.filter(service=service).first()
    if config is None or not endpoint.upstream_method or not endpoint.upstream_path:
        raise BadGateway(f"The {service.slug} service has no upstream settings for {endpoint.name} yet.")

    path, remaining = _fill_path(endpoint.upstream_path, body)
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    sends_body = endpoint.upstream_method in {"POST", "PUT", "PATCH"}
    if not sends_body:
        params.update({name: _query_value(value) for name, value in remaining.items()})
    if config.credential_placement != UpstreamConfig.Placement.NONE:
        secret = config.credential_prefix + _credential(config)
        if config.credential_placement == UpstreamConfig.Placement.HEADER:
            headers[config.credential_name] = secret
        else:
            params[config.credential_name] = secret

    host = urlsplit(config.base_url).hostname or ""
    log = logger.bind(request_id=request_id, service=service.slug, endpoint=endpoint.name, host=host)
    try:
        response = upstream_send(
            method=endpoint.upstream_method,
            url=f"{config.base_url.rstrip('/')}{path}",
            params=params,
            headers=headers,
            json_body=remaining if sends_body else None,
            connect_timeout_ms=config.connect_timeout_ms,
            read_timeout_ms=config.read_timeout_ms,
            request_id=request_id,
        )
    except httpx.TimeoutException as exc:
        log.warning("Upstream call timed out", error=type(exc).__name__)
        raise GatewayTimeout(
            f"The upstream API of {service.slug} timed out ({type(exc).__name__}). "
            "The call was not charged; try again later."
        ) from None
    except httpx.HTTPError as exc:
        log.warning("Upstream call failed", error=type(exc).__name__)
        raise BadGateway(
            f"The upstream API of {service.slug} could not be reached ({type(exc).__name__}). "
            "The call was not charged; try again later."
        ) from None
    raw = response.content

    if not 200 <= response.status_code < 300:
        log.warning("Upstream returned an error", upstream_status=response.status_code)
        raise BadGateway(
            f"The upstream API of {service.slug} returned HTTP {response.status_code}. The call was not charged."
        )
    try:
        result = decode_json(raw)
    except ValueError:
        log.warning("Upstream returned invalid JSON", size=len(raw))
        raise BadGateway(
            f"The upstream API of {service.slug} returned invalid JSON. The call was not charged."
        ) from None
    if not isinstance(result, dict):
        raise BadGateway(
            f"The upstream API of {service.slug} returned a JSON {type(result).__name__}, not an object."
        )
    return result

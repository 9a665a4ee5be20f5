"""The outbound guard: every request the platform makes to an address a caller or operator chose.

The upstream proxy, ping, tunnel, cron callbacks and rss crawls all go through
here. Before connecting, the host is resolved and every address it resolves to
is checked. Private, loopback, link-local (which includes cloud metadata at
169.254.169.254), shared, unspecified, multicast and other non-public addresses
are rejected unless the host is named in M3O_UPSTREAM_ALLOWED_HOSTS or
M3O_UPSTREAM_ALLOW_PRIVATE is on. The resolver accepts the legacy IPv4
spellings (127.1, 2130706433, 0x7f000001, 017700000001), so they are checked
as the address they stand for.

The connection then goes to the checked address, with the host name kept in
the Host header and the TLS SNI, so a second DNS answer cannot move it. A
feature that follows redirects does it here, one hop at a time, each hop
checked like the first. Responses are capped in size and in total time, and
``fetch`` counts each account's outbound requests against
M3O_OUTBOUND_REQUESTS_PER_MINUTE.
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import structlog
from django.conf import settings
from django.core.cache import cache

from m3o_web.errors import BadGateway, BadRequest, GatewayTimeout, TooManyRequests

logger = structlog.get_logger(__name__)

USER_AGENT = "M3O-Outbound/1"
READ_CHUNK_BYTES = 64 * 1024
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
# Headers that carry the caller's credentials, dropped when a redirect leaves the origin.
CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization"}
# The legacy IPv4 spellings inet_aton accepts: decimal, octal and hexadecimal parts, 1 to 4 of them.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)



class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """A cookie policy that stores none, so no cookie one account received is sent for another."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


# One pooled client per process, shared by all accounts, so it keeps no cookies. Redirects are
# never followed by httpx itself: ``fetch`` follows them hop by hop, so each hop is checked.
client = httpx.Client(
    follow_redirects=False,
    trust_env=False,
    cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
    limits=httpx.Limits(max_keepalive_connections=50),
)


class DestinationRejected(BadGateway):
    """A destination the platform may not connect to: it resolves to a non-public address."""


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def host_allowed(host: str) -> bool:
    """Return whether the operator allows ``host`` to resolve to non-public addresses."""
    return settings.M3O_UPSTREAM_ALLOW_PRIVATE or host.lower() in {
        name.lower() for name in settings.M3O_UPSTREAM_ALLOWED_HOSTS
    }


def _rejected(host: str, error_id: str | None) -> DestinationRejected:
    return DestinationRejected(
        f"The host {host} resolves to a private or reserved address, which the platform rejects. "
        "An operator can allow it with M3O_UPSTREAM_ALLOWED_HOSTS.",
        error_id=error_id,
    )


def resolve(host: str, port: int, *, error_id: str | None = None) -> str:
    """Return an address of ``host`` that may be connected to, or raise BadGateway.

    Every address the host resolves to must be public, so a name with one
    public and one private address is rejected too.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise BadGateway(f"The host {host} cannot be resolved ({exc}). Try again later.", error_id=error_id) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise BadGateway(f"The host {host} has no address. Try again later.", error_id=error_id)
    if not host_allowed(host) and not all(is_public(address) for address in addresses):
        logger.warning("Outbound host rejected: non-public address", host=host, addresses=[str(a) for a in addresses])
        raise _rejected(host, error_id)
    return str(addresses[0])


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address ``host`` spells without DNS (any IPv4 spelling, IPv6, localhost names), else None."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return ipaddress.IPv4Address("127.0.0.1")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Destination:
    scheme: str
    host: str
    port: int
    explicit_port: bool
    target: str  # path and query

    @property
    def url(self) -> str:
        literal = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{literal}{f':{self.port}' if self.explicit_port else ''}{self.target}"


def parse_url(url: str, *, error_id: str | None = None, field: str = "url") -> Destination:
    """Check that ``url`` is an absolute http or https URL without credentials, and split it."""

    def bad(reason: str) -> BadRequest:
        return BadRequest(f"The URL {url[:200]!r} {reason}.", error_id=error_id, fields={field: reason.capitalize() + "."})

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("is not a valid URL") from None
    if parts.scheme.lower() not in {"http", "https"}:
        raise bad("must start with http:// or https://")
    if not parts.hostname:
        raise bad("has no host")
    if parts.username is not None or parts.password is not None:
        raise bad("must not contain a user name or password")
    if any(ord(char) < 33 or ord(char) == 127 for char in url):
        raise bad("must not contain spaces or control characters")
    scheme = parts.scheme.lower()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(
        scheme=scheme,
        host=parts.hostname,
        port=port or (443 if scheme == "https" else 80),
        explicit_port=port is not None,
        target=target,
    )


def check_url(url: str, *, error_id: str | None = None, field: str = "url") -> Destination:
    """Check a URL without DNS, for a feature that stores it and connects later.

    A host written as an address in any spelling, or a localhost name, is
    checked now. A DNS name is checked by ``fetch`` each time it connects.
    """
    destination = parse_url(url, error_id=error_id, field=field)
    address = literal_address(destination.host)
    if address is not None and not host_allowed(destination.host) and not is_public(address):
        rejected = _rejected(destination.host, error_id)
        raise BadRequest(rejected.detail, error_id=error_id, fields={field: "Must be a public address."})
    return destination


def pinned(destination: Destination, address: str) -> tuple[str, str, dict[str, Any]]:
    """Return the URL to the checked ``address``, the Host header and the request extensions (TLS SNI)."""
    literal = f"[{address}]" if ":" in address else address
    url = f"{destination.scheme}://{literal}:{destination.port}{destination.target}"
    host = f"[{destination.host}]" if ":" in destination.host else destination.host
    if destination.explicit_port:
        host = f"{host}:{destination.port}"
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    return url, host, extensions


def read_capped(response: httpx.Response, limit: int, deadline: float, *, what: str = "response", error_id: str | None = None) -> bytes:
    """Read the body, stopping at ``limit`` bytes or at the call's ``deadline`` (monotonic seconds)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadGateway(f"The {what} is {declared} bytes, over the limit of {limit} bytes.", error_id=error_id)
    chunks = []
    size = 0
    for chunk in response.iter_bytes(READ_CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise BadGateway(f"The {what} is over the limit of {limit} bytes.", error_id=error_id)
        if time.monotonic() > deadline:
            # The read timeout applies to each read, so a server that sends slowly is stopped here.
            raise httpx.ReadTimeout(f"the {what} took longer than the call's time limit")
        chunks.append(chunk)
    return b"".join(chunks)


def count_request(account_id: int, *, error_id: str | None = None) -> None:
    """Count one outbound request for the account, or raise 429 when its rate is used up.

    A fixed one-minute window in the shared cache (Redis in production), so
    every web process and worker counts against the same number.
    """
    limit = settings.M3O_OUTBOUND_REQUESTS_PER_MINUTE
    window = int(time.time() // 60)
    key = f"outbound:rate:{account_id}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        count = 1
    if count > limit:
        reset = max(int((window + 1) * 60 - time.time()), 1)
        raise TooManyRequests(
            f"This account made {limit} outbound requests in the last minute, its limit. Try again in {reset} seconds.",
            error_id=error_id,
            headers={"Retry-After": str(reset)},
        )


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str  # the URL of the final response, after any redirects
    elapsed_ms: float  # until the final response's headers arrived


def fetch(
    method: str,
    url: str,
    *,
    account_id: int,
    error_id: str | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    max_redirects: int = 0,
    max_bytes: int | None = None,
    read_body: bool = True,
) -> Response:
    """Make one guarded request for an account and return its response, whatever its status.

    Raises BadRequest for an invalid URL, BadGateway when the destination is rejected
    or unreachable or the response is too large, GatewayTimeout when it is too
    slow, and TooManyRequests when the account's outbound rate is used up.
    """
    count_request(account_id, error_id=error_id)
    limit = max_bytes or settings.M3O_OUTBOUND_MAX_RESPONSE_BYTES
    seconds = settings.M3O_OUTBOUND_TIMEOUT_SECONDS
    started = time.monotonic()
    deadline = started + seconds
    headers = dict(headers or {})

    for hop in range(max_redirects + 1):
        try:
            destination = parse_url(url, error_id=error_id)
        except BadRequest as error:
            if not hop:
                raise
            raise BadGateway(f"The server redirected to an invalid URL: {error.detail}", error_id=error_id) from None
        address = resolve(destination.host, destination.port, error_id=error_id)
        pinned_url, host, extensions = pinned(destination, address)
        # All hops together share the one time limit.
        timeout = httpx.Timeout(max(deadline - time.monotonic(), 0.001))
        log = logger.bind(host=destination.host, account_id=account_id)
        try:
            request = client.build_request(
                method,
                pinned_url,
                headers={"User-Agent": USER_AGENT, **headers, "Host": host},
                content=content,
                extensions=extensions,
                timeout=timeout,
            )
            response = client.send(request, stream=True)
            try:
                elapsed_ms = (time.monotonic() - started) * 1000
                location = response.headers.get("Location")
                if max_redirects and response.status_code in REDIRECT_STATUSES and location:
                    next_url = urljoin(destination.url, location)
                    if _origin(next_url) != _origin(destination.url):
                        # Like browsers, send the caller's credentials only to the origin they named.
                        headers = {name: value for name, value in headers.items() if name.lower() not in CREDENTIAL_HEADERS}
                    if response.status_code == 303 or (response.status_code in {301, 302} and method == "POST"):
                        method, content = "GET", None
                    url = next_url
                    continue
                body = read_capped(response, limit, deadline, error_id=error_id) if read_body else b""
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            log.warning("Outbound request timed out", error=type(exc).__name__)
            raise GatewayTimeout(
                f"The request to {destination.host} timed out after {seconds} seconds.", error_id=error_id
            ) from None
        except httpx.HTTPError as exc:
            log.warning("Outbound request failed", error=type(exc).__name__)
            raise BadGateway(
                f"The host {destination.host} could not be reached ({type(exc).__name__}).", error_id=error_id
            ) from None
        return Response(
            status=response.status_code,
            headers=list(response.headers.multi_items()),
            body=body,
            url=url,
            elapsed_ms=elapsed_ms,
        )
    raise BadGateway(f"The URL redirected more than {max_redirects} times.", error_id=error_id)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port

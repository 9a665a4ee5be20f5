"""HTTP transport shared by every service: POST /v1/<service>/<endpoint> with a Bearer key."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import httpx

from m3o.errors import APIError, RateLimited, TransportError, error_from_envelope

DEFAULT_TIMEOUT = 30.0


def address_from_env(default: str) -> str:
    return (os.environ.get("M3O_API_ADDRESS") or default).rstrip("/")


def _decode_error(response: httpx.Response) -> APIError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = error_from_envelope(response.status_code, body, request_id=response.headers.get("X-Request-Id"))
    if isinstance(error, RateLimited):
        try:
            error.retry_after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            error.retry_after = None
    return error


class Transport:
    """One httpx client with the key and address; services call through it."""

    def __init__(self, token: str | None, *, address: str, timeout: float = DEFAULT_TIMEOUT, http: httpx.Client | None = None) -> None:
        self.token = token if token is not None else os.environ.get("M3O_API_TOKEN", "")
        self.address = address.rstrip("/")
        self.http = http or httpx.Client(timeout=timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def call(self, service: str, endpoint: str, body: dict[str, Any] | None = None) -> Any:
        """Call an endpoint and return its decoded JSON; raise APIError for the envelope, TransportError otherwise."""
        url = f"{self.address}/v1/{service}/{endpoint}"
        try:
            response = self.http.post(url, content=json.dumps(body or {}), headers=self._headers())
        except httpx.HTTPError as error:
            raise TransportError(f"Could not reach {self.address}: {error}") from error
        if response.status_code >= 400:
            raise _decode_error(response)
        try:
            return response.json()
        except ValueError as error:
            raise TransportError(f"{url} returned HTTP {response.status_code} with a body that is not JSON.") from error

    def stream(self, service: str, endpoint: str, body: dict[str, Any] | None = None) -> Iterator[Any]:
        """Yield each message of a stream endpoint, read as newline-delimited JSON over POST.

        The platform answers a POST to a stream endpoint with one JSON message
        per line; an error frame in the envelope is raised as APIError.
        """
        url = f"{self.address}/v1/{service}/{endpoint}"
        headers = {**self._headers(), "Accept": "application/x-ndjson"}
        try:
            with self.http.stream("POST", url, content=json.dumps(body or {}), headers=headers) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _decode_error(response)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    try:
                        message = json.loads(line)
                    except ValueError as error:
                        raise TransportError(f"{url} sent a stream line that is not JSON.") from error
                    if isinstance(message, dict) and {"id", "code", "detail"} <= message.keys() and isinstance(message.get("code"), int) and message["code"] >= 400:
                        raise error_from_envelope(message["code"], message)
                    yield message
        except httpx.HTTPError as error:
            raise TransportError(f"Could not reach {self.address}: {error}") from error

    def close(self) -> None:
        self.http.close()


def compact(body: dict[str, Any]) -> dict[str, Any]:
    """Drop the fields left as None, so the endpoint applies its defaults."""
    return {name: value for name, value in body.items() if value is not None}

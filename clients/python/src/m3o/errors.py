"""Errors the client raises: the platform's error envelope as typed exceptions."""

from __future__ import annotations

from typing import Any


class M3OError(Exception):
    """Base of every error this package raises."""


class TransportError(M3OError):
    """The platform could not be reached, timed out, or returned a response that is not the API's."""


class APIError(M3OError):
    """The platform returned its error envelope: ``{"id", "code", "detail", "status", "fields"?}``."""

    def __init__(
        self,
        *,
        id: str,
        code: int,
        detail: str,
        status: str = "",
        fields: dict[str, str] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code} {id}: {detail}")
        self.id = id
        self.code = code
        self.detail = detail
        self.status = status
        self.fields = fields or {}
        self.request_id = request_id

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "code": self.code, "detail": self.detail, "status": self.status}
        if self.fields:
            body["fields"] = self.fields
        return body


class BadRequest(APIError):
    """400: the request body is invalid; ``fields`` names each invalid field."""


class Unauthorized(APIError):
    """401: the API key is missing, invalid, revoked or expired."""


class PaymentRequired(APIError):
    """402: the balance does not cover the price of the call."""


class Forbidden(APIError):
    """403: the account is suspended or the key may not call this service."""


class NotFound(APIError):
    """404: no such service, endpoint or object."""


class RateLimited(APIError):
    """429: too many calls; retry after the number of seconds in ``retry_after``."""

    retry_after: float | None = None


class ServerError(APIError):
    """5xx: the platform or an upstream API failed; the call was not charged."""


_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    429: RateLimited,
}


def error_from_envelope(status_code: int, body: Any, *, request_id: str | None = None) -> APIError:
    """Decode an error response; a body that is not the envelope still gives an APIError for its status."""
    if isinstance(body, dict) and isinstance(body.get("id"), str) and isinstance(body.get("detail"), str):
        fields = body.get("fields")
        values = {
            "id": body["id"],
            "code": body["code"] if isinstance(body.get("code"), int) else status_code,
            "detail": body["detail"],
            "status": str(body.get("status", "")),
            "fields": {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None,
        }
    else:
        values = {"id": "client.unexpected_response", "code": status_code, "detail": f"HTTP {status_code} without an error envelope.", "status": "", "fields": None}
    code = values["code"]
    cls = _BY_CODE.get(code, ServerError if code >= 500 else APIError)
    return cls(request_id=request_id, **values)

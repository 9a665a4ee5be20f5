"""The one error envelope every API error is rendered in.

Clients written for M3O decode the Micro error shape:
``{"id": "v1.insufficient_credit", "code": 402, "detail": "...", "status": "Payment Required"}``,
with ``"fields"`` added for validation errors. Code anywhere raises an
``ApiError`` subclass; ``error_response`` renders it.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, ClassVar

from django.http import HttpResponse


class ApiError(Exception):
    """An error a client caused or can act on, rendered as the envelope."""

    code: ClassVar[int] = 500
    error_id: ClassVar[str] = "v1.internal"

    def __init__(
        self,
        detail: str,
        *,
        error_id: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.id = error_id or self.error_id
        self.fields = fields
        self.headers = headers or {}

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "code": self.code,
            "detail": self.detail,
            "status": HTTPStatus(self.code).phrase,
        }
        if self.fields:
            body["fields"] = self.fields
        return body


class BadRequest(ApiError):
    code = 400
    error_id = "v1.bad_request"


class Unauthorized(ApiError):
    code = 401
    error_id = "v1.unauthorized"


class PaymentRequired(ApiError):
    code = 402
    error_id = "v1.insufficient_credit"


class Forbidden(ApiError):
    code = 403
    error_id = "v1.forbidden"


class NotFound(ApiError):
    code = 404
    error_id = "v1.not_found"


class MethodNotAllowed(ApiError):
    code = 405
    error_id = "v1.method_not_allowed"


class LengthRequired(ApiError):
    code = 411
    error_id = "v1.length_required"


class PayloadTooLarge(ApiError):
    code = 413
    error_id = "v1.payload_too_large"


class UnsupportedMediaType(ApiError):
    code = 415
    error_id = "v1.unsupported_media_type"


class UnprocessableContent(ApiError):
    code = 422
    error_id = "v1.unprocessable"


class TooManyRequests(ApiError):
    code = 429
    error_id = "v1.rate_limited"


class ServiceUnavailable(ApiError):
    code = 503
    error_id = "v1.unavailable"


class BadGateway(ApiError):
    code = 502
    error_id = "v1.upstream_error"


class GatewayTimeout(ApiError):
    code = 504
    error_id = "v1.upstream_timeout"


class InternalError(ApiError):
    code = 500
    error_id = "v1.internal"


def error_response(error: ApiError, *, request_id: str | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(error.envelope()),
        status=error.code,
        content_type="application/json",
    )
    for name, value in error.headers.items():
        response[name] = value
    if request_id:
        response["X-Request-Id"] = request_id
    return response

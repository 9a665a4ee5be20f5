"""The kit of a built-in service: its call context and the typed errors.

A built-in service never imports billing or accounts. It gets the caller's
account id, the request id and the validated body, and reports failures by
raising one of these errors, which the gateway renders in the error envelope
(and does not charge for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from m3o_web.errors import ApiError, BadRequest, Forbidden, NotFound, ServiceUnavailable

__all__ = ["ApiError", "BadRequest", "CallContext", "Forbidden", "NotFound", "ServiceUnavailable"]


@dataclass(frozen=True, slots=True)
class CallContext:
    account_id: int
    request_id: str
    service: str
    endpoint: str
    body: dict[str, Any]

"""Python client for an M3O API platform: ``m3o.Client(token).helloworld.call(name="Alice")``."""

from m3o._client import DEFAULT_ADDRESS, Client
from m3o.errors import (
    APIError,
    BadRequest,
    Forbidden,
    M3OError,
    NotFound,
    PaymentRequired,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
)

__all__ = [
    "DEFAULT_ADDRESS",
    "APIError",
    "BadRequest",
    "Client",
    "Forbidden",
    "M3OError",
    "NotFound",
    "PaymentRequired",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
]

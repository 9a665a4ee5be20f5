"""The kit of a built-in service: its call context and the typed errors.

A built-in service never imports billing or accounts. It gets the caller's
account id, the request id and the validated body, and reports failures by
raising one of these errors, which the gateway renders in the error envelope
(and does not charge for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from m3o_web.errors import ApiError, BadRequest, Forbidden, NotFound, ServiceUnavailable

__all__ = [
    "ApiError",
    "BadRequest",
    "CallContext",
    "Forbidden",
    "NotFound",
    "ServiceUnavailable",
    "StorageLimits",
    "account_cache_key",
    "forget_account_cache",
    "storage_limits",
]

DEFAULT_MAX_ROWS_PER_ACCOUNT = 10_000


@dataclass(frozen=True, slots=True)
class CallContext:
    account_id: int
    request_id: str
    service: str
    endpoint: str
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StorageLimits:
    """What one account may store in each data service; ``max_bytes`` None is no byte cap."""

    max_rows: int
    max_bytes: int | None


def storage_limits(account_id: int) -> StorageLimits:
    """Return the account's storage caps per data service, from its plan or the platform default."""
    from billing.selectors import plan_limits  # the kit is the one door from a service to billing

    limits = plan_limits(account_id)
    default_rows = int(getattr(settings, "M3O_DATA_MAX_ROWS_PER_ACCOUNT", DEFAULT_MAX_ROWS_PER_ACCOUNT))
    return StorageLimits(
        max_rows=limits.max_rows_per_service if limits.max_rows_per_service is not None else default_rows,
        max_bytes=limits.storage_cap_mb * 1024 * 1024 if limits.storage_cap_mb is not None else None,
    )


def _generation_key(service: str, account_id: int) -> str:
    return f"{service}:generation:{account_id}"


def account_cache_key(service: str, account_id: int, *parts: str) -> str:
    """Return a cache key for state a service keeps in Django's cache for one account.

    The key carries the account's generation number, so ``forget_account_cache``
    puts every earlier key out of reach at once without listing them.
    """
    generation = cache.get_or_set(_generation_key(service, account_id), 0, timeout=None)
    return ":".join([service, str(account_id), str(generation), *parts])


def forget_account_cache(service: str, account_id: int) -> None:
    """Put all of an account's cached state in a service out of reach; the entries then expire on their own."""
    key = _generation_key(service, account_id)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=None)

"""The caps on what one account may store in one data service, sized by its plan.

Each data service calls ``check_room`` before it stores more: rows always,
bytes where the service knows the size of what it stores. The account's plan
sets both caps (Plan.max_rows_per_service and Plan.storage_cap_mb); without a
plan value the row cap is M3O_DATA_MAX_ROWS_PER_ACCOUNT and bytes are not capped.
"""

from __future__ import annotations

from services.kit import Forbidden, StorageLimits, storage_limits

__all__ = ["StorageLimits", "check_room", "storage_limits"]


def check_room(
    *,
    account_id: int,
    service: str,
    stored: int,
    adding: int = 1,
    stored_bytes: int = 0,
    adding_bytes: int = 0,
) -> None:
    """Raise Forbidden (403, ``<service>.row_limit`` or ``<service>.storage_limit``) when the addition would pass a cap."""
    limits = storage_limits(account_id)
    if stored + adding > limits.max_rows:
        raise Forbidden(
            f"This account stores {stored} {service} rows and its plan allows {limits.max_rows}. "
            "Delete rows you no longer need, or move to a plan with a higher limit.",
            error_id=f"{service}.row_limit",
        )
    if limits.max_bytes is not None and adding_bytes > 0 and stored_bytes + adding_bytes > limits.max_bytes:
        raise Forbidden(
            f"This account stores {stored_bytes} bytes in {service}, this write adds {adding_bytes} and its plan "
            f"allows {limits.max_bytes}. Delete data you no longer need, or move to a plan with more storage.",
            error_id=f"{service}.storage_limit",
        )

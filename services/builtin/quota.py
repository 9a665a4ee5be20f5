"""The cap on how many rows one account may store in one data service."""

from __future__ import annotations

from django.conf import settings

from services.kit import Forbidden

DEFAULT_MAX_ROWS_PER_ACCOUNT = 10_000


def max_rows_per_account() -> int:
    # NOTE: one cap for every plan; accounts have no plan field to size it by yet.
    return int(getattr(settings, "M3O_DATA_MAX_ROWS_PER_ACCOUNT", DEFAULT_MAX_ROWS_PER_ACCOUNT))


def check_room(*, service: str, stored: int, adding: int = 1) -> None:
    """Raise Forbidden when storing ``adding`` more rows would pass the account's cap."""
    limit = max_rows_per_account()
    if stored + adding > limit:
        raise Forbidden(
            f"This account stores {stored} {service} rows and the limit is {limit}. "
            "Delete rows you no longer need, or ask the operator to raise M3O_DATA_MAX_ROWS_PER_ACCOUNT.",
            error_id=f"{service}.row_limit",
        )

"""The cost of a price change on last month's usage, shown to the operator before saving it.

Usage events belong to billing, which the catalog does not import. The
services app, which may use both, plugs billing's per-account usage query in
here at start-up with ``usage_source_set``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from catalog.models import Endpoint


class AccountUsage(Protocol):
    account_id: int
    account_name: str
    calls: int
    charged_units: int


# Arguments: service slug, endpoint name, start (inclusive), end (exclusive).
UsageSource = Callable[..., Sequence[AccountUsage]]

_usage_source: UsageSource | None = None


def usage_source_set(source: UsageSource) -> None:
    global _usage_source
    _usage_source = source


@dataclass(frozen=True, slots=True)
class AccountPreview:
    account_id: int
    account_name: str
    calls: int
    charged_units: int
    at_new_price_units: int

    @property
    def difference_units(self) -> int:
        return self.at_new_price_units - self.charged_units


@dataclass(frozen=True, slots=True)
class PricePreview:
    start: datetime
    end: datetime
    price_units: int
    accounts: list[AccountPreview]

    @property
    def calls(self) -> int:
        return sum(row.calls for row in self.accounts)

    @property
    def charged_units(self) -> int:
        return sum(row.charged_units for row in self.accounts)

    @property
    def at_new_price_units(self) -> int:
        return sum(row.at_new_price_units for row in self.accounts)

    @property
    def difference_units(self) -> int:
        return self.at_new_price_units - self.charged_units


def last_month(now: datetime) -> tuple[datetime, datetime]:
    """Return the previous calendar month in UTC, as [start, end)."""
    now = now.astimezone(UTC)
    end = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end.replace(year=end.year - 1, month=12) if end.month == 1 else end.replace(month=end.month - 1))
    return start, end


def price_change_preview(*, endpoint: Endpoint, price_units: int, now: datetime) -> PricePreview:
    """Price last month's successful calls to ``endpoint`` at ``price_units``, per account.

    NOTE: the gateway charges every successful call the price in effect, with
    no free quota deducted yet, so the new cost is calls times the new price.
    Deduct the quota here too once the gateway applies it.
    """
    if _usage_source is None:
        raise RuntimeError("No usage source is set; the services app sets it at start-up.")
    start, end = last_month(now)
    usage = _usage_source(service=endpoint.service.slug, endpoint=endpoint.name, start=start, end=end)
    accounts = [
        AccountPreview(
            account_id=row.account_id,
            account_name=row.account_name,
            calls=row.calls,
            charged_units=row.charged_units,
            at_new_price_units=row.calls * price_units,
        )
        for row in usage
    ]
    return PricePreview(start=start, end=end, price_units=price_units, accounts=accounts)

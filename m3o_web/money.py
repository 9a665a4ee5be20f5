"""Money in integer units: 1 unit = US$0.000001. Conversions to dollars use Decimal, never floats."""

from __future__ import annotations

from decimal import Decimal

UNITS_PER_DOLLAR = 1_000_000


def dollars(units: int) -> Decimal:
    """Return ``units`` as an exact number of US dollars."""
    return Decimal(units) / UNITS_PER_DOLLAR

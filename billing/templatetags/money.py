"""Template filters for money in units (1 unit = US$0.000001)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from m3o_web.money import dollars

register = template.Library()


@register.filter
def usd(units: int | None) -> str:
    """Format units as dollars with every unit visible, e.g. 999000 -> "$0.999000"."""
    value = dollars(units or 0)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.6f}"


@register.filter
def usd_cents(cents: int | None) -> str:
    """Format whole cents as dollars, e.g. 300 -> "$3.00"."""
    value = Decimal(cents or 0) / 100
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"

"""Chart tables: the figures behind each chart, rendered as an HTML table that static/js/charts.js draws.

The table is the chart's source of truth, so screen readers and browsers
without JavaScript get the same figures as the drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.humanize.templatetags.humanize import intcomma

from billing.templatetags.money import usd
from billing.usage_selectors import Point
from m3o_web.money import dollars


@dataclass(frozen=True, slots=True)
class Cell:
    value: float  # plotted
    text: str  # shown in the table


@dataclass(frozen=True, slots=True)
class ChartTable:
    id: str
    title: str
    period_label: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    kind: str = "bar"
    # True: one drawing per column; False: all columns in one drawing (the second on its own axis).
    split: bool = False


def _calls(point: Point) -> Cell:
    return Cell(point.totals.calls, intcomma(point.totals.calls))


def _errors(point: Point) -> Cell:
    return Cell(point.totals.errors, intcomma(point.totals.errors))


def _spend(point: Point) -> Cell:
    return Cell(float(dollars(point.totals.cost_units)), usd(point.totals.cost_units))


METRICS = {"calls": ("Calls", _calls), "spend": ("Spend (US$)", _spend), "errors": ("Errors", _errors)}


def _label(point: Point, granularity: str) -> str:
    return point.start.strftime("%Y-%m-%d %H:00" if granularity == "hour" else "%Y-%m-%d")


def chart_table(
    *, id: str, title: str, series: list[Point], granularity: str, metrics: list[str], kind: str = "bar", split: bool = False
) -> ChartTable:
    return ChartTable(
        id=id,
        title=title,
        period_label="Hour (UTC)" if granularity == "hour" else "Day (UTC)",
        columns=[METRICS[name][0] for name in metrics],
        rows=[(_label(point, granularity), [METRICS[name][1](point) for name in metrics]) for point in series],
        kind=kind,
        split=split,
    )

"""The dashboard's sales chart, as geometry: one bar per day, the money axis with round steps,
and the day labels, in SVG user units. ``templates/admin/_sales_chart.html`` draws it as inline
SVG - no script, coloured by the console's CSS - with a title and a description for assistive
technology, a tooltip per bar, and the numbers again as a table.
"""

from __future__ import annotations

import math
import re

import attrs

from commerce_core import Money, SalesDay, SalesOverTime, exponent_of
from webapp.pages.admin.display import day, format_price

__all__ = ["SalesChart", "sales_chart"]

WIDTH = 720
HEIGHT = 260
LEFT = 84  # room for the money labels
RIGHT = 28  # room for the last day's label, centred on its bar
TOP = 12
BOTTOM = 32  # room for the day labels
_BAR_SHARE = 0.72  # of a day's slot; the rest is the gap between bars
_MONEY_TICKS = 4
_DAY_LABELS = 6
_STEP_FACTORS = (1, 2, 5)


@attrs.frozen
class Bar:
    x: float
    y: float
    width: float
    height: float
    tooltip: str


@attrs.frozen
class Tick:
    at: float  # y for the money axis, x for the day axis
    label: str


@attrs.frozen
class SalesChart:
    title: str
    description: str
    bars: tuple[Bar, ...]
    money_ticks: tuple[Tick, ...]
    day_ticks: tuple[Tick, ...]
    days: tuple[SalesDay, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _step(peak: int, currency: str) -> int:
    """A round step (1, 2 or 5 times a power of ten, at least one major unit) in minor units,
    so that ``_MONEY_TICKS`` steps reach ``peak``."""
    wanted = max(math.ceil(peak / _MONEY_TICKS), 10 ** exponent_of(currency))
    power = 1
    while True:
        for factor in _STEP_FACTORS:
            if factor * power >= wanted:
                return factor * power
        power *= 10


def _axis_money(amount: int, currency: str) -> str:
    """Round amounts without their zero decimals ("$1,000", not "$1,000.00") on the axis."""
    return re.sub(r"\.0+$", "", format_price(Money(amount, currency)))


def _orders(count: int) -> str:
    return f"{count} order" if count == 1 else f"{count} orders"


def sales_chart(report: SalesOverTime) -> SalesChart | None:
    """The chart of ``report``; ``None`` if there is nothing to chart (no currency)."""
    if report.currency is None or not report.days:
        return None
    currency = report.currency
    days = report.days
    peak = max(d.total.amount for d in days)
    step = _step(peak, currency)
    top_amount = step * max(1, math.ceil(peak / step))
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - RIGHT - LEFT) / len(days)
    bar_width = slot * _BAR_SHARE

    def y_of(amount: int) -> float:
        return round(HEIGHT - BOTTOM - plot_height * amount / top_amount, 1)

    bars = tuple(
        Bar(
            x=round(LEFT + index * slot + (slot - bar_width) / 2, 1),
            y=y_of(d.total.amount),
            width=round(bar_width, 1),
            height=round(HEIGHT - BOTTOM - y_of(d.total.amount), 1),
            tooltip=f"{day(d.day)}: {format_price(d.total)}, {_orders(d.orders)}",
        )
        for index, d in enumerate(days)
        if d.total.amount > 0
    )
    money_ticks = tuple(
        Tick(y_of(amount), _axis_money(amount, currency))
        for amount in range(0, top_amount + 1, step)
    )
    every = max(1, math.ceil(len(days) / _DAY_LABELS))
    last = len(days) - 1
    day_ticks = tuple(
        Tick(round(LEFT + index * slot + slot / 2, 1), f"{d.day.day} {d.day:%b}")
        for index, d in enumerate(days)
        if (last - index) % every == 0
    )
    return SalesChart(
        title=f"Sales per day, {day(report.first_day)} to {day(report.last_day)} (UTC)",
        description=_description(report),
        bars=bars,
        money_ticks=money_ticks,
        day_ticks=day_ticks,
        days=days,
    )


def _description(report: SalesOverTime) -> str:
    best = report.best_day
    total = report.total
    if best is None or total is None:
        return f"No paid orders in these {len(report.days)} days."
    return (
        f"{format_price(total)} from {_orders(report.orders)} in {len(report.days)} days; "
        f"the best day was {day(best.day)} with {format_price(best.total)}."
    )

"""How the admin console shows money, instants and days (Jinja filters and globals).

Money is integer minor units everywhere; it is shown as the shop shows it to shoppers (``price``,
the same format as the storefront's filter, registered once whichever page module comes first)
and typed back in major units (``major``: ``Money(1234, "USD")`` is ``"12.34"``, exactly).
Instants are shown in UTC - staff in several places read the same time - inside ``<time>``
with the machine-readable instant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup

from commerce_core import Money
from webapp.pages.money_format import format_price

__all__ = ["day", "details", "format_price", "major", "moment"]


def major(money: Money | None) -> str:
    """What a staff member types for ``money`` in a form ("12.34"); empty for none."""
    return "" if money is None else money.to_decimal_string()


def day(value: date) -> str:
    """``date(2026, 3, 1)`` as "1 Mar 2026"."""
    return f"{value.day} {value:%b %Y}"


def moment(value: datetime | None) -> Markup:
    """An instant as ``<time datetime="...Z">1 Mar 2026, 09:30 UTC</time>``; a dash for none."""
    if value is None:
        return Markup('<span class="muted">-</span>')
    utc = value.astimezone(UTC)
    stamp = utc.isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}">{}, {:%H:%M} UTC</time>').format(stamp, day(utc), utc)


def details(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """An audit entry's or alert's fields as (name, value) lines: text as it is, anything else
    as compact JSON (a before/after pair stays on one line)."""
    return [
        (name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for name, value in sorted(fields.items())
    ]

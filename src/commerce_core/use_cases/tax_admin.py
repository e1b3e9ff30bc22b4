"""What staff do to the shop's tax rates: save (create or replace) and delete them, and list them.

Like the shipping set-up (``shipping_admin``): ``shipping:manage``, checked before the input,
and every change audited with what it replaced. A rate is keyed by country and region, the
region matched without regard to case, as checkout matches it (``rate_for``): saving ``"ca"``
replaces the rate for ``"CA"``, so one address never has two rates.
"""

from __future__ import annotations

from typing import Any

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.addresses import COUNTRIES
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.domain.tax import TaxRate
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases._shipping_staff import (
    SavedSetting,
    audit_change,
    collect_errors,
    page_of,
    shipping_manager,
)
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page

__all__ = [
    "DeleteTaxRate",
    "SaveTaxRate",
    "delete_tax_rate",
    "list_tax_rates",
    "save_tax_rate",
    "tax_rate_view",
]


@attrs.frozen
class SaveTaxRate:
    """``region`` empty: the country-wide rate."""

    actor_id: str
    country: str
    basis_points: int
    name: str
    region: str = ""
    shipping_taxable: bool = True
    ip: str | None = None


@attrs.frozen
class DeleteTaxRate:
    actor_id: str
    country: str
    region: str = ""
    ip: str | None = None


def tax_rate_view(rate: TaxRate) -> dict[str, Any]:
    return {
        "country": rate.country,
        "region": rate.region,
        "basis_points": rate.basis_points,
        "name": rate.name,
        "shipping_taxable": rate.shipping_taxable,
    }


def list_tax_rates(uow: UnitOfWork, actor: User, paging: PageRequest) -> Page[TaxRate]:
    """Every tax rate by country, then region (``shipping:manage``)."""
    require_permission(actor, Permission.SHIPPING_MANAGE)
    with uow:
        return page_of(uow.tax_rates.list(), paging)


def _same_place(rate: TaxRate, country: str, region: str) -> bool:
    return rate.country == country and rate.region.casefold() == region.casefold()


def _tax_target(rate: TaxRate) -> str:
    return f"tax_rate:{rate.country}/{rate.region}" if rate.region else f"tax_rate:{rate.country}"


def save_tax_rate(command: SaveTaxRate, *, uow: UnitOfWork, clock: Clock) -> SavedSetting[TaxRate]:
    """Add the rate, or replace the one for its country and region (any case)."""
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        errors: list[FieldError] = []
        country = command.country.upper()
        if country not in COUNTRIES:
            errors.append(FieldError("country", "must be an ISO 3166-1 alpha-2 code"))
        rate = collect_errors(
            errors,
            lambda: TaxRate(
                # A known code in place of a bad one, so the other fields are checked too.
                country=country if country in COUNTRIES else "US",
                region=command.region.strip(),
                basis_points=command.basis_points,
                name=command.name.strip(),
                shipping_taxable=command.shipping_taxable,
            ),
        )
        if errors or rate is None:
            raise InvalidInput(errors=errors)
        previous = next(
            (r for r in uow.tax_rates.list() if _same_place(r, rate.country, rate.region)), None
        )
        if previous is not None and previous.key != rate.key:
            uow.tax_rates.delete(*previous.key)  # the same region, spelt in another case
        uow.tax_rates.save(rate)
        audit_change(
            uow,
            now,
            actor,
            "shipping.tax_rate_saved",
            _tax_target(rate),
            command.ip,
            tax_rate=tax_rate_view(rate),
            previous=None if previous is None else tax_rate_view(previous),
        )
        uow.commit()
    return SavedSetting(rate, created=previous is None)


def delete_tax_rate(command: DeleteTaxRate, *, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the rate of the country and region (any case); ``NotFound`` if there is none."""
    country = command.country.upper()
    region = command.region.strip()
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        rate = next((r for r in uow.tax_rates.list() if _same_place(r, country, region)), None)
        if rate is None:
            raise NotFound("no such tax rate")
        uow.tax_rates.delete(*rate.key)
        audit_change(
            uow,
            now,
            actor,
            "shipping.tax_rate_deleted",
            _tax_target(rate),
            command.ip,
            tax_rate=tax_rate_view(rate),
        )
        uow.commit()

"""``SqlShippingRepository`` and ``SqlTaxRateRepository``: the shop's shipping zones, methods and
tax rates. A shop has a handful of each, so they are read whole (one statement per table) and
written one row at a time by staff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, delete, select
from sqlalchemy.engine import Connection

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import shipping_methods, shipping_zones, tax_rates
from commerce_core import Conflict, Money, ShippingMethod, ShippingZone, TaxRate

__all__ = ["SqlShippingRepository", "SqlTaxRateRepository"]


# Built once: the checkout reads all three on every intent.
_ZONES = select(shipping_zones)
_METHODS = select(shipping_methods)
_TAX_RATES = select(tax_rates)


def _upsert(connection: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    statement = insert_on_conflict(connection.dialect.name, table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[key] for key in keys],
        set_={name: statement.excluded[name] for name in values if name not in keys},
    )
    connection.execute(statement)


def _zone(row: RowMapping) -> ShippingZone:
    return ShippingZone(row["id"], row["name"], frozenset(row["countries"]))


def _money(amount: int | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount, currency)


def _method(row: RowMapping) -> ShippingMethod:
    currency = row["currency"]
    return ShippingMethod(
        id=row["id"],
        zone_id=row["zone_id"],
        name=row["name"],
        price=Money(row["price_amount"], currency),
        free_above=_money(row["free_above_amount"], currency),
        per_kg=_money(row["per_kg_amount"], currency),
        max_weight_grams=row["max_weight_grams"],
        taxable=row["taxable"],
        active=row["active"],
    )


class SqlShippingRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def zones(self) -> list[ShippingZone]:
        # Sorted here, not by the database's collation (which may order '-' and '_' its way).
        rows = self._connection.execute(_ZONES).mappings()
        return sorted((_zone(row) for row in rows), key=lambda zone: zone.id)

    def methods(self) -> list[ShippingMethod]:
        rows = self._connection.execute(_METHODS).mappings()
        return sorted((_method(row) for row in rows), key=lambda method: method.id)

    def save_zone(self, zone: ShippingZone) -> None:
        values = {"id": zone.id, "name": zone.name, "countries": sorted(zone.countries)}
        _upsert(self._connection, shipping_zones, values, ["id"])

    def delete_zone(self, zone_id: str) -> bool:
        # Its methods first: SQLite enforces the foreign key's cascade only when told to.
        self._connection.execute(
            delete(shipping_methods).where(shipping_methods.c.zone_id == zone_id)
        )
        result = self._connection.execute(
            delete(shipping_zones).where(shipping_zones.c.id == zone_id)
        )
        return bool(result.rowcount)

    def save_method(self, method: ShippingMethod) -> None:
        values = {
            "id": method.id,
            "zone_id": method.zone_id,
            "name": method.name,
            "currency": method.currency,
            "price_amount": method.price.amount,
            "free_above_amount": None if method.free_above is None else method.free_above.amount,
            "per_kg_amount": None if method.per_kg is None else method.per_kg.amount,
            "max_weight_grams": method.max_weight_grams,
            "taxable": method.taxable,
            "active": method.active,
        }
        exists = self._connection.execute(
            select(shipping_zones.c.id).where(shipping_zones.c.id == method.zone_id)
        ).first()
        if exists is None:
            raise Conflict(f"no shipping zone {method.zone_id}")
        _upsert(self._connection, shipping_methods, values, ["id"])

    def delete_method(self, method_id: str) -> bool:
        result = self._connection.execute(
            delete(shipping_methods).where(shipping_methods.c.id == method_id)
        )
        return bool(result.rowcount)


class SqlTaxRateRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def list(self) -> list[TaxRate]:
        rows = self._connection.execute(_TAX_RATES)
        found = [
            TaxRate(
                country=row["country"],
                region=row["region"],
                basis_points=row["basis_points"],
                name=row["name"],
                shipping_taxable=row["shipping_taxable"],
            )
            for row in rows.mappings()
        ]
        return sorted(found, key=lambda rate: rate.key)

    def save(self, rate: TaxRate) -> None:
        values = {
            "country": rate.country,
            "region": rate.region,
            "basis_points": rate.basis_points,
            "name": rate.name,
            "shipping_taxable": rate.shipping_taxable,
        }
        _upsert(self._connection, tax_rates, values, ["country", "region"])

    def delete(self, country: str, region: str) -> bool:
        result = self._connection.execute(
            delete(tax_rates).where(tax_rates.c.country == country, tax_rates.c.region == region)
        )
        return bool(result.rowcount)

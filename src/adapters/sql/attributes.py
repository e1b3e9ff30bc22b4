"""``SqlAttributeRepository``: the attributes staff define (``attribute_definitions``) and each
product's values of them (``product_attribute_values``: the text shown, and a number's value
times 10**4 as an integer for exact filters)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import RowMapping, delete, func, insert, select
from sqlalchemy.engine import Connection

from adapters.sql.conflicts import insert_on_conflict
from adapters.sql.tables import attribute_definitions, product_attribute_values, products
from commerce_core import AttributeDefinition, AttributeKind, AttributeValue, Conflict

__all__ = ["SqlAttributeRepository"]

_DEFINITIONS = select(attribute_definitions)
_CHUNK = 500


def _definition(row: RowMapping) -> AttributeDefinition:
    return AttributeDefinition(
        code=row["code"],
        name=row["name"],
        kind=AttributeKind(row["kind"]),
        choices=tuple(row["choices"]),
        unit=row["unit"],
        filterable=row["filterable"],
    )


def _chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


class SqlAttributeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def definitions(self) -> list[AttributeDefinition]:
        rows = self._connection.execute(_DEFINITIONS).mappings()
        return sorted((_definition(row) for row in rows), key=lambda d: d.code)

    def save_definition(self, definition: AttributeDefinition) -> None:
        values = {
            "code": definition.code,
            "name": definition.name,
            "kind": definition.kind.value,
            "choices": list(definition.choices),
            "unit": definition.unit,
            "filterable": definition.filterable,
        }
        table = attribute_definitions
        statement = insert_on_conflict(self._connection.dialect.name, table).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.code],
            set_={name: statement.excluded[name] for name in values if name != "code"},
        )
        self._connection.execute(statement)

    def delete_definition(self, code: str) -> bool:
        # Its values first: SQLite applies the foreign key's cascade only when told to.
        self._connection.execute(
            delete(product_attribute_values).where(product_attribute_values.c.code == code)
        )
        result = self._connection.execute(
            delete(attribute_definitions).where(attribute_definitions.c.code == code)
        )
        return bool(result.rowcount)

    def values_of(self, product_ids: Iterable[str]) -> dict[str, dict[str, AttributeValue]]:
        table = product_attribute_values
        found: dict[str, dict[str, AttributeValue]] = {}
        for chunk in _chunks(product_ids):
            rows = self._connection.execute(
                select(
                    table.c.product_id, table.c.code, table.c.value_text, table.c.value_scaled
                ).where(table.c.product_id.in_(chunk))
            )
            for product_id, code, text, scaled in rows:
                found.setdefault(product_id, {})[code] = AttributeValue(code, text, scaled)
        return found

    def set_values(self, product_id: str, values: Mapping[str, AttributeValue]) -> None:
        if any(value.code != code for code, value in values.items()):
            raise ValueError("each value must be filed under its own code")
        product = self._connection.execute(
            select(products.c.id).where(products.c.id == product_id)
        ).first()
        if product is None:
            raise Conflict(f"no product {product_id}")
        known = set(
            self._connection.execute(
                select(attribute_definitions.c.code).where(
                    attribute_definitions.c.code.in_(sorted(values))
                )
            ).scalars()
        )
        unknown = sorted(set(values) - known)
        if unknown:
            raise Conflict(f"no attribute {unknown[0]}")
        table = product_attribute_values
        self._connection.execute(delete(table).where(table.c.product_id == product_id))
        if values:
            self._connection.execute(
                insert(table),
                [
                    {
                        "product_id": product_id,
                        "code": code,
                        "value_text": value.text,
                        "value_scaled": value.scaled,
                    }
                    for code, value in sorted(values.items())
                ],
            )

    def value_counts(self, code: str) -> dict[str, int]:
        table = product_attribute_values
        rows = self._connection.execute(
            select(table.c.value_text, func.count())
            .where(table.c.code == code)
            .group_by(table.c.value_text)
        )
        return {str(text): int(count) for text, count in rows}

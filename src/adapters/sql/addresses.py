"""``SqlAddressBook``: the addresses shoppers keep on their accounts, one row each, the address
as the JSON object the core checked (``Address.to_primitive``)."""

from __future__ import annotations

from sqlalchemy import RowMapping, delete, func, insert, select
from sqlalchemy.engine import Connection

from adapters.sql.tables import saved_addresses
from commerce_core import Address, SavedAddress

__all__ = ["SqlAddressBook"]


def _saved(row: RowMapping) -> SavedAddress:
    return SavedAddress(
        id=row["id"],
        user_id=row["user_id"],
        label=row["label"],
        address=Address.from_primitive(row["address"]),
        created_at=row["created_at"],
    )


class SqlAddressBook:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def list_for_user(self, user_id: str) -> list[SavedAddress]:
        rows = self._connection.execute(
            select(saved_addresses)
            .where(saved_addresses.c.user_id == user_id)
            .order_by(saved_addresses.c.created_at, saved_addresses.c.id)
        )
        return [_saved(row) for row in rows.mappings()]

    def add(self, address: SavedAddress) -> None:
        self._connection.execute(
            insert(saved_addresses).values(
                id=address.id,
                user_id=address.user_id,
                label=address.label,
                address=address.address.to_primitive(),
                created_at=address.created_at,
            )
        )

    def delete(self, user_id: str, address_id: str) -> bool:
        result = self._connection.execute(
            delete(saved_addresses).where(
                saved_addresses.c.id == address_id, saved_addresses.c.user_id == user_id
            )
        )
        return bool(result.rowcount)

    def count_for_user(self, user_id: str) -> int:
        count = self._connection.execute(
            select(func.count())
            .select_from(saved_addresses)
            .where(saved_addresses.c.user_id == user_id)
        ).scalar_one()
        return int(count)

"""``SqlCartRepository``: shoppers' carts, a ``carts`` row each and its lines in ``cart_lines``.

A cart is small (at most 50 lines): ``save`` rewrites its lines whole rather than diffing them.
Deletes remove the lines first (SQLite enforces no foreign key unless told to, so no cascade is
relied on). ``for_update`` locks the cart's row on PostgreSQL (SQLite's transactions here are
``BEGIN IMMEDIATE``, serialised already): two requests changing one cart take turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, Select, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import violates
from adapters.sql.tables import cart_lines, carts
from commerce_core import Cart, CartLine, Conflict, NotFound

__all__ = ["SqlCartRepository"]

_LINES = (
    select(cart_lines.c.variant_id, cart_lines.c.quantity)
    .where(cart_lines.c.cart_id == bindparam("cart_id"))
    .order_by(cart_lines.c.position)
)
_DELETE_LINES = delete(cart_lines).where(cart_lines.c.cart_id == bindparam("cart_id"))
_UPDATE = update(carts).where(carts.c.id == bindparam("cart_key"))


def _conflict(exc: IntegrityError, cart: Cart) -> Conflict | None:
    if violates(exc, carts.c.user_id):
        return Conflict("this account has a cart already")
    if violates(exc, carts.c.id):
        return Conflict(f"cart {cart.id} exists")
    return None


class SqlCartRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, cart_id: str, *, for_update: bool = False) -> Cart | None:
        return self._one(select(carts).where(carts.c.id == cart_id), for_update)

    def get_for_user(self, user_id: str, *, for_update: bool = False) -> Cart | None:
        return self._one(select(carts).where(carts.c.user_id == user_id), for_update)

    def add(self, cart: Cart) -> None:
        try:
            self._connection.execute(insert(carts).values(id=cart.id, **_values(cart)))
        except IntegrityError as exc:
            conflict = _conflict(exc, cart)
            if conflict is None:
                raise
            raise conflict from exc
        self._write_lines(cart)

    def save(self, cart: Cart) -> None:
        try:
            result = self._connection.execute(_UPDATE, {"cart_key": cart.id, **_values(cart)})
        except IntegrityError as exc:
            conflict = _conflict(exc, cart)
            if conflict is None:
                raise
            raise conflict from exc
        if result.rowcount == 0:
            raise NotFound(f"no cart {cart.id} to save")
        self._connection.execute(_DELETE_LINES, {"cart_id": cart.id})
        self._write_lines(cart)

    def delete(self, cart_id: str) -> bool:
        self._connection.execute(_DELETE_LINES, {"cart_id": cart_id})
        result = self._connection.execute(delete(carts).where(carts.c.id == cart_id))
        return bool(result.rowcount)

    def purge_untouched(self, before: datetime) -> int:
        stale = select(carts.c.id).where(carts.c.updated_at < before).scalar_subquery()
        self._connection.execute(delete(cart_lines).where(cart_lines.c.cart_id.in_(stale)))
        result = self._connection.execute(delete(carts).where(carts.c.updated_at < before))
        return int(result.rowcount)

    def _one(self, query: Select[tuple[object, ...]], for_update: bool) -> Cart | None:
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        if row is None:
            return None
        lines = self._connection.execute(_LINES, {"cart_id": row["id"]}).all()
        return _cart(row, [CartLine(r.variant_id, r.quantity) for r in lines])

    def _write_lines(self, cart: Cart) -> None:
        if cart.lines:
            self._connection.execute(
                insert(cart_lines),
                [
                    {
                        "cart_id": cart.id,
                        "variant_id": line.variant_id,
                        "position": position,
                        "quantity": line.quantity,
                    }
                    for position, line in enumerate(cart.lines)
                ],
            )


def _values(cart: Cart) -> dict[str, object]:
    return {
        "user_id": cart.user_id,
        "order_id": cart.order_id,
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
    }


def _cart(row: RowMapping, lines: Sequence[CartLine]) -> Cart:
    return Cart(
        id=row["id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        lines=list(lines),
        order_id=row["order_id"],
    )

"""``SqlOrderRepository``: the order aggregate (order row, its lines, its refunds) in three tables.

Reading an order costs two or three indexed statements (the order row - locked with ``FOR UPDATE``
when asked -, its lines, and its refunds if it can have any); a page of orders costs at most four
whatever its size (no N+1). Refunds are only read for orders whose payment was captured: the
domain only lets a refund be requested on a captured order, and a captured order never goes back
to an uncaptured status, so an order that is neither captured-status nor carries a captured
amount has no refund rows to read.
Saving writes only what changed since this transaction read or last wrote the order: one
``UPDATE`` of the order row if it changed, and one batched ``INSERT ... ON CONFLICT DO UPDATE`` of
the refunds that were added or changed. So confirming a payment writes the order row once, even
though the use case saves it twice, and writes no refund rows at all.

The uniqueness of ``intent_id`` and ``gateway_refund_id`` is the database's; a violation comes
back as ``Conflict``. (On PostgreSQL it has aborted the transaction: the caller's ``with`` block
ends and rolls back, which is what should happen.)
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import attrs
from sqlalchemy import (
    ColumnElement,
    Date,
    RowMapping,
    Select,
    String,
    and_,
    bindparam,
    func,
    select,
    union,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from adapters.sql.conflicts import insert_on_conflict, violates
from adapters.sql.tables import order_lines, orders, refunds
from commerce_core import (
    Address,
    Conflict,
    DailySales,
    Fulfilment,
    HeldStock,
    Money,
    NotFound,
    Order,
    OrderFilter,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    ShippingQuote,
    StockState,
    TaxLine,
)

__all__ = ["SqlOrderRepository"]

RefundRows = dict[str, dict[str, Any]]
# Statement shapes the hot paths run, built once: per call SQLAlchemy then only looks up their
# compiled form instead of constructing and cache-keying a new statement.
_BY_ID = select(orders).where(orders.c.id == bindparam("key"))
_BY_INTENT = select(orders).where(orders.c.intent_id == bindparam("key"))
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_BY_INTENT_FOR_UPDATE = _BY_INTENT.with_for_update()
_LINES_OF = (
    select(order_lines)
    .where(order_lines.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(order_lines.c.order_id, order_lines.c.line_no)
)
_REFUNDS_OF = (
    select(refunds)
    .where(refunds.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(refunds.c.order_id, refunds.c.position, refunds.c.created_at)
)


def _held_unpaid(owner: ColumnElement[bool]) -> Select[int, Any]:
    """How many unpaid orders hold stock, and how many units, for one owner."""
    return (
        select(func.count(func.distinct(orders.c.id)), func.sum(order_lines.c.quantity))
        .select_from(orders.join(order_lines, order_lines.c.order_id == orders.c.id))
        .where(
            owner,
            orders.c.status == OrderStatus.AWAITING_PAYMENT.value,
            orders.c.stock_state == StockState.HELD.value,
        )
    )


_HELD_BY_USER = _held_unpaid(orders.c.user_id == bindparam("owner"))
_HELD_BY_ADDRESS = _held_unpaid(orders.c.client_ip == bindparam("owner"))
# The SET clause comes from the parameters: the snapshot's columns.
_UPDATE_ORDER = orders.update().where(orders.c.id == bindparam("order_id"))
_CAPTURED_STATUSES = frozenset(status.value for status in OrderStatus if status.is_paid)
# Columns fixed at placing: lines are an immutable snapshot, and so is what they determine.
_FIXED = (
    "id",
    "user_id",
    "currency",
    "total_amount",
    "created_at",
    "shipping_address",
    "shipping_method_id",
    "shipping_method_name",
    "shipping_amount",
    "shipping_taxable",
    "tax_amount",
    "tax_lines",
    "prices_include_tax",
)


@functools.cache
def _refund_upsert(dialect: str) -> Any:
    """Built once per dialect; the refund rows come as the execution's parameters. Only what a
    refund's life changes is updated on a conflict."""
    upsert = insert_on_conflict(dialect, refunds)
    return upsert.on_conflict_do_update(
        index_elements=[refunds.c.id],
        set_={
            "status": upsert.excluded.status,
            "gateway_refund_id": upsert.excluded.gateway_refund_id,
            "updated_at": upsert.excluded.updated_at,
        },
    )


@attrs.frozen
class _Snapshot:
    """An order's rows as this transaction last read or wrote them."""

    order: dict[str, Any]
    refunds: RefundRows

    @classmethod
    def of(cls, order: Order) -> _Snapshot:
        values = _order_values(order)
        for fixed in _FIXED:
            del values[fixed]
        return cls(values, _refund_rows(order))


def _order_values(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "user_id": order.user_id,
        "status": order.status.value,
        "stock_state": order.stock_state.value,
        "gateway": order.gateway,
        "intent_id": order.intent_id,
        "currency": order.currency,
        "total_amount": order.total.amount,
        "captured_amount": None if order.captured is None else order.captured.amount,
        "paid_at": order.paid_at,
        "failure_code": order.failure_code,
        "hold_expires_at": order.hold_expires_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "intent_to_cancel": order.intent_to_cancel,
        "disputed": order.disputed,
        "client_ip": order.client_ip,
        **_shipping_values(order),
        "tax_amount": order.tax.amount,
        "tax_lines": [line.to_primitive() for line in order.tax_lines] or None,
        "prices_include_tax": order.prices_include_tax,
        "fulfilment_carrier": None if order.fulfilment is None else order.fulfilment.carrier,
        "fulfilment_tracking": (
            None if order.fulfilment is None else order.fulfilment.tracking_number
        ),
        "fulfilled_at": None if order.fulfilment is None else order.fulfilment.fulfilled_at,
    }


def _shipping_values(order: Order) -> dict[str, Any]:
    method = order.shipping_method
    address = order.shipping_address
    return {
        "shipping_address": None if address is None else address.to_primitive(),
        "shipping_method_id": None if method is None else method.method_id,
        "shipping_method_name": None if method is None else method.name,
        "shipping_amount": 0 if method is None else method.price.amount,
        "shipping_taxable": False if method is None else method.taxable,
    }


def _line_values(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order.id,
            "line_no": number,
            "product_id": line.product_id,
            "slug": line.slug,
            "name": line.name,
            "unit_price_amount": line.unit_price.amount,
            "currency": line.unit_price.currency,
            "quantity": line.quantity,
            "variant_id": line.variant_id,
            "sku": line.sku,
            "options": dict(line.options),
        }
        for number, line in enumerate(order.lines, start=1)
    ]


def _refund_rows(order: Order) -> RefundRows:
    return {
        refund.id: {
            "id": refund.id,
            "order_id": order.id,
            "position": position,
            "amount": refund.amount.amount,
            "currency": refund.amount.currency,
            "status": refund.status.value,
            "reason": refund.reason,
            "gateway_refund_id": refund.gateway_refund_id,
            "requested_by": refund.requested_by,
            "created_at": refund.created_at,
            "updated_at": refund.updated_at,
            "external": refund.external,
        }
        for position, refund in enumerate(order.refunds)
    }


def _line(row: RowMapping) -> OrderLine:
    return OrderLine(
        product_id=row["product_id"],
        slug=row["slug"],
        name=row["name"],
        unit_price=Money(row["unit_price_amount"], row["currency"]),
        quantity=row["quantity"],
        variant_id=row["variant_id"],
        sku=row["sku"],
        options=tuple((row["options"] or {}).items()),
    )


def _refund(row: RowMapping) -> Refund:
    return Refund(
        id=row["id"],
        amount=Money(row["amount"], row["currency"]),
        status=RefundStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        reason=row["reason"],
        gateway_refund_id=row["gateway_refund_id"],
        requested_by=row["requested_by"],
        external=row["external"],
    )


def _order(row: RowMapping, lines: list[OrderLine], order_refunds: list[Refund]) -> Order:
    captured = row["captured_amount"]
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        lines=tuple(lines),
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        hold_expires_at=row["hold_expires_at"],
        stock_state=StockState(row["stock_state"]),
        gateway=row["gateway"],
        intent_id=row["intent_id"],
        captured=None if captured is None else Money(captured, row["currency"]),
        paid_at=row["paid_at"],
        failure_code=row["failure_code"],
        refunds=order_refunds,
        intent_to_cancel=row["intent_to_cancel"],
        disputed=row["disputed"],
        client_ip=row["client_ip"],
        shipping_address=(
            None
            if row["shipping_address"] is None
            else Address.from_primitive(row["shipping_address"])
        ),
        shipping_method=_shipping_method(row),
        tax_lines=tuple(TaxLine.from_primitive(line) for line in row["tax_lines"] or ()),
        prices_include_tax=row["prices_include_tax"],
        fulfilment=(
            None
            if row["fulfilled_at"] is None
            else Fulfilment(
                row["fulfilment_carrier"], row["fulfilment_tracking"], row["fulfilled_at"]
            )
        ),
    )


def _shipping_method(row: RowMapping) -> ShippingQuote | None:
    if row["shipping_method_id"] is None:
        return None
    return ShippingQuote(
        method_id=row["shipping_method_id"],
        name=row["shipping_method_name"],
        price=Money(row["shipping_amount"], row["currency"]),
        taxable=row["shipping_taxable"],
    )


def _matching(where: OrderFilter) -> ColumnElement[bool] | None:
    """``OrderFilter.matches`` as a WHERE clause."""
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(orders.c.status.in_(sorted(status.value for status in where.statuses)))
    if where.placed_from is not None:
        conditions.append(orders.c.created_at >= where.placed_from)
    if where.placed_to is not None:
        conditions.append(orders.c.created_at < where.placed_to)
    if where.user_id is not None:
        conditions.append(orders.c.user_id == where.user_id)
    if where.disputed is not None:
        conditions.append(orders.c.disputed.is_(where.disputed))
    return and_(*conditions) if conditions else None


def _utc_day(dialect: str) -> ColumnElement[Any]:
    """The UTC day of ``paid_at``: SQLite keeps instants as UTC text (``UtcDateTime``), whose
    first ten characters are the day; PostgreSQL converts its ``timestamptz`` to UTC first, so
    the session's time zone cannot move a sale to another day."""
    if dialect == "sqlite":
        return func.substr(orders.c.paid_at, 1, 10, type_=String())
    return func.date(func.timezone("UTC", orders.c.paid_at), type_=Date())


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _conflict(exc: IntegrityError, order: Order) -> Conflict | None:
    """The domain's reading of a uniqueness violation, or ``None`` if it is a bug to propagate."""
    if violates(exc, orders.c.intent_id):
        return Conflict(f"payment intent {order.intent_id} is already attached to another order")
    if violates(exc, refunds.c.gateway_refund_id):
        return Conflict("that gateway refund is already recorded against another refund")
    if violates(exc, orders.c.id):
        return Conflict(f"order {order.id} already exists")
    if violates(exc, refunds.c.id):
        return Conflict(f"a refund of order {order.id} already exists under the same id")
    return None


class SqlOrderRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._known: dict[str, _Snapshot] = {}

    def add(self, order: Order) -> None:
        snapshot = _Snapshot.of(order)
        try:
            self._connection.execute(orders.insert(), _order_values(order))
            self._connection.execute(order_lines.insert(), _line_values(order))
            if snapshot.refunds:
                self._connection.execute(refunds.insert(), list(snapshot.refunds.values()))
        except IntegrityError as exc:
            conflict = _conflict(exc, order)
            if conflict is None:
                raise
            raise conflict from exc
        self._known[order.id] = snapshot

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        return self._get_one(_BY_ID_FOR_UPDATE if for_update else _BY_ID, order_id)

    def get_by_intent(self, intent_id: str, *, for_update: bool = False) -> Order | None:
        return self._get_one(_BY_INTENT_FOR_UPDATE if for_update else _BY_INTENT, intent_id)

    def save(self, order: Order) -> None:
        snapshot = _Snapshot.of(order)
        known = self._known.get(order.id)
        known_refunds = known.refunds if known else {}
        changed = [
            row
            for refund_id, row in snapshot.refunds.items()
            if known_refunds.get(refund_id) != row
        ]
        try:
            if known is None or known.order != snapshot.order:
                result = self._connection.execute(
                    _UPDATE_ORDER, {"order_id": order.id, **snapshot.order}
                )
                if result.rowcount == 0:
                    raise NotFound(f"no order {order.id} to save")
            if changed:
                upsert = _refund_upsert(self._connection.dialect.name)
                self._connection.execute(upsert, changed)
        except IntegrityError as exc:
            conflict = _conflict(exc, order)
            if conflict is None:
                raise
            raise conflict from exc
        self._known[order.id] = snapshot

    def list_for_user(self, user_id: str, offset: int, limit: int) -> tuple[list[Order], int]:
        """A shopper's orders, newest first, and how many there are."""
        return self._page(orders.c.user_id == user_id, offset, limit)

    def list_all(self, offset: int, limit: int) -> tuple[list[Order], int]:
        return self._page(None, offset, limit)

    def search(self, where: OrderFilter, offset: int, limit: int) -> tuple[list[Order], int]:
        """Newest first. A customer's orders are served by the (user_id, created_at) index,
        everyone's - whatever else is filtered - by the walk down (created_at)."""
        return self._page(_matching(where), offset, limit)

    def held_unpaid(self, *, user_id: str | None = None, client_ip: str | None = None) -> HeldStock:
        """Served by the (user_id, created_at) or (client_ip, status) index."""
        if (user_id is None) == (client_ip is None):
            raise ValueError("count the holds of one user or of one address")
        if user_id is not None:
            row = self._connection.execute(_HELD_BY_USER, {"owner": user_id}).one()
        else:
            row = self._connection.execute(_HELD_BY_ADDRESS, {"owner": client_ip}).one()
        return HeldStock(int(row[0] or 0), int(row[1] or 0))

    def expired_holds(self, now: datetime, limit: int) -> list[str]:
        """Served by the (status, hold_expires_at) index; oldest hold first."""
        return list(
            self._connection.execute(
                select(orders.c.id)
                .where(
                    orders.c.status == OrderStatus.AWAITING_PAYMENT.value,
                    orders.c.stock_state == StockState.HELD.value,
                    orders.c.hold_expires_at < now,
                )
                .order_by(orders.c.hold_expires_at, orders.c.id)
                .limit(limit)
            ).scalars()
        )

    def owing_gateway_work(self, limit: int) -> list[str]:
        """Both halves are served by partial indexes: they cover only the few orders concerned."""
        return list(
            self._connection.execute(
                union(
                    select(orders.c.id.label("order_id")).where(orders.c.intent_to_cancel),
                    select(refunds.c.order_id).where(
                        refunds.c.status == RefundStatus.PENDING.value,
                        refunds.c.gateway_refund_id.is_(None),
                    ),
                )
                .order_by("order_id")
                .limit(limit)
            ).scalars()
        )

    def paid_by_day(self, paid_from: datetime, paid_to: datetime) -> list[DailySales]:
        """One grouped statement over the orders paid in the window, found by the ``paid_at``
        index (not by reading every order the shop ever took)."""
        day = _utc_day(self._connection.dialect.name).label("day")
        rows = self._connection.execute(
            select(
                day,
                orders.c.currency,
                func.count().label("orders"),
                func.sum(orders.c.captured_amount).label("amount"),
            )
            .where(
                orders.c.status.in_(sorted(_CAPTURED_STATUSES)),
                orders.c.paid_at >= paid_from,
                orders.c.paid_at < paid_to,
            )
            .group_by(day, orders.c.currency)
            .order_by(day, orders.c.currency)
        )
        return [
            DailySales(_day(row.day), row.currency, int(row.orders), int(row.amount or 0))
            for row in rows
        ]

    def awaiting_gateway_word(self, placed_before: datetime, limit: int) -> list[str]:
        """Served by the (status, hold_expires_at) index and the refunds' order_id index."""
        return list(
            self._connection.execute(
                union(
                    select(orders.c.id.label("order_id"), orders.c.created_at).where(
                        orders.c.status == OrderStatus.AWAITING_PAYMENT.value,
                        orders.c.intent_id.is_not(None),
                        orders.c.created_at < placed_before,
                    ),
                    select(refunds.c.order_id, orders.c.created_at)
                    .join(orders, orders.c.id == refunds.c.order_id)
                    .where(
                        refunds.c.status == RefundStatus.PENDING.value,
                        refunds.c.gateway_refund_id.is_not(None),
                    ),
                )
                .order_by("created_at", "order_id")
                .limit(limit)
            ).scalars()
        )

    # -- loading -------------------------------------------------------------------------------

    def _get_one(self, query: Select[Any], key: str) -> Order | None:
        row = self._connection.execute(query, {"key": key}).mappings().first()
        if row is None:
            return None
        return self._assemble([row])[0]

    def _page(
        self, condition: ColumnElement[bool] | None, offset: int, limit: int
    ) -> tuple[list[Order], int]:
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc())
        count = select(func.count()).select_from(orders)
        if condition is not None:
            query = query.where(condition)
            count = count.where(condition)
        rows = list(self._connection.execute(query.offset(offset).limit(limit)).mappings())
        total = self._connection.execute(count).scalar_one()
        return self._assemble(rows), total

    def _assemble(self, rows: Iterable[RowMapping]) -> list[Order]:
        """Orders from their rows, with every line and refund fetched in (at most) two
        statements; only orders whose payment was captured can have refunds (module docstring)."""
        rows = list(rows)
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        lines: defaultdict[str, list[OrderLine]] = defaultdict(list)
        for line_row in self._connection.execute(_LINES_OF, {"ids": ids}).mappings():
            lines[line_row["order_id"]].append(_line(line_row))
        order_refunds: defaultdict[str, list[Refund]] = defaultdict(list)
        captured = [
            row["id"]
            for row in rows
            if row["status"] in _CAPTURED_STATUSES or row["captured_amount"] is not None
        ]
        if captured:
            for refund_row in self._connection.execute(_REFUNDS_OF, {"ids": captured}).mappings():
                order_refunds[refund_row["order_id"]].append(_refund(refund_row))
        loaded = [_order(row, lines[row["id"]], order_refunds[row["id"]]) for row in rows]
        for order in loaded:
            self._known[order.id] = _Snapshot.of(order)
        return loaded

"""JSON-ready primitives of the domain objects: the public shape of products, orders, refunds.

Idempotent replays store and return exactly these, so a replay is byte-for-byte the first answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from commerce_core.domain.catalog import Product
from commerce_core.domain.orders import Order, Refund

__all__ = ["Page", "order_view", "product_view", "refund_view", "timestamp"]

T = TypeVar("T")


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def product_view(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": product.price.to_primitive(),
        "image_url": product.image_url,
        "stock": product.stock,
        "in_stock": product.in_stock,
    }


def refund_view(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.id,
        "amount": refund.amount.to_primitive(),
        "status": refund.status.value,
        "reason": refund.reason,
        "created_at": timestamp(refund.created_at),
    }


def order_view(order: Order) -> dict[str, Any]:
    captured = order.captured
    return {
        "id": order.id,
        "status": order.status.value,
        "items": [
            {
                "product_id": line.product_id,
                "slug": line.slug,
                "name": line.name,
                "unit_price": line.unit_price.to_primitive(),
                "quantity": line.quantity,
                "line_total": line.total.to_primitive(),
            }
            for line in order.lines
        ],
        "total": order.total.to_primitive(),
        "amount_captured": None if captured is None else captured.to_primitive(),
        "amount_refunded": order.refunded.to_primitive(),
        "refunds": [refund_view(r) for r in order.refunds],
        "intent_id": order.intent_id,
        "failure_code": order.failure_code,
        "hold_expires_at": timestamp(order.hold_expires_at),
        "created_at": timestamp(order.created_at),
        "paid_at": timestamp(order.paid_at),
    }


@attrs.frozen
class Page(Generic[T]):
    items: Sequence[T]
    page: int
    per_page: int
    total: int

    def to_primitive(self, render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        return {
            "items": [render(item) for item in self.items],
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
        }

"""JSON-ready primitives of the domain objects: the public shape of products, orders, refunds,
and the fuller shapes staff see (an order's payment and audit trail, accounts, alerts).

Idempotent replays store and return exactly these, so a replay is byte-for-byte the first answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.catalog import Product, Variant
from commerce_core.domain.catalog_search import CatalogFacets
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.orders import Order, OrderStatus, Refund
from commerce_core.domain.product_details import ProductDetails

__all__ = [
    "Page",
    "alert_view",
    "audit_entry_view",
    "facets_view",
    "order_view",
    "product_view",
    "refund_view",
    "staff_order_summary_view",
    "staff_order_view",
    "staff_user_view",
    "timestamp",
    "variant_view",
]

T = TypeVar("T")


def timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def facets_view(facets: CatalogFacets, category_names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "categories": [
            {"slug": f.value, "name": category_names.get(f.value, f.value), "count": f.count}
            for f in facets.categories
        ],
        "attributes": {
            code: [{"value": f.value, "count": f.count} for f in counts]
            for code, counts in sorted(facets.attributes.items())
        },
        "price_ranges": [
            {"currency": r.currency, "min": r.min, "max": r.max, "count": r.count}
            for r in facets.price_ranges
        ],
    }


def product_view(product: Product, details: ProductDetails | None = None) -> dict[str, Any]:
    """The public shape of a product; with ``details``, also its ``categories`` and
    ``attributes`` (``ProductDetails.to_primitive``)."""
    extra = {} if details is None else details.to_primitive()
    return {
        "id": product.id,
        "slug": product.slug,
        "name": product.name,
        "description": product.description,
        "price": product.price.to_primitive(),
        "image_url": product.image_url,
        "stock": product.stock,
        "in_stock": product.in_stock,
        "option_names": list(product.option_names),
        "variants": [variant_view(v) for v in product.on_sale],
        **extra,
    }


def variant_view(variant: Variant) -> dict[str, Any]:
    """A variant as shoppers see it (``in_stock`` per variant)."""
    return {
        "id": variant.id,
        "sku": variant.sku,
        "options": variant.option_values,
        "price": variant.price.to_primitive(),
        "stock": variant.stock,
        "in_stock": variant.in_stock,
        "weight_grams": variant.weight_grams,
        "image_url": variant.image_url,
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
                "variant_id": line.variant_id or None,
                "sku": line.sku or None,
                "options": dict(line.options),
                "slug": line.slug,
                "name": line.name,
                "unit_price": line.unit_price.to_primitive(),
                "quantity": line.quantity,
                "line_total": line.total.to_primitive(),
            }
            for line in order.lines
        ],
        "subtotal": order.subtotal.to_primitive(),
        "shipping": order.shipping.to_primitive(),
        "tax": order.tax.to_primitive(),
        "total": order.total.to_primitive(),
        "prices_include_tax": order.prices_include_tax,
        "tax_lines": [line.to_primitive() for line in order.tax_lines],
        "shipping_address": (
            None if order.shipping_address is None else order.shipping_address.to_primitive()
        ),
        "shipping_method": (
            None
            if order.shipping_method is None
            else {"id": order.shipping_method.method_id, "name": order.shipping_method.name}
        ),
        "fulfilment": None if order.fulfilment is None else order.fulfilment.to_primitive(),
        "amount_captured": None if captured is None else captured.to_primitive(),
        "amount_refunded": order.refunded.to_primitive(),
        "refunds": [refund_view(r) for r in order.refunds],
        "intent_id": order.intent_id,
        "failure_code": order.failure_code,
        "hold_expires_at": timestamp(order.hold_expires_at),
        "created_at": timestamp(order.created_at),
        "paid_at": timestamp(order.paid_at),
    }


# -- what staff see: more than a shopper, never a secret (no password hash, no token) -----------

_UNCAPTURED_PAYMENT = {
    OrderStatus.AWAITING_PAYMENT: "pending",
    OrderStatus.PAYMENT_FAILED: "failed",
    OrderStatus.CANCELLED: "cancelled",
}


def _payment_status(order: Order) -> str:
    """Where the money stands, which the order's status alone does not say (a cancelled order
    may have had a capture refunded; a ``needs_refund`` one holds a capture owed back)."""
    captured = order.captured
    if captured is None:
        return _UNCAPTURED_PAYMENT.get(order.status, "pending")
    refunded = order.refunded
    if refunded >= captured:
        return "refunded"
    return "partially_refunded" if refunded.is_positive else "captured"


def _staff_refund_view(refund: Refund) -> dict[str, Any]:
    return {
        **refund_view(refund),
        "gateway_refund_id": refund.gateway_refund_id,
        "requested_by": refund.requested_by,
        "external": refund.external,
        "updated_at": timestamp(refund.updated_at),
    }


def staff_order_summary_view(order: Order) -> dict[str, Any]:
    """An order in the staff's list: the shopper's view plus whose it is and what needs a look."""
    return {
        **order_view(order),
        "user_id": order.user_id,
        "gateway": order.gateway,
        "disputed": order.disputed,
    }


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": timestamp(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "ip": entry.ip,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def staff_order_view(
    order: Order, customer: User | None, trail: Sequence[AuditEntry]
) -> dict[str, Any]:
    """One order for staff: its payment, every refund (external ones too), the customer, and
    the audit trail about it, oldest first. ``customer`` is ``None`` if the account is gone;
    the order still names its id."""
    captured = order.captured
    return {
        **staff_order_summary_view(order),
        "stock_state": order.stock_state.value,
        "payment": {
            "gateway": order.gateway,
            "intent_id": order.intent_id,
            "amount": order.total.to_primitive(),
            "captured": None if captured is None else captured.to_primitive(),
            "refunded": order.refunded.to_primitive(),
            "refundable": order.refundable.to_primitive(),
            "status": _payment_status(order),
            "failure_code": order.failure_code,
            "intent_to_cancel": order.intent_to_cancel,
        },
        "refunds": [_staff_refund_view(refund) for refund in order.refunds],
        "customer": {
            "id": order.user_id,
            "email": None if customer is None else customer.email,
        },
        "audit_trail": [audit_entry_view(entry) for entry in trail],
    }


def staff_user_view(user: User) -> dict[str, Any]:
    return {
        **user.to_primitive(),
        "active": user.is_active,
        "created_at": timestamp(user.created_at),
    }


def alert_view(alert: DomainEvent) -> dict[str, Any]:
    return {
        "id": alert.id,
        "name": alert.name,
        "occurred_at": timestamp(alert.occurred_at),
        "fields": alert.fields,
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

"""The shop's domain: values, entities and the rules between them. Pure: no I/O, no ports.

Money and catalog products; the order aggregate with its payment status machine, stock hold and
refund ledger; the gateway-neutral payment values every gateway adapter translates into;
accounts, sessions and the role table; idempotency records; the hash-chained audit entry.
"""

from commerce_core.domain.accounts import (
    Role,
    Session,
    SessionPolicy,
    User,
    hash_token,
    new_token,
    normalise_email,
    validate_email,
    validate_name,
    validate_new_password,
)
from commerce_core.domain.audit import GENESIS_HASH, AuditEntry, verify_chain
from commerce_core.domain.catalog import MAX_PRICE, MAX_STOCK, Product, validate_slug
from commerce_core.domain.events import ALERT_PREFIX, DomainEvent
from commerce_core.domain.idempotency import (
    IDEMPOTENCY_LEASE,
    IDEMPOTENCY_RETENTION,
    IdempotencyRecord,
    IdempotencyState,
    validate_key,
)
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import CURRENCY_EXPONENTS, MAX_AMOUNT, Money, exponent_of
from commerce_core.domain.orders import (
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    StockState,
)
from commerce_core.domain.payments import (
    BuyerAction,
    EventKind,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    IntentStatus,
    PaymentIntent,
)
from commerce_core.domain.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    has_permission,
    require_permission,
)

__all__ = [
    "ALERT_PREFIX",
    "CURRENCY_EXPONENTS",
    "GENESIS_HASH",
    "IDEMPOTENCY_LEASE",
    "IDEMPOTENCY_RETENTION",
    "MAX_AMOUNT",
    "MAX_PRICE",
    "MAX_STOCK",
    "ROLE_PERMISSIONS",
    "AuditEntry",
    "BuyerAction",
    "DomainEvent",
    "EventKind",
    "GatewayEvent",
    "GatewayRefund",
    "GatewayRefundStatus",
    "IdempotencyRecord",
    "IdempotencyState",
    "IntentStatus",
    "Money",
    "Order",
    "OrderLine",
    "OrderStatus",
    "PaymentIntent",
    "Permission",
    "Product",
    "Refund",
    "RefundStatus",
    "Role",
    "Session",
    "SessionPolicy",
    "StockState",
    "User",
    "exponent_of",
    "has_permission",
    "hash_token",
    "new_id",
    "new_token",
    "normalise_email",
    "require_permission",
    "validate_email",
    "validate_key",
    "validate_name",
    "validate_new_password",
    "validate_slug",
    "verify_chain",
]

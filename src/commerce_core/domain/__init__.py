"""The shop's domain: values, entities and the rules between them. Pure: no I/O, no ports.

Money and catalog products; the order aggregate with its payment status machine, stock hold and
refund ledger; the gateway-neutral payment values every gateway adapter translates into;
accounts, sessions, refresh-token families, the lockout policy and the role table; idempotency records; the hash-chained audit entry.
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
from commerce_core.domain.filters import MAX_EMAIL_SEARCH, OrderFilter, UserFilter
from commerce_core.domain.hold_limits import HeldStock, HoldLimits
from commerce_core.domain.idempotency import (
    IDEMPOTENCY_LEASE,
    IDEMPOTENCY_RETENTION,
    IdempotencyRecord,
    IdempotencyState,
    validate_key,
)
from commerce_core.domain.ids import new_id
from commerce_core.domain.limits import (
    SHOP_RATE_LIMITS,
    LimitedOperation,
    RateDecision,
    RateKeyKind,
    RateLimit,
    RateLimitPolicy,
)
from commerce_core.domain.lockout import (
    AttemptState,
    LockoutPolicy,
    email_digest,
    email_key,
    pair_key,
    pair_prefix,
)
from commerce_core.domain.money import CURRENCY_EXPONENTS, MAX_AMOUNT, Money, exponent_of
from commerce_core.domain.monitoring import (
    ALERT_CARD_TESTING,
    ALERT_CREDENTIAL_STUFFING,
    ALERT_REFUND_VELOCITY,
    MonitoringPolicy,
    Threshold,
)
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
from commerce_core.domain.refresh_tokens import (
    RefreshPolicy,
    RefreshToken,
    RefreshVerdict,
    successor_of,
)

__all__ = [
    "ALERT_CARD_TESTING",
    "ALERT_CREDENTIAL_STUFFING",
    "ALERT_PREFIX",
    "ALERT_REFUND_VELOCITY",
    "CURRENCY_EXPONENTS",
    "GENESIS_HASH",
    "IDEMPOTENCY_LEASE",
    "IDEMPOTENCY_RETENTION",
    "MAX_AMOUNT",
    "MAX_EMAIL_SEARCH",
    "MAX_PRICE",
    "MAX_STOCK",
    "ROLE_PERMISSIONS",
    "SHOP_RATE_LIMITS",
    "AttemptState",
    "AuditEntry",
    "BuyerAction",
    "DomainEvent",
    "EventKind",
    "GatewayEvent",
    "GatewayRefund",
    "GatewayRefundStatus",
    "HeldStock",
    "HoldLimits",
    "IdempotencyRecord",
    "IdempotencyState",
    "IntentStatus",
    "LimitedOperation",
    "LockoutPolicy",
    "Money",
    "MonitoringPolicy",
    "Order",
    "OrderFilter",
    "OrderLine",
    "OrderStatus",
    "PaymentIntent",
    "Permission",
    "Product",
    "RateDecision",
    "RateKeyKind",
    "RateLimit",
    "RateLimitPolicy",
    "RefreshPolicy",
    "RefreshToken",
    "RefreshVerdict",
    "Refund",
    "RefundStatus",
    "Role",
    "Session",
    "SessionPolicy",
    "StockState",
    "Threshold",
    "User",
    "UserFilter",
    "email_digest",
    "email_key",
    "exponent_of",
    "has_permission",
    "hash_token",
    "new_id",
    "new_token",
    "normalise_email",
    "pair_key",
    "pair_prefix",
    "require_permission",
    "successor_of",
    "validate_email",
    "validate_key",
    "validate_name",
    "validate_new_password",
    "validate_slug",
    "verify_chain",
]

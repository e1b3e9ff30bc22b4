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
from commerce_core.domain.addresses import (
    ADDRESS_FIELDS,
    COUNTRIES,
    COUNTRIES_WITHOUT_POSTAL_CODES,
    POSTAL_CODE_FORMATS,
    Address,
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
from commerce_core.domain.message_templates import (
    new_login_notice,
    order_confirmation,
    order_shipped,
    password_reset,
    refund_issued,
)
from commerce_core.domain.money import CURRENCY_EXPONENTS, MAX_AMOUNT, Money, exponent_of
from commerce_core.domain.monitoring import (
    ALERT_CARD_TESTING,
    ALERT_CREDENTIAL_STUFFING,
    ALERT_REFUND_VELOCITY,
    MonitoringPolicy,
    Threshold,
)
from commerce_core.domain.notifications import (
    MAX_MESSAGE_ID,
    MessageStatus,
    OutgoingMessage,
    QueuedMessage,
    RetryPolicy,
)
from commerce_core.domain.orders import (
    Fulfilment,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundStatus,
    StockState,
)
from commerce_core.domain.password_resets import (
    RESET_TOKEN_LIFETIME,
    PasswordResetToken,
    sign_in_address_digest,
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
from commerce_core.domain.saved_addresses import (
    MAX_ADDRESS_LABEL,
    MAX_SAVED_ADDRESSES,
    SavedAddress,
    validate_label,
)
from commerce_core.domain.shipping import (
    REST_OF_WORLD,
    ShippingMethod,
    ShippingQuote,
    ShippingZone,
    choose_shipping,
    quote_shipping,
)
from commerce_core.domain.tax import (
    MAX_RATE_BASIS_POINTS,
    PriceBreakdown,
    TaxLine,
    TaxRate,
    price_order,
    rate_for,
)

__all__ = [
    "ADDRESS_FIELDS",
    "ALERT_CARD_TESTING",
    "ALERT_CREDENTIAL_STUFFING",
    "ALERT_PREFIX",
    "ALERT_REFUND_VELOCITY",
    "COUNTRIES",
    "COUNTRIES_WITHOUT_POSTAL_CODES",
    "CURRENCY_EXPONENTS",
    "GENESIS_HASH",
    "IDEMPOTENCY_LEASE",
    "IDEMPOTENCY_RETENTION",
    "MAX_ADDRESS_LABEL",
    "MAX_AMOUNT",
    "MAX_EMAIL_SEARCH",
    "MAX_MESSAGE_ID",
    "MAX_PRICE",
    "MAX_RATE_BASIS_POINTS",
    "MAX_SAVED_ADDRESSES",
    "MAX_STOCK",
    "POSTAL_CODE_FORMATS",
    "RESET_TOKEN_LIFETIME",
    "REST_OF_WORLD",
    "ROLE_PERMISSIONS",
    "SHOP_RATE_LIMITS",
    "Address",
    "AttemptState",
    "AuditEntry",
    "BuyerAction",
    "DomainEvent",
    "EventKind",
    "Fulfilment",
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
    "MessageStatus",
    "Money",
    "MonitoringPolicy",
    "Order",
    "OrderFilter",
    "OrderLine",
    "OrderStatus",
    "OutgoingMessage",
    "PasswordResetToken",
    "PaymentIntent",
    "Permission",
    "PriceBreakdown",
    "Product",
    "QueuedMessage",
    "RateDecision",
    "RateKeyKind",
    "RateLimit",
    "RateLimitPolicy",
    "RefreshPolicy",
    "RefreshToken",
    "RefreshVerdict",
    "Refund",
    "RefundStatus",
    "RetryPolicy",
    "Role",
    "SavedAddress",
    "Session",
    "SessionPolicy",
    "ShippingMethod",
    "ShippingQuote",
    "ShippingZone",
    "StockState",
    "TaxLine",
    "TaxRate",
    "Threshold",
    "User",
    "UserFilter",
    "choose_shipping",
    "email_digest",
    "email_key",
    "exponent_of",
    "has_permission",
    "hash_token",
    "new_id",
    "new_login_notice",
    "new_token",
    "normalise_email",
    "order_confirmation",
    "order_shipped",
    "pair_key",
    "pair_prefix",
    "password_reset",
    "price_order",
    "quote_shipping",
    "rate_for",
    "refund_issued",
    "require_permission",
    "sign_in_address_digest",
    "successor_of",
    "validate_email",
    "validate_key",
    "validate_label",
    "validate_name",
    "validate_new_password",
    "validate_slug",
    "verify_chain",
]

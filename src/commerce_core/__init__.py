"""commerce_core: a small, typed, framework-free commerce domain.

It owns products and stock holds, orders and their payment status machine, idempotent
confirmation, refunds, users and sessions. Everything it needs from the world is a port
(``commerce_core.ports``); ``commerce_core.testing`` has an in-memory fake of each, hypothesis
strategies and contract suites for adapters.

Quick start, entirely in memory::

    from commerce_core import CartItem, ConfirmOrder, CreateCheckoutIntent
    from commerce_core import confirm_order, create_checkout_intent
    from commerce_core.testing import InMemoryShop

    shop = InMemoryShop.with_demo_product(stock=5)
    intent = create_checkout_intent(
        CreateCheckoutIntent(user_id="usr_1", items=(CartItem(shop.product_id, 1),)), **shop.ports
    )
    result = confirm_order(
        ConfirmOrder("usr_1", intent.body["intent_id"], "pm_card_visa", idempotency_key="k1"),
        **shop.ports,
    )
    assert result.outcome == "paid"
"""

from commerce_core._idempotent import Result
from commerce_core.accounts import Role, Session, SessionPolicy, User
from commerce_core.audit import AuditEntry, verify_chain
from commerce_core.authentication import (
    LogIn,
    Register,
    SignedIn,
    create_staff_user,
    log_in,
    log_out,
    register,
    resolve_session,
)
from commerce_core.catalog import Product
from commerce_core.checkout import (
    DEFAULT_HOLD,
    MAX_LINES,
    MAX_QUANTITY,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    confirm_order,
    create_checkout_intent,
    settle_order,
)
from commerce_core.clock import SystemClock
from commerce_core.errors import (
    AuthenticationFailed,
    CommerceError,
    Conflict,
    CurrencyMismatch,
    EmailAlreadyRegistered,
    FieldError,
    GatewayError,
    GatewayUnavailable,
    IdempotencyKeyReused,
    IdempotencyRequestInProgress,
    IllegalTransition,
    InvalidInput,
    InvalidMoney,
    InvalidWebhook,
    NotFound,
    OrderNotPayable,
    OrderNotRefundable,
    OutOfStock,
    PermissionDenied,
    RefundExceedsCaptured,
)
from commerce_core.holds import ReleaseReport, release_expired_holds
from commerce_core.money import Money
from commerce_core.orders import Order, OrderLine, OrderStatus, Refund, RefundStatus, StockState
from commerce_core.payments import (
    EventKind,
    GatewayEvent,
    GatewayRefund,
    GatewayRefundStatus,
    IntentStatus,
    PaymentIntent,
)
from commerce_core.queries import (
    AuditVerification,
    NewProduct,
    PageRequest,
    get_order,
    get_product,
    list_all_orders,
    list_orders,
    list_products,
    stock_catalog,
    verify_audit_log,
)
from commerce_core.refunds import RefundOrder, refund_order
from commerce_core.views import Page, order_view, product_view, refund_view
from commerce_core.webhooks import EventOutcome, handle_gateway_event, refund_gateway_key

__all__ = [
    "DEFAULT_HOLD",
    "MAX_LINES",
    "MAX_QUANTITY",
    "AuditEntry",
    "AuditVerification",
    "AuthenticationFailed",
    "CartItem",
    "CommerceError",
    "ConfirmOrder",
    "Conflict",
    "CreateCheckoutIntent",
    "CurrencyMismatch",
    "EmailAlreadyRegistered",
    "EventKind",
    "EventOutcome",
    "FieldError",
    "GatewayError",
    "GatewayEvent",
    "GatewayRefund",
    "GatewayRefundStatus",
    "GatewayUnavailable",
    "IdempotencyKeyReused",
    "IdempotencyRequestInProgress",
    "IllegalTransition",
    "IntentStatus",
    "InvalidInput",
    "InvalidMoney",
    "InvalidWebhook",
    "LogIn",
    "Money",
    "NewProduct",
    "NotFound",
    "Order",
    "OrderLine",
    "OrderNotPayable",
    "OrderNotRefundable",
    "OrderStatus",
    "OutOfStock",
    "Page",
    "PageRequest",
    "PaymentIntent",
    "PermissionDenied",
    "Product",
    "Refund",
    "RefundExceedsCaptured",
    "RefundOrder",
    "RefundStatus",
    "Register",
    "ReleaseReport",
    "Result",
    "Role",
    "Session",
    "SessionPolicy",
    "SignedIn",
    "StockState",
    "SystemClock",
    "User",
    "confirm_order",
    "create_checkout_intent",
    "create_staff_user",
    "get_order",
    "get_product",
    "handle_gateway_event",
    "list_all_orders",
    "list_orders",
    "list_products",
    "log_in",
    "log_out",
    "order_view",
    "product_view",
    "refund_gateway_key",
    "refund_order",
    "refund_view",
    "register",
    "release_expired_holds",
    "resolve_session",
    "settle_order",
    "stock_catalog",
    "verify_audit_log",
    "verify_chain",
]

"""The use cases: what drivers (the web app, the CLI, a library user) ask the shop to do.

Each is a plain function taking a command (a frozen attrs class) and the ports it needs as
keyword arguments; it returns a result or raises from ``commerce_core.errors``.
"""

from commerce_core.use_cases._idempotent import Result
from commerce_core.use_cases.audit import AuditVerification, verify_audit_log
from commerce_core.use_cases.authentication import (
    LogIn,
    Register,
    SignedIn,
    create_staff_user,
    log_in,
    log_out,
    register,
    resolve_session,
)
from commerce_core.use_cases.catalog import NewProduct, stock_catalog
from commerce_core.use_cases.checkout import (
    DEFAULT_HOLD,
    MAX_LINES,
    MAX_QUANTITY,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    confirm_order,
    create_checkout_intent,
)
from commerce_core.use_cases.holds import ReleaseReport, release_expired_holds
from commerce_core.use_cases.outcomes import (
    ConfirmOutcome,
    EventOutcome,
    IntentOutcome,
    RefundOutcome,
)
from commerce_core.use_cases.queries import (
    MAX_PER_PAGE,
    PageRequest,
    get_order,
    get_product,
    list_all_orders,
    list_orders,
    list_products,
)
from commerce_core.use_cases.reconciliation import (
    ReconciliationReport,
    purge_idempotency_records,
    reconcile_payments,
)
from commerce_core.use_cases.refunds import (
    MAX_REASON,
    SYSTEM_ACTOR,
    RefundOrder,
    refund_gateway_key,
    refund_order,
)
from commerce_core.use_cases.webhooks import handle_gateway_event

__all__ = [
    "DEFAULT_HOLD",
    "MAX_LINES",
    "MAX_PER_PAGE",
    "MAX_QUANTITY",
    "MAX_REASON",
    "SYSTEM_ACTOR",
    "AuditVerification",
    "CartItem",
    "ConfirmOrder",
    "ConfirmOutcome",
    "CreateCheckoutIntent",
    "EventOutcome",
    "IntentOutcome",
    "LogIn",
    "NewProduct",
    "PageRequest",
    "ReconciliationReport",
    "RefundOrder",
    "RefundOutcome",
    "Register",
    "ReleaseReport",
    "Result",
    "SignedIn",
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
    "purge_idempotency_records",
    "reconcile_payments",
    "refund_gateway_key",
    "refund_order",
    "register",
    "release_expired_holds",
    "resolve_session",
    "stock_catalog",
    "verify_audit_log",
]

"""The use cases: what drivers (the web app, the CLI, a library user) ask the shop to do.

Each is a plain function taking a command (a frozen attrs class) and the ports it needs as
keyword arguments; it returns a result or raises from ``commerce_core.errors``.
"""

from commerce_core.use_cases._idempotent import Result
from commerce_core.use_cases.admin_queries import (
    AuditLogPage,
    OrderSearch,
    StaffOrderDetail,
    UserSearch,
    list_alerts,
    order_for_staff,
    read_audit_log,
    search_orders,
    search_users,
)
from commerce_core.use_cases.audit import AuditVerification, verify_audit_log
from commerce_core.use_cases.authentication import (
    DEFAULT_LOCKOUT_POLICY,
    ChangePassword,
    LogIn,
    Register,
    change_password,
    create_staff_user,
    log_in,
    register,
)
from commerce_core.use_cases.catalog import NewProduct, stock_catalog
from commerce_core.use_cases.checkout import (
    DEFAULT_HOLD,
    DEFAULT_HOLD_LIMITS,
    MAX_LINES,
    MAX_QUANTITY,
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    confirm_order,
    create_checkout_intent,
)
from commerce_core.use_cases.holds import ReleaseReport, release_expired_holds
from commerce_core.use_cases.monitoring import MonitoringEventSink
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
from commerce_core.use_cases.sessions import (
    DEFAULT_REFRESH_POLICY,
    DEFAULT_SESSION_POLICY,
    RefreshSession,
    SignedIn,
    end_all_sessions,
    log_out,
    refresh_session,
    resolve_session,
    start_session,
)
from commerce_core.use_cases.staff_accounts import (
    ChangeRole,
    SetUserActive,
    UnlockLogin,
    change_role,
    set_user_active,
    unlock_login,
)
from commerce_core.use_cases.webhooks import handle_gateway_event

__all__ = [
    "DEFAULT_HOLD",
    "DEFAULT_HOLD_LIMITS",
    "DEFAULT_LOCKOUT_POLICY",
    "DEFAULT_REFRESH_POLICY",
    "DEFAULT_SESSION_POLICY",
    "MAX_LINES",
    "MAX_PER_PAGE",
    "MAX_QUANTITY",
    "MAX_REASON",
    "SYSTEM_ACTOR",
    "AuditLogPage",
    "AuditVerification",
    "CartItem",
    "ChangePassword",
    "ChangeRole",
    "ConfirmOrder",
    "ConfirmOutcome",
    "CreateCheckoutIntent",
    "EventOutcome",
    "IntentOutcome",
    "LogIn",
    "MonitoringEventSink",
    "NewProduct",
    "OrderSearch",
    "PageRequest",
    "ReconciliationReport",
    "RefreshSession",
    "RefundOrder",
    "RefundOutcome",
    "Register",
    "ReleaseReport",
    "Result",
    "SetUserActive",
    "SignedIn",
    "StaffOrderDetail",
    "UnlockLogin",
    "UserSearch",
    "change_password",
    "change_role",
    "confirm_order",
    "create_checkout_intent",
    "create_staff_user",
    "end_all_sessions",
    "get_order",
    "get_product",
    "handle_gateway_event",
    "list_alerts",
    "list_all_orders",
    "list_orders",
    "list_products",
    "log_in",
    "log_out",
    "order_for_staff",
    "purge_idempotency_records",
    "read_audit_log",
    "reconcile_payments",
    "refresh_session",
    "refund_gateway_key",
    "refund_order",
    "register",
    "release_expired_holds",
    "resolve_session",
    "search_orders",
    "search_users",
    "set_user_active",
    "start_session",
    "stock_catalog",
    "unlock_login",
    "verify_audit_log",
]

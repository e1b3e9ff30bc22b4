"""The staff's read side: orders with their payment and audit trail, accounts, the audit log
and the stored alerts.

Each query checks the actor's permission itself - ``orders:read``, ``users:manage``,
``audit:read``, ``alerts:read`` - whatever the driver checked before, so a script calling the
library is held to the same table as the web app. Nothing here writes.

    >>> from commerce_core.testing import InMemoryShop
    >>> from commerce_core import PageRequest, Role, User
    >>> from datetime import UTC, datetime
    >>> staff = User("usr_s", "s@example.com", "S", "-", Role.SUPPORT, True, datetime.now(UTC))
    >>> search_orders(InMemoryShop().uow, staff, OrderSearch(statuses=("paid",)), PageRequest()).total
    0
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from commerce_core.domain.accounts import Role, User, validate_email
from commerce_core.domain.audit import AuditEntry, verify_chain
from commerce_core.domain.events import DomainEvent
from commerce_core.domain.filters import OrderFilter, UserFilter
from commerce_core.domain.orders import Order, OrderStatus
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import UnitOfWork
from commerce_core.use_cases.audit import AuditVerification
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page, audit_entry_view, staff_order_view

__all__ = [
    "AuditLogPage",
    "OrderSearch",
    "StaffOrderDetail",
    "UserSearch",
    "list_alerts",
    "order_for_staff",
    "read_audit_log",
    "search_orders",
    "search_users",
]

# More than there are statuses: repeating one is harmless, thousands of them are not a search.
_MAX_STATUSES = 20
T = TypeVar("T")


def _collect(errors: list[FieldError], build: Callable[[], T]) -> T | None:
    try:
        return build()
    except InvalidInput as invalid:
        errors.extend(invalid.errors)
        return None


@attrs.frozen
class OrderSearch:
    """What staff look for among orders (``OrderFilter`` says how each field matches).

    ``statuses`` are status names (``"paid"``), any of which matches; ``placed_from`` is
    inclusive and ``placed_to`` exclusive; ``customer_email`` is the customer's exact email,
    compared once normalised. Every invalid field is reported at once (``InvalidInput``).
    """

    statuses: tuple[str, ...] = ()
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    customer_email: str | None = None
    disputed: bool | None = None

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        _collect(errors, lambda: self.order_filter(None))
        if self.customer_email is not None:
            _collect(errors, lambda: _customer_email(self.customer_email or ""))
        if errors:
            raise InvalidInput(errors=errors)

    def order_filter(self, user_id: str | None) -> OrderFilter:
        """The filter for the customer ``user_id`` (whom ``customer_email`` names)."""
        errors: list[FieldError] = []
        statuses = _collect(errors, lambda: _statuses(self.statuses))
        built = _collect(
            errors,
            lambda: OrderFilter(
                statuses=statuses or frozenset(),
                placed_from=self.placed_from,
                placed_to=self.placed_to,
                user_id=user_id,
                disputed=self.disputed,
            ),
        )
        if errors or built is None:
            raise InvalidInput(errors=errors)
        return built


def _statuses(names: tuple[str, ...]) -> frozenset[OrderStatus]:
    if len(names) > _MAX_STATUSES:
        raise InvalidInput.for_field("status", f"at most {_MAX_STATUSES} statuses")
    known = {status.value: status for status in OrderStatus}
    unknown = [name for name in names if not isinstance(name, str) or name not in known]
    if unknown:
        raise InvalidInput.for_field(
            "status", f"unknown status {unknown[0]!r}; one of {', '.join(known)}"
        )
    return frozenset(known[name] for name in names)


def _customer_email(email: str) -> str:
    try:
        if not isinstance(email, str):
            raise InvalidInput("not text")
        return validate_email(email)
    except InvalidInput:
        raise InvalidInput.for_field("customer_email", "must be an email address") from None


@attrs.frozen
class UserSearch:
    """What staff look for among accounts: a part of the ``email`` (any case), a ``role``
    (its name), ``active`` or disabled."""

    email: str | None = None
    role: str | None = None
    active: bool | None = None

    def __attrs_post_init__(self) -> None:
        self.user_filter()  # every invalid field, at once

    def user_filter(self) -> UserFilter:
        errors: list[FieldError] = []
        role = None
        if self.role is not None:
            if self.role not in {r.value for r in Role}:
                errors.append(
                    FieldError("role", f"must be one of {', '.join(r.value for r in Role)}")
                )
            else:
                role = Role(self.role)
        built = _collect(
            errors, lambda: UserFilter(email=self.email, role=role, active=self.active)
        )
        if errors or built is None:
            raise InvalidInput(errors=errors)
        return built


@attrs.frozen
class StaffOrderDetail:
    order: Order
    # ``None`` when the account no longer exists; the order still names its id.
    customer: User | None
    # Audit entries about the order, oldest first.
    trail: tuple[AuditEntry, ...]

    def to_primitive(self) -> dict[str, Any]:
        return staff_order_view(self.order, self.customer, self.trail)


@attrs.frozen
class AuditLogPage:
    """A page of the audit log, newest first, and the verdict on the whole chain."""

    entries: Page[AuditEntry]
    chain: AuditVerification

    def to_primitive(self) -> dict[str, Any]:
        return {
            **self.entries.to_primitive(audit_entry_view),
            "chain": {
                "intact": self.chain.intact,
                "entries": self.chain.entries,
                "first_bad_entry": self.chain.first_bad_entry,
            },
        }


def search_orders(
    uow: UnitOfWork, actor: User, search: OrderSearch, paging: PageRequest
) -> Page[Order]:
    """Every customer's orders that ``search`` matches, newest first (``orders:read``)."""
    require_permission(actor, Permission.ORDERS_READ)
    with uow:
        user_id = None
        if search.customer_email is not None:
            customer = uow.users.get_by_email(_customer_email(search.customer_email))
            if customer is None:
                return Page((), paging.page, paging.per_page, 0)
            user_id = customer.id
        items, total = uow.orders.search(
            search.order_filter(user_id), paging.offset, paging.per_page
        )
    return Page(items, paging.page, paging.per_page, total)


def order_for_staff(uow: UnitOfWork, actor: User, order_id: str) -> StaffOrderDetail:
    """Any customer's order with its customer and audit trail (``orders:read``);
    ``NotFound`` if there is none."""
    require_permission(actor, Permission.ORDERS_READ)
    with uow:
        order = uow.orders.get(order_id)
        if order is None:
            raise NotFound("no such order")
        customer = uow.users.get(order.user_id)
        trail = uow.audit.for_target(f"order:{order.id}")
    return StaffOrderDetail(order, customer, tuple(trail))


def search_users(
    uow: UnitOfWork, actor: User, search: UserSearch, paging: PageRequest
) -> Page[User]:
    """Accounts that ``search`` matches, newest first (``users:manage``)."""
    require_permission(actor, Permission.USERS_MANAGE)
    with uow:
        items, total = uow.users.search(search.user_filter(), paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)


def read_audit_log(uow: UnitOfWork, actor: User, paging: PageRequest) -> AuditLogPage:
    """A page of the audit log, newest first, with the whole chain verified in the same
    transaction (``audit:read``): a tampered entry anywhere shows on every page."""
    require_permission(actor, Permission.AUDIT_READ)
    with uow:
        items, total = uow.audit.list(paging.offset, paging.per_page)
        chain = list(uow.audit.all())
    intact, first_bad = verify_chain(chain)
    return AuditLogPage(
        Page(items, paging.page, paging.per_page, total),
        AuditVerification(intact, len(chain), first_bad),
    )


def list_alerts(uow: UnitOfWork, actor: User, paging: PageRequest) -> Page[DomainEvent]:
    """Stored alerts, newest first (``alerts:read``)."""
    require_permission(actor, Permission.ALERTS_READ)
    with uow:
        items, total = uow.outbox.alerts(paging.offset, paging.per_page)
    return Page(items, paging.page, paging.per_page, total)

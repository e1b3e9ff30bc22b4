"""The staff's read side in memory: each query checks its permission itself, filters validate
every field at once, an order comes with its payment, refunds, customer and audit trail, and the
audit log page says whether the whole chain is intact."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from commerce_core import (
    CartItem,
    ConfirmOrder,
    CreateCheckoutIntent,
    EventKind,
    GatewayEvent,
    InvalidInput,
    Money,
    NotFound,
    OrderSearch,
    PageRequest,
    PermissionDenied,
    RefundOrder,
    Register,
    Role,
    User,
    UserSearch,
    confirm_order,
    create_checkout_intent,
    handle_gateway_event,
    list_alerts,
    order_for_staff,
    read_audit_log,
    refund_order,
    register,
    search_orders,
    search_users,
    staff_user_view,
)
from commerce_core.testing import InMemoryShop

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"


def staff(role: Role, *, active: bool = True) -> User:
    return User(f"usr_{role.value}", f"{role.value}@example.com", "S", "-", role, active, NOW)


ADMIN, SUPPORT, CUSTOMER = staff(Role.ADMIN), staff(Role.SUPPORT), staff(Role.CUSTOMER)
EVERYTHING = PageRequest(per_page=100)


@pytest.fixture
def shop() -> InMemoryShop:
    return InMemoryShop.with_demo_product(stock=100)


def customer(shop: InMemoryShop, email: str) -> User:
    return register(Register(email, PASSWORD, "Sam"), **shop.account_ports).user


def paid_order(shop: InMemoryShop, user_id: str) -> str:
    intent = create_checkout_intent(
        CreateCheckoutIntent(user_id, (CartItem(shop.product_id, 2),)), **shop.ports
    ).body
    confirm_order(
        ConfirmOrder(user_id, intent["intent_id"], "pm_card_visa", secrets.token_hex(4)),
        **shop.ports,
    )
    return str(intent["order_id"])


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        (ADMIN, {"orders", "order", "users", "audit", "alerts"}),
        (SUPPORT, {"orders", "order", "alerts"}),
        (CUSTOMER, set()),
        (staff(Role.ADMIN, active=False), set()),
    ],
    ids=["admin", "support", "customer", "disabled-admin"],
)
def test_each_query_checks_its_permission_itself(
    shop: InMemoryShop, actor: User, allowed: set[str]
) -> None:
    order_id = paid_order(shop, "usr_buyer")
    queries = {
        "orders": lambda: search_orders(shop.uow, actor, OrderSearch(), EVERYTHING),
        "order": lambda: order_for_staff(shop.uow, actor, order_id),
        "users": lambda: search_users(shop.uow, actor, UserSearch(), EVERYTHING),
        "audit": lambda: read_audit_log(shop.uow, actor, EVERYTHING),
        "alerts": lambda: list_alerts(shop.uow, actor, EVERYTHING),
    }
    for name, query in queries.items():
        if name in allowed:
            query()
        else:
            with pytest.raises(PermissionDenied):
                query()


def test_orders_are_found_by_their_customers_exact_email_in_any_case(
    shop: InMemoryShop,
) -> None:
    ada, bob = customer(shop, "ada@example.com"), customer(shop, "ada@example.com.evil")
    mine = paid_order(shop, ada.id)
    paid_order(shop, bob.id)
    found = search_orders(
        shop.uow, SUPPORT, OrderSearch(customer_email=" ADA@Example.COM "), EVERYTHING
    )
    assert ([order.id for order in found.items], found.total) == ([mine], 1)
    nobody = search_orders(
        shop.uow, SUPPORT, OrderSearch(customer_email="nobody@example.com"), EVERYTHING
    )
    assert (list(nobody.items), nobody.total) == ([], 0)


def test_an_order_search_reports_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        OrderSearch(
            statuses=("paid", "shipped"),
            placed_from=datetime(2026, 2, 1),  # noqa: DTZ001 - naive: which time zone?
            customer_email="not an email",
            disputed="yes",  # type: ignore[arg-type]
        )
    assert {error.field for error in refused.value.errors} == {
        "status",
        "placed_from",
        "customer_email",
        "disputed",
    }
    with pytest.raises(InvalidInput) as backwards:
        OrderSearch(placed_from=NOW, placed_to=NOW)
    assert [error.field for error in backwards.value.errors] == ["placed_to"]


def test_a_user_search_reports_every_bad_field_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        UserSearch(email="x" * 255, role="owner", active="no")  # type: ignore[arg-type]
    assert {error.field for error in refused.value.errors} == {"email", "role", "active"}


def test_an_order_comes_to_staff_with_payment_refunds_customer_and_audit_trail(
    shop: InMemoryShop,
) -> None:
    ada = customer(shop, "ada@example.com")
    someone_elses = paid_order(shop, "usr_other")
    order_id = paid_order(shop, ada.id)
    for refunded, key in ((someone_elses, "refund-0"), (order_id, "refund-1")):
        refund_order(
            RefundOrder(ADMIN.id, refunded, 500, key, reason="dented", ip="203.0.113.5"),
            **shop.ports,
        )
    with shop.uow as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    assert order.intent_id is not None
    # A refund made in the provider's dashboard, and a chargeback.
    for kind, event_id, refund_id in (
        (EventKind.REFUND_SUCCEEDED, "evt_ext", "re_dashboard"),
        (EventKind.DISPUTE_OPENED, "evt_dispute", None),
    ):
        handle_gateway_event(
            GatewayEvent(
                id=event_id,
                kind=kind,
                gateway=shop.gateway.name,
                intent_id=order.intent_id,
                created_at=shop.clock.now(),
                amount=Money(300, "USD"),
                refund_id=refund_id,
            ),
            **shop.ports,
        )

    view = order_for_staff(shop.uow, SUPPORT, order_id).to_primitive()

    assert view["id"] == order_id
    assert view["customer"] == {"id": ada.id, "email": "ada@example.com"}
    assert view["disputed"] is True
    assert view["payment"] == {
        "gateway": "fake",
        "intent_id": order.intent_id,
        "amount": {"amount": 3998, "currency": "USD"},
        "captured": {"amount": 3998, "currency": "USD"},
        "refunded": {"amount": 800, "currency": "USD"},
        "refundable": {"amount": 3198, "currency": "USD"},
        "status": "partially_refunded",
        "failure_code": None,
        "intent_to_cancel": False,
    }
    staff_refund, external = view["refunds"]
    assert (staff_refund["requested_by"], staff_refund["external"]) == (ADMIN.id, False)
    assert (external["gateway_refund_id"], external["external"]) == ("re_dashboard", True)
    trail = [(entry["action"], entry["actor"]) for entry in view["audit_trail"]]
    assert trail == [
        ("refund.requested", ADMIN.id),
        ("refund.succeeded", ADMIN.id),
        ("refund.external", "gateway:fake"),
    ]
    assert view["audit_trail"][0]["ip"] == "203.0.113.5"


def test_a_missing_order_is_not_found_and_a_vanished_customer_still_named(
    shop: InMemoryShop,
) -> None:
    with pytest.raises(NotFound):
        order_for_staff(shop.uow, ADMIN, "ord_missing")
    order_id = paid_order(shop, "usr_gone")
    assert order_for_staff(shop.uow, ADMIN, order_id).to_primitive()["customer"] == {
        "id": "usr_gone",
        "email": None,
    }


def test_the_audit_log_page_says_whether_the_whole_chain_is_intact(shop: InMemoryShop) -> None:
    for n in range(3):
        refund_order(RefundOrder(ADMIN.id, paid_order(shop, "usr_b"), 100, f"r{n}"), **shop.ports)
    page = read_audit_log(shop.uow, ADMIN, PageRequest(per_page=2)).to_primitive()
    assert (page["total"], len(page["items"])) == (6, 2)
    assert page["items"][0]["action"] == "refund.succeeded"  # newest first
    assert page["chain"] == {"intact": True, "entries": 6, "first_bad_entry": None}

    # Someone edits an old entry in the database: every page says so, naming the entry.
    audit = shop.store.data.audit
    audit[1] = attrs.evolve(audit[1], details={**audit[1].details, "amount": 1})
    page = read_audit_log(shop.uow, ADMIN, PageRequest(per_page=2)).to_primitive()
    assert page["chain"] == {"intact": False, "entries": 6, "first_bad_entry": audit[1].id}


def test_users_are_listed_newest_first_without_secrets(shop: InMemoryShop) -> None:
    first = customer(shop, "first@example.com")
    shop.clock.advance(timedelta(minutes=1))
    second = customer(shop, "second@example.com")
    page = search_users(shop.uow, ADMIN, UserSearch(email="EXAMPLE"), EVERYTHING)
    assert [user.id for user in page.items] == [second.id, first.id]
    assert staff_user_view(second) == {
        "id": second.id,
        "email": "second@example.com",
        "name": "Sam",
        "role": "customer",
        "active": True,
        "created_at": "2026-01-01T12:01:00Z",
    }

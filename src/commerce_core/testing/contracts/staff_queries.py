"""``StaffQueriesContract``: the read side staff use - orders and accounts searched by filter,
an order's audit trail - held alike on every ``UnitOfWork`` (``UnitOfWorkContract`` includes
it), so the SQL translation of a filter answers what ``OrderFilter.matches`` and
``UserFilter.matches`` say."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from commerce_core.domain.accounts import Role, User
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.filters import OrderFilter, UserFilter
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderLine, OrderStatus
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0

__all__ = ["StaffQueriesContract"]

NewUow = Callable[[], UnitOfWork]


def _placed(user_id: str, minutes: int) -> Order:
    at = T0 + timedelta(minutes=minutes)
    return Order.place(
        order_id=new_id("ord"),
        user_id=user_id,
        lines=[OrderLine("prod_1", "mug", "Mug", Money(1500, "USD"), 1)],
        gateway="fake",
        now=at,
        hold_expires_at=at + timedelta(minutes=15),
    )


def _user(email: str, role: Role, *, active: bool = True, minutes: int = 0) -> User:
    return User(
        new_id("usr"), email, "Someone", "hash", role, active, T0 + timedelta(minutes=minutes)
    )


class StaffQueriesContract:
    def test_orders_are_searched_by_status_time_customer_and_dispute(self, new_uow: NewUow) -> None:
        ada = [_placed("usr_ada", minutes) for minutes in (0, 10, 20)]
        bob = [_placed("usr_bob", minutes) for minutes in (5, 15)]
        paid, failed, disputed = ada[0], ada[1], bob[0]
        for order in (paid, disputed):
            order.settle(order.total, order.created_at)
        failed.fail_payment("card_declined", failed.created_at)
        disputed.open_dispute(T0)
        with new_uow() as uow:
            for order in [*ada, *bob]:
                uow.orders.add(order)
            uow.commit()

        def ids(where: OrderFilter, offset: int = 0, limit: int = 10) -> tuple[list[str], int]:
            with new_uow() as uow:
                found, total = uow.orders.search(where, offset, limit)
            return [order.id for order in found], total

        newest_first = [ada[2].id, bob[1].id, ada[1].id, bob[0].id, ada[0].id]
        assert ids(OrderFilter()) == (newest_first, 5)
        assert ids(OrderFilter(), 1, 2) == (newest_first[1:3], 5)
        assert ids(OrderFilter(statuses=frozenset({OrderStatus.PAID}))) == (
            [disputed.id, paid.id],
            2,
        )
        assert ids(
            OrderFilter(statuses=frozenset({OrderStatus.PAID, OrderStatus.PAYMENT_FAILED}))
        ) == ([failed.id, disputed.id, paid.id], 3)
        # From inclusive, to exclusive: the order placed at minute 5 is in, the one at 15 out.
        window = OrderFilter(
            placed_from=T0 + timedelta(minutes=5), placed_to=T0 + timedelta(minutes=15)
        )
        assert ids(window) == ([ada[1].id, bob[0].id], 2)
        assert ids(OrderFilter(user_id="usr_bob")) == ([bob[1].id, bob[0].id], 2)
        assert ids(OrderFilter(disputed=True)) == ([disputed.id], 1)
        assert ids(OrderFilter(disputed=False))[1] == 4
        everything_at_once = OrderFilter(
            statuses=frozenset({OrderStatus.PAID, OrderStatus.AWAITING_PAYMENT}),
            placed_from=T0,
            placed_to=T0 + timedelta(minutes=30),
            user_id="usr_ada",
            disputed=False,
        )
        assert ids(everything_at_once) == ([ada[2].id, paid.id], 2)
        assert ids(OrderFilter(user_id="usr_nobody")) == ([], 0)

    def test_searched_orders_come_back_whole(self, new_uow: NewUow) -> None:
        order = _placed("usr_ada", 0)
        order.attach_intent("pi_whole", T0)
        order.settle(order.total, T0)
        order.request_refund(
            refund_id="re_1", amount=Money(500, "USD"), reason="", requested_by="usr_s", now=T0
        )
        with new_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            (found,), _ = uow.orders.search(OrderFilter(user_id="usr_ada"), 0, 10)
        assert found == order

    def test_users_are_searched_by_part_of_email_role_and_state(self, new_uow: NewUow) -> None:
        ada = _user("ada@example.org", Role.ADMIN, minutes=1)
        sam = _user("sam@example.com", Role.SUPPORT, minutes=2)
        old = _user("old@example.com", Role.CUSTOMER, active=False, minutes=3)
        underscore = _user("a_b@shop.test", Role.CUSTOMER, minutes=4)
        lookalike = _user("axb@shop.test", Role.CUSTOMER, minutes=5)
        with new_uow() as uow:
            for user in (ada, sam, old, underscore, lookalike):
                uow.users.add(user)
            uow.commit()

        def emails(where: UserFilter, offset: int = 0, limit: int = 10) -> tuple[list[str], int]:
            with new_uow() as uow:
                found, total = uow.users.search(where, offset, limit)
            return [user.email for user in found], total

        everyone = [u.email for u in (lookalike, underscore, old, sam, ada)]
        assert emails(UserFilter()) == (everyone, 5)
        assert emails(UserFilter(), 3, 10) == (everyone[3:], 5)
        assert emails(UserFilter(email="EXAMPLE.COM")) == (
            ["old@example.com", "sam@example.com"],
            2,
        )
        assert emails(UserFilter(email="ada@example.org")) == (["ada@example.org"], 1)
        # A wildcard typed by staff is that character, not "any".
        assert emails(UserFilter(email="a_b")) == (["a_b@shop.test"], 1)
        assert emails(UserFilter(email="%")) == ([], 0)
        assert emails(UserFilter(role=Role.SUPPORT)) == (["sam@example.com"], 1)
        assert emails(UserFilter(active=False)) == (["old@example.com"], 1)
        assert emails(UserFilter(email="example", role=Role.ADMIN, active=True)) == (
            ["ada@example.org"],
            1,
        )

    def test_an_audit_trail_is_found_by_its_exact_target_oldest_first(
        self, new_uow: NewUow
    ) -> None:
        targets = ["order:ord_a", "order:ord_b", "order:ord_a", "order:ord_ab"]
        appended = []
        for second, target in enumerate(targets):
            with new_uow() as uow:
                appended.append(
                    uow.audit.append(
                        AuditEntry(new_id("aud"), _at(second), "usr_s", "refund.requested", target)
                    )
                )
                uow.commit()
        with new_uow() as uow:
            trail = list(uow.audit.for_target("order:ord_a"))
            nothing = list(uow.audit.for_target("order:ord"))
        assert [entry.id for entry in trail] == [appended[0].id, appended[2].id]
        assert [entry.hash for entry in trail] == [appended[0].hash, appended[2].hash]
        assert nothing == []


def _at(second: int) -> datetime:
    return T0 + timedelta(seconds=second)

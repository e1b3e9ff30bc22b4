"""Contract suites: what every implementation of a port must do, ours or a user's.

They are plain classes (the core does not depend on pytest). Subclass one in a test module whose
class name starts with ``Test`` and provide the fixture it names; pytest collects the inherited
``test_*`` methods::

    class TestMyGateway(PaymentGatewayContract):
        @pytest.fixture
        def gateway(self):
            return MyGateway(...)

- ``PaymentGatewayContract`` needs a fixture ``gateway`` (a ``PaymentGateway`` that accepts
  Stripe's test payment methods: ``pm_card_visa``, ``pm_card_chargeDeclined``,
  ``pm_card_threeDSecure2Required``).
- ``UnitOfWorkContract`` needs a fixture ``new_uow``: a callable returning a fresh
  ``UnitOfWork`` over an empty store; each call a new unit over the same store.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs

from commerce_core.domain.accounts import Role, Session, User
from commerce_core.domain.audit import AuditEntry, verify_chain
from commerce_core.domain.idempotency import IdempotencyRecord, IdempotencyState
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.orders import Order, OrderLine, OrderStatus
from commerce_core.domain.payments import EventKind, GatewayEvent, GatewayRefundStatus, IntentStatus
from commerce_core.errors import CommerceError, Conflict, EmailAlreadyRegistered, GatewayError
from commerce_core.ports import PaymentGateway, UnitOfWork
from commerce_core.testing import make_product

__all__ = ["PaymentGatewayContract", "UnitOfWorkContract"]

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _raises(error: type[BaseException], call: Callable[[], object]) -> BaseException:
    try:
        call()
    except error as exc:
        return exc
    raise AssertionError(f"expected {error.__name__}")


def _key() -> str:
    return secrets.token_hex(8)


class PaymentGatewayContract:
    """Every ``PaymentGateway`` behaves like this."""

    amount = Money(4200, "USD")

    def _intent(self, gateway: PaymentGateway) -> str:
        intent = gateway.create_intent(
            amount=self.amount, order_id=new_id("ord"), idempotency_key=_key()
        )
        return intent.id

    def test_created_intent_awaits_a_payment_method_for_the_amount(
        self, gateway: PaymentGateway
    ) -> None:
        intent = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=_key())
        assert intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        assert intent.amount == self.amount
        assert intent.client_secret
        assert not intent.declined

    def test_create_with_the_same_key_returns_the_same_intent(
        self, gateway: PaymentGateway
    ) -> None:
        key = _key()
        first = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=key)
        again = gateway.create_intent(amount=self.amount, order_id="ord_1", idempotency_key=key)
        assert again.id == first.id

    def test_confirm_with_a_good_card_succeeds(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=_key()
        )
        assert result.status is IntentStatus.SUCCEEDED
        assert result.amount == self.amount

    def test_confirming_a_succeeded_intent_again_is_success_not_error(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        again = gateway.confirm_intent(
            intent_id, payment_method="pm_card_visa", idempotency_key=_key()
        )
        assert again.status is IntentStatus.SUCCEEDED

    def test_confirm_with_the_same_key_returns_the_first_answer(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        key = _key()
        first = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=key
        )
        again = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=key
        )
        assert (again.status, again.decline_code) == (first.status, first.decline_code)

    def test_a_declined_card_is_an_answer_not_an_error(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_chargeDeclined", idempotency_key=_key()
        )
        assert result.declined
        assert result.decline_code == "card_declined"

    def test_a_3ds_card_requires_action(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        result = gateway.confirm_intent(
            intent_id, payment_method="pm_card_threeDSecure2Required", idempotency_key=_key()
        )
        assert result.status is IntentStatus.REQUIRES_ACTION
        assert result.client_secret

    def test_a_canceled_intent_cannot_be_confirmed(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        assert (
            gateway.cancel_intent(intent_id, idempotency_key=_key()).status is IntentStatus.CANCELED
        )
        _raises(
            GatewayError,
            lambda: gateway.confirm_intent(
                intent_id, payment_method="pm_card_visa", idempotency_key=_key()
            ),
        )

    def test_cancelling_a_succeeded_intent_reports_it_succeeded(
        self, gateway: PaymentGateway
    ) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        assert (
            gateway.cancel_intent(intent_id, idempotency_key=_key()).status
            is IntentStatus.SUCCEEDED
        )

    def test_partial_refunds_up_to_the_captured_amount(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        first = gateway.refund(intent_id, amount=Money(1200, "USD"), idempotency_key=_key())
        assert first.status is GatewayRefundStatus.SUCCEEDED
        assert first.amount == Money(1200, "USD")
        rest = gateway.refund(intent_id, amount=Money(3000, "USD"), idempotency_key=_key())
        assert rest.id != first.id
        _raises(
            GatewayError,
            lambda: gateway.refund(intent_id, amount=Money(1, "USD"), idempotency_key=_key()),
        )

    def test_refund_with_the_same_key_refunds_once(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        gateway.confirm_intent(intent_id, payment_method="pm_card_visa", idempotency_key=_key())
        key = _key()
        first = gateway.refund(intent_id, amount=Money(4000, "USD"), idempotency_key=key)
        again = gateway.refund(intent_id, amount=Money(4000, "USD"), idempotency_key=key)
        assert again.id == first.id
        # Only 200 remain: had the retry refunded again, this would have failed already above.
        assert gateway.refund(intent_id, amount=Money(200, "USD"), idempotency_key=_key()).id

    def test_refund_before_capture_is_refused(self, gateway: PaymentGateway) -> None:
        intent_id = self._intent(gateway)
        _raises(
            GatewayError,
            lambda: gateway.refund(intent_id, amount=Money(100, "USD"), idempotency_key=_key()),
        )

    def test_unknown_intent_is_refused(self, gateway: PaymentGateway) -> None:
        _raises(
            GatewayError,
            lambda: gateway.confirm_intent(
                "pi_does_not_exist", payment_method="pm_card_visa", idempotency_key=_key()
            ),
        )


# -- unit of work ------------------------------------------------------------------------------

NewUow = Callable[[], UnitOfWork]


def _order(user_id: str = "usr_1", *, product_id: str = "prod_1", at: datetime = T0) -> Order:
    return Order.place(
        order_id=new_id("ord"),
        user_id=user_id,
        lines=[
            OrderLine(product_id, "mug", "Mug", Money(1500, "USD"), 2),
            OrderLine("prod_2", "cap", "Cap", Money(999, "USD"), 1),
        ],
        gateway="fake",
        now=at,
        hold_expires_at=at + timedelta(minutes=15),
    )


def _user(email: str = "ada@example.com") -> User:
    return User(new_id("usr"), email, "Ada", "hash", Role.CUSTOMER, True, T0)


class UnitOfWorkContract:
    """Every ``UnitOfWork`` (and the repositories it hands out) behaves like this."""

    def test_committed_work_is_kept(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(product)
            uow.commit()
        with new_uow() as uow:
            assert uow.products.get(product.id) == product

    def test_work_not_committed_is_rolled_back(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(product)
        with new_uow() as uow:
            assert uow.products.get(product.id) is None

    def test_an_exception_rolls_back(self, new_uow: NewUow) -> None:
        product = make_product(now=T0)

        def fail() -> None:
            with new_uow() as uow:
                uow.products.add(product)
                raise CommerceError("boom")

        _raises(CommerceError, fail)
        with new_uow() as uow:
            assert uow.products.get(product.id) is None

    def test_a_unit_of_work_can_be_entered_again(self, new_uow: NewUow) -> None:
        uow = new_uow()
        product = make_product(now=T0)
        with uow:
            uow.products.add(product)
            uow.commit()
        with uow:
            assert uow.products.get_by_slug(product.slug) == product

    def test_products_are_found_by_slug_and_searched_by_name(self, new_uow: NewUow) -> None:
        names = ["Blue Mug", "Red Mug", "Green Cap", "Mug Tree"]
        with new_uow() as uow:
            for name in names:
                uow.products.add(
                    make_product(slug=name.lower().replace(" ", "-"), name=name, now=T0)
                )
            uow.commit()
        with new_uow() as uow:
            found, total = uow.products.search("mug", 0, 2)
            assert total == 3
            assert [p.name for p in found] == ["Blue Mug", "Mug Tree"]
            rest, _ = uow.products.search("MUG", 2, 2)
            assert [p.name for p in rest] == ["Red Mug"]
            _, everything = uow.products.search(None, 0, 100)
            assert everything == 4
            assert uow.products.get_by_slug("green-cap") is not None
            assert uow.products.get_by_slug("nope") is None

    def test_lock_returns_known_products_and_skips_unknown_ones(self, new_uow: NewUow) -> None:
        a, b = make_product(now=T0), make_product(now=T0)
        with new_uow() as uow:
            uow.products.add(a)
            uow.products.add(b)
            uow.commit()
        with new_uow() as uow:
            locked = uow.products.lock([b.id, "prod_unknown", a.id])
            assert set(locked) == {a.id, b.id}
            locked[a.id].take(3, T0)
            uow.products.save(locked[a.id])
            uow.commit()
        with new_uow() as uow:
            stored = uow.products.get(a.id)
            assert stored is not None
            assert stored.stock == a.stock - 3

    def test_stock_cannot_be_saved_negative(self, new_uow: NewUow) -> None:
        product = make_product(stock=1, now=T0)
        with new_uow() as uow:
            uow.products.add(product)
            uow.commit()
        sneaky = attrs.evolve(product)
        object.__setattr__(sneaky, "stock", -1)  # bypass the domain to test the storage's own guard

        def save() -> None:
            with new_uow() as uow:
                uow.products.save(sneaky)
                uow.commit()

        _raises(Exception, save)
        with new_uow() as uow:
            stored = uow.products.get(product.id)
            assert stored is not None
            assert stored.stock == 1

    def test_orders_round_trip_with_lines_refunds_and_intent(self, new_uow: NewUow) -> None:
        order = _order()
        with new_uow() as uow:
            uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            loaded = uow.orders.get(order.id, for_update=True)
            assert loaded == order
            loaded.attach_intent("pi_123", T0)
            loaded.settle(loaded.total, T0 + timedelta(minutes=1))
            loaded.request_refund(
                refund_id="re_1",
                amount=Money(500, "USD"),
                reason="dent",
                requested_by="usr_admin",
                now=T0,
            )
            uow.orders.save(loaded)
            uow.commit()
        with new_uow() as uow:
            again = uow.orders.get_by_intent("pi_123")
            assert again == loaded
            assert again.paid_at is not None
            assert again.paid_at.tzinfo is not None
            again.complete_refund("re_1", "gw_re_1", T0)
            again.request_refund(
                refund_id="re_2", amount=None, reason="", requested_by=None, now=T0
            )
            uow.orders.save(again)
            uow.commit()
        with new_uow() as uow:
            final = uow.orders.get(order.id)
            assert final == again
            assert final.status is OrderStatus.PARTIALLY_REFUNDED
            assert final.refundable.is_zero

    def test_one_intent_belongs_to_one_order(self, new_uow: NewUow) -> None:
        first, second = _order(), _order()
        with new_uow() as uow:
            first.attach_intent("pi_same", T0)
            uow.orders.add(first)
            uow.orders.add(second)
            uow.commit()

        def steal() -> None:
            with new_uow() as uow:
                loaded = uow.orders.get(second.id, for_update=True)
                assert loaded is not None
                loaded.attach_intent("pi_same", T0)
                uow.orders.save(loaded)
                uow.commit()

        _raises(Conflict, steal)

    def test_expired_holds_lists_only_unpaid_orders_past_their_hold(self, new_uow: NewUow) -> None:
        old, newer, fresh, paid = (_order(at=T0 - timedelta(minutes=m)) for m in (40, 30, 0, 50))
        paid.settle(paid.total, T0)
        with new_uow() as uow:
            for order in (old, newer, fresh, paid):
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            assert uow.orders.expired_holds(T0, 10) == [old.id, newer.id]
            assert uow.orders.expired_holds(T0, 1) == [old.id]

    def test_orders_are_listed_per_user_newest_first(self, new_uow: NewUow) -> None:
        mine = [_order("usr_me", at=T0 + timedelta(minutes=i)) for i in range(3)]
        theirs = _order("usr_other")
        with new_uow() as uow:
            for order in [*mine, theirs]:
                uow.orders.add(order)
            uow.commit()
        with new_uow() as uow:
            page, total = uow.orders.list_for_user("usr_me", 0, 2)
            assert total == 3
            assert [o.id for o in page] == [mine[2].id, mine[1].id]
            _, everyone = uow.orders.list_all(0, 10)
            assert everyone == 4

    def test_an_idempotency_key_is_claimed_once(self, new_uow: NewUow) -> None:
        record = IdempotencyRecord(
            "usr_1", "confirm", "k1", "fp", IdempotencyState.IN_PROGRESS, T0, T0
        )
        with new_uow() as uow:
            assert uow.idempotency.claim(record) is None
            uow.commit()
        with new_uow() as uow:
            existing = uow.idempotency.claim(attrs.evolve(record, fingerprint="other"))
            assert existing is not None
            assert existing.fingerprint == "fp"
            existing.complete("paid", {"order": {"id": "ord_1", "total": {"amount": 1}}})
            uow.idempotency.save(existing)
            uow.commit()
        with new_uow() as uow:
            stored = uow.idempotency.get("usr_1", "confirm", "k1")
            assert stored is not None
            assert stored.completed
            assert stored.response == {"order": {"id": "ord_1", "total": {"amount": 1}}}
            assert uow.idempotency.get("usr_2", "confirm", "k1") is None
            assert uow.idempotency.purge_older_than(T0 + timedelta(hours=25)) == 1
            uow.commit()
        with new_uow() as uow:
            assert uow.idempotency.get("usr_1", "confirm", "k1") is None

    def test_a_released_idempotency_key_can_be_claimed_again(self, new_uow: NewUow) -> None:
        record = IdempotencyRecord(
            "usr_1", "refund", "k", "fp", IdempotencyState.IN_PROGRESS, T0, T0
        )
        with new_uow() as uow:
            uow.idempotency.claim(record)
            uow.commit()
        with new_uow() as uow:
            uow.idempotency.delete(record)
            uow.commit()
        with new_uow() as uow:
            assert uow.idempotency.claim(record) is None

    def test_a_gateway_event_is_recorded_once(self, new_uow: NewUow) -> None:
        event = GatewayEvent("evt_1", EventKind.PAYMENT_SUCCEEDED, "fake", "pi_1", T0)
        with new_uow() as uow:
            assert uow.events.record(event, T0)
            uow.commit()
        with new_uow() as uow:
            assert not uow.events.record(event, T0)

    def test_an_email_is_registered_once(self, new_uow: NewUow) -> None:
        user = _user()
        with new_uow() as uow:
            uow.users.add(user)
            uow.commit()
        with new_uow() as uow:
            assert uow.users.get_by_email("ada@example.com") == user
            _raises(EmailAlreadyRegistered, lambda: uow.users.add(_user()))
        with new_uow() as uow:
            user.role = Role.ADMIN
            uow.users.save(user)
            uow.commit()
        with new_uow() as uow:
            stored = uow.users.get(user.id)
            assert stored is not None
            assert stored.role is Role.ADMIN

    def test_sessions_are_stored_touched_and_ended(self, new_uow: NewUow) -> None:
        one, two = Session("h1", "usr_1", T0, T0), Session("h2", "usr_1", T0, T0)
        with new_uow() as uow:
            uow.sessions.add(one)
            uow.sessions.add(two)
            uow.commit()
        with new_uow() as uow:
            one.last_seen_at = T0 + timedelta(minutes=5)
            uow.sessions.save(one)
            uow.sessions.delete("h2")
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get("h1") == one
            assert uow.sessions.get("h2") is None
            assert uow.sessions.delete_for_user("usr_1") == 1
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get("h1") is None

    def test_a_session_is_read_with_its_user(self, new_uow: NewUow) -> None:
        user = _user()
        with new_uow() as uow:
            uow.users.add(user)
            uow.sessions.add(Session("h1", user.id, T0, T0 + timedelta(minutes=1)))
            uow.sessions.add(Session("h_orphan", "usr_gone", T0, T0))
            uow.commit()
        with new_uow() as uow:
            assert uow.sessions.get_with_user("h1") == (
                Session("h1", user.id, T0, T0 + timedelta(minutes=1)),
                user,
            )
            assert uow.sessions.get_with_user("h_orphan") is None
            assert uow.sessions.get_with_user("h_missing") is None

    def test_the_audit_log_is_a_verifiable_chain(self, new_uow: NewUow) -> None:
        for i in range(3):
            with new_uow() as uow:
                uow.audit.append(
                    AuditEntry(
                        new_id("aud"),
                        T0 + timedelta(seconds=i),
                        "usr_admin",
                        "refund.requested",
                        f"order:ord_{i}",
                        "203.0.113.9",
                        {"amount": i},
                    )
                )
                uow.commit()
        with new_uow() as uow:
            entries = list(uow.audit.all())
            page, total = uow.audit.list(0, 2)
        assert total == 3
        assert [e.target for e in page] == ["order:ord_2", "order:ord_1"]
        assert verify_chain(entries) == (True, None)
        tampered = [entries[0], attrs.evolve(entries[1], details={"amount": 999}), entries[2]]
        assert verify_chain(tampered) == (False, entries[1].id)

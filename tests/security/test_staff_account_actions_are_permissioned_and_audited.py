"""Staff actions on accounts check the actor's permission in the core (whatever the route did),
are audited on the hash chain, end the account's sessions, and never leave the shop without an
active admin."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from adapters.sql import SqlUnitOfWork
from adapters.sql.attempts import SqlAttemptStore
from commerce_core import (
    AccountPorts,
    ChangeRole,
    Conflict,
    LogIn,
    NotFound,
    PermissionDenied,
    Register,
    Role,
    SetUserActive,
    UnlockLogin,
    User,
    change_role,
    create_staff_user,
    log_in,
    register,
    resolve_session,
    set_user_active,
    unlock_login,
    verify_audit_log,
)
from commerce_core.testing import FakeClock, FakePasswordHasher, InMemoryShop, RecordingEventSink
from tests.webapp.browser import PASSWORD


def _staff(shop: InMemoryShop, email: str, role: Role) -> User:
    return create_staff_user(Register(email, PASSWORD, "Staff", role=role), **shop.account_ports)


@pytest.fixture
def shop() -> InMemoryShop:
    return InMemoryShop()


def test_only_users_manage_may_disable_or_change_roles(shop: InMemoryShop) -> None:
    support = _staff(shop, "support@example.com", Role.SUPPORT)
    customer = register(Register("c@example.com", PASSWORD, "C"), **shop.account_ports).user
    with pytest.raises(PermissionDenied):
        set_user_active(SetUserActive(support.id, customer.id, False), **shop.account_ports)
    with pytest.raises(PermissionDenied):
        change_role(ChangeRole(support.id, customer.id, "admin"), **shop.account_ports)
    with pytest.raises(PermissionDenied):
        change_role(ChangeRole(customer.id, customer.id, "admin"), **shop.account_ports)
    with pytest.raises(PermissionDenied):
        change_role(ChangeRole("usr_nobody", customer.id, "admin"), **shop.account_ports)
    assert shop.store.data.users[customer.id].role is Role.CUSTOMER


def test_customers_cannot_unlock_logins_but_support_can(shop: InMemoryShop) -> None:
    customer = register(Register("c@example.com", PASSWORD, "C"), **shop.account_ports).user
    with pytest.raises(PermissionDenied):
        unlock_login(UnlockLogin(customer.id, "x@example.com"), **shop.account_ports)
    support = _staff(shop, "support@example.com", Role.SUPPORT)
    unlock_login(UnlockLogin(support.id, "x@example.com"), **shop.account_ports)


def test_disabling_ends_sessions_and_is_audited_on_the_chain(shop: InMemoryShop) -> None:
    admin = _staff(shop, "admin@example.com", Role.ADMIN)
    signed_in = register(Register("c@example.com", PASSWORD, "C"), **shop.account_ports)

    set_user_active(
        SetUserActive(admin.id, signed_in.user.id, False, ip="192.0.2.1"), **shop.account_ports
    )

    assert resolve_session(signed_in.session_token, uow=shop.uow, clock=shop.clock) is None
    with shop.uow as uow:
        [entry], _ = uow.audit.list(0, 10)
    assert (entry.actor, entry.action, entry.target, entry.ip) == (
        admin.id,
        "user.disabled",
        f"user:{signed_in.user.id}",
        "192.0.2.1",
    )
    assert verify_audit_log(shop.uow).intact
    # Enabling again lets the owner sign in (sessions do not come back).
    set_user_active(SetUserActive(admin.id, signed_in.user.id, True), **shop.account_ports)
    assert log_in(LogIn("c@example.com", PASSWORD), **shop.account_ports).user.is_active


def test_two_admins_demoting_each_other_at_once_leave_one_admin(pg_engine: Engine) -> None:
    """Sequentially the second demotion fails its permission check; at once, both could pass it
    - the count of active admins, taken under row locks, refuses the second."""
    barrier = threading.Barrier(2, timeout=10)

    class Racing(SqlUnitOfWork):
        def __enter__(self) -> Racing:
            entered = super().__enter__()
            counted = self.users.count_active_admins

            def count_together() -> int:
                barrier.wait()  # both transactions have passed the actor check
                return counted()

            self.users.count_active_admins = count_together  # type: ignore[method-assign]
            return entered

    clock, events, hasher = FakeClock(), RecordingEventSink(), FakePasswordHasher()

    def ports(uow: SqlUnitOfWork) -> AccountPorts:
        attempts = SqlAttemptStore(pg_engine)
        return AccountPorts(uow=uow, hasher=hasher, clock=clock, events=events, attempts=attempts)

    one, two = (
        create_staff_user(
            Register(f"{n}@example.com", PASSWORD, n, role=Role.ADMIN),
            **ports(SqlUnitOfWork(pg_engine)),
        )
        for n in ("one", "two")
    )
    outcomes: list[str] = []

    def demote(actor: User, target: User) -> None:
        try:
            change_role(ChangeRole(actor.id, target.id, "support"), **ports(Racing(pg_engine)))
            outcomes.append("demoted")
        except (Conflict, PermissionDenied) as refused:
            outcomes.append(type(refused).__name__)

    threads = [threading.Thread(target=demote, args=pair) for pair in ((one, two), (two, one))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["Conflict", "demoted"]
    with SqlUnitOfWork(pg_engine) as uow:
        assert uow.users.count_active_admins() == 1


def test_the_last_admin_check_counts_only_active_admins(shop: InMemoryShop) -> None:
    keeper = _staff(shop, "keeper@example.com", Role.ADMIN)
    leaver = _staff(shop, "leaver@example.com", Role.ADMIN)
    set_user_active(SetUserActive(keeper.id, leaver.id, False), **shop.account_ports)
    # The disabled admin may be demoted: that leaves the active one.
    change_role(ChangeRole(keeper.id, leaver.id, "customer"), **shop.account_ports)
    assert shop.store.data.users[leaver.id].role is Role.CUSTOMER


def test_unknown_users_and_roles_are_refused_without_effect(shop: InMemoryShop) -> None:
    admin = _staff(shop, "admin@example.com", Role.ADMIN)
    with pytest.raises(NotFound):
        set_user_active(SetUserActive(admin.id, "usr_missing", False), **shop.account_ports)
    customer = register(Register("c@example.com", PASSWORD, "C"), **shop.account_ports).user
    with pytest.raises(Exception, match="must be one of"):
        change_role(ChangeRole(admin.id, customer.id, "root"), **shop.account_ports)
    with shop.uow as uow:
        assert uow.audit.list(0, 10)[1] == 0

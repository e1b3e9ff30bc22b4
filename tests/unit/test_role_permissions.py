"""Role-based access: one table maps roles to permissions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commerce_core import (
    ROLE_PERMISSIONS,
    Permission,
    PermissionDenied,
    Role,
    User,
    has_permission,
    require_permission,
)

ALLOWED: dict[Role, set[Permission]] = {
    Role.CUSTOMER: set(),
    Role.SUPPORT: {
        Permission.ORDERS_READ,
        Permission.ORDERS_FULFIL,
        Permission.ALERTS_READ,
        Permission.LOGINS_UNLOCK,
    },
    Role.ADMIN: set(Permission),
}


def user(role: Role, *, active: bool = True) -> User:
    return User(
        id="usr_1",
        email="a@example.com",
        name="A",
        password_hash="x",
        role=role,
        is_active=active,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_every_role_is_in_the_table() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role)


def test_permissions_are_the_documented_ones() -> None:
    assert {p.value for p in Permission} == {
        "orders:read",
        "orders:refund",
        "orders:fulfil",
        "shipping:manage",
        "audit:read",
        "users:manage",
        "alerts:read",
        "logins:unlock",
        "catalog:write",
    }


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_role_table(role: Role, permission: Permission) -> None:
    allowed = permission in ALLOWED[role]
    assert has_permission(role, permission) is allowed
    if allowed:
        require_permission(user(role), permission)
    else:
        with pytest.raises(PermissionDenied):
            require_permission(user(role), permission)


@pytest.mark.parametrize("permission", list(Permission))
def test_a_disabled_admin_has_no_permission(permission: Permission) -> None:
    with pytest.raises(PermissionDenied):
        require_permission(user(Role.ADMIN, active=False), permission)


def test_only_admins_may_refund() -> None:
    assert [r for r in Role if has_permission(r, Permission.ORDERS_REFUND)] == [Role.ADMIN]

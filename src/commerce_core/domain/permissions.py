"""Role-based access: one table maps each role to its permissions.

Drivers declare the permission a route needs and ask ``require``; nothing checks roles directly.
"""

from __future__ import annotations

import enum

from commerce_core.domain.accounts import Role, User
from commerce_core.errors import PermissionDenied

__all__ = ["ROLE_PERMISSIONS", "Permission", "has_permission", "require_permission"]


class Permission(enum.StrEnum):
    ORDERS_READ = "orders:read"
    ORDERS_REFUND = "orders:refund"
    ORDERS_FULFIL = "orders:fulfil"
    SHIPPING_MANAGE = "shipping:manage"
    AUDIT_READ = "audit:read"
    USERS_MANAGE = "users:manage"
    LOGINS_UNLOCK = "logins:unlock"
    ALERTS_READ = "alerts:read"
    CATALOG_WRITE = "catalog:write"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(),
    Role.SUPPORT: frozenset(
        {
            Permission.ORDERS_READ,
            Permission.ORDERS_FULFIL,
            Permission.ALERTS_READ,
            Permission.LOGINS_UNLOCK,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def require_permission(user: User, permission: Permission) -> None:
    if not user.is_active or not has_permission(user.role, permission):
        raise PermissionDenied(f"{permission.value} is required")

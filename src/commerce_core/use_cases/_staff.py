"""What every staff use case does first and last: check the actor's permission itself (whatever
the driver checked), and write the audit entry in the transaction that makes the change."""

from __future__ import annotations

from datetime import datetime

from commerce_core.domain.accounts import User
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.ids import new_id
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.errors import PermissionDenied
from commerce_core.ports import UnitOfWork

__all__ = ["acting_staff", "audit_staff_action"]


def acting_staff(uow: UnitOfWork, actor_id: str, permission: Permission) -> User:
    """The actor, if they hold ``permission`` (an unknown or disabled one does not)."""
    actor = uow.users.get(actor_id)
    if actor is None:
        raise PermissionDenied(f"{permission.value} is required")
    require_permission(actor, permission)
    return actor


def audit_staff_action(
    uow: UnitOfWork,
    now: datetime,
    actor: User,
    action: str,
    target: str,
    ip: str | None,
    **details: object,
) -> None:
    uow.audit.append(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=actor.id,
            action=action,
            target=target,
            ip=ip,
            details=dict(details),
        )
    )

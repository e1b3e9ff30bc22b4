"""What every staff change to the shop's shipping set-up shares: the permission it needs, its
audit entry, how its input's errors are gathered, and what a save answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.audit import AuditEntry
from commerce_core.domain.ids import new_id
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.errors import FieldError, InvalidInput, PermissionDenied
from commerce_core.ports import UnitOfWork
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page

__all__ = ["SavedSetting", "audit_change", "collect_errors", "page_of", "shipping_manager"]

T = TypeVar("T")


@attrs.frozen
class SavedSetting(Generic[T]):
    """The setting as saved, and whether it is new (``False``: it replaced one)."""

    value: T
    created: bool


def page_of(items: Sequence[T], paging: PageRequest) -> Page[T]:
    """One page of a list read whole (a shop has a handful of zones, methods and rates)."""
    chosen = items[paging.offset : paging.offset + paging.per_page]
    return Page(chosen, paging.page, paging.per_page, len(items))


def shipping_manager(uow: UnitOfWork, actor_id: str) -> User:
    """The actor, if they may manage shipping (an unknown one may not)."""
    actor = uow.users.get(actor_id)
    if actor is None:
        raise PermissionDenied(f"{Permission.SHIPPING_MANAGE.value} is required")
    require_permission(actor, Permission.SHIPPING_MANAGE)
    return actor


def audit_change(
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


def collect_errors(errors: list[FieldError], build: Callable[[], T]) -> T | None:
    """``build()``, or ``None`` with its field errors added to ``errors``."""
    try:
        return build()
    except InvalidInput as invalid:
        errors.extend(invalid.errors or [FieldError("body", invalid.detail)])
        return None

"""What every staff change to the shop's shipping set-up shares: the permission it needs, its
audit entry, how its input's errors are gathered, and what a save answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.permissions import Permission
from commerce_core.errors import FieldError, InvalidInput
from commerce_core.ports import UnitOfWork
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
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
    return acting_staff(uow, actor_id, Permission.SHIPPING_MANAGE)


audit_change = audit_staff_action


def collect_errors(errors: list[FieldError], build: Callable[[], T]) -> T | None:
    """``build()``, or ``None`` with its field errors added to ``errors``."""
    try:
        return build()
    except InvalidInput as invalid:
        errors.extend(invalid.errors or [FieldError("body", invalid.detail)])
        return None

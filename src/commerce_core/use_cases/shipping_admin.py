"""What staff do to the shop's shipping set-up: zones, and the methods that ship to each.

Each call checks the actor's permission itself (``shipping:manage``, whatever the driver checked
before) and is audited (actor, action, target, address, what was saved and what it replaced) in
the transaction that makes the change. Saving is "create or replace" by id, so a form can be
submitted twice. (Tax rates are set up alike: ``tax_admin``.)

Input is checked into the domain's types, every problem of one request reported together as
``InvalidInput`` naming the field: a zone's countries must be ISO 3166-1 alpha-2 codes the shop
knows (``COUNTRIES``) or ``"*"`` (the rest of the world), and no country may be in two zones (nor
two zones be the rest of the world), since a parcel must have one way to its destination's
methods; a method must name an existing zone.

The permission is checked before the input: someone without it learns nothing from a 422.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.addresses import COUNTRIES
from commerce_core.domain.money import Money
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.domain.shipping import REST_OF_WORLD, ShippingMethod, ShippingZone
from commerce_core.errors import FieldError, InvalidInput, NotFound
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases._shipping_staff import (
    SavedSetting,
    audit_change,
    collect_errors,
    page_of,
    shipping_manager,
)
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page

__all__ = [
    "MAX_ZONE_COUNTRIES",
    "DeleteShippingMethod",
    "DeleteShippingZone",
    "SaveShippingMethod",
    "SaveShippingZone",
    "SavedSetting",
    "delete_shipping_method",
    "delete_shipping_zone",
    "list_shipping_methods",
    "list_shipping_zones",
    "save_shipping_method",
    "save_shipping_zone",
    "shipping_method_view",
    "shipping_zone_view",
]

T = TypeVar("T")

# More than every assigned code: a longer list is not a zone but a mistake (or an attack).
MAX_ZONE_COUNTRIES = len(COUNTRIES) + 1


@attrs.frozen
class SaveShippingZone:
    actor_id: str
    zone_id: str
    name: str
    countries: tuple[str, ...]
    ip: str | None = None


@attrs.frozen
class DeleteShippingZone:
    """Delete the zone and every method that ships to it."""

    actor_id: str
    zone_id: str
    ip: str | None = None


@attrs.frozen
class SaveShippingMethod:
    """``free_above`` and ``per_kg`` are ``Money`` or integer minor units of ``price``'s
    currency."""

    actor_id: str
    method_id: str
    zone_id: str
    name: str
    price: Money
    free_above: Money | int | None = None
    per_kg: Money | int | None = None
    max_weight_grams: int | None = None
    taxable: bool = True
    active: bool = True
    ip: str | None = None


@attrs.frozen
class DeleteShippingMethod:
    actor_id: str
    method_id: str
    ip: str | None = None


# -- views: what staff see, and what the audit log records --------------------------------------


def shipping_zone_view(zone: ShippingZone) -> dict[str, Any]:
    return {"id": zone.id, "name": zone.name, "countries": sorted(zone.countries)}


def _money(money: Money | None) -> dict[str, Any] | None:
    return None if money is None else money.to_primitive()


def shipping_method_view(method: ShippingMethod) -> dict[str, Any]:
    return {
        "id": method.id,
        "zone_id": method.zone_id,
        "name": method.name,
        "price": method.price.to_primitive(),
        "free_above": _money(method.free_above),
        "per_kg": _money(method.per_kg),
        "max_weight_grams": method.max_weight_grams,
        "taxable": method.taxable,
        "active": method.active,
    }


# -- reading -------------------------------------------------------------------------------------


def list_shipping_zones(uow: UnitOfWork, actor: User, paging: PageRequest) -> Page[ShippingZone]:
    """The shop's zones by id (``shipping:manage``)."""
    require_permission(actor, Permission.SHIPPING_MANAGE)
    with uow:
        return page_of(uow.shipping.zones(), paging)


def list_shipping_methods(
    uow: UnitOfWork, actor: User, paging: PageRequest
) -> Page[ShippingMethod]:
    """Every method, active or not, by id (``shipping:manage``)."""
    require_permission(actor, Permission.SHIPPING_MANAGE)
    with uow:
        return page_of(uow.shipping.methods(), paging)


# -- changing ------------------------------------------------------------------------------------


def _id_errors(value: str) -> list[FieldError]:
    """The domain's rule for an id, asked on its own so that the other fields' errors are
    reported alongside (the id's validator runs before the rest)."""
    errors: list[FieldError] = []
    collect_errors(errors, lambda: ShippingZone(value, "id", frozenset({REST_OF_WORLD})))
    return errors


def _countries(raw: Sequence[str], errors: list[FieldError]) -> frozenset[str]:
    if len(raw) > MAX_ZONE_COUNTRIES:
        errors.append(FieldError("countries", f"must have at most {MAX_ZONE_COUNTRIES} entries"))
        return frozenset()
    codes: set[str] = set()
    for index, code in enumerate(raw):
        cleaned = code.upper() if isinstance(code, str) else ""
        if cleaned != REST_OF_WORLD and cleaned not in COUNTRIES:
            errors.append(
                FieldError(f"countries[{index}]", "must be an ISO 3166-1 alpha-2 code or '*'")
            )
        else:
            codes.add(cleaned)
    return frozenset(codes)


def _overlaps(zone: ShippingZone, others: Sequence[ShippingZone]) -> list[FieldError]:
    """Countries ``zone`` would share with another zone: a parcel must have one zone."""
    errors = []
    for other in others:
        if other.id == zone.id:
            continue
        if zone.is_rest_of_world and other.is_rest_of_world:
            errors.append(
                FieldError("countries", f"zone {other.id!r} is the rest of the world already")
            )
        shared = sorted((zone.countries & other.countries) - {REST_OF_WORLD})
        if shared:
            errors.append(
                FieldError("countries", f"{', '.join(shared)} already in zone {other.id!r}")
            )
    return errors


def save_shipping_zone(
    command: SaveShippingZone, *, uow: UnitOfWork, clock: Clock
) -> SavedSetting[ShippingZone]:
    """Add the zone, or replace the one with its id (its methods stay)."""
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        errors = _id_errors(command.zone_id)
        countries = _countries(command.countries, errors)
        zone = collect_errors(errors, lambda: ShippingZone("zone", command.name.strip(), countries))
        existing = uow.shipping.zones()
        if zone is not None and not errors:
            zone = attrs.evolve(zone, id=command.zone_id)
            errors.extend(_overlaps(zone, existing))
        if errors or zone is None:
            raise InvalidInput(errors=errors)
        previous = next((z for z in existing if z.id == zone.id), None)
        uow.shipping.save_zone(zone)
        audit_change(
            uow,
            now,
            actor,
            "shipping.zone_saved",
            f"shipping_zone:{zone.id}",
            command.ip,
            zone=shipping_zone_view(zone),
            previous=None if previous is None else shipping_zone_view(previous),
        )
        uow.commit()
    return SavedSetting(zone, created=previous is None)


def delete_shipping_zone(command: DeleteShippingZone, *, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the zone and its methods; ``NotFound`` if there is no such zone."""
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        zone = next((z for z in uow.shipping.zones() if z.id == command.zone_id), None)
        if zone is None:
            raise NotFound("no such shipping zone")
        methods = [m for m in uow.shipping.methods() if m.zone_id == zone.id]
        uow.shipping.delete_zone(zone.id)
        audit_change(
            uow,
            now,
            actor,
            "shipping.zone_deleted",
            f"shipping_zone:{zone.id}",
            command.ip,
            zone=shipping_zone_view(zone),
            methods_deleted=[m.id for m in methods],
        )
        uow.commit()


def _amount(
    name: str, value: Money | int | None, price: Money, errors: list[FieldError]
) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    return collect_errors(errors, lambda: _named(name, lambda: Money(value, price.currency)))


def _named(field: str, build: Callable[[], T]) -> T:
    """``build()``, its error (a bare ``InvalidMoney``) named after ``field``."""
    try:
        return build()
    except InvalidInput as invalid:
        if invalid.errors:
            raise
        raise InvalidInput.for_field(field, invalid.detail) from None


def save_shipping_method(
    command: SaveShippingMethod, *, uow: UnitOfWork, clock: Clock
) -> SavedSetting[ShippingMethod]:
    """Add the method, or replace the one with its id (also moving it to another zone)."""
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        method = _method(command)
        errors = method.errors
        zones = {zone.id for zone in uow.shipping.zones()}
        if command.zone_id not in zones:
            errors.append(FieldError("zone_id", "is not a shipping zone of the shop"))
        if errors or method.value is None:
            raise InvalidInput(errors=errors)
        saved = method.value
        previous = next((m for m in uow.shipping.methods() if m.id == saved.id), None)
        uow.shipping.save_method(saved)
        audit_change(
            uow,
            now,
            actor,
            "shipping.method_saved",
            f"shipping_method:{saved.id}",
            command.ip,
            method=shipping_method_view(saved),
            previous=None if previous is None else shipping_method_view(previous),
        )
        uow.commit()
    return SavedSetting(saved, created=previous is None)


@attrs.define
class _Checked(Generic[T]):
    value: T | None
    errors: list[FieldError]


def _method(command: SaveShippingMethod) -> _Checked[ShippingMethod]:
    """The method the command describes, or every error found in it."""
    errors = _id_errors(command.method_id)
    price = command.price if isinstance(command.price, Money) else None
    if price is None:
        errors.append(FieldError("price", "must be an amount of money"))
        return _Checked(None, errors)
    free_above = _amount("free_above", command.free_above, price, errors)
    per_kg = _amount("per_kg", command.per_kg, price, errors)
    method = collect_errors(
        errors,
        lambda: ShippingMethod(
            id="method",
            zone_id=command.zone_id,
            name=command.name.strip(),
            price=price,
            free_above=free_above,
            per_kg=per_kg,
            max_weight_grams=command.max_weight_grams,
            taxable=command.taxable,
            active=command.active,
        ),
    )
    if method is None or errors:
        return _Checked(None, errors)
    return _Checked(attrs.evolve(method, id=command.method_id), errors)


def delete_shipping_method(command: DeleteShippingMethod, *, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the method; ``NotFound`` if there is no such method."""
    now = clock.now()
    with uow:
        actor = shipping_manager(uow, command.actor_id)
        method = next((m for m in uow.shipping.methods() if m.id == command.method_id), None)
        if method is None:
            raise NotFound("no such shipping method")
        uow.shipping.delete_method(method.id)
        audit_change(
            uow,
            now,
            actor,
            "shipping.method_deleted",
            f"shipping_method:{method.id}",
            command.ip,
            method=shipping_method_view(method),
        )
        uow.commit()

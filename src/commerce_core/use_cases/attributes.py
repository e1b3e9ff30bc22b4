"""Product attributes: the definitions shoppers may filter by, and what staff do - define an
attribute (create or edit by code), delete one (with every product's value of it), and set a
product's values.

Staff calls check ``catalog:write`` themselves before reading the input, and are audited in
the transaction that makes the change. An edit that would strand values products already have
(another kind, a choice taken away while products have it) is a ``Conflict``: the values must
change first, so no product ever shows a value its definition refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from commerce_core.domain.accounts import User
from commerce_core.domain.attributes import (
    MAX_ATTRIBUTES,
    AttributeDefinition,
    AttributeKind,
    parse_attribute_values,
)
from commerce_core.domain.permissions import Permission, require_permission
from commerce_core.errors import Conflict, FieldError, InvalidInput, NotFound
from commerce_core.ports import Clock, UnitOfWork
from commerce_core.use_cases._shipping_staff import SavedSetting, page_of
from commerce_core.use_cases._staff import acting_staff, audit_staff_action
from commerce_core.use_cases.categories import ProductWithDetails, catalog_details_in
from commerce_core.use_cases.queries import PageRequest
from commerce_core.views import Page

__all__ = [
    "DeleteAttribute",
    "SaveAttribute",
    "SetProductAttributes",
    "attribute_definition_view",
    "delete_attribute",
    "list_attribute_definitions",
    "list_filterable_attributes",
    "save_attribute",
    "set_product_attributes",
]


@attrs.frozen
class SaveAttribute:
    """Define the attribute ``code``, or edit the one with that code. ``kind`` is ``text``,
    ``number`` or ``choice``."""

    actor_id: str
    code: str
    name: str
    kind: str
    choices: tuple[str, ...] = ()
    unit: str | None = None
    filterable: bool = True
    ip: str | None = None


@attrs.frozen
class DeleteAttribute:
    actor_id: str
    code: str
    ip: str | None = None


@attrs.frozen
class SetProductAttributes:
    """Make ``values`` (code -> raw value: text, an integer, a decimal string) the product's
    attribute values; codes left out lose their value."""

    actor_id: str
    product_slug: str
    values: Mapping[str, object]
    ip: str | None = None


def attribute_definition_view(definition: AttributeDefinition) -> dict[str, Any]:
    return {
        "code": definition.code,
        "name": definition.name,
        "kind": definition.kind.value,
        "choices": list(definition.choices),
        "unit": definition.unit,
        "filterable": definition.filterable,
    }


# -- reading -------------------------------------------------------------------------------------


def list_filterable_attributes(uow: UnitOfWork) -> list[AttributeDefinition]:
    """The attributes shoppers may filter by, by code (public)."""
    with uow:
        return [d for d in uow.attributes.definitions() if d.filterable]


def list_attribute_definitions(
    uow: UnitOfWork, actor: User, paging: PageRequest
) -> Page[AttributeDefinition]:
    """Every attribute, filterable or not, by code (``catalog:write``)."""
    require_permission(actor, Permission.CATALOG_WRITE)
    with uow:
        return page_of(uow.attributes.definitions(), paging)


# -- changing ------------------------------------------------------------------------------------


def _kind(raw: str, errors: list[FieldError]) -> AttributeKind | None:
    try:
        return AttributeKind(raw)
    except ValueError:
        errors.append(FieldError("kind", "must be text, number or choice"))
        return None


def save_attribute(
    command: SaveAttribute, *, uow: UnitOfWork, clock: Clock
) -> SavedSetting[AttributeDefinition]:
    """Define the attribute, or edit the one with its code."""
    now = clock.now()
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        errors: list[FieldError] = []
        kind = _kind(command.kind, errors)
        existing = {d.code: d for d in uow.attributes.definitions()}
        previous = existing.get(command.code)
        if previous is None and len(existing) >= MAX_ATTRIBUTES:
            errors.append(FieldError("code", f"the shop has {MAX_ATTRIBUTES} attributes already"))
        definition = None
        try:
            definition = AttributeDefinition(
                code=command.code,
                name=command.name.strip() if isinstance(command.name, str) else command.name,
                kind=kind if kind is not None else AttributeKind.TEXT,
                choices=tuple(c.strip() if isinstance(c, str) else c for c in command.choices),
                unit=command.unit.strip() if isinstance(command.unit, str) else command.unit,
                filterable=command.filterable,
            )
        except InvalidInput as invalid:
            errors.extend(invalid.errors)
        if errors or definition is None:
            raise InvalidInput(errors=errors)
        if previous is not None:
            _refuse_stranding(uow, previous, definition)
        uow.attributes.save_definition(definition)
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.attribute_saved",
            f"attribute:{definition.code}",
            command.ip,
            attribute=attribute_definition_view(definition),
            previous=None if previous is None else attribute_definition_view(previous),
        )
        uow.commit()
    return SavedSetting(definition, created=previous is None)


def _refuse_stranding(
    uow: UnitOfWork, previous: AttributeDefinition, definition: AttributeDefinition
) -> None:
    """``Conflict`` if products have values of ``previous`` that ``definition`` refuses."""
    in_use = uow.attributes.value_counts(previous.code)
    if not in_use:
        return
    if definition.kind is not previous.kind:
        raise Conflict(
            f"{sum(in_use.values())} products have a {previous.kind.value} value of "
            f"{previous.code!r}: change or clear them before changing its kind"
        )
    if definition.kind is AttributeKind.CHOICE:
        kept = set(definition.choices)
        dropped = sorted(value for value in in_use if value not in kept)
        if dropped:
            raise Conflict(
                f"products have the choices {', '.join(dropped)} of {definition.code!r}: "
                "change them before taking those choices away"
            )


def delete_attribute(command: DeleteAttribute, *, uow: UnitOfWork, clock: Clock) -> None:
    """Delete the attribute and every product's value of it; ``NotFound`` if unknown."""
    now = clock.now()
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        definition = next((d for d in uow.attributes.definitions() if d.code == command.code), None)
        if definition is None:
            raise NotFound(f"no attribute {command.code!r}")
        in_use = uow.attributes.value_counts(definition.code)
        uow.attributes.delete_definition(definition.code)
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.attribute_deleted",
            f"attribute:{definition.code}",
            command.ip,
            attribute=attribute_definition_view(definition),
            values_removed=sum(in_use.values()),
        )
        uow.commit()


def set_product_attributes(
    command: SetProductAttributes, *, uow: UnitOfWork, clock: Clock
) -> ProductWithDetails:
    """Make these the product's attribute values, each checked against its definition (every
    problem at once, ``values.<code>``); ``NotFound`` for an unknown product."""
    now = clock.now()
    with uow:
        actor = acting_staff(uow, command.actor_id, Permission.CATALOG_WRITE)
        product = uow.products.get_by_slug(command.product_slug)
        if product is None:
            raise NotFound(f"no product {command.product_slug!r}")
        definitions = {d.code: d for d in uow.attributes.definitions()}
        values = parse_attribute_values(definitions, dict(command.values))
        before = uow.attributes.values_of([product.id]).get(product.id, {})
        uow.attributes.set_values(product.id, values)
        audit_staff_action(
            uow,
            now,
            actor,
            "catalog.product_attributes_set",
            f"product:{product.id}",
            command.ip,
            values={code: value.text for code, value in sorted(values.items())},
            previous={code: value.text for code, value in sorted(before.items())},
        )
        details = catalog_details_in(uow, [product.id])[product.id]
        uow.commit()
    return ProductWithDetails(product, details)

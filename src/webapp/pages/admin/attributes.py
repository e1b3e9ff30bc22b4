"""``/admin/attributes``: the typed attributes products are described by (text, number or
choice), defined once and edited by code, deleted with every product's value of them - and one
product's values.

The admin API's ``list_attribute_definitions``, ``save_attribute``, ``delete_attribute`` and
``set_product_attributes`` (``catalog:write``, audited). A value is sent as typed - a number as
its decimal text, never a float - and checked by the core against its definition.
"""

from __future__ import annotations

from flask import Response, request

from commerce_core import (
    AttributeDefinition,
    AttributeKind,
    CommerceError,
    DeleteAttribute,
    Permission,
    SaveAttribute,
    SetProductAttributes,
    delete_attribute,
    list_attribute_definitions,
    save_attribute,
    set_product_attributes,
)
from webapp.pages.admin.console import bp, done, every_item, page, staff, staff_page
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.product import product_page
from webapp.pages.admin.products import catalogue_changed
from webapp.request_ports import container, request_uow

__all__ = ["attributes"]

MAX_CODE = 40
MAX_LABEL = 100
MAX_UNIT = 20
MAX_CHOICES = 100
MAX_VALUE = 200
KINDS = [(kind.value, kind.value.capitalize()) for kind in AttributeKind]
_VALUE_PREFIX = "value-"


def _definitions() -> list[AttributeDefinition]:
    actor = staff()
    return every_item(lambda paging: list_attribute_definitions(request_uow(), actor, paging))


@bp.get("/attributes")
@staff_page(Permission.CATALOG_WRITE)
def attributes() -> Response:
    return _attributes_page()


def _attributes_page(
    form: FormState | None = None, list_form: FormState | None = None, status: int = 200
) -> Response:
    definitions = _definitions()
    editing_code = request.args.get("edit") if form is None else form.value("editing")
    editing = next((d for d in definitions if d.code == editing_code), None)
    if form is None:
        form = FormState("attribute", _values(editing) if editing else {"kind": "text"})
    return page(
        "admin/attributes.html",
        status=status,
        definitions=definitions,
        form=form,
        list_form=list_form or FormState("definitions"),
        editing=editing,
        kinds=KINDS,
    )


def _values(definition: AttributeDefinition) -> dict[str, str]:
    values = {
        "editing": definition.code,
        "code": definition.code,
        "name": definition.name,
        "kind": definition.kind.value,
        "choices": "\n".join(definition.choices),
        "unit": definition.unit or "",
        "filterable": "true" if definition.filterable else "false",
    }
    return values


@bp.post("/attributes")
@staff_page(Permission.CATALOG_WRITE)
def attribute_save() -> Response:
    form = FormState.from_post("attribute")
    read = FormReader()
    code = read.text("code", max_length=MAX_CODE)
    name = read.text("name", max_length=MAX_LABEL)
    kind = read.choice("kind", [value for value, _ in KINDS]) or ""
    choices = read.lines("choices", max_items=MAX_CHOICES, max_length=MAX_LABEL)
    unit = read.optional_text("unit", max_length=MAX_UNIT)
    filterable = read.flag("filterable")
    try:
        read.finish()
        saved = save_attribute(
            SaveAttribute(
                staff().id,
                code,
                name,
                kind,
                choices=choices,
                unit=unit,
                filterable=filterable,
                ip=request.remote_addr,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _attributes_page(form, status=refusal_status(error, form))
    catalogue_changed()
    verb = "Defined" if saved.created else "Saved"
    return done("/admin/attributes", f"{verb} the attribute {saved.value.name}.")


@bp.post("/attributes/<code>/delete")
@staff_page(Permission.CATALOG_WRITE)
def attribute_delete(code: str) -> Response:
    list_form = FormState("definitions")
    try:
        delete_attribute(
            DeleteAttribute(staff().id, code, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _attributes_page(list_form=list_form, status=refusal_status(error, list_form))
    catalogue_changed()
    return done("/admin/attributes", f"Deleted the attribute {code} and every product's value.")


@bp.post("/products/<slug>/attributes")
@staff_page(Permission.CATALOG_WRITE)
def product_attributes(slug: str) -> Response:
    definitions = _definitions()
    form = FormState.from_post(
        "attributes", {f"values.{d.code}": f"{_VALUE_PREFIX}{d.code}" for d in definitions}
    )
    read = FormReader()
    values: dict[str, object] = {}
    for definition in definitions:
        value = read.text(f"{_VALUE_PREFIX}{definition.code}", max_length=MAX_VALUE, required=False)
        if value:
            values[definition.code] = value
    try:
        read.finish()
        set_product_attributes(
            SetProductAttributes(staff().id, slug, values, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return product_page(slug, status=refusal_status(error, form), attributes=form)
    catalogue_changed()
    return done(f"/admin/products/{slug}", f"Saved {len(values)} attribute values.")

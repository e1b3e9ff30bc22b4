"""Staff set up shipping: zones, the methods (rates) that ship to each, and tax rates.

Each route declares ``shipping:manage``; the use cases check it again and audit every change.
Saving is create-or-replace by the setting's key (201 when it is new, 200 when it replaced one);
deleting an unknown one is a 404. Lists are ``{items, page, per_page, total}``, never cached.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from commerce_core import (
    MAX_ZONE_COUNTRIES,
    DeleteShippingMethod,
    DeleteShippingZone,
    DeleteTaxRate,
    FieldError,
    Permission,
    SavedSetting,
    SaveShippingMethod,
    SaveShippingZone,
    SaveTaxRate,
    delete_shipping_method,
    delete_shipping_zone,
    delete_tax_rate,
    list_shipping_methods,
    list_shipping_zones,
    list_tax_rates,
    save_shipping_method,
    save_shipping_zone,
    save_tax_rate,
    shipping_method_view,
    shipping_zone_view,
    tax_rate_view,
)
from webapp.api.responses import json_response
from webapp.payloads import BodyReader, json_body
from webapp.query_reader import QueryReader
from webapp.request_ports import container, request_uow
from webapp.sessions import permission_required, require_user
from webapp.shipping_input import MAX_NAME, MAX_REGION, MAX_SETTING_ID

__all__ = ["bp"]

bp = Blueprint("admin_shipping", __name__, url_prefix="/api/admin")

MAX_COUNTRY_INPUT = 2


def _created(saved: SavedSetting[Any], key: str, view: dict[str, Any]) -> Response:
    return json_response({key: view}, 201 if saved.created else 200)


def _no_content() -> Response:
    return Response(status=204)


# -- zones ---------------------------------------------------------------------------------------


@bp.get("/shipping/zones")
@permission_required(Permission.SHIPPING_MANAGE)
def list_zones() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_shipping_zones(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(shipping_zone_view))


@bp.post("/shipping/zones")
@permission_required(Permission.SHIPPING_MANAGE)
def save_zone() -> Response:
    data = json_body()
    body = BodyReader(data)
    zone_id = body.text("id", max_length=MAX_SETTING_ID, min_length=1)
    name = body.text("name", max_length=MAX_NAME)
    countries = _codes(body, data.get("countries"))
    body.finish()
    saved = save_shipping_zone(
        SaveShippingZone(require_user().id, zone_id, name, countries, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _created(saved, "zone", shipping_zone_view(saved.value))


@bp.delete("/shipping/zones/<zone_id>")
@permission_required(Permission.SHIPPING_MANAGE)
def delete_zone(zone_id: str) -> Response:
    delete_shipping_zone(
        DeleteShippingZone(require_user().id, zone_id, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _no_content()


def _codes(body: BodyReader, value: object, name: str = "countries") -> tuple[str, ...]:
    """A required array of country codes (text; the core says which codes it knows)."""
    if not isinstance(value, list):
        body.errors.append(FieldError(name, "must be an array of country codes"))
        return ()
    if len(value) > MAX_ZONE_COUNTRIES:
        body.errors.append(FieldError(name, f"must have at most {MAX_ZONE_COUNTRIES} entries"))
        return ()
    codes = []
    for index, code in enumerate(value):
        if not isinstance(code, str) or not code or len(code) > MAX_COUNTRY_INPUT:
            body.errors.append(
                FieldError(f"{name}[{index}]", "must be an ISO 3166-1 alpha-2 code or '*'")
            )
            continue
        codes.append(code)
    return tuple(codes)


# -- methods -------------------------------------------------------------------------------------


@bp.get("/shipping/methods")
@permission_required(Permission.SHIPPING_MANAGE)
def list_methods() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_shipping_methods(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(shipping_method_view))


@bp.post("/shipping/methods")
@permission_required(Permission.SHIPPING_MANAGE)
def save_method() -> Response:
    data = json_body()
    body = BodyReader(data)
    method_id = body.text("id", max_length=MAX_SETTING_ID, min_length=1)
    zone_id = body.text("zone_id", max_length=MAX_SETTING_ID, min_length=1)
    name = body.text("name", max_length=MAX_NAME)
    price = body.money("price")
    free_above = body.optional_amount("free_above")
    per_kg = body.optional_amount("per_kg")
    max_weight_grams = (
        None if data.get("max_weight_grams") is None else body.integer("max_weight_grams")
    )
    taxable = body.flag("taxable")
    active = body.flag("active")
    body.finish()
    if price is None:  # pragma: no cover - finish() raised: _price recorded why
        raise AssertionError("a method without a price passed the body's checks")
    saved = save_shipping_method(
        SaveShippingMethod(
            require_user().id,
            method_id,
            zone_id,
            name,
            price,
            free_above=free_above,
            per_kg=per_kg,
            max_weight_grams=max_weight_grams,
            taxable=taxable,
            active=active,
            ip=request.remote_addr,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _created(saved, "method", shipping_method_view(saved.value))


@bp.delete("/shipping/methods/<method_id>")
@permission_required(Permission.SHIPPING_MANAGE)
def delete_method(method_id: str) -> Response:
    delete_shipping_method(
        DeleteShippingMethod(require_user().id, method_id, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _no_content()


# -- tax rates -----------------------------------------------------------------------------------


@bp.get("/tax-rates")
@permission_required(Permission.SHIPPING_MANAGE)
def list_rates() -> Response:
    query = QueryReader()
    paging = query.paging()
    query.finish()
    page = list_tax_rates(request_uow(), require_user(), paging)
    return json_response(page.to_primitive(tax_rate_view))


@bp.post("/tax-rates")
@permission_required(Permission.SHIPPING_MANAGE)
def save_rate() -> Response:
    data = json_body()
    body = BodyReader(data)
    country = body.text("country", max_length=MAX_COUNTRY_INPUT, min_length=1)
    region = body.optional_text("region", max_length=MAX_REGION) or ""
    basis_points = body.integer("basis_points")
    name = body.text("name", max_length=MAX_NAME)
    shipping_taxable = body.flag("shipping_taxable")
    body.finish()
    saved = save_tax_rate(
        SaveTaxRate(
            require_user().id,
            country,
            basis_points,
            name,
            region=region,
            shipping_taxable=shipping_taxable,
            ip=request.remote_addr,
        ),
        uow=request_uow(),
        clock=container().clock,
    )
    return _created(saved, "tax_rate", tax_rate_view(saved.value))


@bp.delete("/tax-rates/<country>")
@permission_required(Permission.SHIPPING_MANAGE)
def delete_rate(country: str) -> Response:
    query = QueryReader()
    region = query.text("region", max_length=MAX_REGION) or ""
    query.finish()
    delete_tax_rate(
        DeleteTaxRate(require_user().id, country, region, ip=request.remote_addr),
        uow=request_uow(),
        clock=container().clock,
    )
    return _no_content()

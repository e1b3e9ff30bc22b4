"""``/admin/shipping`` and ``/admin/tax-rates``: where the shop ships (zones: sets of countries,
or ``*`` for the rest of the world), how and for how much (methods, one zone each), and the tax
of each country or region.

The admin API's use cases (``shipping:manage``, every change audited with what it replaced).
Saving is create-or-replace by key - a zone's or method's id, a rate's country and region - so
the same form creates and edits (``?zone=``, ``?method=``, ``?country=&region=`` fill it with
what is stored). A rate is typed as a percentage with at most two decimals, exactly basis points.
"""

from __future__ import annotations

from flask import Response, request

from commerce_core import (
    CommerceError,
    DeleteShippingMethod,
    DeleteShippingZone,
    DeleteTaxRate,
    Permission,
    SaveShippingMethod,
    SaveShippingZone,
    SaveTaxRate,
    ShippingMethod,
    TaxRate,
    delete_shipping_method,
    delete_shipping_zone,
    delete_tax_rate,
    list_shipping_methods,
    list_shipping_zones,
    list_tax_rates,
    save_shipping_method,
    save_shipping_zone,
    save_tax_rate,
)
from webapp.pages.admin.console import bp, done, every_item, page, staff, staff_page
from webapp.pages.admin.display import major
from webapp.pages.admin.forms import FormReader, FormState, refusal_status
from webapp.pages.admin.products import CURRENCIES
from webapp.request_ports import container, request_uow
from webapp.shipping_input import MAX_NAME, MAX_REGION, MAX_SETTING_ID

__all__ = ["shipping", "tax_rates"]

MAX_COUNTRIES_INPUT = 300
SHIPPING = "/admin/shipping"
TAX_RATES = "/admin/tax-rates"


# -- zones and methods ---------------------------------------------------------------------------


@bp.get("/shipping")
@staff_page(Permission.SHIPPING_MANAGE)
def shipping() -> Response:
    return _shipping_page()


def _shipping_page(
    zone_form: FormState | None = None,
    method_form: FormState | None = None,
    lists: FormState | None = None,
    status: int = 200,
) -> Response:
    actor = staff()
    zones = every_item(lambda paging: list_shipping_zones(request_uow(), actor, paging))
    methods = every_item(lambda paging: list_shipping_methods(request_uow(), actor, paging))
    zone = next((z for z in zones if z.id == request.args.get("zone")), None)
    method = next((m for m in methods if m.id == request.args.get("method")), None)
    if zone_form is None:
        zone_form = FormState("zone")
        if zone is not None:
            countries = ", ".join(sorted(zone.countries))
            zone_form.values.update({"id": zone.id, "name": zone.name, "countries": countries})
    if method_form is None:
        currency = methods[0].price.currency if methods else "USD"
        method_form = FormState("method", _method_values(method, currency))
    return page(
        "admin/shipping.html",
        status=status,
        zones=zones,
        methods=methods,
        zone_names={z.id: z.name for z in zones},
        zone_form=zone_form,
        method_form=method_form,
        editing_zone=zone,
        editing_method=method,
        lists=lists or FormState("lists"),
        zone_choices=[(z.id, f"{z.name} ({z.id})") for z in zones],
        currencies=CURRENCIES,
    )


def _method_values(method: ShippingMethod | None, currency: str) -> dict[str, str]:
    if method is None:
        return {"currency": currency, "taxable": "true", "active": "true"}
    return {
        "id": method.id,
        "zone_id": method.zone_id,
        "name": method.name,
        "currency": method.price.currency,
        "price": major(method.price),
        "free_above": major(method.free_above),
        "per_kg": major(method.per_kg),
        "max_weight_grams": "" if method.max_weight_grams is None else str(method.max_weight_grams),
        "taxable": "true" if method.taxable else "false",
        "active": "true" if method.active else "false",
    }


@bp.post("/shipping/zones")
@staff_page(Permission.SHIPPING_MANAGE)
def zone_save() -> Response:
    form = FormState.from_post("zone")
    read = FormReader()
    zone_id = read.text("id", max_length=MAX_SETTING_ID)
    name = read.text("name", max_length=MAX_NAME)
    countries = read.lines("countries", max_items=MAX_COUNTRIES_INPUT, max_length=2)
    try:
        read.finish()
        saved = save_shipping_zone(
            SaveShippingZone(staff().id, zone_id, name, countries, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _shipping_page(zone_form=form, status=refusal_status(error, form))
    verb = "Created" if saved.created else "Saved"
    return done(SHIPPING, f"{verb} the zone {saved.value.name}.")


@bp.post("/shipping/zones/<zone_id>/delete")
@staff_page(Permission.SHIPPING_MANAGE)
def zone_delete(zone_id: str) -> Response:
    lists = FormState("lists")
    try:
        delete_shipping_zone(
            DeleteShippingZone(staff().id, zone_id, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _shipping_page(lists=lists, status=refusal_status(error, lists))
    return done(SHIPPING, f"Deleted the zone {zone_id} and its methods.")


@bp.post("/shipping/methods")
@staff_page(Permission.SHIPPING_MANAGE)
def method_save() -> Response:
    form = FormState.from_post("method")
    read = FormReader()
    method_id = read.text("id", max_length=MAX_SETTING_ID)
    zone_id = read.text("zone_id", max_length=MAX_SETTING_ID)
    name = read.text("name", max_length=MAX_NAME)
    currency = read.currency("currency")
    price = read.money("price", currency, required=True)
    free_above = read.money("free_above", currency)
    per_kg = read.money("per_kg", currency)
    max_weight = read.whole_number("max_weight_grams")
    taxable = read.flag("taxable")
    active = read.flag("active")
    try:
        read.finish()
        if price is None:  # pragma: no cover - finish() raised: a price is required
            raise AssertionError("a method without a price passed the form's checks")
        saved = save_shipping_method(
            SaveShippingMethod(
                staff().id,
                method_id,
                zone_id,
                name,
                price,
                free_above=free_above,
                per_kg=per_kg,
                max_weight_grams=max_weight,
                taxable=taxable,
                active=active,
                ip=request.remote_addr,
            ),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _shipping_page(method_form=form, status=refusal_status(error, form))
    verb = "Created" if saved.created else "Saved"
    return done(SHIPPING, f"{verb} the method {saved.value.name}.")


@bp.post("/shipping/methods/<method_id>/delete")
@staff_page(Permission.SHIPPING_MANAGE)
def method_delete(method_id: str) -> Response:
    lists = FormState("lists")
    try:
        delete_shipping_method(
            DeleteShippingMethod(staff().id, method_id, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _shipping_page(lists=lists, status=refusal_status(error, lists))
    return done(SHIPPING, f"Deleted the method {method_id}.")


# -- tax rates -----------------------------------------------------------------------------------


@bp.get("/tax-rates")
@staff_page(Permission.SHIPPING_MANAGE)
def tax_rates() -> Response:
    return _tax_page()


def _tax_page(
    form: FormState | None = None, lists: FormState | None = None, status: int = 200
) -> Response:
    actor = staff()
    rates = every_item(lambda paging: list_tax_rates(request_uow(), actor, paging))
    country = request.args.get("country")
    region = request.args.get("region", "")
    editing = next((r for r in rates if (r.country, r.region) == (country, region)), None)
    if form is None:
        form = FormState("rate", _rate_values(editing))
    return page(
        "admin/tax_rates.html",
        status=status,
        rates=rates,
        form=form,
        editing=editing,
        lists=lists or FormState("lists"),
        percent=percent,
    )


def _rate_values(rate: TaxRate | None) -> dict[str, str]:
    if rate is None:
        return {"shipping_taxable": "true"}
    return {
        "country": rate.country,
        "region": rate.region,
        "percent": percent(rate.basis_points),
        "name": rate.name,
        "shipping_taxable": "true" if rate.shipping_taxable else "false",
    }


def percent(basis_points: int) -> str:
    """725 basis points as "7.25" (exact: two decimals at most)."""
    whole, hundredths = divmod(basis_points, 100)
    return f"{whole}.{hundredths:02d}".removesuffix(".00")


@bp.post("/tax-rates")
@staff_page(Permission.SHIPPING_MANAGE)
def tax_rate_save() -> Response:
    form = FormState.from_post("rate", {"basis_points": "percent"})
    read = FormReader()
    country = read.text("country", max_length=2).upper()
    region = read.text("region", max_length=MAX_REGION, required=False)
    basis_points = read.basis_points("percent")
    name = read.text("name", max_length=MAX_NAME)
    shipping_taxable = read.flag("shipping_taxable")
    try:
        read.finish()
        if basis_points is None:  # pragma: no cover - finish() raised
            raise AssertionError("a rate without its percentage passed the form's checks")
        saved = save_tax_rate(
            SaveTaxRate(
                staff().id,
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
    except CommerceError as error:
        return _tax_page(form, status=refusal_status(error, form))
    verb = "Created" if saved.created else "Saved"
    return done(TAX_RATES, f"{verb} {saved.value.name}: {percent(saved.value.basis_points)} %.")


@bp.post("/tax-rates/delete")
@staff_page(Permission.SHIPPING_MANAGE)
def tax_rate_delete() -> Response:
    lists = FormState("lists")
    read = FormReader()
    country = read.text("country", max_length=2)
    region = read.text("region", max_length=MAX_REGION, required=False)
    try:
        read.finish()
        delete_tax_rate(
            DeleteTaxRate(staff().id, country, region, ip=request.remote_addr),
            uow=request_uow(),
            clock=container().clock,
        )
    except CommerceError as error:
        return _tax_page(lists=lists, status=refusal_status(error, lists))
    where = f"{country}-{region}" if region else country
    return done(TAX_RATES, f"Deleted the tax rate of {where}.")

"""The public shipping quote: the methods that ship to a country, priced for a cart.

``GET /api/shipping/methods?country=US&item=<product_id>:<quantity>&item=...`` - the cart is
the repeated ``item`` value (``webapp.shipping_input.read_cart``). Without items each method is
priced for an empty parcel. The core prices the items from the catalog and weighs them, exactly
as the checkout will charge.

The answer depends on the URL alone - no cookie, no session - so browsers and shared caches
may keep it a minute (each URL, query string included, is its own cache entry).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from commerce_core import COUNTRIES, FieldError, shipping_options
from webapp.api.responses import json_response
from webapp.query_reader import QueryReader
from webapp.request_ports import request_uow
from webapp.shipping_input import SHIPPING_MAX_AGE, read_cart

__all__ = ["bp"]

bp = Blueprint("shipping", __name__, url_prefix="/api/shipping")


@bp.get("/methods")
def list_methods() -> Response:
    query = QueryReader()
    country = query.text("country", max_length=2)
    if country is None:
        query.errors.append(FieldError("country", "is required"))
    elif country.upper() not in COUNTRIES:
        query.errors.append(FieldError("country", "must be an ISO 3166-1 alpha-2 code"))
    items = read_cart(request.args.getlist("item"), query.errors)
    query.finish()
    quotes = shipping_options(request_uow(), country or "", items)
    response = json_response({"items": [quote.to_primitive() for quote in quotes]})
    response.headers["Cache-Control"] = f"public, max-age={SHIPPING_MAX_AGE}"
    return response

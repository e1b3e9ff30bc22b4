"""Reading shipping input at the edge: the cart of a public quote, and the bounds of the staff's
shipping settings - shared by the routes (``webapp.api.shipping``, ``webapp.api.admin_shipping``)
and the OpenAPI document (``webapp.openapi_shipping``), so the two cannot drift apart.

A quote's cart is the repeated query value ``item=<id>:<quantity>`` (a variant's id, or a
product's for its default variant): a GET, so a quote
can be cached and linked; at most ``MAX_LINES`` items, the quantity without leading zeros.
"""

from __future__ import annotations

import re

from commerce_core import MAX_LINES, MAX_QUANTITY, CartItem, FieldError
from webapp.payloads import UnacceptableText, clean_text

__all__ = [
    "ITEM_PATTERN",
    "MAX_NAME",
    "MAX_PRODUCT_ID",
    "MAX_REGION",
    "MAX_SETTING_ID",
    "SHIPPING_MAX_AGE",
    "read_cart",
]

# The domain's bounds (commerce_core.domain.shipping and .tax), checked here first so that an
# absurdly long value is refused before anything reads it.
MAX_SETTING_ID = 64
MAX_NAME = 100
MAX_REGION = 100

# How long browsers and shared caches may keep a public quote.
SHIPPING_MAX_AGE = 60
MAX_PRODUCT_ID = 100
ITEM_PATTERN = rf"^[^:]{{1,{MAX_PRODUCT_ID}}}:[1-9][0-9]{{0,2}}$"
_ITEM = re.compile(ITEM_PATTERN.removeprefix("^").removesuffix("$"))
_LONGEST_ITEM = MAX_PRODUCT_ID + 4  # ":" and three digits


def read_cart(values: list[str], errors: list[FieldError]) -> tuple[CartItem, ...]:
    """The cart of the ``item`` values; each bad one is added to ``errors`` (``item[i]``)."""
    if len(values) > MAX_LINES:
        errors.append(FieldError("item", f"must be given at most {MAX_LINES} times"))
        return ()
    items = []
    for index, value in enumerate(values):
        field = f"item[{index}]"
        try:
            text = clean_text(value) if len(value) <= _LONGEST_ITEM else ""
        except UnacceptableText as refused:
            errors.append(FieldError(field, str(refused)))
            continue
        product_id, _, quantity = text.rpartition(":")
        if not _ITEM.fullmatch(text) or int(quantity) > MAX_QUANTITY:
            errors.append(
                FieldError(field, f"must be <product id>:<quantity from 1 to {MAX_QUANTITY}>")
            )
            continue
        if product_id.startswith("var_"):  # a variant's id (ids carry their kind)
            items.append(CartItem(None, int(quantity), variant_id=product_id))
        else:
            items.append(CartItem(product_id, int(quantity)))
    return tuple(items)

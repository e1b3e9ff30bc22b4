"""A shopper's own account: the addresses they keep to ship to.

Every route needs a session and is about the signed-in shopper's own addresses: another
account's address is a 404, exactly like a missing one. A body is ``{address, label?}``, the
address as the checkout takes ``shipping_address`` (errors name ``address.<field>``).
"""

from __future__ import annotations

from flask import Blueprint, Response

from commerce_core import (
    MAX_ADDRESS_LABEL,
    MAX_SAVED_ADDRESSES,
    FieldError,
    InvalidInput,
    SaveAddress,
    delete_saved_address,
    list_saved_addresses,
    save_address,
)
from webapp.api.responses import json_response
from webapp.payloads import BodyReader, json_body
from webapp.request_ports import container, request_uow
from webapp.sessions import require_user

__all__ = ["bp"]

bp = Blueprint("account", __name__, url_prefix="/api/account")


@bp.get("/addresses")
def list_addresses() -> Response:
    user = require_user()
    kept = list_saved_addresses(request_uow(), user.id)
    # An account keeps at most MAX_SAVED_ADDRESSES: always one page.
    return json_response(
        {
            "items": [saved.to_primitive() for saved in kept],
            "page": 1,
            "per_page": MAX_SAVED_ADDRESSES,
            "total": len(kept),
        }
    )


@bp.post("/addresses")
def add_address() -> Response:
    user = require_user()
    data = json_body()
    body = BodyReader(data)
    address = body.address("address")
    if data.get("address") is None:
        body.errors.append(FieldError("address", "is required"))
    label = body.optional_text("label", max_length=MAX_ADDRESS_LABEL) or ""
    body.finish()
    if address is None:  # pragma: no cover - finish() raised: missing or refused
        raise InvalidInput.for_field("address", "is required")
    result = save_address(
        SaveAddress(user.id, address, label), uow=request_uow(), clock=container().clock
    )
    return json_response({"address": result.saved.to_primitive()}, 201 if result.created else 200)


@bp.delete("/addresses/<address_id>")
def delete_address(address_id: str) -> Response:
    user = require_user()
    delete_saved_address(request_uow(), user.id, address_id)
    return Response(status=204)

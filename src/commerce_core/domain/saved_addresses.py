"""Addresses a shopper keeps on their account, to ship to again without typing them.

A saved address is an ``Address`` (checked as every address is when it enters the shop) with a
label of the shopper's choosing ("Home", "Office"; may be empty). An account keeps at most
``MAX_SAVED_ADDRESSES``: enough for anyone's homes, offices and relatives, and a bound on what
one account can make the shop store.

>>> label = validate_label("  Home ")
>>> label
'Home'
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.errors import InvalidInput

__all__ = ["MAX_ADDRESS_LABEL", "MAX_SAVED_ADDRESSES", "SavedAddress", "validate_label"]

MAX_SAVED_ADDRESSES = 20
MAX_ADDRESS_LABEL = 50


def validate_label(label: object) -> str:
    """The label as kept (NFC, trimmed); ``InvalidInput`` on ``label`` if it is not printable
    text of at most ``MAX_ADDRESS_LABEL`` characters."""
    if not isinstance(label, str) or not label.isprintable():
        raise InvalidInput.for_field("label", "must be printable text")
    text = unicodedata.normalize("NFC", label).strip()
    if len(text) > MAX_ADDRESS_LABEL:
        raise InvalidInput.for_field("label", f"must be at most {MAX_ADDRESS_LABEL} characters")
    return text


@attrs.frozen
class SavedAddress:
    id: str
    user_id: str
    label: str
    address: Address
    created_at: datetime

    def to_primitive(self) -> dict[str, Any]:
        """The shopper's view (no user id: it is always their own)."""
        return {
            "id": self.id,
            "label": self.label,
            "address": self.address.to_primitive(),
            "created_at": self.created_at.isoformat(),
        }

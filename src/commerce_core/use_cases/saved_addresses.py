"""A shopper's address book: list, save and delete the addresses kept on their account.

Every call is about the shopper's own addresses: another account's address is ``NotFound``,
exactly like a missing one. Saving counts the account's addresses under the user's row lock,
so two saves at once cannot both pass the cap (``MAX_SAVED_ADDRESSES``); saving an address the
account already keeps with the same label returns that one instead of a copy.

>>> from commerce_core.testing import FakeClock, InMemoryUnitOfWork
>>> uow, clock = InMemoryUnitOfWork(), FakeClock()
>>> home = Address.parse({"name": "Ada", "line1": "12 Main St", "city": "Springfield",
...                       "postal_code": "62701", "country": "US"})
>>> saved = save_address(SaveAddress("usr_1", home, label="Home"), uow=uow, clock=clock)
>>> [a.label for a in list_saved_addresses(uow, "usr_1")]
['Home']
"""

from __future__ import annotations

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.domain.ids import new_id
from commerce_core.domain.saved_addresses import (
    MAX_SAVED_ADDRESSES,
    SavedAddress,
    validate_label,
)
from commerce_core.errors import AddressBookFull, NotFound
from commerce_core.ports import Clock, UnitOfWork

__all__ = [
    "SaveAddress",
    "SavedAddressResult",
    "delete_saved_address",
    "list_saved_addresses",
    "save_address",
]


@attrs.frozen
class SaveAddress:
    user_id: str
    address: Address
    label: str = ""


@attrs.frozen
class SavedAddressResult:
    """The address as kept, and whether this call added it (``False``: it was there already)."""

    saved: SavedAddress
    created: bool


def list_saved_addresses(uow: UnitOfWork, user_id: str) -> list[SavedAddress]:
    """The user's saved addresses, oldest first."""
    with uow:
        return uow.addresses.list_for_user(user_id)


def save_address(command: SaveAddress, *, uow: UnitOfWork, clock: Clock) -> SavedAddressResult:
    """Keep ``command.address`` on the user's account; ``AddressBookFull`` if it holds
    ``MAX_SAVED_ADDRESSES`` already, ``InvalidInput`` on ``label`` for a bad label."""
    label = validate_label(command.label)
    with uow:
        uow.users.lock(command.user_id)
        kept = uow.addresses.list_for_user(command.user_id)
        for existing in kept:
            if existing.address == command.address and existing.label == label:
                return SavedAddressResult(existing, created=False)
        if len(kept) >= MAX_SAVED_ADDRESSES:
            raise AddressBookFull(
                f"an account keeps at most {MAX_SAVED_ADDRESSES} addresses; delete one first"
            )
        saved = SavedAddress(
            id=new_id("adr"),
            user_id=command.user_id,
            label=label,
            address=command.address,
            created_at=clock.now(),
        )
        uow.addresses.add(saved)
        uow.commit()
    return SavedAddressResult(saved, created=True)


def delete_saved_address(uow: UnitOfWork, user_id: str, address_id: str) -> None:
    """Forget one of the user's addresses; ``NotFound`` if they keep none by that id."""
    with uow:
        deleted = uow.addresses.delete(user_id, address_id)
        uow.commit()
    if not deleted:
        raise NotFound("no such address")

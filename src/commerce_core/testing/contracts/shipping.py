"""``ShippingContract``: the shipping zones, methods and tax rates every ``UnitOfWork`` hands out
(``uow.shipping``, ``uow.tax_rates``), and ``AddressBookContract``: the addresses shoppers keep
on their accounts (``uow.addresses``).

Mixed into ``UnitOfWorkContract``; their fixture is the same ``new_uow``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs

from commerce_core.domain.addresses import Address
from commerce_core.domain.ids import new_id
from commerce_core.domain.money import Money
from commerce_core.domain.saved_addresses import SavedAddress
from commerce_core.domain.shipping import REST_OF_WORLD, ShippingMethod, ShippingZone
from commerce_core.domain.tax import TaxRate
from commerce_core.errors import Conflict
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0
from commerce_core.testing.contracts._support import raises as _raises

__all__ = ["AddressBookContract", "ShippingContract"]

NewUow = Callable[[], UnitOfWork]

DOMESTIC = ShippingZone("domestic", "Domestic", frozenset({"US"}))
EUROPE = ShippingZone("europe", "Europe", frozenset({"DE", "FR", "NL"}))
WORLD = ShippingZone("world", "Rest of the world", frozenset({REST_OF_WORLD}))


def _method(method_id: str, zone_id: str = "domestic", **changes: Any) -> ShippingMethod:
    plain = ShippingMethod(method_id, zone_id, method_id.title(), Money(500, "USD"))
    return attrs.evolve(plain, **changes)


class ShippingContract:
    def test_shipping_zones_are_saved_replaced_and_listed_by_id(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            for zone in (WORLD, DOMESTIC, EUROPE):
                uow.shipping.save_zone(zone)
            uow.commit()
        renamed = ShippingZone("europe", "EU", frozenset({"DE", "FR", "NL", "BE"}))
        with new_uow() as uow:
            assert uow.shipping.zones() == [DOMESTIC, EUROPE, WORLD]
            uow.shipping.save_zone(renamed)
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.zones() == [DOMESTIC, renamed, WORLD]

    def test_shipping_methods_keep_every_field_and_are_listed_by_id(self, new_uow: NewUow) -> None:
        plain = _method("standard")
        weighed = _method(
            "international",
            "world",
            price=Money(2500, "USD"),
            free_above=Money(20000, "USD"),
            per_kg=Money(800, "USD"),
            max_weight_grams=20_000,
            taxable=False,
            active=False,
        )
        express = _method("express", price=Money(1500, "USD"))
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.shipping.save_zone(WORLD)
            for method in (weighed, plain, express):
                uow.shipping.save_method(method)
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.methods() == [express, weighed, plain]

    def test_a_shipping_method_saved_again_is_replaced(self, new_uow: NewUow) -> None:
        first = _method("standard", free_above=Money(5000, "USD"))
        moved = _method("standard", "europe", name="Tracked", price=Money(900, "EUR"))
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.shipping.save_zone(EUROPE)
            uow.shipping.save_method(first)
            uow.commit()
        with new_uow() as uow:
            uow.shipping.save_method(moved)
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.methods() == [moved]

    def test_a_method_for_an_unknown_zone_is_a_conflict_and_saves_nothing(
        self, new_uow: NewUow
    ) -> None:
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.commit()
        with new_uow() as uow:
            _raises(Conflict, lambda: uow.shipping.save_method(_method("lost", "atlantis")))
        with new_uow() as uow:
            assert uow.shipping.methods() == []

    def test_deleting_a_zone_deletes_its_methods_and_only_them(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.shipping.save_zone(WORLD)
            uow.shipping.save_method(_method("standard"))
            uow.shipping.save_method(_method("express"))
            uow.shipping.save_method(_method("international", "world"))
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.delete_zone("domestic") is True
            assert uow.shipping.delete_zone("domestic") is False
            assert uow.shipping.delete_zone("atlantis") is False
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.zones() == [WORLD]
            assert [m.id for m in uow.shipping.methods()] == ["international"]
            # The zone's id is free again, and its old methods do not come back with it.
            uow.shipping.save_zone(DOMESTIC)
            uow.commit()
        with new_uow() as uow:
            assert [m.id for m in uow.shipping.methods()] == ["international"]

    def test_a_shipping_method_is_deleted_once(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.shipping.save_method(_method("standard"))
            uow.shipping.save_method(_method("express"))
            uow.commit()
        with new_uow() as uow:
            assert uow.shipping.delete_method("standard") is True
            assert uow.shipping.delete_method("standard") is False
            assert uow.shipping.delete_method("nope") is False
            uow.commit()
        with new_uow() as uow:
            assert [m.id for m in uow.shipping.methods()] == ["express"]
            assert uow.shipping.zones() == [DOMESTIC]

    def test_shipping_changes_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        with new_uow() as uow:
            uow.shipping.save_zone(DOMESTIC)
            uow.shipping.save_method(_method("standard"))
            uow.commit()
        with new_uow() as uow:
            uow.shipping.save_zone(WORLD)
            uow.shipping.save_method(_method("express"))
            uow.shipping.save_zone(ShippingZone("domestic", "Home", frozenset({"US", "CA"})))
        with new_uow() as uow:
            uow.shipping.delete_zone("domestic")
            uow.rollback()
        with new_uow() as uow:
            assert uow.shipping.zones() == [DOMESTIC]
            assert uow.shipping.methods() == [_method("standard")]

    def test_tax_rates_are_saved_replaced_listed_and_deleted(self, new_uow: NewUow) -> None:
        california = TaxRate("US", "CA", 725, "California sales tax", shipping_taxable=False)
        new_york = TaxRate("US", "NY", 400, "New York sales tax")
        country_wide = TaxRate("US", "", 0, "No federal sales tax")
        germany = TaxRate("DE", "", 1900, "Mehrwertsteuer")
        with new_uow() as uow:
            for rate in (new_york, germany, california, country_wide):
                uow.tax_rates.save(rate)
            uow.commit()
        raised = TaxRate("US", "CA", 750, "California sales tax (2027)", shipping_taxable=True)
        with new_uow() as uow:
            assert uow.tax_rates.list() == [germany, country_wide, california, new_york]
            uow.tax_rates.save(raised)
            assert uow.tax_rates.delete("US", "NY") is True
            assert uow.tax_rates.delete("US", "NY") is False
            assert uow.tax_rates.delete("US", "TX") is False
            assert uow.tax_rates.delete("FR", "") is False
            uow.commit()
        with new_uow() as uow:
            assert uow.tax_rates.list() == [germany, country_wide, raised]
            assert uow.tax_rates.delete("US", "") is True  # the country-wide one only
            uow.commit()
        with new_uow() as uow:
            assert uow.tax_rates.list() == [germany, raised]

    def test_tax_rates_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        kept = TaxRate("US", "TX", 625, "Texas sales tax")
        with new_uow() as uow:
            uow.tax_rates.save(kept)
            uow.commit()
        with new_uow() as uow:
            uow.tax_rates.save(TaxRate("US", "TX", 1, "Typo"))
            uow.tax_rates.save(TaxRate("US", "WA", 650, "Washington sales tax"))
        with new_uow() as uow:
            uow.tax_rates.delete("US", "TX")
            uow.rollback()
        with new_uow() as uow:
            assert uow.tax_rates.list() == [kept]


def _address(line1: str = "12 Main St") -> Address:
    return Address(
        name="Ada Lovelace",
        line1=line1,
        line2="Apt 4",
        city="Springfield",
        postal_code="62701",
        region="IL",
        country="US",
    )


def _saved(user_id: str, minutes: int = 0, label: str = "Home") -> SavedAddress:
    return SavedAddress(
        id=new_id("adr"),
        user_id=user_id,
        label=label,
        address=_address(f"{minutes} Main St"),
        created_at=T0 + timedelta(minutes=minutes),
    )


class AddressBookContract:
    def test_saved_addresses_are_listed_per_user_oldest_first(self, new_uow: NewUow) -> None:
        later, earlier = _saved("usr_me", 5, "Work"), _saved("usr_me", 1)
        theirs = _saved("usr_other", 3)
        without_postal_code = SavedAddress(
            id=new_id("adr"),
            user_id="usr_me",
            label="",
            address=Address("Ama", "Ring Road", "Accra", "", "GH"),
            created_at=T0 + timedelta(minutes=9),
        )
        with new_uow() as uow:
            for saved in (later, theirs, without_postal_code, earlier):
                uow.addresses.add(saved)
            uow.commit()
        with new_uow() as uow:
            assert uow.addresses.list_for_user("usr_me") == [earlier, later, without_postal_code]
            assert uow.addresses.list_for_user("usr_other") == [theirs]
            assert uow.addresses.list_for_user("usr_nobody") == []
            assert uow.addresses.count_for_user("usr_me") == 3
            assert uow.addresses.count_for_user("usr_nobody") == 0

    def test_a_saved_address_is_deleted_only_by_its_owner(self, new_uow: NewUow) -> None:
        mine, theirs = _saved("usr_me"), _saved("usr_other")
        with new_uow() as uow:
            uow.addresses.add(mine)
            uow.addresses.add(theirs)
            uow.commit()
        with new_uow() as uow:
            assert uow.addresses.delete("usr_me", theirs.id) is False
            assert uow.addresses.delete("usr_me", "adr_missing") is False
            assert uow.addresses.delete("usr_me", mine.id) is True
            assert uow.addresses.delete("usr_me", mine.id) is False
            uow.commit()
        with new_uow() as uow:
            assert uow.addresses.list_for_user("usr_me") == []
            assert uow.addresses.list_for_user("usr_other") == [theirs]

    def test_saved_addresses_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        kept = _saved("usr_me")
        with new_uow() as uow:
            uow.addresses.add(kept)
            uow.commit()
        with new_uow() as uow:
            uow.addresses.add(_saved("usr_me", 1))
        with new_uow() as uow:
            uow.addresses.delete("usr_me", kept.id)
            uow.rollback()
        with new_uow() as uow:
            assert uow.addresses.list_for_user("usr_me") == [kept]
            assert uow.addresses.count_for_user("usr_me") == 1

"""The staff's shipping use cases and the shopper's address book, with in-memory fakes: each
staff call checks ``shipping:manage`` itself (whatever a driver did before) and before it reads
the input, audits what it changed, and leaves the shop as it was when it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commerce_core import (
    Address,
    AddressBookFull,
    DeleteShippingZone,
    DeleteTaxRate,
    InvalidInput,
    Money,
    NotFound,
    PageRequest,
    PermissionDenied,
    Role,
    SaveAddress,
    SaveShippingMethod,
    SaveShippingZone,
    SaveTaxRate,
    User,
    delete_saved_address,
    delete_shipping_zone,
    delete_tax_rate,
    list_saved_addresses,
    list_shipping_zones,
    save_address,
    save_shipping_method,
    save_shipping_zone,
    save_tax_rate,
    shipping_options,
)
from commerce_core.testing import FakeClock, InMemoryUnitOfWork

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
HOME = Address.parse(
    {
        "name": "Ada",
        "line1": "12 Main St",
        "city": "Springfield",
        "postal_code": "62701",
        "country": "US",
    }
)


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    uow = InMemoryUnitOfWork()
    with uow:
        for role in Role:
            email = f"{role.value}@example.com"
            uow.users.add(User(f"usr_{role.value}", email, "X", "h", role, True, T0))
        uow.commit()
    return uow


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def test_the_use_cases_check_the_permission_themselves_before_the_input(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    for actor in ("usr_support", "usr_customer", "usr_nobody"):
        with pytest.raises(PermissionDenied):
            save_shipping_zone(SaveShippingZone(actor, "BAD ID", "", ()), uow=uow, clock=clock)
        with pytest.raises(PermissionDenied):
            save_tax_rate(SaveTaxRate(actor, "ZZ", -1, ""), uow=uow, clock=clock)
        with pytest.raises(PermissionDenied):
            delete_shipping_zone(DeleteShippingZone(actor, "nowhere"), uow=uow, clock=clock)
    with uow:
        support = uow.users.get("usr_support")
    assert support is not None
    with pytest.raises(PermissionDenied):
        list_shipping_zones(uow, support, PageRequest())
    with uow:
        assert uow.audit.all() == []
        assert uow.shipping.zones() == []


def test_a_saved_zone_is_audited_and_quoted(uow: InMemoryUnitOfWork, clock: FakeClock) -> None:
    zone = save_shipping_zone(
        SaveShippingZone("usr_admin", "domestic", " Home ", ("us",), ip="203.0.113.7"),
        uow=uow,
        clock=clock,
    )
    method = save_shipping_method(
        SaveShippingMethod("usr_admin", "standard", "domestic", "Std", Money(500, "USD")),
        uow=uow,
        clock=clock,
    )

    assert (zone.created, zone.value.name, zone.value.countries) == (True, "Home", {"US"})
    assert method.created
    with uow:
        entries = list(uow.audit.all())
    assert [(e.actor, e.action, e.ip) for e in entries] == [
        ("usr_admin", "shipping.zone_saved", "203.0.113.7"),
        ("usr_admin", "shipping.method_saved", None),
    ]
    assert [q.method_id for q in shipping_options(uow, "US")] == ["standard"]


def test_a_refused_change_changes_nothing_and_audits_nothing(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    with pytest.raises(InvalidInput) as refused:
        save_shipping_method(
            SaveShippingMethod(
                "usr_admin",
                "Bad",
                "atlantis",
                "",
                Money(-1, "USD"),
                free_above=Money(1, "EUR"),
                max_weight_grams=0,
            ),
            uow=uow,
            clock=clock,
        )

    assert {e.field for e in refused.value.errors} == {
        "id",
        "name",
        "price",
        "free_above",
        "max_weight_grams",
        "zone_id",
    }
    with uow:
        assert uow.shipping.methods() == []
        assert uow.audit.all() == []


def test_a_tax_rate_region_is_one_whatever_its_case(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    first = save_tax_rate(SaveTaxRate("usr_admin", "US", 725, "CA tax", "CA"), uow=uow, clock=clock)
    again = save_tax_rate(SaveTaxRate("usr_admin", "us", 750, "CA tax", "ca"), uow=uow, clock=clock)

    assert (first.created, again.created) == (True, False)
    with uow:
        assert [(r.region, r.basis_points) for r in uow.tax_rates.list()] == [("ca", 750)]
    with pytest.raises(NotFound):
        delete_tax_rate(DeleteTaxRate("usr_admin", "US"), uow=uow, clock=clock)
    delete_tax_rate(DeleteTaxRate("usr_admin", "US", "Ca"), uow=uow, clock=clock)
    with uow:
        assert uow.tax_rates.list() == []


def test_the_address_book_keeps_twenty_of_ones_own(
    uow: InMemoryUnitOfWork, clock: FakeClock
) -> None:
    for number in range(20):
        address = Address.parse({**HOME.to_primitive(), "line1": f"{number} Main St"})
        save_address(SaveAddress("usr_customer", address), uow=uow, clock=clock)
    with pytest.raises(AddressBookFull):
        save_address(SaveAddress("usr_customer", HOME, "Home"), uow=uow, clock=clock)
    with pytest.raises(InvalidInput):
        save_address(SaveAddress("usr_admin", HOME, "x" * 51), uow=uow, clock=clock)

    first = list_saved_addresses(uow, "usr_customer")[0]
    with pytest.raises(NotFound):
        delete_saved_address(uow, "usr_admin", first.id)
    delete_saved_address(uow, "usr_customer", first.id)
    assert len(list_saved_addresses(uow, "usr_customer")) == 19
    assert list_saved_addresses(uow, "usr_admin") == []

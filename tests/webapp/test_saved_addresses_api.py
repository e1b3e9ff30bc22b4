"""A shopper's saved addresses over HTTP, on SQLite and PostgreSQL: only with a session, only
their own (another's is a 404 like a missing one), checked like a checkout's address, at most 20
per account - and on PostgreSQL two saves at once cannot both pass that cap."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, cast

import pytest
from werkzeug.test import TestResponse

from commerce_core import (
    MAX_SAVED_ADDRESSES,
    Address,
    AddressBookFull,
    SaveAddress,
    UnitOfWork,
    list_saved_addresses,
    save_address,
)
from tests.webapp.browser import Shopper, assert_problem
from webapp.bootstrap import Container, release_uow
from webapp.config import Settings

ADDRESSES = "/api/account/addresses"
HOME = {
    "name": "Ada Lovelace",
    "line1": "12 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "region": "IL",
    "country": "US",
}


@pytest.fixture
def settings(settings_on_both_databases: Settings) -> Settings:
    return settings_on_both_databases


def delete(browser: Shopper, path: str) -> TestResponse:
    return browser.client.delete(path, headers={"X-CSRF-Token": browser.csrf()})


def listed(browser: Shopper) -> list[dict[str, Any]]:
    response = browser.get(ADDRESSES)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["page"], body["per_page"], body["total"]) == (1, 20, len(body["items"]))
    assert response.headers["Cache-Control"] == "no-store"
    items: list[dict[str, Any]] = body["items"]
    return items


def test_a_shopper_saves_lists_and_deletes_their_addresses(shopper: Shopper) -> None:
    shopper.register()
    assert listed(shopper) == []

    home = shopper.post(ADDRESSES, {"address": HOME, "label": " Home "})
    office = shopper.post(
        ADDRESSES,
        {"address": {**HOME, "line1": "1 Office Park", "postal_code": "62702-1234"}},
    )

    assert home.status_code == 201, home.get_data(as_text=True)
    saved = home.get_json()["address"]
    assert saved["label"] == "Home"
    assert saved["address"] == {**HOME, "line2": ""}
    assert saved["id"].startswith("adr_")
    assert office.status_code == 201
    assert [(a["label"], a["address"]["line1"]) for a in listed(shopper)] == [
        ("Home", "12 Main St"),
        ("", "1 Office Park"),
    ]
    # The same address under the same label again: the one saved before, not a copy.
    again = shopper.post(ADDRESSES, {"address": HOME, "label": "Home"})
    assert again.status_code == 200
    assert again.get_json()["address"]["id"] == saved["id"]
    assert len(listed(shopper)) == 2

    assert delete(shopper, f"{ADDRESSES}/{saved['id']}").status_code == 204
    assert [a["label"] for a in listed(shopper)] == [""]
    assert_problem(delete(shopper, f"{ADDRESSES}/{saved['id']}"), 404, "not_found")


def test_a_shopper_neither_sees_nor_deletes_anothers_addresses(
    shopper: Shopper, new_shopper: Any
) -> None:
    shopper.register()
    theirs = shopper.post(ADDRESSES, {"address": HOME}).get_json()["address"]
    stranger: Shopper = new_shopper()
    stranger.register()

    assert listed(stranger) == []
    assert_problem(delete(stranger, f"{ADDRESSES}/{theirs['id']}"), 404, "not_found")
    assert [a["id"] for a in listed(shopper)] == [theirs["id"]]


def test_without_a_session_there_are_no_addresses(shopper: Shopper) -> None:
    assert_problem(shopper.get(ADDRESSES), 401, "unauthenticated")
    assert_problem(shopper.post(ADDRESSES, {"address": HOME}), 401, "unauthenticated")
    assert_problem(delete(shopper, f"{ADDRESSES}/adr_1"), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"address"}),
        ({"address": None}, {"address"}),
        ({"address": "12 Main St"}, {"address"}),
        ({"address": {**HOME, "country": "XX"}}, {"address.country"}),
        ({"address": {**HOME, "postal_code": "ABC"}}, {"address.postal_code"}),
        ({"address": {**HOME, "name": "", "line1": " "}}, {"address.name", "address.line1"}),
        ({"address": {**HOME, "city": "a\x00b"}}, {"address.city"}),
        ({"address": {**HOME, "floor": "3"}}, {"address.floor"}),
        ({"address": HOME, "label": "x" * 51}, {"label"}),
        ({"address": HOME, "label": "\ud800"}, {"label"}),
        ({"address": HOME, "label": 7}, {"label"}),
    ],
)
def test_a_bad_address_or_label_is_a_422_naming_the_field_and_saves_nothing(
    shopper: Shopper, body: dict[str, Any], fields: set[str]
) -> None:
    shopper.register()

    problem = assert_problem(shopper.post(ADDRESSES, body), 422, "validation_error")

    assert {error["field"] for error in problem["errors"]} == fields
    assert listed(shopper) == []


def test_an_account_keeps_at_most_twenty_addresses(shopper: Shopper) -> None:
    shopper.register()
    for number in range(MAX_SAVED_ADDRESSES):
        address = {**HOME, "line1": f"{number} Main St"}
        assert shopper.post(ADDRESSES, {"address": address}).status_code == 201

    full = shopper.post(ADDRESSES, {"address": {**HOME, "line1": "21 Main St"}})

    assert_problem(full, 409, "address_book_full")
    assert len(listed(shopper)) == MAX_SAVED_ADDRESSES
    # One gone, one more fits.
    delete(shopper, f"{ADDRESSES}/{listed(shopper)[0]['id']}")
    assert shopper.post(ADDRESSES, {"address": {**HOME, "line1": "21 Main St"}}).status_code == 201


class _PausingAddressBook:
    """The address book, pausing after each read until the other save has read too (or 2 s
    passed: with the user's row locked, the other save cannot read until this one ends)."""

    def __init__(self, inner: Any, barrier: threading.Barrier) -> None:
        self._inner, self._barrier = inner, barrier

    def list_for_user(self, user_id: str) -> Any:
        found = self._inner.list_for_user(user_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            self._barrier.wait(timeout=2)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _PausingUnitOfWork:
    def __init__(self, inner: UnitOfWork, barrier: threading.Barrier) -> None:
        self._inner, self._barrier = inner, barrier

    @property
    def addresses(self) -> Any:
        return _PausingAddressBook(self._inner.addresses, self._barrier)

    def __enter__(self) -> _PausingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_two_saves_at_once_cannot_both_pass_the_cap(
    settings: Settings, container: Container, shopper: Shopper
) -> None:
    # Both saves read the account's 19 addresses before either writes, unless the first one's
    # lock on the user's row holds the second back (take the lock out and this test fails).
    user_id = shopper.register()["id"]
    for number in range(MAX_SAVED_ADDRESSES - 1):
        address = Address.parse({**HOME, "line1": f"{number} Main St"})
        save_address(SaveAddress(user_id, address), uow=container.new_uow(), clock=container.clock)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(line1: str) -> None:
        uow = cast(UnitOfWork, _PausingUnitOfWork(container.new_uow(), barrier))
        try:
            save_address(
                SaveAddress(user_id, Address.parse({**HOME, "line1": line1})),
                uow=uow,
                clock=container.clock,
            )
            outcomes.append("saved")
        except AddressBookFull:
            outcomes.append("full")
        finally:
            release_uow(uow)

    threads = [threading.Thread(target=save, args=(f"{n} Elm St",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["full", "saved"]
    assert len(list_saved_addresses(container.new_uow(), user_id)) == MAX_SAVED_ADDRESSES

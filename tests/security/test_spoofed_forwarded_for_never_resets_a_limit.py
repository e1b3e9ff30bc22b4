"""A client writes whatever it likes into ``X-Forwarded-For``; only the entries our own proxies
appended (``TRUSTED_PROXIES`` of them, from the right) say who it is. A new left-most entry on
every request must not buy a fresh limit, and neither may a new address inside one IPv6 /64.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from flask import Flask

from commerce_core import LimitedOperation, RateKeyKind
from tests.support.rate_limited_shop import Visitor, rate_limited_shop, shop_limit
from tests.webapp.browser import assert_problem

PROXY = "10.0.0.2"  # the load balancer in front of the app
LIMIT = shop_limit(LimitedOperation.LOG_IN, RateKeyKind.CLIENT_ADDRESS)


def _spoof() -> str:
    return f"203.0.113.{secrets.randbelow(250) + 1}"


@pytest.fixture
def shop_behind(tmp_path: Path) -> Iterator[Callable[[int], Flask]]:
    """``shop_behind(hops)``: the app trusting ``hops`` proxies."""
    with ExitStack() as stack:

        def open_shop(hops: int) -> Flask:
            app, _ = stack.enter_context(rate_limited_shop(tmp_path, trusted_proxies=hops))
            return app

        yield open_shop


def _exhaust(visitor: Visitor, forwarded_for: Callable[[], str]) -> None:
    for _ in range(LIMIT.limit):
        response = visitor.log_in_as_nobody(headers={"X-Forwarded-For": forwarded_for()})
        assert_problem(response, 401, "invalid_credentials")
    refused = visitor.log_in_as_nobody(headers={"X-Forwarded-For": forwarded_for()})
    assert_problem(refused, 429, "rate_limited")


def test_behind_one_proxy_a_new_left_most_entry_changes_nothing(
    shop_behind: Callable[[int], Flask],
) -> None:
    app = shop_behind(1)
    visitor = Visitor(app, PROXY)
    # What the client sent, then what our proxy appended: the client's real address.
    _exhaust(visitor, lambda: f"{_spoof()}, 198.51.100.7")
    # Another real client behind the same proxy has its own count.
    other = Visitor(app, PROXY)
    response = other.log_in_as_nobody(headers={"X-Forwarded-For": f"{_spoof()}, 198.51.100.8"})
    assert_problem(response, 401, "invalid_credentials")


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(
    shop_behind: Callable[[int], Flask],
) -> None:
    app = shop_behind(2)
    _exhaust(Visitor(app, PROXY), lambda: f"{_spoof()}, {_spoof()}, 198.51.100.7, 10.0.0.1")


def test_without_trusted_proxies_the_header_is_ignored(
    shop_behind: Callable[[int], Flask],
) -> None:
    app = shop_behind(0)
    # Every request claims another address; the server sees one peer.
    _exhaust(Visitor(app, "198.51.100.7"), _spoof)


def test_a_client_cannot_walk_its_ipv6_network_for_fresh_limits(
    shop_behind: Callable[[int], Flask],
) -> None:
    app = shop_behind(1)
    visitor = Visitor(app, PROXY)
    _exhaust(visitor, lambda: f"2001:db8:1:2:{secrets.token_hex(2)}::{secrets.token_hex(2)}")
    # The next /64 is another subscriber.
    response = visitor.log_in_as_nobody(headers={"X-Forwarded-For": "2001:db8:1:3::1"})
    assert_problem(response, 401, "invalid_credentials")


def test_an_ipv4_mapped_address_is_counted_as_the_ipv4_address(
    shop_behind: Callable[[int], Flask],
) -> None:
    app = shop_behind(1)
    forms = iter(["198.51.100.7", "::ffff:198.51.100.7"] * LIMIT.limit)
    _exhaust(Visitor(app, PROXY), lambda: next(forms))

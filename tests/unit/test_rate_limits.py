"""The rate-limit policy as data, and the in-memory limiter held to the port's contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core import (
    SHOP_RATE_LIMITS,
    LimitedOperation,
    RateDecision,
    RateKeyKind,
    RateLimit,
    RateLimitPolicy,
)
from commerce_core.testing import FakeClock, InMemoryRateLimiter
from commerce_core.testing.contracts import RateLimiterContract


class TestInMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def limiter(self) -> InMemoryRateLimiter:
        self._clock = FakeClock()
        return InMemoryRateLimiter(self._clock)

    def elapse(self, limiter: InMemoryRateLimiter, delta: timedelta) -> None:  # type: ignore[override]
        self._clock.advance(delta)


def test_every_limited_operation_is_limited_per_client_address() -> None:
    for operation in LimitedOperation:
        assert SHOP_RATE_LIMITS.limit(operation, RateKeyKind.CLIENT_ADDRESS) is not None


def test_operations_on_an_account_are_limited_per_account_too() -> None:
    for operation in (
        LimitedOperation.LOG_IN,
        LimitedOperation.CHECKOUT_INTENT,
        LimitedOperation.CHECKOUT_CONFIRM,
        LimitedOperation.REFUND,
    ):
        account = SHOP_RATE_LIMITS.limit(operation, RateKeyKind.ACCOUNT)
        address = SHOP_RATE_LIMITS.limit(operation, RateKeyKind.CLIENT_ADDRESS)
        assert account is not None
        assert address is not None
        # Several people may share an address; an account is one person.
        assert account.limit <= address.limit


def test_the_address_limit_comes_first() -> None:
    kinds = [kind for kind, _ in SHOP_RATE_LIMITS.limits_for(LimitedOperation.LOG_IN)]
    assert kinds == [RateKeyKind.CLIENT_ADDRESS, RateKeyKind.ACCOUNT]
    reordered = RateLimitPolicy(
        {
            LimitedOperation.LOG_IN: {
                RateKeyKind.ACCOUNT: RateLimit("a", 1, timedelta(seconds=1)),
                RateKeyKind.CLIENT_ADDRESS: RateLimit("b", 1, timedelta(seconds=1)),
            }
        }
    )
    assert [kind for kind, _ in reordered.limits_for(LimitedOperation.LOG_IN)] == kinds


def test_an_operation_missing_from_the_table_has_no_limits() -> None:
    policy = RateLimitPolicy({})
    assert list(policy.limits_for(LimitedOperation.REFUND)) == []
    assert policy.limit(LimitedOperation.REFUND, RateKeyKind.ACCOUNT) is None


def test_two_limits_cannot_share_a_name_and_so_their_counters() -> None:
    shared = RateLimit("login", 5, timedelta(minutes=1))
    with pytest.raises(ValueError, match="share a name"):
        RateLimitPolicy(
            {
                LimitedOperation.LOG_IN: {RateKeyKind.CLIENT_ADDRESS: shared},
                LimitedOperation.REGISTER: {RateKeyKind.CLIENT_ADDRESS: shared},
            }
        )


def test_the_table_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        SHOP_RATE_LIMITS.table[LimitedOperation.LOG_IN] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        SHOP_RATE_LIMITS.table[LimitedOperation.LOG_IN][RateKeyKind.ACCOUNT] = None  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "limit", "window"),
    [
        ("", 1, timedelta(seconds=1)),
        ("Login Address", 1, timedelta(seconds=1)),
        ("login", 0, timedelta(seconds=1)),
        ("login", 1, timedelta(0)),
        ("login", 1, timedelta(milliseconds=1500)),
        ("login", 1, timedelta(seconds=-60)),
    ],
)
def test_a_rate_limit_is_a_name_a_positive_count_and_whole_seconds(
    name: str, limit: int, window: timedelta
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - attrs' validators raise plain ValueErrors
        RateLimit(name, limit, window)


def test_retry_after_is_rounded_up_and_never_zero() -> None:
    def refused(seconds: float) -> RateDecision:
        return RateDecision(False, 5, 0, timedelta(seconds=seconds))

    assert refused(41.2).retry_after_seconds == 42
    assert refused(42).retry_after_seconds == 42
    assert refused(0).retry_after_seconds == 1
    assert refused(0.001).reset_seconds == 1


def test_a_decision_cannot_claim_more_room_than_its_limit() -> None:
    with pytest.raises(ValueError, match="outside"):
        RateDecision(True, 5, 6, timedelta(0))
    with pytest.raises(ValueError, match="negative"):
        RateDecision(True, 5, 4, timedelta(seconds=-1))


def test_a_scaled_policy_multiplies_every_limit_and_keeps_windows_and_names() -> None:
    from commerce_core import DEFAULT_HOLD_LIMITS, SHOP_RATE_LIMITS, HoldLimits

    scaled = SHOP_RATE_LIMITS.scaled(1000)
    for operation in LimitedOperation:
        for kind, limit in SHOP_RATE_LIMITS.limits_for(operation):
            lifted = scaled.limit(operation, kind)
            assert lifted is not None
            assert (lifted.name, lifted.window, lifted.limit) == (
                limit.name,
                limit.window,
                limit.limit * 1000,
            )
    assert DEFAULT_HOLD_LIMITS.scaled(2) == HoldLimits(6, 200, 20, 600)

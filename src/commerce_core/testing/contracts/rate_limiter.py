"""``RateLimiterContract``: what every ``RateLimiter`` does. Provide a fixture ``limiter`` and a
hook ``elapse(limiter, delta)`` that makes ``delta`` pass for what the limiter has counted -
advance the clock it reads, or age the hits its store holds. Nothing in the suite sleeps, and
every window is long enough that a slow machine cannot make a hit expire on its own.

Keys are fresh in every test, so a limiter over a shared store (one Redis for several test
runs) passes too.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from commerce_core.domain.limits import RateDecision, RateLimit
from commerce_core.ports import RateLimiter
from commerce_core.testing.contracts._support import new_key

__all__ = ["RateLimiterContract"]

WINDOW = timedelta(hours=1)
# However long a test takes on a slow machine, the real time it spends stays below this.
SLACK = timedelta(minutes=10)


def _limit(amount: int = 3, window: timedelta = WINDOW, name: str = "") -> RateLimit:
    return RateLimit(name or f"contract.{new_key()}", amount, window)


def _hits(limiter: RateLimiter, limit: RateLimit, key: str, times: int) -> list[RateDecision]:
    return [limiter.hit(limit, key) for _ in range(times)]


class RateLimiterContract:
    def elapse(self, limiter: RateLimiter, delta: timedelta) -> None:
        raise NotImplementedError("make `delta` pass for everything the limiter has counted")

    def test_hits_are_allowed_up_to_the_limit_and_counted_down(self, limiter: RateLimiter) -> None:
        limit, key = _limit(3), new_key()
        decisions = _hits(limiter, limit, key, 3)
        assert [d.allowed for d in decisions] == [True, True, True]
        assert [d.remaining for d in decisions] == [2, 1, 0]
        assert {d.limit for d in decisions} == {3}
        for decision in decisions:
            assert WINDOW - SLACK < decision.reset_after <= WINDOW

    def test_a_hit_beyond_the_limit_is_refused_with_the_time_to_wait(
        self, limiter: RateLimiter
    ) -> None:
        limit, key = _limit(2), new_key()
        _hits(limiter, limit, key, 2)
        refused = limiter.hit(limit, key)
        assert not refused.allowed
        assert refused.remaining == 0
        assert refused.limit == 2
        assert WINDOW - SLACK < refused.reset_after <= WINDOW
        assert refused.retry_after_seconds >= (WINDOW - SLACK).total_seconds()

    def test_refusals_are_not_counted_so_one_window_is_always_enough(
        self, limiter: RateLimiter
    ) -> None:
        limit, key = _limit(2), new_key()
        _hits(limiter, limit, key, 2)
        for _ in range(10):
            self.elapse(limiter, timedelta(minutes=5))
            assert not limiter.hit(limit, key).allowed
        self.elapse(limiter, WINDOW - timedelta(minutes=50) + timedelta(seconds=1))
        assert limiter.hit(limit, key).allowed

    def test_the_window_moves_one_hit_at_a_time(self, limiter: RateLimiter) -> None:
        # A fixed window would free all three slots at once; a moving one frees the oldest.
        limit, key = _limit(3), new_key()
        limiter.hit(limit, key)
        self.elapse(limiter, timedelta(minutes=30))
        _hits(limiter, limit, key, 2)
        assert not limiter.hit(limit, key).allowed
        self.elapse(limiter, timedelta(minutes=30, seconds=1))
        again = limiter.hit(limit, key)
        assert again.allowed
        assert again.remaining == 0
        assert not limiter.hit(limit, key).allowed

    def test_the_time_to_wait_is_until_the_oldest_hit_leaves_the_window(
        self, limiter: RateLimiter
    ) -> None:
        limit, key = _limit(2), new_key()
        limiter.hit(limit, key)
        self.elapse(limiter, timedelta(minutes=20))
        limiter.hit(limit, key)
        refused = limiter.hit(limit, key)
        assert not refused.allowed
        expected = WINDOW - timedelta(minutes=20)
        assert expected - SLACK < refused.reset_after <= expected

    def test_keys_are_counted_apart(self, limiter: RateLimiter) -> None:
        limit, base = _limit(1), new_key()
        keys = [
            f"10.0.0.1{base}",
            f"10.0.0.10{base}",
            f"{base}/a",
            f"{base}/a/",
            f"{base}:a",
            f"{base}é",
            f"{base}e\u0301",
            f"{base}\udcff",  # a lone surrogate, as JSON can carry one
            f"{base}" + "x" * 2000,
            f"{base}" + "x" * 2001,
        ]
        assert [limiter.hit(limit, key).allowed for key in keys] == [True] * len(keys)
        assert [limiter.hit(limit, key).allowed for key in keys] == [False] * len(keys)

    def test_limits_are_counted_apart_even_on_the_same_key(self, limiter: RateLimiter) -> None:
        first, second, key = _limit(1), _limit(1), new_key()
        assert limiter.hit(first, key).allowed
        assert not limiter.hit(first, key).allowed
        assert limiter.hit(second, key).allowed

    def test_peek_counts_nothing(self, limiter: RateLimiter) -> None:
        limit, key = _limit(2), new_key()
        fresh = limiter.peek(limit, key)
        assert fresh.allowed
        assert fresh.remaining == 2
        assert fresh.reset_after == timedelta(0)
        for _ in range(5):
            assert limiter.peek(limit, key).remaining == 2
        limiter.hit(limit, key)
        seen = limiter.peek(limit, key)
        assert (seen.allowed, seen.remaining) == (True, 1)
        limiter.hit(limit, key)
        full = limiter.peek(limit, key)
        assert (full.allowed, full.remaining) == (False, 0)
        assert WINDOW - SLACK < full.reset_after <= WINDOW

    def test_a_limit_of_one_request_per_second_works(self, limiter: RateLimiter) -> None:
        limit, key = _limit(1, timedelta(seconds=1)), new_key()
        assert limiter.hit(limit, key).allowed
        self.elapse(limiter, timedelta(seconds=2))
        assert limiter.hit(limit, key).allowed

    def test_concurrent_hits_never_exceed_the_limit(self, limiter: RateLimiter) -> None:
        limit, key = _limit(25), new_key()
        allowed: list[bool] = []
        start = threading.Barrier(8)

        def client() -> None:
            start.wait()
            results = [limiter.hit(limit, key).allowed for _ in range(10)]
            allowed.extend(results)  # list.extend is atomic

        threads = [threading.Thread(target=client) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(allowed) == 80
        assert allowed.count(True) == 25

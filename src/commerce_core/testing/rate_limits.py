"""``InMemoryRateLimiter``: the ``RateLimiter`` port as a moving window over a ``Clock``, held
to ``RateLimiterContract`` like the adapter on the ``limits`` library (memory and Redis).

Time moves only with its clock, so a test of "refused now, allowed a window later" needs no
sleeping::

    >>> from datetime import timedelta
    >>> from commerce_core import RateLimit
    >>> from commerce_core.testing import FakeClock
    >>> clock = FakeClock()
    >>> limiter = InMemoryRateLimiter(clock)
    >>> login = RateLimit("login.address", 2, timedelta(minutes=1))
    >>> [limiter.hit(login, "203.0.113.9").allowed for _ in range(3)]
    [True, True, False]
    >>> clock.advance(timedelta(minutes=1, seconds=1))
    >>> limiter.hit(login, "203.0.113.9").allowed
    True
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from commerce_core.domain.limits import RateDecision, RateLimit
from commerce_core.ports import Clock

__all__ = ["InMemoryRateLimiter"]


class InMemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Per (limit name, key): the instants of the counted hits, oldest first.
        self._hits: dict[tuple[str, str], deque[datetime]] = {}
        self._lock = threading.Lock()

    def hit(self, limit: RateLimit, key: str) -> RateDecision:
        with self._lock:
            now = self._clock.now()
            hits = self._window(limit, key, now)
            allowed = len(hits) < limit.limit
            if allowed:
                hits.append(now)
            return self._decision(limit, hits, now, allowed=allowed)

    def peek(self, limit: RateLimit, key: str) -> RateDecision:
        with self._lock:
            now = self._clock.now()
            hits = self._window(limit, key, now)
            return self._decision(limit, hits, now, allowed=len(hits) < limit.limit)

    def hits_counted(self) -> int:
        """Every hit still inside its window, across all limits and keys (for assertions)."""
        with self._lock:
            return sum(len(hits) for hits in self._hits.values())

    def _window(self, limit: RateLimit, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.setdefault((limit.name, key), deque())
        # A hit counts while it is at most one window old.
        while hits and hits[0] < now - limit.window:
            hits.popleft()
        return hits

    @staticmethod
    def _decision(
        limit: RateLimit, hits: deque[datetime], now: datetime, *, allowed: bool
    ) -> RateDecision:
        reset_after = hits[0] + limit.window - now if hits else timedelta(0)
        return RateDecision(
            allowed=allowed,
            limit=limit.limit,
            remaining=max(0, limit.limit - len(hits)),
            reset_after=max(reset_after, timedelta(0)),
        )

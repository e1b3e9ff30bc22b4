"""``InMemoryAttemptStore``: the ``AttemptStore`` port over a dict, held to
``AttemptStoreContract`` like the SQL and Redis adapters."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import attrs

from commerce_core.domain.lockout import AttemptState

__all__ = ["InMemoryAttemptStore"]


@attrs.define
class _Counter:
    failures: int = 0
    window_started_at: datetime | None = None
    locked_until: datetime | None = None
    lockouts: int = 0

    def state(self) -> AttemptState:
        return AttemptState(self.failures, self.locked_until, self.lockouts)


class InMemoryAttemptStore:
    def __init__(self) -> None:
        self._counters: dict[str, _Counter] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> AttemptState:
        with self._lock:
            counter = self._counters.get(key)
            return AttemptState() if counter is None else counter.state()

    def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
        with self._lock:
            counter = self._counters.setdefault(key, _Counter())
            started = counter.window_started_at
            if started is None or now >= started + window:
                counter.failures, counter.window_started_at = 0, now
            counter.failures += 1
            return counter.state()

    def lock(self, key: str, until: datetime, now: datetime, *, extend: bool) -> AttemptState:
        with self._lock:
            counter = self._counters.setdefault(key, _Counter())
            in_force = counter.locked_until is not None and now < counter.locked_until
            if in_force and not extend:
                return counter.state()
            counter.locked_until = until
            counter.lockouts += 1
            counter.failures, counter.window_started_at = 0, None
            return counter.state()

    def clear(self, key: str) -> None:
        with self._lock:
            self._counters.pop(key, None)

    def clear_prefix(self, prefix: str) -> int:
        with self._lock:
            doomed = [key for key in self._counters if key.startswith(prefix)]
            for key in doomed:
                del self._counters[key]
            return len(doomed)

"""``AttemptStoreContract``: what every ``AttemptStore`` does. Provide a fixture ``attempts``
(an empty store; keys the tests make are unique to each test run)."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime, timedelta

from commerce_core.ports import AttemptStore

__all__ = ["AttemptStoreContract"]

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def _key(name: str = "k") -> str:
    return f"contract:{name}:{secrets.token_hex(6)}"


class AttemptStoreContract:
    def test_an_unknown_key_has_no_failures_and_no_lock(self, attempts: AttemptStore) -> None:
        state = attempts.get(_key())
        assert (state.failures, state.locked_until, state.lockouts) == (0, None, 0)

    def test_failures_count_up_within_the_window(self, attempts: AttemptStore) -> None:
        key = _key()
        counts = [
            attempts.add_failure(key, T0 + timedelta(minutes=i), WINDOW).failures for i in range(4)
        ]
        assert counts == [1, 2, 3, 4]
        assert attempts.get(key).failures == 4

    def test_a_failure_after_the_window_starts_a_new_one(self, attempts: AttemptStore) -> None:
        key = _key()
        attempts.add_failure(key, T0, WINDOW)
        attempts.add_failure(key, T0 + timedelta(minutes=14), WINDOW)
        # The window runs from the first failure: at T0 + 15 min it has ended.
        assert attempts.add_failure(key, T0 + WINDOW, WINDOW).failures == 1
        assert attempts.add_failure(key, T0 + WINDOW + timedelta(seconds=1), WINDOW).failures == 2

    def test_keys_are_counted_apart(self, attempts: AttemptStore) -> None:
        one, other = _key("one"), _key("other")
        attempts.add_failure(one, T0, WINDOW)
        attempts.add_failure(one, T0, WINDOW)
        assert attempts.add_failure(other, T0, WINDOW).failures == 1

    def test_a_lock_is_kept_counted_and_restarts_the_failures(self, attempts: AttemptStore) -> None:
        key = _key()
        for _ in range(5):
            attempts.add_failure(key, T0, WINDOW)
        until = T0 + timedelta(minutes=1)
        state = attempts.lock(key, until, T0, extend=True)
        assert (state.failures, state.locked_until, state.lockouts) == (0, until, 1)
        assert attempts.get(key).locked_until == until
        assert attempts.add_failure(key, until, WINDOW).failures == 1
        assert attempts.get(key).lockouts == 1  # the count of locks outlives the lock

    def test_a_lock_in_force_is_not_extended_unless_asked(self, attempts: AttemptStore) -> None:
        key = _key()
        first = T0 + timedelta(hours=1)
        attempts.lock(key, first, T0, extend=False)
        kept = attempts.lock(key, T0 + timedelta(hours=2), T0 + timedelta(minutes=30), extend=False)
        assert (kept.locked_until, kept.lockouts) == (first, 1)
        # Once it has run out, a new lock takes.
        later = attempts.lock(key, T0 + timedelta(hours=3), first, extend=False)
        assert (later.locked_until, later.lockouts) == (T0 + timedelta(hours=3), 2)
        extended = attempts.lock(key, T0 + timedelta(hours=4), first, extend=True)
        assert (extended.locked_until, extended.lockouts) == (T0 + timedelta(hours=4), 3)

    def test_clear_forgets_a_key(self, attempts: AttemptStore) -> None:
        key = _key()
        attempts.add_failure(key, T0, WINDOW)
        attempts.lock(key, T0 + timedelta(hours=1), T0, extend=True)
        attempts.clear(key)
        state = attempts.get(key)
        assert (state.failures, state.locked_until, state.lockouts) == (0, None, 0)
        attempts.clear(key)  # clearing nothing is fine

    def test_clear_prefix_forgets_exactly_the_keys_under_it(self, attempts: AttemptStore) -> None:
        prefix = f"{_key('prefix')}:"
        under = [f"{prefix}{n}" for n in ("10.0.0.1", "10.0.0.2", "2001:db8::1")]
        beside = f"{prefix[:-1]}x:10.0.0.1"  # shares all but the separator
        for key in [*under, beside]:
            attempts.add_failure(key, T0, WINDOW)
        assert attempts.clear_prefix(prefix) == 3
        assert all(attempts.get(key).failures == 0 for key in under)
        assert attempts.get(beside).failures == 1

    def test_keys_with_any_characters_are_kept_apart(self, attempts: AttemptStore) -> None:
        base = _key()
        odd = [f"{base}:%", f"{base}:_", f"{base}:*", f"{base}:[a]", f"{base}:ü", f"{base}:\\"]
        for key in odd:
            attempts.add_failure(key, T0, WINDOW)
        assert [attempts.get(key).failures for key in odd] == [1] * len(odd)
        assert attempts.clear_prefix(f"{base}:%") == 1  # a LIKE or glob wildcard is literal
        assert attempts.get(f"{base}:_").failures == 1

    def test_concurrent_failures_are_all_counted(self, attempts: AttemptStore) -> None:
        key = _key()
        barrier = threading.Barrier(8)

        def fail() -> None:
            barrier.wait()
            for _ in range(5):
                attempts.add_failure(key, T0, WINDOW)

        threads = [threading.Thread(target=fail) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert attempts.get(key).failures == 40

"""Login lockout: a pure, clock-driven policy over failure counters kept behind ``AttemptStore``.

Failures are counted twice, whether or not the email belongs to an account:

- per (client address, email): ``pair_threshold`` failures within ``pair_window`` lock that
  pair, for a backoff that doubles with every lock (1, 2, 4 ... minutes, capped) until a login
  succeeds from there. A guesser at one address slows down fast; the owner elsewhere is untouched.
- per email across all addresses: ``email_threshold`` failures within ``email_window`` lock the
  email everywhere for ``email_lock``. That lock is never extended by further attempts (they are
  refused before they are counted), so an attacker spreading over many addresses can hold the
  owner out for at most ``email_lock`` per ``email_threshold`` guesses - not forever. ASVS
  allows at most 100 failures per hour; 20 stays well inside it.

A success resets its pair, not the email's counter (that one only ages out or is cleared by
staff, who can unlock both). Keys carry a hash of the email, never the email itself.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import attrs

__all__ = [
    "AttemptState",
    "LockoutPolicy",
    "email_digest",
    "email_key",
    "pair_key",
    "pair_prefix",
]


@attrs.frozen
class AttemptState:
    """One counter as the store holds it: failures in the current window, and a lock."""

    failures: int = 0
    locked_until: datetime | None = None
    lockouts: int = 0  # locks so far; grows the backoff, reset with the counter

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


@attrs.frozen
class LockoutPolicy:
    pair_threshold: int = 5
    pair_window: timedelta = timedelta(minutes=15)
    pair_backoff: timedelta = timedelta(minutes=1)
    pair_backoff_cap: timedelta = timedelta(hours=1)
    email_threshold: int = 20
    email_window: timedelta = timedelta(hours=1)
    email_lock: timedelta = timedelta(hours=1)

    def pair_lock(self, lockouts_so_far: int) -> timedelta:
        """The pair's next lock: 1, 2, 4 ... times the backoff, capped."""
        if lockouts_so_far >= 20:  # 2**20 minutes is far past any cap
            return self.pair_backoff_cap
        return min(self.pair_backoff * (1 << lockouts_so_far), self.pair_backoff_cap)

    def locked_until(
        self, pair: AttemptState, email: AttemptState, now: datetime
    ) -> datetime | None:
        """Until when a login for this pair is refused, or ``None`` if it may be tried."""
        locks = [s.locked_until for s in (pair, email) if s.locked_at(now) and s.locked_until]
        return max(locks) if locks else None


def email_digest(email: str) -> str:
    """A short, stable hash of a normalised email: for keys and log fields, never the email."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def email_key(email: str) -> str:
    return f"login:email:{email_digest(email)}"


def pair_prefix(email: str) -> str:
    """Every pair key of ``email`` starts with this (for staff unlocking the email)."""
    return f"login:pair:{email_digest(email)}:"


def pair_key(client: str | None, email: str) -> str:
    client = client or "unknown"
    if len(client) > 64 or not client.isprintable():  # an address is short; anything else, hashed
        client = "h-" + hashlib.sha256(client.encode(errors="replace")).hexdigest()[:32]
    return f"{pair_prefix(email)}{client}"

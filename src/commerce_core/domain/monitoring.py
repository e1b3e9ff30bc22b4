"""The suspicious activity monitor's rules: what is counted, within which window, and when
staff must hear of it. Pure: the counting happens behind the ``AttemptStore`` port, shared by
every instance of the shop, so a pattern spread over many workers is still seen whole.

- credential stuffing: one client address failing logins for ``credential_stuffing.count``
  *distinct* emails within its window (a guesser retrying one email is the lockout's business;
  many emails from one place is a list being tried);
- card testing: ``card_testing_per_account.count`` declined payments of one account, or
  ``card_testing_per_address.count`` from one client address, within the window (stolen card
  numbers being checked against the shop);
- refund velocity: one staff member requesting ``refund_velocity.count`` refunds within the
  window (a compromised or rogue staff account draining orders).

A rule fires exactly when its count *reaches* the threshold, so a burst raises one alert per
window, not one per event. Keys never hold an email - only the digest the event carries - and
an address that is not a plain short string is hashed, so a forged one cannot grow a key.

    >>> policy = MonitoringPolicy()
    >>> policy.card_testing_per_account.crossed_by(policy.card_testing_per_account.count)
    True
    >>> policy.card_testing_per_account.crossed_by(policy.card_testing_per_account.count + 1)
    False
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import attrs

__all__ = [
    "ALERT_CARD_TESTING",
    "ALERT_CREDENTIAL_STUFFING",
    "ALERT_REFUND_VELOCITY",
    "MonitoringPolicy",
    "Threshold",
    "card_testing_account_key",
    "card_testing_address_key",
    "credential_stuffing_key",
    "credential_stuffing_pair_key",
    "refund_velocity_key",
]

ALERT_CREDENTIAL_STUFFING = "alert.credential_stuffing"
ALERT_CARD_TESTING = "alert.card_testing"
ALERT_REFUND_VELOCITY = "alert.refund_velocity"

# Apart from the lockout's ``login:`` counters, so unlocking a login never clears them.
_PREFIX = "monitor:"
_MAX_PART = 64


@attrs.frozen
class Threshold:
    """``count`` events within ``window`` (a window starts at the first event counted in it)."""

    count: int
    window: timedelta

    def __attrs_post_init__(self) -> None:
        if self.count < 1 or self.window <= timedelta(0):
            raise ValueError(f"a threshold needs a positive count and window: {self}")

    def crossed_by(self, counted: int) -> bool:
        """Whether the count just reached the threshold: true once per window."""
        return counted == self.count

    @property
    def window_seconds(self) -> int:
        return int(self.window.total_seconds())


@attrs.frozen
class MonitoringPolicy:
    credential_stuffing: Threshold = Threshold(10, timedelta(minutes=15))
    card_testing_per_account: Threshold = Threshold(5, timedelta(hours=1))
    card_testing_per_address: Threshold = Threshold(10, timedelta(hours=1))
    refund_velocity: Threshold = Threshold(10, timedelta(hours=1))


def _part(value: str) -> str:
    """``value`` as a key part: as it is if short and printable, else a digest of it."""
    if len(value) <= _MAX_PART and value.isprintable() and ":" not in value:
        return value
    return "h-" + hashlib.sha256(value.encode(errors="replace")).hexdigest()[:32]


def credential_stuffing_pair_key(address: str, email_digest: str) -> str:
    """Counts one email's failures from one address: its first marks a new distinct email."""
    return f"{_PREFIX}stuffing:{_part(address)}:{_part(email_digest)}"


def credential_stuffing_key(address: str) -> str:
    """Counts the distinct emails failing from one address."""
    return f"{_PREFIX}stuffing:{_part(address)}"


def card_testing_account_key(user_id: str) -> str:
    return f"{_PREFIX}card:user:{_part(user_id)}"


def card_testing_address_key(address: str) -> str:
    return f"{_PREFIX}card:ip:{_part(address)}"


def refund_velocity_key(actor_id: str) -> str:
    return f"{_PREFIX}refunds:{_part(actor_id)}"

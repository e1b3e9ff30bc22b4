"""Request rate limits as data: what each operation may be asked for, how often, by whom.

Every limit is a moving window: at most ``limit`` requests in any ``window``-long stretch of
time, each counted from the moment it was allowed. A refused request is not counted, so a
caller who keeps hammering is let in again as soon as its oldest counted request has aged out
- it is slowed to the limit, never locked out for longer than one window.

Each operation is limited per kind of key: per client address (the same numbers for every
visitor, whether or not signed in) and per account (the signed-in user, or for a login the
email it names). The address limit stops one machine; the account limit stops many machines
aimed at one account. A request must pass every limit of its operation.

``SHOP_RATE_LIMITS``, the numbers the shop runs with, and why (generous for people, tight for
scripts):

=================  =================  ==================  ===========================================
operation          per address        per account         why
=================  =================  ==================  ===========================================
login              10 / minute        5 / minute          A person mistypes two or three times; a
                                                          household or office shares an address.
                                                          A guesser gets 14,400 tries a day from one
                                                          address, and the lockout (``LockoutPolicy``)
                                                          caps the guesses per account long before.
register           10 / hour          -                   A family signs up a few accounts; a script
                                                          making throw-away accounts is slowed to a
                                                          trickle. There is no account to key on yet.
refresh            30 / minute        -                   Every tab refreshes about every 15 minutes,
                                                          so even a busy shared address stays far
                                                          below. The token is 256 random bits and
                                                          names its account only once checked.
checkout intent    30 / 10 minutes    10 / 10 minutes     Each intent holds stock for 15 minutes: a
                                                          shopper starts one or two checkouts; a
                                                          script hoarding stock is stopped early.
checkout confirm   30 / 10 minutes    10 / 10 minutes     A buyer retries after a decline or a 3-D
                                                          Secure step two or three times; card
                                                          testing needs hundreds of attempts.
refund             60 / 10 minutes    30 / 10 minutes     Staff handling returns in a batch; a stolen
                                                          staff session cannot refund the whole shop
                                                          in a minute (and the monitor alerts).
password reset     10 / hour          3 / hour            Each request sends an email: a person asks
                                                          once or twice (the mail was slow); a script
                                                          cannot flood someone's inbox from the shop
                                                          or burn its mail server's reputation.
reset confirm      10 / minute        -                   Like a login: the token is 256 random bits,
                                                          so guessing is hopeless anyway; this only
                                                          caps the password hashing a script can
                                                          make the shop do.
=================  =================  ==================  ===========================================

Example::

    >>> decision = RateDecision(allowed=False, limit=5, remaining=0,
    ...                         reset_after=timedelta(seconds=41.2))
    >>> decision.retry_after_seconds
    42
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType

import attrs

__all__ = [
    "SHOP_RATE_LIMITS",
    "LimitedOperation",
    "RateDecision",
    "RateKeyKind",
    "RateLimit",
    "RateLimitPolicy",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class LimitedOperation(enum.StrEnum):
    """The operations the shop limits: the ones a script would hammer."""

    LOG_IN = "login"
    REGISTER = "register"
    REFRESH = "refresh"
    CHECKOUT_INTENT = "checkout_intent"
    CHECKOUT_CONFIRM = "checkout_confirm"
    REFUND = "refund"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an operation's name, not a password
    PASSWORD_RESET_CONFIRM = "password_reset_confirm"  # noqa: S105 - likewise


class RateKeyKind(enum.StrEnum):
    """Whom a limit counts: the client's network address, or the account asked about."""

    CLIENT_ADDRESS = "address"
    ACCOUNT = "account"


def _check_window(_instance: object, _attribute: object, window: timedelta) -> None:
    # Whole seconds: storages count in seconds, and a fraction would be silently rounded away.
    if window < timedelta(seconds=1) or window % timedelta(seconds=1):
        raise ValueError(f"a rate limit window is a whole number of seconds, not {window}")


@attrs.frozen
class RateLimit:
    """At most ``limit`` requests per moving ``window``. ``name`` keeps its counters apart from
    every other limit's (``"login.address"``): the same key under two names is two counters."""

    name: str = attrs.field(validator=attrs.validators.matches_re(_NAME))
    limit: int = attrs.field(validator=[attrs.validators.instance_of(int), attrs.validators.ge(1)])
    window: timedelta = attrs.field(validator=_check_window)

    @property
    def window_seconds(self) -> int:
        return int(self.window.total_seconds())

    def __str__(self) -> str:
        return f"{self.name}: {self.limit} per {self.window_seconds} s"


@attrs.frozen
class RateDecision:
    """A limiter's answer for one key: whether this request may proceed, and what to tell the
    client (the ``RateLimit-*`` and ``Retry-After`` headers).

    ``remaining`` is how many more requests the window allows after this one; ``reset_after``
    is how long until the oldest counted request leaves the window and frees a slot (zero when
    nothing is counted). A refused request may be retried after ``reset_after``.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: timedelta

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.remaining <= self.limit:
            raise ValueError(f"remaining {self.remaining} is outside 0..{self.limit}")
        if self.reset_after < timedelta(0):
            raise ValueError("reset_after cannot be negative")

    @property
    def reset_seconds(self) -> int:
        """``reset_after`` in whole seconds, rounded up: a client that waits this long finds
        the slot free, never a moment too early."""
        return math.ceil(self.reset_after.total_seconds())

    @property
    def retry_after_seconds(self) -> int:
        """For a refusal: seconds to wait (at least 1, so a client never retries at once)."""
        return max(1, self.reset_seconds)


def _frozen_table(
    table: Mapping[LimitedOperation, Mapping[RateKeyKind, RateLimit]],
) -> Mapping[LimitedOperation, Mapping[RateKeyKind, RateLimit]]:
    return MappingProxyType(
        {
            operation: MappingProxyType(
                # Address first: a request refused there is not counted against the account.
                {kind: limits[kind] for kind in RateKeyKind if kind in limits}
            )
            for operation, limits in table.items()
        }
    )


def _distinct_names(
    _instance: object,
    _attribute: object,
    table: Mapping[LimitedOperation, Mapping[RateKeyKind, RateLimit]],
) -> None:
    names = [limit.name for limits in table.values() for limit in limits.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"two rate limits share a name (and would share counters): {names}")


@attrs.frozen(eq=False)
class RateLimitPolicy:
    """The table of limits per operation and kind of key. An operation absent from the table,
    or a kind absent for an operation, is not limited that way."""

    table: Mapping[LimitedOperation, Mapping[RateKeyKind, RateLimit]] = attrs.field(
        converter=_frozen_table, validator=_distinct_names
    )

    def limits_for(self, operation: LimitedOperation) -> Iterator[tuple[RateKeyKind, RateLimit]]:
        """The limits of ``operation``, per address first, then per account."""
        yield from self.table.get(operation, {}).items()

    def limit(self, operation: LimitedOperation, kind: RateKeyKind) -> RateLimit | None:
        return self.table.get(operation, {}).get(kind)

    def scaled(self, factor: int) -> RateLimitPolicy:
        """Every limit times ``factor``, same windows and names: for load tests, whose
        shoppers share one address. The limiter still counts every request."""
        return RateLimitPolicy(
            {
                operation: {
                    kind: attrs.evolve(limit, limit=limit.limit * factor)
                    for kind, limit in by.items()
                }
                for operation, by in self.table.items()
            }
        )


def _per(
    limit: int, window: timedelta, operation: LimitedOperation, kind: RateKeyKind
) -> RateLimit:
    return RateLimit(f"{operation.value}.{kind.value}", limit, window)


_MINUTE = timedelta(minutes=1)
_TEN_MINUTES = timedelta(minutes=10)
_HOUR = timedelta(hours=1)
_ADDRESS, _ACCOUNT = RateKeyKind.CLIENT_ADDRESS, RateKeyKind.ACCOUNT

SHOP_RATE_LIMITS = RateLimitPolicy(
    {
        operation: {
            kind: _per(limit, window, operation, kind) for kind, (limit, window) in by.items()
        }
        for operation, by in {
            LimitedOperation.LOG_IN: {_ADDRESS: (10, _MINUTE), _ACCOUNT: (5, _MINUTE)},
            LimitedOperation.REGISTER: {_ADDRESS: (10, _HOUR)},
            LimitedOperation.REFRESH: {_ADDRESS: (30, _MINUTE)},
            LimitedOperation.CHECKOUT_INTENT: {
                _ADDRESS: (30, _TEN_MINUTES),
                _ACCOUNT: (10, _TEN_MINUTES),
            },
            LimitedOperation.CHECKOUT_CONFIRM: {
                _ADDRESS: (30, _TEN_MINUTES),
                _ACCOUNT: (10, _TEN_MINUTES),
            },
            LimitedOperation.REFUND: {_ADDRESS: (60, _TEN_MINUTES), _ACCOUNT: (30, _TEN_MINUTES)},
            LimitedOperation.PASSWORD_RESET: {_ADDRESS: (10, _HOUR), _ACCOUNT: (3, _HOUR)},
            LimitedOperation.PASSWORD_RESET_CONFIRM: {_ADDRESS: (10, _MINUTE)},
        }.items()
    }
)

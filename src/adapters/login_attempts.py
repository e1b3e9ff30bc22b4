"""Login-failure counters (the core's ``AttemptStore``) in Redis, and what happens when Redis
cannot be reached.

``RedisAttemptStore`` keeps each key as a hash (failures, window start, lock, lock count) and
changes it with one Lua script per operation, so concurrent failures from several app instances
are all counted. Every write renews the key's expiry (``retention``): a counter nobody touches
for a day is forgotten.

``FallbackAttemptStore`` puts the shop's own database behind it: when Redis raises, the counter
is kept in SQL instead and an error is logged (at most once a minute), so a Redis outage never
turns a login into a 500 and never switches the lockout off. Counts made during the outage stay
in SQL; lockout may briefly count less for a key whose earlier failures are in Redis - it never
counts nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import redis
import structlog

from commerce_core import AttemptState, AttemptStore

__all__ = ["FallbackAttemptStore", "RedisAttemptStore"]

log = structlog.get_logger("adapters.login_attempts")
T = TypeVar("T")

# KEYS[1] the counter; ARGV: now (epoch seconds), window (seconds), retention (seconds).
_ADD_FAILURE = """
local started = tonumber(redis.call('HGET', KEYS[1], 'w'))
local now = tonumber(ARGV[1])
if (not started) or now >= started + tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'f', 1, 'w', ARGV[1])
else
  redis.call('HINCRBY', KEYS[1], 'f', 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return redis.call('HMGET', KEYS[1], 'f', 'l', 'n')
"""

# KEYS[1] the counter; ARGV: until, now (epoch seconds), extend ("1" or "0"), retention.
_LOCK = """
local current = tonumber(redis.call('HGET', KEYS[1], 'l'))
if current and tonumber(ARGV[2]) < current and ARGV[3] ~= '1' then
  return redis.call('HMGET', KEYS[1], 'f', 'l', 'n')
end
redis.call('HSET', KEYS[1], 'l', ARGV[1], 'f', 0)
redis.call('HDEL', KEYS[1], 'w')
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('HMGET', KEYS[1], 'f', 'l', 'n')
"""

_GLOB_SPECIALS = str.maketrans({c: f"\\{c}" for c in "*?[]\\"})


def _epoch(moment: datetime) -> str:
    return repr(moment.timestamp())


def _state(values: list[Any]) -> AttemptState:
    failures, locked, lockouts = (None if v is None else v.decode() for v in values)
    return AttemptState(
        failures=int(failures or 0),
        locked_until=None if locked is None else datetime.fromtimestamp(float(locked), UTC),
        lockouts=int(lockouts or 0),
    )


class RedisAttemptStore:
    """``client`` is any ``redis.Redis``; ``prefix`` namespaces the keys (tests use their own)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "commerce:",
        retention: timedelta = timedelta(days=1),
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._retention = str(int(retention.total_seconds()))
        self._add_failure = client.register_script(_ADD_FAILURE)
        self._lock = client.register_script(_LOCK)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "commerce:") -> RedisAttemptStore:
        """A store on the Redis at ``url`` (``redis://``, ``rediss://``, ``unix://``), with
        short timeouts: a login must not hang on a Redis that does not answer."""
        client = redis.Redis.from_url(
            url, socket_connect_timeout=0.5, socket_timeout=0.5, health_check_interval=30
        )
        return cls(client, prefix=prefix)

    def get(self, key: str) -> AttemptState:
        return _state(self._client.hmget(self._prefix + key, ["f", "l", "n"]))

    def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
        values = self._add_failure(
            keys=[self._prefix + key],
            args=[_epoch(now), repr(window.total_seconds()), self._retention],
        )
        return _state(values)

    def lock(self, key: str, until: datetime, now: datetime, *, extend: bool) -> AttemptState:
        values = self._lock(
            keys=[self._prefix + key],
            args=[_epoch(until), _epoch(now), "1" if extend else "0", self._retention],
        )
        return _state(values)

    def clear(self, key: str) -> None:
        self._client.delete(self._prefix + key)

    def clear_prefix(self, prefix: str) -> int:
        pattern = (self._prefix + prefix).translate(_GLOB_SPECIALS) + "*"
        doomed = list(self._client.scan_iter(match=pattern, count=500))
        return int(self._client.delete(*doomed)) if doomed else 0


class FallbackAttemptStore:
    """``primary`` (Redis) while it answers; ``fallback`` (the database) when it raises."""

    def __init__(
        self,
        primary: AttemptStore,
        fallback: AttemptStore,
        *,
        log_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary, self._fallback = primary, fallback
        self._log_every, self._monotonic = log_every, monotonic
        self._last_logged: float | None = None
        self._guard = threading.Lock()

    def get(self, key: str) -> AttemptState:
        return self._either(lambda store: store.get(key))

    def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
        return self._either(lambda store: store.add_failure(key, now, window))

    def lock(self, key: str, until: datetime, now: datetime, *, extend: bool) -> AttemptState:
        return self._either(lambda store: store.lock(key, until, now, extend=extend))

    def clear(self, key: str) -> None:
        # Both: a counter may have been kept in either during an outage.
        self._fallback.clear(key)
        self._either(lambda store: store.clear(key))

    def clear_prefix(self, prefix: str) -> int:
        cleared = self._fallback.clear_prefix(prefix)
        return cleared + self._either(lambda store: store.clear_prefix(prefix))

    def _either(self, call: Callable[[AttemptStore], T]) -> T:
        try:
            return call(self._primary)
        except redis.RedisError as exc:
            self._complain(exc)
            return call(self._fallback)

    def _complain(self, exc: redis.RedisError) -> None:
        now = self._monotonic()
        with self._guard:
            if self._last_logged is not None and now - self._last_logged < self._log_every:
                return
            self._last_logged = now
        log.error(
            "login_attempts.redis_unavailable",
            error=type(exc).__name__,
            detail=str(exc)[:200],
            fallback="database",
        )

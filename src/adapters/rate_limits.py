"""The ``RateLimiter`` port on the ``limits`` library: moving windows in memory or in Redis.

``LimitsRateLimiter.from_uri(RATE_LIMIT_STORAGE)`` takes any storage URI of ``limits`` that
supports moving windows - ``memory://``, ``redis://``, ``rediss://``, ``redis+unix://``,
``redis+sentinel://``, ``redis+cluster://`` - and passes it through unchanged. With Redis every
process of every host counts in one place; with ``memory://`` each process counts alone.

Redis being out of reach must neither fail requests nor lift the limits. So every call to the
shared store is short (sub-second socket timeouts, one retry), and when one fails the limiter
counts in a per-process memory store instead: each process then allows up to the limit on its
own - looser than shared, never unlimited. It logs an error when that happens (and at most once
per ``log_interval`` however long the outage lasts, not once per request), leaves the store
alone for ``retry_interval`` so requests do not each wait for a timeout, and goes back to it
as soon as it answers. Counts made during the outage are not carried over.

Keys are ``<prefix><limit name>/<sha256 of the key>/...``: the prefix keeps the shop's keys
apart from anything else in the Redis database (tests give each test its own), the limit name
keeps limits apart, and the hash keeps client addresses and emails out of Redis, bounds the
key's length and leaves no separator a client could forge.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from commerce_core import RateDecision, RateLimit

__all__ = ["DEFAULT_KEY_PREFIX", "LimitsRateLimiter"]

DEFAULT_KEY_PREFIX = "commerce:"
_NAMESPACE = "ratelimit"

log = structlog.get_logger("adapters.rate_limits")


@runtime_checkable
class _Closable(Protocol):
    def close(self) -> None: ...


class LimitsRateLimiter:
    """A ``RateLimiter`` over a ``limits`` storage, with a per-process fallback.

    ``open_storage`` makes the shared storage; it is called again after a failure to make it
    (a Redis Cluster client refuses to be built while its nodes are unreachable), so the shop
    starts and limits per process even when Redis is down at boot. ``describe`` names the
    storage in log lines, without credentials. ``monotonic`` is the clock of the retry and log
    intervals, injectable so that tests step over them without sleeping.
    """

    def __init__(
        self,
        open_storage: Callable[[], Storage],
        *,
        describe: str = "memory://",
        retry_interval: float = 5.0,
        log_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_storage = open_storage
        self._describe = describe
        self._retry_interval = retry_interval
        self._log_interval = log_interval
        self._monotonic = monotonic
        self._shared: MovingWindowRateLimiter | None = None
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._items: dict[RateLimit, RateLimitItem] = {}
        self._lock = threading.Lock()
        # Outage state, under the lock: when it began, when to try the store again, and when
        # an error was last logged (kept across outages, so a flapping store logs rarely too).
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._logged_at: float | None = None
        try:
            self._shared = MovingWindowRateLimiter(open_storage())
        except ConfigurationError:
            raise  # a wrong URI or option is the operator's to fix: fail at start-up
        except Exception as exc:  # any failure to reach the store: count locally meanwhile
            self._failed(exc)

    @classmethod
    def from_uri(
        cls,
        uri: str,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        connect_timeout: float = 0.25,
        socket_timeout: float = 0.5,
        retry_interval: float = 5.0,
        log_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> LimitsRateLimiter:
        """The limiter for ``RATE_LIMIT_STORAGE``; ``ConfigurationError`` for a URI that
        ``limits`` cannot use."""
        options = _storage_options(
            uri,
            key_prefix=key_prefix,
            connect_timeout=connect_timeout,
            socket_timeout=socket_timeout,
        )

        def open_storage() -> Storage:
            storage = storage_from_string(uri, **options)
            if not isinstance(storage, Storage):  # the async+ schemes build asyncio storages
                raise ConfigurationError(f"{_describe(uri)} is not a synchronous storage")
            return storage

        return cls(
            open_storage,
            describe=_describe(uri),
            retry_interval=retry_interval,
            log_interval=log_interval,
            monotonic=monotonic,
        )

    @property
    def degraded(self) -> bool:
        """Whether it counts per process for now because the shared store failed."""
        with self._lock:
            return self._down_since is not None

    def hit(self, limit: RateLimit, key: str) -> RateDecision:
        return self._decide(limit, key, count=True)

    def peek(self, limit: RateLimit, key: str) -> RateDecision:
        return self._decide(limit, key, count=False)

    def close(self) -> None:
        """Close the shared store's connections (a container's ``close``)."""
        if self._shared is None:
            return
        # A Redis storage's clients: the master's, and a Sentinel storage's replica's too.
        for name in ("storage", "storage_slave"):
            client = getattr(self._shared.storage, name, None)
            if isinstance(client, _Closable):
                client.close()

    def _decide(self, limit: RateLimit, key: str, *, count: bool) -> RateDecision:
        item = self._item(limit)
        identifiers = (limit.name, _digest(key))
        shared = self._shared_strategy()
        if shared is not None:
            try:
                decision = _decision(shared, item, identifiers, limit, count=count)
            except Exception as exc:  # whatever the store raised, count locally
                self._failed(exc)
            else:
                self._answered()
                return decision
        return _decision(self._local, item, identifiers, limit, count=count)

    def _item(self, limit: RateLimit) -> RateLimitItem:
        item = self._items.get(limit)
        if item is None:
            item = RateLimitItemPerSecond(limit.limit, limit.window_seconds, namespace=_NAMESPACE)
            self._items[limit] = item
        return item

    def _shared_strategy(self) -> MovingWindowRateLimiter | None:
        with self._lock:
            if self._down_since is not None and self._monotonic() < self._retry_at:
                return None
            shared = self._shared
        if shared is not None:
            return shared
        try:
            opened = MovingWindowRateLimiter(self._open_storage())
        except Exception as exc:  # still unreachable: count locally
            self._failed(exc)
            return None
        with self._lock:
            if self._shared is None:
                self._shared = opened
            return self._shared

    def _failed(self, error: Exception) -> None:
        with self._lock:
            now = self._monotonic()
            if self._down_since is None:
                self._down_since = now
            self._retry_at = now + self._retry_interval
            due = self._logged_at is None or now - self._logged_at >= self._log_interval
            if due:
                self._logged_at = now
            down_for = now - self._down_since
        if due:
            log.error(
                "rate_limit_storage.unavailable",
                storage=self._describe,
                error=type(error).__name__,
                detail=str(getattr(error, "storage_error", error))[:200],
                down_seconds=round(down_for, 1),
                fallback="per-process limits until the storage answers again",
            )

    def _answered(self) -> None:
        if self._down_since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = self._monotonic() - self._down_since
            self._down_since = None
        log.warning(
            "rate_limit_storage.recovered",
            storage=self._describe,
            down_seconds=round(down_for, 1),
        )


def _decision(
    strategy: MovingWindowRateLimiter,
    item: RateLimitItem,
    identifiers: tuple[str, str],
    limit: RateLimit,
    *,
    count: bool,
) -> RateDecision:
    if count:
        allowed = strategy.hit(item, *identifiers)
        stats = strategy.get_window_stats(item, *identifiers)
    else:
        stats = strategy.get_window_stats(item, *identifiers)
        allowed = stats.remaining > 0
    remaining = min(max(stats.remaining, 0), limit.limit)
    # With nothing counted, the storages report a window starting now; there is nothing to reset.
    seconds = max(0.0, stats.reset_time - time.time()) if remaining < limit.limit else 0.0
    return RateDecision(
        allowed=allowed,
        limit=limit.limit,
        remaining=0 if not allowed else remaining,
        reset_after=min(timedelta(seconds=seconds), limit.window),
    )


def _digest(key: str) -> str:
    # surrogatepass: a key read from JSON may hold a lone surrogate, which plain UTF-8 refuses.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _describe(uri: str) -> str:
    """The URI without its credentials, fit for a log line."""
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return f"{parts.scheme}://{host}{parts.path}"


def _storage_options(
    uri: str, *, key_prefix: str, connect_timeout: float, socket_timeout: float
) -> dict[str, Any]:
    scheme = urlsplit(uri).scheme
    if scheme == "memory":
        return {}
    # The default client retries ten times with back-off: seconds per request with Redis down.
    # One immediate retry still rides over a pooled connection the server closed.
    timeouts: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": socket_timeout,
    }
    options: dict[str, Any] = {
        # ``limits`` puts its own ":" after the prefix.
        "key_prefix": key_prefix.removesuffix(":"),
        "wrap_exceptions": True,
        "retry": Retry(NoBackoff(), 1),
        **timeouts,
    }
    if scheme.endswith("+sentinel"):
        options["sentinel_kwargs"] = timeouts
    return options

"""``LimitsRateLimiter``: the port's contract in memory and on a real Redis, and what it does when
Redis goes away - count per process, log an error now and then, and go back when Redis answers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage

from adapters.observability import configure_logging
from adapters.rate_limits import LimitsRateLimiter
from commerce_core import RateLimit
from commerce_core.testing.contracts import RateLimiterContract
from tests.support.rate_limit_stores import (
    RedisServer,
    SteppedClock,
    age_memory_hits,
    age_redis_hits,
    free_port,
    redis_server,
)

LOGIN = RateLimit("login.address", 3, timedelta(minutes=1))


class TestLimitsRateLimiterInMemory(RateLimiterContract):
    @pytest.fixture
    def limiter(self) -> LimitsRateLimiter:
        self._storage = MemoryStorage()
        return LimitsRateLimiter(lambda: self._storage)

    def elapse(self, limiter: LimitsRateLimiter, delta: timedelta) -> None:  # type: ignore[override]
        age_memory_hits(self._storage, delta)


class TestLimitsRateLimiterOnRedis(RateLimiterContract):
    @pytest.fixture
    def limiter(self, redis_url: str, redis_prefix: str) -> Iterator[LimitsRateLimiter]:
        self._client = redis.Redis.from_url(redis_url)
        self._prefix = redis_prefix
        limiter = LimitsRateLimiter.from_uri(redis_url, key_prefix=redis_prefix)
        yield limiter
        limiter.close()
        self._client.close()

    def elapse(self, limiter: LimitsRateLimiter, delta: timedelta) -> None:  # type: ignore[override]
        age_redis_hits(self._client, self._prefix, delta)


def test_keys_live_under_the_prefix_and_hold_no_address(redis_url: str, redis_prefix: str) -> None:
    limiter = LimitsRateLimiter.from_uri(redis_url, key_prefix=redis_prefix)
    limiter.hit(LOGIN, "203.0.113.77")
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in client.scan_iter(match=f"{redis_prefix}*")]
    finally:
        client.close()
        limiter.close()
    assert len(keys) == 1
    assert keys[0].startswith(f"{redis_prefix}ratelimit/login.address/")
    assert "203.0.113.77" not in keys[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as started:
        yield started


Logs = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def logs() -> Logs:
    """The JSON log lines written from now on, through the real logging pipeline (loggers are
    cached on first use, so swapping structlog's processors would miss them)."""
    buffer = io.StringIO()
    configure_logging(json=True, level="INFO", stream=buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def _errors(logs: Logs) -> list[dict[str, Any]]:
    return [line for line in logs() if line["event"] == "rate_limit_storage.unavailable"]


def test_a_redis_that_goes_away_is_replaced_by_per_process_limits_then_taken_back(
    server: RedisServer, logs: Logs
) -> None:
    clock = SteppedClock()
    limiter = LimitsRateLimiter.from_uri(
        server.url, retry_interval=5, log_interval=60, monotonic=clock
    )
    client = server.client()
    assert limiter.hit(LOGIN, "client").remaining == 2
    assert client.dbsize() == 1  # counted in Redis

    server.stop()
    # Never an exception, never unlimited: a fresh count in this process, up to the limit.
    decisions = [limiter.hit(LOGIN, "client") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert limiter.degraded
    assert len(_errors(logs)) == 1

    server.start()
    # Within the retry interval the store is left alone, even though it answers again.
    assert not limiter.hit(LOGIN, "client").allowed
    assert client.dbsize() == 0
    clock.advance(5)
    back = limiter.hit(LOGIN, "client")
    assert back.allowed  # the restarted Redis is empty: its count starts over
    assert back.remaining == 2
    assert not limiter.degraded
    assert client.dbsize() == 1
    assert [line["event"] for line in logs() if line["level"] == "warning"] == [
        "rate_limit_storage.recovered"
    ]
    client.close()
    limiter.close()


def test_an_outage_logs_one_error_per_interval_not_one_per_request(logs: Logs) -> None:
    clock = SteppedClock()
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    limiter = LimitsRateLimiter.from_uri(
        unreachable, retry_interval=5, log_interval=60, monotonic=clock
    )
    for _ in range(11):  # 55 s of requests, the store retried every 5 s and failing
        for _ in range(20):
            limiter.peek(LOGIN, "client")
        clock.advance(5)
    assert len(_errors(logs)) == 1
    clock.advance(5)  # 60 s since the first error
    limiter.peek(LOGIN, "client")
    errors = _errors(logs)
    assert len(errors) == 2
    assert errors[0]["level"] == "error"
    assert errors[0]["error"] == "StorageError"
    assert errors[1]["down_seconds"] == 60.0


def test_the_log_names_the_store_without_its_password(logs: Logs) -> None:
    port = free_port()
    limiter = LimitsRateLimiter.from_uri(f"redis://:s3cret-pass@127.0.0.1:{port}/2")
    limiter.hit(LOGIN, "client")
    (error,) = _errors(logs)
    assert error["storage"] == f"redis://127.0.0.1:{port}/2"
    assert "s3cret-pass" not in repr(logs())


class _StoreThatCannotBeBuiltYet:
    """A storage factory that fails like a Redis Cluster client whose nodes are down, until
    ``up`` is set."""

    def __init__(self) -> None:
        self.up = False
        self.storage = MemoryStorage()

    def __call__(self) -> Storage:
        if not self.up:
            raise redis.ConnectionError("Redis Cluster cannot be connected")
        return self.storage


def test_a_store_unreachable_at_start_up_does_not_stop_the_shop(logs: Logs) -> None:
    clock = SteppedClock()
    factory = _StoreThatCannotBeBuiltYet()
    limiter = LimitsRateLimiter(factory, retry_interval=5, monotonic=clock)
    allowed = [limiter.hit(LOGIN, "client").allowed for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert len(_errors(logs)) == 1
    factory.up = True
    clock.advance(5)
    assert limiter.hit(LOGIN, "client").allowed
    assert not limiter.degraded
    assert factory.storage.events  # counted in the store once it could be built


@pytest.mark.parametrize(
    "uri",
    [
        "redis+sentinel://127.0.0.1:26379",  # no service name
        "memcached+nonsense://127.0.0.1",
        "async+memory://",
    ],
)
def test_a_storage_uri_limits_cannot_use_fails_at_start_up(uri: str) -> None:
    with pytest.raises(ConfigurationError):
        LimitsRateLimiter.from_uri(uri)

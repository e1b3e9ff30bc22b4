"""The lockout's counters (``AttemptStore``) on every store the shop can use: memory (the core's
fake), SQL on SQLite and PostgreSQL, Redis, and Redis with the database behind it - including
when that Redis is gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
import structlog
from sqlalchemy.engine import Engine

from adapters.login_attempts import FallbackAttemptStore, RedisAttemptStore
from adapters.sql.attempts import SqlAttemptStore
from commerce_core import AttemptState, AttemptStore
from commerce_core.testing import InMemoryAttemptStore
from commerce_core.testing.contracts import AttemptStoreContract

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
# Nothing listens here: connecting is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"


class TestInMemoryAttemptStore(AttemptStoreContract):
    @pytest.fixture
    def attempts(self) -> AttemptStore:
        return InMemoryAttemptStore()


class TestSqlAttemptStore(AttemptStoreContract):
    @pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
    def attempts(self, request: pytest.FixtureRequest) -> AttemptStore:
        engine: Engine = request.getfixturevalue(
            "sqlite_engine" if request.param == "sqlite" else "pg_engine"
        )
        return SqlAttemptStore(engine)


class TestRedisAttemptStore(AttemptStoreContract):
    @pytest.fixture
    def attempts(self, redis_url: str, redis_prefix: str) -> Iterator[AttemptStore]:
        client = redis.Redis.from_url(redis_url)
        yield RedisAttemptStore(client, prefix=redis_prefix)
        client.close()


class TestFallbackAttemptStoreWithRedisGone(AttemptStoreContract):
    """Redis refuses every connection: the database keeps counting, the contract still holds."""

    @pytest.fixture
    def attempts(self, sqlite_engine: Engine) -> AttemptStore:
        return FallbackAttemptStore(
            RedisAttemptStore.from_url(DEAD_REDIS), SqlAttemptStore(sqlite_engine)
        )


def test_redis_keys_expire_and_carry_the_prefix(redis_url: str, redis_prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisAttemptStore(client, prefix=redis_prefix, retention=timedelta(hours=2))
    store.add_failure("login:pair:abc:10.0.0.1", T0, WINDOW)
    keys = list(client.scan_iter(match=f"{redis_prefix}*"))
    assert keys == [f"{redis_prefix}login:pair:abc:10.0.0.1".encode()]
    assert 0 < client.ttl(keys[0]) <= 7200  # forgotten after a day's silence, not kept forever
    client.close()


def test_a_redis_outage_logs_an_error_once_a_minute_and_never_raises(
    sqlite_engine: Engine,
) -> None:
    ticks = iter([0.0, 10.0, 20.0, 61.0, 62.0])
    store = FallbackAttemptStore(
        RedisAttemptStore.from_url(DEAD_REDIS),
        SqlAttemptStore(sqlite_engine),
        monotonic=lambda: next(ticks),
    )
    with structlog.testing.capture_logs() as logs:
        counts = [store.add_failure("k", T0, WINDOW).failures for _ in range(5)]
    assert counts == [1, 2, 3, 4, 5]  # counted in the database meanwhile
    errors = [e for e in logs if e["event"] == "login_attempts.redis_unavailable"]
    assert [e["log_level"] for e in errors] == ["error", "error"]  # at 0 s and at 61 s


def test_when_redis_comes_back_it_is_used_again(
    sqlite_engine: Engine, redis_url: str, redis_prefix: str
) -> None:
    class Flaky(RedisAttemptStore):
        down = True

        def add_failure(self, key: str, now: datetime, window: timedelta) -> AttemptState:
            if self.down:
                raise redis.ConnectionError("down")
            return super().add_failure(key, now, window)

    client = redis.Redis.from_url(redis_url)
    primary = Flaky(client, prefix=redis_prefix)
    fallback = SqlAttemptStore(sqlite_engine)
    store = FallbackAttemptStore(primary, fallback)
    store.add_failure("k", T0, WINDOW)
    primary.down = False
    store.add_failure("k", T0, WINDOW)
    assert fallback.get("k").failures == 1
    assert RedisAttemptStore(client, prefix=redis_prefix).get("k").failures == 1
    client.close()

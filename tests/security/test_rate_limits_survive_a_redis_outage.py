"""Redis going away neither breaks a request nor lifts the limits: each process counts on its
own (the same numbers, per process), one error is logged rather than one per request, and the
shared count resumes when Redis is back. A Redis that was never reachable is the same story.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.observability import configure_logging
from adapters.rate_limits import LimitsRateLimiter
from commerce_core import LimitedOperation, RateKeyKind
from tests.support.rate_limit_stores import RedisServer, SteppedClock, free_port, redis_server
from tests.support.rate_limited_shop import Visitor, rate_limited_shop, shop_limit
from tests.webapp.browser import assert_problem

LIMIT = shop_limit(LimitedOperation.LOG_IN, RateKeyKind.CLIENT_ADDRESS)
PREFIX = "commerce-outage-test:"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as started:
        yield started


@pytest.fixture
def log_lines() -> Callable[[], list[dict[str, Any]]]:
    """The JSON log lines written from now on, through the real logging pipeline."""
    buffer = io.StringIO()
    configure_logging(json=True, level="INFO", stream=buffer)
    return lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]


def _outage_errors(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["event"] == "rate_limit_storage.unavailable"]


def test_logins_stay_limited_through_a_redis_outage_and_share_again_after(
    server: RedisServer, tmp_path: Path, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    clock = SteppedClock()
    limiter = LimitsRateLimiter.from_uri(
        server.url, key_prefix=PREFIX, retry_interval=5, log_interval=60, monotonic=clock
    )
    redis = server.client()
    with rate_limited_shop(tmp_path, rate_limiter=limiter) as (app, _):
        visitor = Visitor(app)
        for _ in range(3):
            assert_problem(visitor.log_in_as_nobody(), 401, "invalid_credentials")
        assert redis.keys(f"{PREFIX}*"), "the logins were counted in Redis"

        server.stop()
        statuses = []
        for _ in range(LIMIT.limit + 5):  # 45 s of requests, Redis retried (and failing) every 5 s
            statuses.append(visitor.log_in_as_nobody().status_code)
            clock.advance(3)
        # The process counts afresh - it cannot see Redis's 3 - and stops at the limit.
        assert statuses == [401] * LIMIT.limit + [429] * 5
        refused = visitor.log_in_as_nobody()
        assert_problem(refused, 429, "rate_limited")
        assert int(refused.headers["Retry-After"]) >= 1
        (error,) = _outage_errors(log_lines())
        assert error["level"] == "error"
        assert error["storage"] == server.url

        server.start()
        clock.advance(5)
        assert_problem(Visitor(app, "198.51.100.50").log_in_as_nobody(), 401, "invalid_credentials")
        assert redis.keys(f"{PREFIX}*"), "counted in Redis again"
    assert len(_outage_errors(log_lines())) == 1
    assert "rate_limit_storage.recovered" in [line["event"] for line in log_lines()]
    redis.close()


def test_a_redis_never_reachable_still_limits_and_never_fails_a_request(
    tmp_path: Path, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    # Wired from the settings, as a deployment is: nothing listens on this port.
    storage = f"redis://127.0.0.1:{free_port()}/0"
    with rate_limited_shop(tmp_path, rate_limit_storage=storage) as (app, _):
        visitor = Visitor(app)
        statuses = [visitor.log_in_as_nobody().status_code for _ in range(LIMIT.limit + 3)]
        registered = visitor.register()
    assert statuses == [401] * LIMIT.limit + [429] * 3
    assert registered["email"].endswith("@example.com")
    assert len(_outage_errors(log_lines())) == 1
    assert not [line for line in log_lines() if line["event"] == "unhandled_exception"]

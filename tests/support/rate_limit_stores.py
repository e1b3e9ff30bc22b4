"""What the rate-limit tests share: a Redis server of their own to stop and start, a clock for
the limiter's retry and log intervals, and ways to age the hits a ``limits`` storage holds.

A moving window in ``limits`` reads the wall clock itself, so its adapter's tests cannot hand it
a fake clock; they move the hits back in time instead, which is the same thing seen from the
store: every counted request ``delta`` older.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from limits.storage import MemoryStorage

REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SteppedClock:
    """A monotonic clock that moves only when told to (the limiter's retry/log intervals)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RedisServer:
    """A ``redis-server`` process on a port of its own, without persistence: stopping it is a
    Redis outage, starting it again on the same port is Redis coming back (empty)."""

    def __init__(self, directory: Path) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)

    def start(self) -> None:
        assert REDIS_SERVER is not None
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [
                REDIS_SERVER,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            client = self.client()
            try:
                if client.ping():
                    return
            except redis.RedisError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        """Kill it, as a crash would: no goodbye to connected clients."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=10)
        self._process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A started ``RedisServer``; skipped without ``redis-server`` (failed in CI)."""
    if REDIS_SERVER is None:
        message = "redis-server is not installed: cannot stage a Redis outage"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def age_memory_hits(storage: MemoryStorage, delta: timedelta) -> None:
    """Make every hit ``storage`` counted ``delta`` older."""
    seconds = delta.total_seconds()
    for key in list(storage.events):
        with storage.locks[key]:
            # One request of cost n is n references to one entry: move each entry once.
            for entry in {id(entry): entry for entry in storage.events.get(key, [])}.values():
                entry.atime -= seconds
                entry.expiry -= seconds


def age_redis_hits(client: redis.Redis, prefix: str, delta: timedelta) -> None:
    """Make every hit under ``prefix`` ``delta`` older (moving-window keys are lists of the
    instants of the counted hits, newest first)."""
    seconds = delta.total_seconds()
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        ttl = client.pttl(key)
        instants = [float(value) - seconds for value in client.lrange(key, 0, -1)]
        with client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if instants:
                pipe.rpush(key, *(repr(instant) for instant in instants))
                if ttl > 0:
                    pipe.pexpire(key, ttl)
            pipe.execute()

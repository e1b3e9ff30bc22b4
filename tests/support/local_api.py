"""What every local fake of a provider's API shares: serving a WSGI app on a free local port, and
the faults a test injects into it.

A fake owns a ``Faults`` and asks ``faults.take(method, path)`` as each request arrives; the
answer says whether to refuse the request with a status (``fail``) or carry it out and answer
only after the client stopped waiting (``stall``). Each fake writes the error body in its own
provider's shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import attrs
from werkzeug.serving import make_server


@contextmanager
def serve(wsgi: Callable[[dict[str, Any], Any], Any]) -> Iterator[str]:
    """Serve ``wsgi`` on a free local port, threaded; yields the base URL to give an SDK."""
    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    # A short poll interval: shutting down waits for one poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@attrs.frozen
class Fault:
    """``fail``: answer ``status`` and do nothing. ``stall``: do the work, answer ``seconds``
    late - longer than the client waits, so it cannot know what happened."""

    kind: str
    status: int = 0
    seconds: float = 0.0
    path: str = ""  # the fault waits for a request whose path contains this ("" is any)

    @property
    def fails(self) -> bool:
        return self.kind == "fail"


class Faults:
    """Faults queued for the next requests, a whole outage, and actions run just before a
    request (another worker capturing, the buyer paying meanwhile). Thread-safe."""

    def __init__(self) -> None:
        self._faults_lock = threading.Lock()
        self._queue: list[Fault] = []
        self._outage: int | None = None
        self._before: list[tuple[re.Pattern[str], Callable[[], object]]] = []

    def fail_next(self, times: int = 1, status: int = 503, path: str = "") -> None:
        """Answer the next ``times`` requests (whose path contains ``path``) with ``status``."""
        with self._faults_lock:
            self._queue.extend([Fault("fail", status=status, path=path)] * times)

    def stall_next(self, times: int = 1, seconds: float = 1.0, path: str = "") -> None:
        """Carry out the next ``times`` requests (whose path contains ``path``) but answer them
        ``seconds`` late."""
        with self._faults_lock:
            self._queue.extend([Fault("stall", seconds=seconds, path=path)] * times)

    @contextmanager
    def outage(self, status: int = 503) -> Iterator[None]:
        """Every request answered with ``status`` within the block."""
        self._outage = status
        try:
            yield
        finally:
            self._outage = None

    def before_next(self, pattern: str, action: Callable[[], object]) -> None:
        """Run ``action`` just before the next request whose ``METHOD /path`` matches the
        regular expression ``pattern``."""
        with self._faults_lock:
            self._before.append((re.compile(pattern), action))

    def recover(self) -> None:
        with self._faults_lock:
            self._queue.clear()
            self._before.clear()
            self._outage = None

    def take(self, method: str, path: str) -> Fault | None:
        """What happens to this request: a due action runs first (it may itself queue a fault
        for this very request), then the outage or the first queued fault for its path."""
        line = f"{method} {path}"
        with self._faults_lock:
            due = next((each for each in self._before if each[0].search(line)), None)
            if due is not None:
                self._before.remove(due)
        if due is not None:
            due[1]()
        with self._faults_lock:
            if self._outage is not None:
                return Fault("fail", status=self._outage)
            fault = next((f for f in self._queue if f.path in path), None)
            if fault is not None:
                self._queue.remove(fault)
            return fault

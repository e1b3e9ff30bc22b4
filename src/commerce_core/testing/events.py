"""``RecordingEventSink``: the ``EventSink`` port, keeping every event for assertions."""

from __future__ import annotations

import threading

__all__ = ["RecordingEventSink"]

# Like every sink, it never keeps a secret in clear: a field whose name says it holds one is
# recorded as REDACTED, so a test cannot come to depend on a secret reaching the event stream.
REDACTED = "[redacted]"
_SECRET_NAMES = ("password", "token", "secret", "authorization", "cookie", "card", "csrf")


def _redacted(fields: dict[str, object]) -> dict[str, object]:
    return {
        name: REDACTED if any(part in name.lower() for part in _SECRET_NAMES) else value
        for name, value in fields.items()
    }


class RecordingEventSink:
    """Keeps every emitted event as ``(name, fields)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self._lock = threading.Lock()

    def emit(self, event: str, /, **fields: object) -> None:
        with self._lock:
            self.events.append((event, _redacted(fields)))

    def names(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict[str, object]]:
        with self._lock:
            return [fields for event, fields in self.events if event == name]

"""``RecordingEventSink``: the ``EventSink`` port, keeping every event for assertions."""

from __future__ import annotations

import threading

__all__ = ["RecordingEventSink"]


class RecordingEventSink:
    """Keeps every emitted event as ``(name, fields)``."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []
        self._lock = threading.Lock()

    def emit(self, event: str, /, **fields: object) -> None:
        with self._lock:
            self.events.append((event, fields))

    def names(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self.events]

    def of(self, name: str) -> list[dict[str, object]]:
        with self._lock:
            return [fields for event, fields in self.events if event == name]

"""``RecordingNotifier``: the ``Notifier`` port in memory - it keeps what it was given, and can be
told to fail the next sends (a mail server that is down, or refuses for good)."""

from __future__ import annotations

import threading

from commerce_core.domain.notifications import OutgoingMessage
from commerce_core.errors import NotificationFailed

__all__ = ["RecordingNotifier"]


class RecordingNotifier:
    """Thread-safe. ``sent`` lists every message handed over, in order (a message sent twice
    appears twice: tests count)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []
        self.attempts = 0
        self._failures: list[NotificationFailed] = []
        self._lock = threading.Lock()

    def fail_next(self, times: int = 1, error: NotificationFailed | None = None) -> None:
        """Make the next ``times`` sends raise ``error`` (default: a temporary failure)."""
        with self._lock:
            for _ in range(times):
                self._failures.append(error or NotificationFailed("mail server unreachable"))

    def send(self, message: OutgoingMessage) -> None:
        with self._lock:
            self.attempts += 1
            if self._failures:
                raise self._failures.pop(0)
            self.sent.append(message)

    def to(self, recipient: str) -> list[OutgoingMessage]:
        """What was sent to ``recipient``."""
        with self._lock:
            return [message for message in self.sent if message.to == recipient]

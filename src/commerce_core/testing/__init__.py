"""Test support for the core and for anyone building on it.

- In-memory fakes of every port, one module per port: ``FakeClock`` (clock), ``FakeGateway``
  (gateway), ``FakePasswordHasher`` (passwords), ``RecordingEventSink`` (events),
  ``InMemoryStore`` + ``InMemoryUnitOfWork`` (store), ``InMemoryAttemptStore`` (attempts),
  ``InMemoryRateLimiter`` (rate_limits), ``RecordingNotifier`` (notifier),
  ``InMemoryImageStore`` + ``FakeImageDecoder`` (images).
- ``InMemoryShop``: all of them wired together, for a one-line setup (shop).
- ``commerce_core.testing.contracts``: suites an adapter subclasses to prove it conforms.
- ``commerce_core.testing.strategies``: hypothesis strategies for the value objects (needs
  hypothesis installed; imported on demand).
"""

from commerce_core.testing.attempts import InMemoryAttemptStore
from commerce_core.testing.clock import FakeClock
from commerce_core.testing.events import RecordingEventSink
from commerce_core.testing.gateway import FakeGateway, to_gateway_event
from commerce_core.testing.images import FakeImageDecoder, InMemoryImageStore, fake_image
from commerce_core.testing.notifier import RecordingNotifier
from commerce_core.testing.passwords import FakePasswordHasher
from commerce_core.testing.rate_limits import InMemoryRateLimiter
from commerce_core.testing.shop import InMemoryShop, make_product
from commerce_core.testing.store import InMemoryStore, InMemoryUnitOfWork

__all__ = [
    "FakeClock",
    "FakeGateway",
    "FakeImageDecoder",
    "FakePasswordHasher",
    "InMemoryAttemptStore",
    "InMemoryImageStore",
    "InMemoryRateLimiter",
    "InMemoryShop",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "RecordingEventSink",
    "RecordingNotifier",
    "fake_image",
    "make_product",
    "to_gateway_event",
]

"""Contract suites: what every implementation of a port must do, ours or a user's.

They are plain classes (the core does not depend on pytest). Subclass one in a test module whose
class name starts with ``Test``, provide the fixture it names and the hooks it documents; pytest
collects the inherited ``test_*`` methods::

    class TestMyGateway(PaymentGatewayContract):
        @pytest.fixture
        def gateway(self):
            return MyGateway(...)

        def payment_method(self, scenario):
            ...

- ``PaymentGatewayContract``: fixture ``gateway``; hooks ``payment_method(scenario)`` (the
  provider's test instrument for each ``PaymentScenario``) or, where the buyer pays in the
  provider's own page first, ``buyer_step(gateway, intent_id, scenario)``; and
  ``outage(gateway)``.
- ``GatewayEventParserContract``: fixture ``parser``; hooks ``event_body(spec)``,
  ``ignored_event_body()`` and ``signed(body)``; attribute ``gateway_name``.
- ``UnitOfWorkContract``: fixture ``new_uow``, a callable returning a fresh ``UnitOfWork``
  over an empty store; each call a new unit over the same store.
- ``PasswordHasherContract``: fixture ``hasher``.
- ``EventSinkContract``: fixture ``sink``; hook ``recorded(sink)``.
- ``RateLimiterContract``: fixture ``limiter``; hook ``elapse(limiter, delta)``.
- ``AttemptStoreContract``: fixture ``attempts``, an ``AttemptStore``.
- ``ImageStoreContract``: fixture ``store``, an empty ``ImageStore``.
"""

from commerce_core.testing.contracts.attempt_store import AttemptStoreContract
from commerce_core.testing.contracts.event_parser import EventSpec, GatewayEventParserContract
from commerce_core.testing.contracts.event_sink import EventSinkContract
from commerce_core.testing.contracts.image_store import ImageStoreContract
from commerce_core.testing.contracts.password_hasher import PasswordHasherContract
from commerce_core.testing.contracts.payment_gateway import (
    BuyerStep,
    PaymentGatewayContract,
    PaymentScenario,
)
from commerce_core.testing.contracts.rate_limiter import RateLimiterContract
from commerce_core.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = [
    "AttemptStoreContract",
    "BuyerStep",
    "EventSinkContract",
    "EventSpec",
    "GatewayEventParserContract",
    "ImageStoreContract",
    "PasswordHasherContract",
    "PaymentGatewayContract",
    "PaymentScenario",
    "RateLimiterContract",
    "UnitOfWorkContract",
]

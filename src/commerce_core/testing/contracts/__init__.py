"""Contract suites: what every implementation of a port must do, ours or a user's.

They are plain classes (the core does not depend on pytest). Subclass one in a test module whose
class name starts with ``Test`` and provide the fixture it names; pytest collects the inherited
``test_*`` methods::

    class TestMyGateway(PaymentGatewayContract):
        @pytest.fixture
        def gateway(self):
            return MyGateway(...)

- ``PaymentGatewayContract`` needs a fixture ``gateway`` (a ``PaymentGateway`` that accepts
  Stripe's test payment methods: ``pm_card_visa``, ``pm_card_chargeDeclined``,
  ``pm_card_threeDSecure2Required``).
- ``UnitOfWorkContract`` needs a fixture ``new_uow``: a callable returning a fresh
  ``UnitOfWork`` over an empty store; each call a new unit over the same store.
"""

from commerce_core.testing.contracts.payment_gateway import PaymentGatewayContract
from commerce_core.testing.contracts.unit_of_work import UnitOfWorkContract

__all__ = ["PaymentGatewayContract", "UnitOfWorkContract"]

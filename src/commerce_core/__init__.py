"""commerce_core: a small, typed, framework-free commerce domain and its use cases.

It owns the catalog's stock and holds, orders and their payment status machine, idempotent
confirmation, refunds, users and sessions. Everything it needs from the world is a port
(``commerce_core.ports``); ``commerce_core.testing`` has an in-memory fake of each, hypothesis
strategies and contract suites for adapters.

This module is the public surface: import from ``commerce_core``, not from its subpackages,
whose layout may change. Inside, the layout is the hexagon's::

    domain/      values, entities and their rules (money, catalog, orders, payments, accounts ...)
    use_cases/   what drivers ask for (checkout, settlement, refunds, webhooks, holds, auth ...)
    ports.py     the Protocols adapters implement
    errors.py    the one error hierarchy
    views.py     JSON-ready shapes of the domain objects
    testing/     fakes of every port, contract suites, hypothesis strategies

Quick start, entirely in memory::

    from commerce_core import CartItem, ConfirmOrder, CreateCheckoutIntent
    from commerce_core import confirm_order, create_checkout_intent
    from commerce_core.testing import InMemoryShop

    shop = InMemoryShop.with_demo_product(stock=5)
    intent = create_checkout_intent(
        CreateCheckoutIntent(user_id="usr_1", items=(CartItem(shop.product_id, 1),)), **shop.ports
    )
    result = confirm_order(
        ConfirmOrder("usr_1", intent.body["intent_id"], "pm_card_visa", idempotency_key="k1"),
        **shop.ports,
    )
    assert result.outcome == "paid"
"""

# The subpackages each declare their public names in ``__all__``; re-exporting them with star
# imports keeps one list per name instead of three copies that drift apart.
from commerce_core import domain, errors, ports, use_cases, views
from commerce_core.clock import SystemClock
from commerce_core.domain import *  # noqa: F403
from commerce_core.errors import *  # noqa: F403
from commerce_core.ports import *  # noqa: F403
from commerce_core.use_cases import *  # noqa: F403
from commerce_core.views import *  # noqa: F403

__all__ = [  # noqa: PLE0604 - the star-unpacked lists hold only strings
    "SystemClock",
    *domain.__all__,
    *errors.__all__,
    *ports.__all__,
    *use_cases.__all__,
    *views.__all__,
]

"""Hypothesis strategies for the core's value objects.

Only tests import this module (hypothesis is a test dependency, not a dependency of the core)::

    from hypothesis import given
    from commerce_core.testing import strategies as cst

    @given(cst.money(currency="JPY", min_amount=1))
    def test_yen_have_no_minor_units(price):
        assert "." not in price.to_decimal_string()

Every strategy produces values the core accepts: known ISO 4217 codes, integer minor units,
cart quantities within the checkout limits, idempotency keys that survive ``validate_key``
unchanged, emails that ``validate_email`` accepts. Build invalid values by hand in the test
that needs them: a strategy that sometimes produces garbage hides which case failed.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

from hypothesis import strategies as st

from commerce_core.domain.idempotency import MAX_KEY_LENGTH
from commerce_core.domain.money import CURRENCY_EXPONENTS, MAX_AMOUNT, Money
from commerce_core.use_cases.checkout import MAX_QUANTITY, CartItem

__all__ = [
    "DECLINING_PAYMENT_METHODS",
    "PAYMENT_METHODS",
    "SUCCEEDING_PAYMENT_METHODS",
    "THREE_DS_PAYMENT_METHODS",
    "cart_item",
    "cart_items",
    "currencies",
    "emails",
    "idempotency_keys",
    "money",
    "payment_methods",
    "product_ids",
]

# A trillion minor units: far above any real basket, far below anything that strains an int.
DEFAULT_MAX_AMOUNT = 10**12

SUCCEEDING_PAYMENT_METHODS: tuple[str, ...] = ("pm_card_visa", "pm_card_mastercard")
DECLINING_PAYMENT_METHODS: tuple[str, ...] = (
    "pm_card_chargeDeclined",
    "pm_card_chargeDeclinedInsufficientFunds",
)
THREE_DS_PAYMENT_METHODS: tuple[str, ...] = ("pm_card_threeDSecure2Required",)
#: Stripe's test payment methods that every ``PaymentGateway`` fake understands.
PAYMENT_METHODS: tuple[str, ...] = (
    SUCCEEDING_PAYMENT_METHODS + DECLINING_PAYMENT_METHODS + THREE_DS_PAYMENT_METHODS
)

_KEY_ALPHABET = string.ascii_letters + string.digits + "-_"
_EMAIL_LOCAL_ALPHABET = string.ascii_lowercase + string.digits + "._+-"
_DOMAIN_LABEL_ALPHABET = string.ascii_lowercase + string.digits


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes the core knows (``commerce_core.domain.money.CURRENCY_EXPONENTS``).

    Shrinks towards the first code alphabetically; exponents 0, 2 and 3 are all represented.
    """
    return st.sampled_from(sorted(CURRENCY_EXPONENTS))


def money(
    currency: str | None = None,
    min_amount: int = 0,
    max_amount: int = DEFAULT_MAX_AMOUNT,
) -> st.SearchStrategy[Money]:
    """``Money`` in integer minor units between ``min_amount`` and ``max_amount`` inclusive.

    ``currency=None`` draws any known currency; pass a code to fix it (all amounts of one order
    must share one). Negative ``min_amount`` is allowed: ``Money`` itself may be negative, within
    ``±MAX_AMOUNT``.
    """
    if not -MAX_AMOUNT <= min_amount <= max_amount <= MAX_AMOUNT:
        raise ValueError(
            f"need -MAX_AMOUNT <= min_amount <= max_amount <= MAX_AMOUNT, "
            f"got {min_amount} and {max_amount}"
        )
    codes = currencies() if currency is None else st.just(currency)
    return st.builds(Money, st.integers(min_amount, max_amount), codes)


def product_ids() -> st.SearchStrategy[str]:
    """Product ids shaped like the core's (``prod_`` + 32 hex digits, see ``ids.new_id``)."""
    return st.text(alphabet="0123456789abcdef", min_size=32, max_size=32).map(
        lambda digits: f"prod_{digits}"
    )


def _as_strategy(ids: Sequence[str] | st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    if isinstance(ids, st.SearchStrategy):
        return ids
    if not ids:
        raise ValueError("need at least one product id to build a cart")
    return st.sampled_from(tuple(ids))


def cart_item(
    product_ids: Sequence[str] | st.SearchStrategy[str],
    *,
    max_quantity: int = MAX_QUANTITY,
) -> st.SearchStrategy[CartItem]:
    """One ``CartItem`` for a product drawn from ``product_ids`` (a list of known ids, or a
    strategy), with a quantity from 1 to ``max_quantity``."""
    return st.builds(CartItem, _as_strategy(product_ids), st.integers(1, max_quantity))


def cart_items(
    product_ids: Sequence[str] | st.SearchStrategy[str],
    *,
    min_size: int = 1,
    max_size: int = 4,
    max_quantity: int = 3,
) -> st.SearchStrategy[tuple[CartItem, ...]]:
    """A cart: a tuple of ``CartItem``s, ready for ``CreateCheckoutIntent(items=...)``.

    The same product may appear on several lines (the core merges them); keep
    ``max_size * max_quantity`` at most ``MAX_QUANTITY`` to stay within the per-product limit.
    Small quantities by default so that random carts run into stock limits often.
    """
    return st.lists(
        cart_item(product_ids, max_quantity=max_quantity), min_size=min_size, max_size=max_size
    ).map(tuple)


def payment_methods(
    methods: Sequence[str] = PAYMENT_METHODS,
) -> st.SearchStrategy[str]:
    """Stripe test payment methods: ``pm_card_visa``, ``pm_card_mastercard`` (succeed),
    ``pm_card_chargeDeclined``, ``pm_card_chargeDeclinedInsufficientFunds`` (decline),
    ``pm_card_threeDSecure2Required`` (3-D Secure). Pass a subset to narrow it, e.g.
    ``payment_methods(SUCCEEDING_PAYMENT_METHODS)``."""
    return st.sampled_from(tuple(methods))


def idempotency_keys(max_size: int = 64) -> st.SearchStrategy[str]:
    """Keys that ``validate_key`` returns unchanged (printable, no surrounding blanks), so two
    distinct drawn keys are distinct keys to the core too."""
    if not 1 <= max_size <= MAX_KEY_LENGTH:
        raise ValueError(f"max_size must be 1 to {MAX_KEY_LENGTH}")
    return st.text(alphabet=_KEY_ALPHABET, min_size=1, max_size=max_size)


def emails() -> st.SearchStrategy[str]:
    """Lower-case addresses that ``validate_email`` accepts as they are (already normalised).

    To test normalisation, decorate a drawn address yourself (``f"  {e.upper()} "``).
    """
    local = st.text(alphabet=_EMAIL_LOCAL_ALPHABET, min_size=1, max_size=30)
    label = st.text(alphabet=_DOMAIN_LABEL_ALPHABET, min_size=1, max_size=15)
    domain = st.lists(label, min_size=1, max_size=3).map(".".join)
    tld = st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6)
    return st.builds(lambda user, host, top: f"{user}@{host}.{top}", local, domain, tld)

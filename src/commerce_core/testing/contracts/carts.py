"""``CartContract``: the shoppers' carts every ``UnitOfWork`` hands out (``uow.carts``).

Mixed into ``UnitOfWorkContract``; its fixture is the same ``new_uow``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from commerce_core.domain.carts import Cart, CartLine
from commerce_core.domain.ids import new_id
from commerce_core.errors import Conflict, NotFound
from commerce_core.ports import UnitOfWork
from commerce_core.testing.contracts._support import T0
from commerce_core.testing.contracts._support import raises as _raises

__all__ = ["CartContract"]

NewUow = Callable[[], UnitOfWork]


def _cart(user_id: str | None = None, *lines: tuple[str, int], minutes: int = 0) -> Cart:
    at = T0 + timedelta(minutes=minutes)
    return Cart(
        id=new_id("cart"),
        user_id=user_id,
        created_at=at,
        updated_at=at,
        lines=[CartLine(variant, quantity) for variant, quantity in lines],
    )


class CartContract:
    def test_a_cart_comes_back_whole_with_its_lines_in_order(self, new_uow: NewUow) -> None:
        anonymous = _cart(None, ("var_b", 2), ("var_a", 1), ("var_c", 100))
        mine = _cart("usr_me", ("var_a", 3))
        with new_uow() as uow:
            uow.carts.add(anonymous)
            uow.carts.add(mine)
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(anonymous.id) == anonymous
            assert uow.carts.get(anonymous.id, for_update=True) == anonymous
            assert uow.carts.get_for_user("usr_me") == mine
            assert uow.carts.get_for_user("usr_me", for_update=True) == mine
            assert uow.carts.get("cart_missing") is None
            assert uow.carts.get_for_user("usr_nobody") is None

    def test_saving_rewrites_owner_lines_order_link_and_time(self, new_uow: NewUow) -> None:
        cart = _cart(None, ("var_a", 1), ("var_b", 2))
        with new_uow() as uow:
            uow.carts.add(cart)
            uow.commit()
        cart.user_id = "usr_me"
        cart.lines = [CartLine("var_c", 5), CartLine("var_a", 4)]
        cart.order_id = "ord_1"
        cart.updated_at = T0 + timedelta(hours=1)
        with new_uow() as uow:
            uow.carts.save(cart)
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(cart.id) == cart
            assert uow.carts.get_for_user("usr_me") == cart
        cart.lines = []
        cart.order_id = None
        with new_uow() as uow:
            uow.carts.save(cart)
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(cart.id) == cart

    def test_an_account_has_one_cart(self, new_uow: NewUow) -> None:
        first, anonymous = _cart("usr_me", ("var_a", 1)), _cart(None, ("var_b", 1))
        with new_uow() as uow:
            uow.carts.add(first)
            uow.carts.add(anonymous)
            uow.commit()
        with new_uow() as uow:
            _raises(Conflict, lambda: uow.carts.add(_cart("usr_me")))
        anonymous.user_id = "usr_me"
        with new_uow() as uow:
            _raises(Conflict, lambda: uow.carts.save(anonymous))
        with new_uow() as uow:
            assert uow.carts.get_for_user("usr_me") == first
            # Any number of anonymous carts.
            uow.carts.add(_cart(None))
            uow.carts.add(_cart(None))
            uow.commit()

    def test_a_cart_missing_is_not_saved_and_deleted_once(self, new_uow: NewUow) -> None:
        cart = _cart(None, ("var_a", 1))
        with new_uow() as uow:
            _raises(NotFound, lambda: uow.carts.save(cart))
        with new_uow() as uow:
            uow.carts.add(cart)
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.delete(cart.id) is True
            assert uow.carts.delete(cart.id) is False
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(cart.id) is None
            # Its id is free again, and its old lines do not come back with it.
            uow.carts.add(_fresh(cart))
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(cart.id) == _fresh(cart)

    def test_carts_untouched_since_a_moment_are_purged(self, new_uow: NewUow) -> None:
        old = _cart(None, ("var_a", 1), minutes=0)
        old_mine = _cart("usr_me", ("var_a", 2), minutes=5)
        recent = _cart(None, ("var_b", 1), minutes=10)
        with new_uow() as uow:
            for cart in (old, old_mine, recent):
                uow.carts.add(cart)
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.purge_untouched(T0 + timedelta(minutes=10)) == 2
            assert uow.carts.purge_untouched(T0 + timedelta(minutes=10)) == 0
            uow.commit()
        with new_uow() as uow:
            assert uow.carts.get(old.id) is None
            assert uow.carts.get_for_user("usr_me") is None
            assert uow.carts.get(recent.id) == recent
            # The account may have a cart again.
            uow.carts.add(_cart("usr_me"))
            uow.commit()

    def test_cart_changes_not_committed_are_rolled_back(self, new_uow: NewUow) -> None:
        kept = _cart(None, ("var_a", 1))
        with new_uow() as uow:
            uow.carts.add(kept)
            uow.commit()
        changed = _cart(None, ("var_z", 9))
        changed.id = kept.id
        with new_uow() as uow:
            uow.carts.save(changed)
            uow.carts.add(_cart("usr_me"))
        with new_uow() as uow:
            uow.carts.delete(kept.id)
            uow.rollback()
        with new_uow() as uow:
            assert uow.carts.get(kept.id) == kept
            assert uow.carts.get_for_user("usr_me") is None


def _fresh(cart: Cart) -> Cart:
    return Cart(id=cart.id, user_id=None, created_at=T0, updated_at=T0)

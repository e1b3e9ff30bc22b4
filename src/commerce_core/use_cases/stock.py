"""Moving units between the catalog and an order's hold, always under row locks.

Lock order everywhere: the order row (if any) first, then product rows by ascending id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from commerce_core.domain.catalog import Product
from commerce_core.domain.orders import Order, OrderLine
from commerce_core.errors import OutOfStock
from commerce_core.ports import UnitOfWork

__all__ = ["give_back", "take_for_lines", "take_locked"]


def _quantities(lines: Iterable[OrderLine]) -> Counter[str]:
    wanted: Counter[str] = Counter()
    for line in lines:
        wanted[line.product_id] += line.quantity
    return wanted


def take_for_lines(uow: UnitOfWork, lines: Iterable[OrderLine], now: datetime) -> None:
    """Take every line's units from the catalog, all or nothing; ``OutOfStock`` names each short one."""
    wanted = _quantities(lines)
    take_locked(uow, uow.products.lock(sorted(wanted)), wanted, now)


def take_locked(
    uow: UnitOfWork, products: Mapping[str, Product], wanted: Mapping[str, int], now: datetime
) -> None:
    """``take_for_lines`` for a caller that already holds the product rows' locks."""
    short = sorted(
        pid for pid, qty in wanted.items() if pid not in products or products[pid].stock < qty
    )
    if short:
        raise OutOfStock(f"not enough stock for {', '.join(short)}", short)
    for pid in sorted(wanted):
        products[pid].take(wanted[pid], now)
        uow.products.save(products[pid])


def give_back(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """Release an ended order's hold back into the catalog (no-op if not held)."""
    lines = order.release_stock(now)
    if not lines:
        return
    wanted = _quantities(lines)
    products = uow.products.lock(sorted(wanted))
    for pid in sorted(wanted):
        product = products.get(pid)
        if product is not None:  # a deleted product has nothing to return to
            product.put_back(wanted[pid], now)
            uow.products.save(product)

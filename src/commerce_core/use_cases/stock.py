"""Moving units between the catalog's variants and an order's hold, always under row locks.

Lock order everywhere: the order row (if any) first, then product rows by ascending id (a
product's lock guards all of its variants).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from commerce_core.domain.catalog import Product, Variant
from commerce_core.domain.orders import Order, OrderLine
from commerce_core.errors import OutOfStock
from commerce_core.ports import UnitOfWork

__all__ = ["give_back", "line_variant", "put_back_lines", "take_for_lines", "take_locked"]


def _quantities(lines: Iterable[OrderLine]) -> Counter[tuple[str, str]]:
    """(product id, variant id) -> units, over ``lines``."""
    wanted: Counter[tuple[str, str]] = Counter()
    for line in lines:
        wanted[(line.product_id, line.variant_id)] += line.quantity
    return wanted


def line_variant(product: Product | None, variant_id: str) -> Variant | None:
    """The variant a line sold: by id; a line from before variants (no id) sold the product's
    one variant."""
    if product is None:
        return None
    if variant_id:
        return product.variant(variant_id)
    return product.variants[0] if len(product.variants) == 1 else None


def take_for_lines(uow: UnitOfWork, lines: Iterable[OrderLine], now: datetime) -> None:
    """Take every line's units from its variant, all or nothing; ``OutOfStock`` names each
    short one."""
    wanted = _quantities(lines)
    products = uow.products.lock(sorted({pid for pid, _ in wanted}))
    take_locked(uow, products, wanted, now)


def take_locked(
    uow: UnitOfWork,
    products: Mapping[str, Product],
    wanted: Mapping[tuple[str, str], int],
    now: datetime,
) -> None:
    """``take_for_lines`` for a caller that already holds the product rows' locks; ``wanted``
    maps (product id, variant id) to units."""
    found = {key: line_variant(products.get(key[0]), key[1]) for key in wanted}
    variants = {key: v for key, v in found.items() if v is not None and v.stock >= wanted[key]}
    short = sorted(set(wanted) - set(variants))
    if short:
        named = ", ".join(_name(found[key], key) for key in short)
        raise OutOfStock(
            f"not enough stock for {named}",
            sorted({pid for pid, _ in short}),
            variant_ids=[vid for _, vid in short],
        )
    for key in sorted(wanted):
        variants[key].take(wanted[key], now)
    for pid in sorted({pid for pid, _ in wanted}):
        uow.products.save(products[pid])


def give_back(uow: UnitOfWork, order: Order, now: datetime) -> None:
    """Release an ended order's hold back into the catalog (no-op if not held)."""
    lines = order.release_stock(now)
    if not lines:
        return
    put_back_lines(uow, lines, now)


def put_back_lines(uow: UnitOfWork, lines: Iterable[OrderLine], now: datetime) -> None:
    """Return these lines' units to their variants, under their products' locks."""
    wanted = _quantities(lines)
    products = uow.products.lock(sorted({pid for pid, _ in wanted}))
    for pid, vid in sorted(wanted):
        variant = line_variant(products.get(pid), vid)
        if variant is not None:  # a vanished variant has nothing to return to
            variant.put_back(wanted[(pid, vid)], now)
    for pid in sorted({pid for pid, _ in wanted}):
        if pid in products:
            uow.products.save(products[pid])


def _name(variant: Variant | None, key: tuple[str, str]) -> str:
    return repr(variant.sku) if variant is not None else (key[1] or key[0])

"""How much stock one shopper may hold unpaid: a cap per account and per client address.

Creating a checkout intent holds its stock for 15 minutes. Without a cap, one account - or a
script cycling through throwaway accounts from one address - could hold a whole catalog and
release it only to take it again, so that nobody else can buy. A real shopper has one checkout
open, perhaps two (a second tab, a changed mind); the caps leave room for that and for a family
behind one address, and refuse the rest until the shopper pays or a hold expires.
"""

from __future__ import annotations

import attrs

from commerce_core.errors import HoldLimitReached

__all__ = ["HeldStock", "HoldLimits"]


@attrs.frozen
class HeldStock:
    """Unpaid orders still holding stock, and the units they hold."""

    orders: int = 0
    units: int = 0


@attrs.frozen
class HoldLimits:
    orders_per_account: int = 3
    units_per_account: int = 100  # MAX_QUANTITY: any one legal line fits
    orders_per_address: int = 10
    units_per_address: int = 300

    def scaled(self, factor: int) -> HoldLimits:
        """Every cap times ``factor``: for load tests, whose shoppers share one address."""
        return HoldLimits(
            self.orders_per_account * factor,
            self.units_per_account * factor,
            self.orders_per_address * factor,
            self.units_per_address * factor,
        )

    def check(self, account: HeldStock, address: HeldStock | None, wanted_units: int) -> None:
        """Raise ``HoldLimitReached`` if one more order of ``wanted_units`` would go past a
        cap; ``address`` is ``None`` when the client's address is unknown."""
        if account.orders + 1 > self.orders_per_account:
            raise HoldLimitReached(
                f"at most {self.orders_per_account} unpaid checkouts at once: pay or let one "
                "expire first"
            )
        if account.units + wanted_units > self.units_per_account:
            raise HoldLimitReached(
                f"at most {self.units_per_account} items held unpaid at once: pay or let a "
                "checkout expire first"
            )
        if address is not None and (
            address.orders + 1 > self.orders_per_address
            or address.units + wanted_units > self.units_per_address
        ):
            raise HoldLimitReached("too many unpaid checkouts from this address; try later")

"""How many units of a SKU to order: a periodic-review, order-up-to policy.

An order placed now arrives after the lead time; the next chance to order again comes
one review period later and arrives a lead time after that. Stock on hand and on order
must therefore cover the demand over the *protection period* (lead time + review period)
with a chosen chance of no stock-out (the cycle service level):

    safety stock    = z(service level) x sd of demand over the protection period, or
                      over the shorter correction period (below)
    order-up-to     = mean demand over the protection period + safety stock
    reorder point   = the order-up-to level: in a periodic review any position below it
                      risks running out before the order after this one could arrive
    position        = stock on hand (never below 0) + stock on order
    shortfall       = order-up-to - position, in whole units (0 when position >= it)
    order           = shortfall rounded UP to whole packs, but never more than the room
                      left in shelf + backroom (then rounded DOWN to packs)

Safety stock covers the demand's uncertainty only until the store can next correct
course, and that is not always this supplier's protection period. A store that can also
buy the SKU from a quicker supplier (a next-day distributor beside a wholesaler ordered
three days a week, or a brand's weekly delivery) sees tomorrow evening whether demand ran
hot and can order the difference to arrive a lead time later. So the slower supplier's
order-up-to level is its mean demand over its own protection period plus the safety stock
of the *correction* period (`safety_demand`: until an order placed at the quickest
supplier's next chance after today would arrive, `supplier_choice.correction_end`), never
more than its own. Sizing the slower supplier's safety stock over its whole, longer period
counts the same uncertainty twice: once in its own order, again in the quick supplier's
order-up-to that already catches it. This is the dual-index rule of dual sourcing (a
regular and an expedited supplier: the regular order covers the mean, the expedited
channel carries the safety stock); a shop owner does the same when she lets the
wholesaler bring the week's bulk and phones the distributor when a shelf runs low.

The demand's mean and variance come from `demand_forecast` (the velocity model's
weekday x hour rates; Poisson variance when there is no history of variance). A negative
stock on hand (sales recorded beyond the last count and receipts) counts as 0: the shelf
cannot hold less than nothing, and the next count corrects it.

Pure computation, dataclasses in and out: the store's purchase list and the simulation's
"suggestions followed" policy call the same `plan_replenishment`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from gateway.retail.demand_forecast import DemandForecast

DEFAULT_SERVICE_LEVEL = 0.95
_EPSILON = 1e-9


def service_z(service_level: float) -> float:
    """The normal quantile z of a cycle service level in [0.5, 1)."""
    if not 0.5 <= service_level < 1:
        raise ValueError(f"service level must be in [0.5, 1), got {service_level}")
    return NormalDist().inv_cdf(service_level)


@dataclass(frozen=True)
class PackRounding:
    """A shortfall in units turned into whole packs that fit the room left."""

    shortfall: int
    pack_size: int
    packs: int
    room: int | None
    """Units that still fit in shelf + backroom after stock on hand and on order; None:
    unknown capacity (no cap)."""

    @property
    def units(self) -> int:
        return self.packs * self.pack_size

    @property
    def rounding_units(self) -> int:
        """Units above the shortfall because packs are whole (negative when capped)."""
        return self.units - self.shortfall

    @property
    def capped(self) -> bool:
        """True when the room, not the shortfall, decided the number of packs."""
        wanted = -(-self.shortfall // self.pack_size) * self.pack_size
        return self.room is not None and self.shortfall > 0 and wanted > self.room


def round_to_packs(shortfall: int, pack_size: int, room: int | None = None) -> PackRounding:
    """Whole packs covering `shortfall`, or as many as fit in `room` when they do not.

    The one pack rule of replenishment and supplier choice (each supplier has its own
    pack size, so the same shortfall is rounded once per offer).
    """
    if pack_size < 1:
        raise ValueError(f"pack size must be at least 1, got {pack_size}")
    shortfall = max(0, shortfall)
    packs = -(-shortfall // pack_size)
    if room is not None and packs * pack_size > room:
        packs = max(0, room) // pack_size
    return PackRounding(shortfall=shortfall, pack_size=pack_size, packs=packs, room=room)


@dataclass(frozen=True)
class StockPosition:
    """What the store holds and expects of one SKU, and where it would go."""

    on_hand: int
    """Units in the store now (last count + receipts - sales since); may be negative when
    sales outran the records."""
    on_order: int = 0
    """Units ordered (accepted orders) and not yet received."""
    capacity: int | None = None
    """Shelf + backroom units the store can hold; None when unknown (no cap)."""


@dataclass(frozen=True)
class ReplenishmentPlan:
    """The order of one SKU and every figure behind it (the "why" a buyer reads)."""

    sku: str
    demand: DemandForecast
    """Demand over the protection period (lead time + review period)."""
    safety_demand: DemandForecast
    """Demand over the period the safety stock covers: the protection period, or the
    shorter correction period when a quicker supplier can make up a shortfall."""
    service_level: float
    z: float
    safety_stock: float
    order_up_to: float
    stock: StockPosition
    rounding: PackRounding

    @property
    def reorder_point(self) -> float:
        return self.order_up_to

    @property
    def position(self) -> int:
        """Stock on hand (at least 0) + on order."""
        return max(0, self.stock.on_hand) + self.stock.on_order

    @property
    def shortfall(self) -> int:
        return self.rounding.shortfall

    @property
    def packs(self) -> int:
        return self.rounding.packs

    @property
    def units(self) -> int:
        return self.rounding.units

    @property
    def reason(self) -> str:
        """One line a store owner can check against the shelf."""
        d = self.demand
        safety_days = self.safety_demand.days
        over = f" over {safety_days:.1f} d" if safety_days < d.days - _EPSILON else ""
        head = (
            f"forecast {d.mean:.1f} over {d.days:.1f} d + safety {self.safety_stock:.1f}"
            f"{over} ({self.service_level:.0%} service) = up to {self.order_up_to:.1f}; "
            f"on hand {self.stock.on_hand}, on order {self.stock.on_order}"
        )
        if self.shortfall == 0:
            return f"{head}: enough until the next order"
        r = self.rounding
        tail = f"; short {r.shortfall} -> {r.packs} x {r.pack_size}"
        if r.capped:
            tail += f" (capped: room for {max(0, r.room or 0)})"
        elif r.rounding_units:
            tail += f" (+{r.rounding_units} to whole packs)"
        return head + tail


def plan_replenishment(
    sku: str,
    demand: DemandForecast,
    stock: StockPosition,
    *,
    pack_size: int = 1,
    service_level: float = DEFAULT_SERVICE_LEVEL,
    safety_demand: DemandForecast | None = None,
) -> ReplenishmentPlan:
    """The order-up-to plan of one SKU (the module doc gives the policy).

    `demand` must cover the protection period, from now to when the order after this one
    would arrive (`SupplierTerms.protection_end` in `supplier_choice`). `safety_demand`,
    when given, covers the correction period from now (`supplier_choice.correction_end`);
    the safety stock is sized on it, but never above the protection period's.
    """
    z = service_z(service_level)
    if safety_demand is None or safety_demand.sd > demand.sd:
        safety_demand = demand
    safety = z * safety_demand.sd
    order_up_to = demand.mean + safety
    position = max(0, stock.on_hand) + stock.on_order
    shortfall = max(0, math.ceil(order_up_to - position - _EPSILON))
    room = None if stock.capacity is None else stock.capacity - position
    return ReplenishmentPlan(
        sku=sku,
        demand=demand,
        safety_demand=safety_demand,
        service_level=service_level,
        z=z,
        safety_stock=safety,
        order_up_to=order_up_to,
        stock=stock,
        rounding=round_to_packs(shortfall, pack_size, room),
    )

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
    order           = shortfall rounded UP to whole packs (or down to the nearest pack,
                      when asked, below), but never more than the room left in shelf +
                      backroom (then rounded DOWN to packs)

Safety stock covers the demand's uncertainty only until the store can next correct
course, and that is not always this supplier's protection period. A store that can also
buy the SKU from a quicker supplier (a next-day distributor beside a wholesaler ordered
three days a week, or a brand's weekly delivery) sees tomorrow evening whether demand ran
hot and can order the difference to arrive a lead time later. So the slower supplier's
order-up-to level is its mean demand over its own protection period plus the safety stock
of the *correction* period (`safety_demand`: until an order placed at the quickest other
supplier's next chance after today would arrive, `supplier_choice.correction_end`), never
more than its own. A SKU's only supplier has no one else to correct it, and carries the
safety stock of its own protection period. Sizing the slower supplier's safety stock over
its whole, longer period counts the same uncertainty twice: once in its own order, again
in the quick supplier's order-up-to that already catches it. This is the dual-index rule of dual sourcing (a
regular and an expedited supplier: the regular order covers the mean, the expedited
channel carries the safety stock); a shop owner does the same when she lets the
wholesaler bring the week's bulk and phones the distributor when a shelf runs low.

Rounding down to the nearest pack, where the safety stock absorbs it, is an option
(`round_down_share`, off by default): when the units a pack down would leave short are
fewer than half a pack and no more than that share of the safety stock, the order is the
whole packs below the shortfall, and the position still covers the mean demand plus the
rest of the safety stock; the next review tops it up. It is the rounding profile of ERP
replenishment, bounded by the safety stock instead of a fixed share of the pack. It is off
because rounding up pays: measured on the buying simulation (50 stores, 28 days, seeds
1-3) a share of 0.5 cut the average stock 5-7 %, 970-1,550 EUR across the stores, while
lost sales rose by 970-1,980 EUR of revenue in the four weeks; holding that stock costs
15-20 EUR a month at 18 % a year. A store short of cash or space may still want it.

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
DEFAULT_ROUND_DOWN_SHARE = 0.0
"""Share of the safety stock that rounding down to whole packs may leave uncovered: 0,
every shortfall rounded up (the module doc says why; 0.5 is the rounding profile)."""
_EPSILON = 1e-9


def service_z(service_level: float) -> float:
    """The normal quantile z of a cycle service level in [0.5, 1)."""
    if not 0.5 <= service_level < 1:
        raise ValueError(f"service level must be in [0.5, 1), got {service_level}")
    return NormalDist().inv_cdf(service_level)


def check_round_down_share(share: float) -> float:
    """`share` when it is a valid `round_down_share` (a share of the safety stock, in
    [0, 1]); ValueError naming the setting otherwise."""
    if not 0 <= share <= 1:
        raise ValueError(f"round_down_share must be in [0, 1], got {share}")
    return share


@dataclass(frozen=True)
class PackRounding:
    """A shortfall in units turned into whole packs that fit the room left."""

    shortfall: int
    pack_size: int
    packs: int
    room: int | None
    """Units that still fit in shelf + backroom after stock on hand and on order; None:
    unknown capacity (no cap)."""
    rounded_down: int = 0
    """Units of the shortfall left to the safety stock because a pack down was nearer
    (0: rounded up, or capped by the room)."""

    @property
    def units(self) -> int:
        return self.packs * self.pack_size

    @property
    def to_buy(self) -> int:
        """The units this order must bring: the shortfall less what is left to the safety
        stock (what supplier choice rounds, with each supplier's packs)."""
        return self.shortfall - self.rounded_down

    @property
    def rounding_units(self) -> int:
        """Units above the shortfall because packs are whole (negative when capped or
        rounded down)."""
        return self.units - self.shortfall

    @property
    def capped(self) -> bool:
        """True when the room, not the shortfall, decided the number of packs."""
        wanted = self.to_buy + (-self.to_buy % self.pack_size)
        return self.room is not None and self.to_buy > 0 and wanted > self.room


def round_to_packs(
    shortfall: int, pack_size: int, room: int | None = None, *, slack: int = 0
) -> PackRounding:
    """Whole packs covering `shortfall`, or as many as fit in `room` when they do not.

    With `slack` (units the safety stock may leave uncovered), a shortfall fewer than
    half a pack and at most `slack` units above whole packs is rounded down to them.
    The one pack rule of replenishment and supplier choice (each supplier has its own
    pack size, so the same shortfall is rounded once per offer).
    """
    if pack_size < 1:
        raise ValueError(f"pack size must be at least 1, got {pack_size}")
    shortfall = max(0, shortfall)
    left = shortfall % pack_size
    down = left if 0 < left <= slack and 2 * left < pack_size else 0
    packs = -(-(shortfall - down) // pack_size)
    if room is not None and packs * pack_size > room:
        packs, down = max(0, room) // pack_size, 0
    return PackRounding(
        shortfall=shortfall, pack_size=pack_size, packs=packs, room=room, rounded_down=down
    )


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

    @property
    def held(self) -> int:
        """Stock on hand (at least 0) + on order: what the order-up-to level is met by."""
        return max(0, self.on_hand) + self.on_order

    @property
    def room(self) -> int | None:
        """Units that still fit in shelf + backroom; None: capacity unknown (no cap)."""
        return None if self.capacity is None else self.capacity - self.held


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
        return self.stock.held

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
    def to_buy(self) -> int:
        """Units the order must bring (`PackRounding.to_buy`): supplier choice's need."""
        return self.rounding.to_buy

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
        elif r.rounded_down:
            tail += f" ({r.rounded_down} left to the safety stock)"
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
    round_down_share: float = DEFAULT_ROUND_DOWN_SHARE,
) -> ReplenishmentPlan:
    """The order-up-to plan of one SKU (the module doc gives the policy).

    `demand` must cover the protection period, from now to when the order after this one
    would arrive (`SupplierTerms.protection_end` in `supplier_choice`). `safety_demand`,
    when given, covers the correction period from now (`supplier_choice.correction_end`);
    the safety stock is sized on it, but never above the protection period's.
    `round_down_share` of the safety stock may be left uncovered by rounding down to the
    nearest pack (0: always round up).
    """
    z = service_z(service_level)
    check_round_down_share(round_down_share)
    if safety_demand is None or safety_demand.sd > demand.sd:
        safety_demand = demand
    safety = z * safety_demand.sd
    order_up_to = demand.mean + safety
    shortfall = max(0, math.ceil(order_up_to - stock.held - _EPSILON))
    return ReplenishmentPlan(
        sku=sku,
        demand=demand,
        safety_demand=safety_demand,
        service_level=service_level,
        z=z,
        safety_stock=safety,
        order_up_to=order_up_to,
        stock=stock,
        rounding=round_to_packs(
            shortfall, pack_size, stock.room, slack=math.floor(round_down_share * safety)
        ),
    )

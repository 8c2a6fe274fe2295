"""The cheapest way to buy what replenishment asks for, across the store's suppliers.

Each supplier lists GTINs in packs (pack size, pack price) and has terms: a minimum
order value, a free-delivery threshold with a delivery fee below it, a lead time and the
weekdays it takes orders. Each GTIN is bought from one supplier, in whole packs.

What "cheapest" counts (money, the store's currency), over one demand window common to
all suppliers of a GTIN, so that a supplier is never cheaper only for covering fewer days:
- the window is the longest cover any supplier of the GTIN needs (`Need.horizon_units`:
  its shortfall over the slowest, least frequent supplier's protection period); every
  supplier is charged the window's units at its own unit price: a quick supplier's order
  covers fewer of them now, and the rest are bought from it later at the same price
  (a GTIN it needs none of today is still charged, as `SupplierOrder.deferred_value`);
- holding cost of the extra days a slower supplier forces: the units its shortfall holds
  beyond the quickest supplier's (`PlannedLine.extra_cover`) are stocked earlier than
  they would be, the i-th of them i/d days;
- holding cost for every unit bought beyond the need (pack rounding, top-ups): the i-th
  extra unit of a SKU selling d units a day sits i/d days longer on the shelf, at
  `holding_rate_per_day` x its unit price a day, counted after the units the store
  already holds above the order-up-to level (`Need.spare_by_supplier`): a pack of a SKU
  whose shelf is full for another week sells only after that week, so top-ups go to the
  SKUs the store would reorder soonest. Extra units are not a loss: they sell later
  instead of being bought later. A top-up never adds a unit that would not sell within
  `max_topup_days`;
- the delivery fee of each order below its supplier's free-delivery threshold, unless
  topping the order up to the threshold costs less holding than the fee saves, amortised
  over the window: an order bringing only part of its lines' window now pays the same
  fee again later, so the fee counts in proportion (window value / order value);
- an order below its supplier's minimum value must be topped up to it (with the extra
  stock that costs least to hold), or it cannot be placed at all.
Top-ups use the packs of the GTINs already on that order and of the GTINs the store
sells but needs none of now (`Need` with 0 units), never more than each GTIN's room.
Units no feasible order can bring are left unbought and reported: the plan first
minimises the units left short, then the cost. Short means short before any other order
could arrive: of a slower supplier's shortfall, only the quickest supplier's
(`PlannedLine.required`) must come now. When a slower, cheaper supplier's cover (a
brand's weekly delivery in packs of 24) does not fit the shelf and backroom, it brings
what fits, the quick supplier's later orders bring the rest, and those units are charged
at the dearest listed price (`PlannedLine.later_unit_price`). Counting them as short
instead ruled the slower supplier out wherever its whole cover did not fit, even when
what fits lasts until the quick supplier can deliver.

The search: an exact enumeration of every assignment (each GTIN to one of its
suppliers, or not bought) when there are at most `EXACT_LIMIT` of them (a few suppliers
and a handful of GTINs), otherwise a heuristic: local search (move one GTIN to another
supplier, or empty a supplier onto the others, while the cost falls) from several
starts (each GTIN at its cheapest line; the baseline's picks; everything a supplier
lists on that supplier), keeping the best, so it is never worse than the baseline. Top-ups are chosen greedily by holding cost per unit of order value.
Each order's cost depends only on its own lines, so orders are evaluated once per set
of lines (cached).

So a cheaper supplier with a longer cycle wins when its price advantage beats the extra
holding (and its fees), and loses when it does not; today's cash (`PurchasePlan.cash`)
is reported beside the cost compared.

`single_cheapest_plan` is the baseline a buyer without this tool follows: each GTIN from
the supplier with the lowest unit price, topped up only where a minimum forces it, the
fee paid otherwise. Pure computation, dataclasses in and out.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from gateway.retail.replenishment import round_to_packs

EXACT_LIMIT = 4096
"""Most assignments enumerated exhaustively; above it the heuristic runs."""
MAX_LOCAL_SEARCH_ROUNDS = 200
ALL_WEEKDAYS = frozenset(range(7))


@dataclass(frozen=True)
class SupplierTerms:
    """A supplier's conditions for one order."""

    supplier: str
    min_order_value: float = 0.0
    free_delivery_threshold: float | None = None
    """Order value from which delivery is free; None: never free (the fee always applies)."""
    delivery_fee: float = 0.0
    lead_time_days: int = 1
    order_weekdays: frozenset[int] = ALL_WEEKDAYS
    """Local weekdays the supplier takes orders, Monday = 0."""

    def fee_for(self, value: float) -> float:
        """The delivery fee an order of this value pays."""
        if self.free_delivery_threshold is not None and value >= self.free_delivery_threshold:
            return 0.0
        return self.delivery_fee

    def next_order_date(self, day: date) -> date:
        """The first order day on or after `day`."""
        if not self.order_weekdays:
            raise ValueError(f"supplier {self.supplier!r} has no order weekdays")
        for offset in range(7):
            candidate = day + timedelta(days=offset)
            if candidate.weekday() in self.order_weekdays:
                return candidate
        raise AssertionError("unreachable: a week holds every weekday")

    def delivery_date(self, now: datetime, tz: ZoneInfo) -> date:
        """When an order placed at the first chance from `now` arrives."""
        ordered = self.next_order_date(now.astimezone(tz).date())
        return ordered + timedelta(days=self.lead_time_days)

    def protection_end(self, now: datetime, tz: ZoneInfo) -> datetime:
        """Start of the local day the order *after* this one arrives: stock bought now must
        last until then (lead time + review period, in `replenishment`)."""
        ordered = self.next_order_date(now.astimezone(tz).date())
        following = self.next_order_date(ordered + timedelta(days=1))
        arrives = following + timedelta(days=self.lead_time_days)
        return datetime.combine(arrives, time(0), tzinfo=tz)

    def correction_end(self, now: datetime, tz: ZoneInfo) -> datetime:
        """Start of the local day an order placed at this supplier's first chance *after*
        today arrives: the soonest it can make up for demand that runs above the forecast
        of *another* supplier's order placed now (the safety stock's period in
        `replenishment`). For its own order it is no correction: on a day it takes no
        orders, its first chance after today is that very order."""
        ordered = self.next_order_date(now.astimezone(tz).date() + timedelta(days=1))
        arrives = ordered + timedelta(days=self.lead_time_days)
        return datetime.combine(arrives, time(0), tzinfo=tz)


def correction_end(
    terms: Iterable[SupplierTerms], now: datetime, tz: ZoneInfo, *, ordering: str
) -> datetime | None:
    """The soonest one of a GTIN's suppliers (`terms`: those listing it) other than
    `ordering` can correct a shortfall found after today, for `ordering`'s order placed
    now; None when `ordering` is its only supplier (its own next order, the end of its
    protection period, is then the first correction)."""
    return min((t.correction_end(now, tz) for t in terms if t.supplier != ordering), default=None)


@dataclass(frozen=True)
class Offer:
    """One line of a supplier's price list."""

    supplier: str
    gtin: str
    pack_size: int
    pack_price: float

    @property
    def unit_price(self) -> float:
        return self.pack_price / self.pack_size


@dataclass(frozen=True)
class Need:
    """What the store needs of one GTIN, and what extra stock of it would cost to hold."""

    gtin: str
    units: int
    """The shortfall in units (before pack rounding); 0: only a top-up candidate."""
    daily_demand: float
    """Units sold a day: how fast extra stock goes."""
    room: int | None = None
    """Most units the store can take in (shelf + backroom left); None: no cap."""
    units_by_supplier: Mapping[str, int] | None = field(default=None, hash=False)
    """Shortfall per supplier where it differs (a slower supplier's protection period is
    longer); suppliers left out take `units`."""
    spare_by_supplier: Mapping[str, int] | None = field(default=None, hash=False)
    """Units held above a supplier's order-up-to level (negative where short, and left
    out, both count as 0): a pack topping up that supplier's order sells only after them."""

    def units_for(self, supplier: str) -> int:
        if self.units_by_supplier and supplier in self.units_by_supplier:
            return self.units_by_supplier[supplier]
        return self.units

    def spare_for(self, supplier: str) -> int:
        return max(0, (self.spare_by_supplier or {}).get(supplier, 0))

    @property
    def horizon_units(self) -> int:
        """The common demand window: the longest cover any supplier needs now."""
        return max(self.units, *(self.units_by_supplier or {}).values(), 0)


@dataclass(frozen=True)
class CostModel:
    """What holding stock costs."""

    holding_rate_per_day: float = 0.0005
    """Share of a unit's price a day (capital, space, shrink): 0.0005 is about 18 % a year."""
    max_holding_days: float = 90.0
    """A SKU that does not sell at all counts this many days per extra unit."""
    max_topup_days: float = 5.0
    """Top-ups (to a minimum or free delivery) never add a unit that would not sell
    within this many days, counted after the units already held above the order-up-to
    level: stock bought to save a fee takes shelf and backroom space, which the holding
    rate does not price. Measured on the buying simulation's held-out seeds (4 and 5, 15
    stores, 14 days): 7, 10 and 14 days raise the saving per unit *bought* (3.2-6.1 %
    against 2.9-4.0 % at 5) but not per unit *sold* (seed 4: 1.7 % at 5 days, 1.0 at 7,
    -1.0 at 10, -2.2 at 14; seed 5: 1.0, 2.3, 0.7, -3.1): longer top-ups mostly buy
    earlier what still sits on the shelves at the end."""

    def holding_cost(self, unit_price: float, daily_demand: float, after: int, extra: int) -> float:
        """Holding cost of `extra` units stocked on top of `after` units already beyond need:
        the i-th unit beyond need sits i/d days longer."""
        if extra <= 0:
            return 0.0
        if daily_demand <= 0:
            return unit_price * self.holding_rate_per_day * self.max_holding_days * extra
        first, last = after + 1, after + extra
        days = (first + last) * extra / 2 / daily_demand
        return unit_price * self.holding_rate_per_day * days

    def sells_in_time(self, daily_demand: float, units_beyond_need: int) -> bool:
        """Whether the last of these extra units sells within `max_topup_days`."""
        return daily_demand > 0 and units_beyond_need / daily_demand <= self.max_topup_days


# ---- the plan ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedLine:
    """One GTIN on one supplier's order."""

    gtin: str
    supplier: str
    pack_size: int
    pack_price: float
    shortfall: int
    """Units needed; 0 for a line that only tops the order up."""
    packs: int
    """Packs covering the shortfall (or as many as fit the room)."""
    topup_packs: int = 0
    """Packs added to reach the supplier's minimum or free-delivery threshold."""
    holding_cost: float = 0.0
    """Holding cost of the units beyond the shortfall."""
    horizon_units: int = 0
    """The GTIN's common demand window (`Need.horizon_units`), charged at this unit price."""
    extra_cover: int = 0
    """Units of the shortfall beyond the quickest supplier's: stock a slower supplier forces."""
    cover_holding_cost: float = 0.0
    """Holding cost of `extra_cover` (the extra days)."""
    required: int | None = None
    """Units that must come now: the quickest supplier's shortfall (`quickest_units`),
    which nothing ordered later could bring in time; None: the whole shortfall."""
    later_unit_price: float | None = None
    """What a unit of the shortfall that does not fit the room costs when bought later
    (the GTIN's dearest listed unit price); None: this line's unit price."""

    @property
    def total_packs(self) -> int:
        return self.packs + self.topup_packs

    @property
    def units(self) -> int:
        return self.total_packs * self.pack_size

    @property
    def unit_price(self) -> float:
        return self.pack_price / self.pack_size

    @property
    def value(self) -> float:
        return self.total_packs * self.pack_price

    @property
    def capped_units(self) -> int:
        """Units of the shortfall this line does not bring (the room was too small)."""
        return max(0, self.shortfall - self.units)

    @property
    def unmet(self) -> int:
        """Units short before any other order could arrive: what the line does not bring
        of the units required now. A slower supplier whose cover does not fit the room
        leaves the rest to later orders, and those are not short."""
        required = self.shortfall if self.required is None else min(self.required, self.shortfall)
        return max(0, required - self.units)

    @property
    def window_value(self) -> float:
        """The common window's units at this unit price; units of the shortfall that do
        not fit the room at the price they are bought later."""
        later = self.unit_price if self.later_unit_price is None else self.later_unit_price
        return max(self.horizon_units, self.shortfall) * self.unit_price + self.capped_units * max(
            0.0, later - self.unit_price
        )

    @property
    def cost(self) -> float:
        """The common window's units at the unit price, plus the holding cost of the
        extra cover and of the units beyond the shortfall."""
        return self.window_value + self.cover_holding_cost + self.holding_cost


@dataclass(frozen=True)
class SupplierOrder:
    """One supplier's order in a plan."""

    terms: SupplierTerms
    lines: tuple[PlannedLine, ...]
    topped_up_for: str | None = None
    """'minimum' or 'free delivery' when lines were added to reach it, else None."""
    deferred_value: float = 0.0
    """The window's units of GTINs assigned here that need none now, at this supplier's
    unit prices: they are bought from it later."""

    @property
    def supplier(self) -> str:
        return self.terms.supplier

    @property
    def value(self) -> float:
        return sum(line.value for line in self.lines)

    @property
    def delivery_fee(self) -> float:
        return self.terms.fee_for(self.value) if self.lines else 0.0

    @property
    def holding_cost(self) -> float:
        return sum(line.holding_cost + line.cover_holding_cost for line in self.lines)

    @property
    def window_value(self) -> float:
        """What the common window of every GTIN assigned here costs at its prices."""
        return sum(line.window_value for line in self.lines) + self.deferred_value

    @property
    def amortised_fee(self) -> float:
        """Delivery fees over the window: today's fee once per order value the window
        needs (at least once); an order bringing nothing now pays, later, the fee of
        an order of the window's value."""
        value = self.value
        if value > 0:
            return self.delivery_fee * max(1.0, self.window_value / value)
        return self.terms.fee_for(self.deferred_value) if self.deferred_value > 0 else 0.0

    @property
    def cost(self) -> float:
        """The window's units at this supplier's prices + holding + amortised fees."""
        return sum(line.cost for line in self.lines) + self.deferred_value + self.amortised_fee


@dataclass(frozen=True)
class PurchasePlan:
    """Orders per supplier, what could not be bought, and what it all costs."""

    orders: tuple[SupplierOrder, ...]
    unbought: tuple[str, ...]
    """GTINs whose shortfall no feasible order brings in full."""
    unmet_units: int
    method: str
    """'exact', 'heuristic' or 'single-cheapest'."""

    @property
    def cost(self) -> float:
        """What the plan is chosen on (the module doc): each GTIN's common window at its
        supplier's prices + holding of extra cover and extra units + amortised fees."""
        return sum(order.cost for order in self.orders)

    @property
    def cash(self) -> float:
        """Money paid to suppliers: order values + delivery fees."""
        return sum(order.value + order.delivery_fee for order in self.orders)

    @property
    def delivery_fees(self) -> float:
        return sum(order.delivery_fee for order in self.orders)

    @cached_property
    def lines_by_gtin(self) -> dict[str, PlannedLine]:
        return {line.gtin: line for order in self.orders for line in order.lines}


# ---- evaluating one supplier's order ------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    needs: Mapping[str, Need]
    offers: Mapping[tuple[str, str], Offer]  # (supplier, gtin) -> offer
    terms: Mapping[str, SupplierTerms]
    costs: CostModel
    base_lines: dict[tuple[str, str], PlannedLine | None] = field(default_factory=dict)
    quickest: dict[str, int] = field(default_factory=dict)

    def quickest_units(self, gtin: str) -> int:
        """The smallest shortfall among the GTIN's suppliers: the quickest one's cover."""
        if gtin not in self.quickest:
            need = self.needs[gtin]
            listed = [need.units_for(s) for (s, g) in self.offers if g == gtin]
            self.quickest[gtin] = max(0, min(listed, default=need.units))
        return self.quickest[gtin]

    def base_line(self, supplier: str, gtin: str) -> PlannedLine | None:
        """The line covering the need with this supplier's packs; None when none fits."""
        key = (supplier, gtin)
        if key not in self.base_lines:
            self.base_lines[key] = self._base_line(supplier, gtin)
        return self.base_lines[key]

    def _base_line(self, supplier: str, gtin: str) -> PlannedLine | None:
        offer = self.offers[(supplier, gtin)]
        need = self.needs[gtin]
        shortfall = max(0, need.units_for(supplier))
        rounding = round_to_packs(shortfall, offer.pack_size, need.room)
        if shortfall > 0 and rounding.packs == 0:
            return None
        surplus = max(0, rounding.units - shortfall)
        extra_cover = max(0, shortfall - self.quickest_units(gtin))
        price, daily = offer.unit_price, need.daily_demand
        return PlannedLine(
            gtin=gtin,
            supplier=supplier,
            pack_size=offer.pack_size,
            pack_price=offer.pack_price,
            shortfall=shortfall,
            packs=rounding.packs,
            holding_cost=self.costs.holding_cost(price, daily, extra_cover, surplus),
            horizon_units=need.horizon_units,
            extra_cover=extra_cover,
            cover_holding_cost=self.costs.holding_cost(price, daily, 0, extra_cover),
            required=self.quickest_units(gtin),
            later_unit_price=self.dearest_price(gtin),
        )

    def dearest_price(self, gtin: str) -> float:
        """The GTIN's highest listed unit price: what units bought later are charged."""
        return max((o.unit_price for (s, g), o in self.offers.items() if g == gtin), default=0.0)

    def later_cost(self, gtin: str) -> float:
        """A GTIN not bought now is bought later: its window at its dearest unit price."""
        return self.needs[gtin].horizon_units * self.dearest_price(gtin)

    def topup_candidates(self, supplier: str, assigned: Collection[str]) -> list[str]:
        """GTINs an order of `supplier` may add packs of: its own lines and the GTINs the
        store needs none of now."""
        return sorted(
            gtin
            for (s, gtin) in self.offers
            if s == supplier
            and (gtin in assigned or self.needs[gtin].units_for(supplier) <= 0)
            and self.needs[gtin].daily_demand > 0
        )

    def with_topup(
        self, supplier: str, lines: dict[str, PlannedLine], target: float
    ) -> dict[str, PlannedLine] | None:
        """`lines` plus the packs that bring the order's value to `target` at the least
        holding cost (greedy); None when the room left cannot get there."""
        lines = dict(lines)
        value = sum(line.value for line in lines.values())
        candidates = self.topup_candidates(supplier, lines)
        while value < target - 1e-9:
            best: tuple[float, float, str] | None = None  # (rank, marginal cost, gtin)
            closers: list[tuple[float, str]] = []
            for gtin in candidates:
                step = self._next_pack_cost(supplier, gtin, lines.get(gtin))
                if step is None:
                    continue
                offer = self.offers[(supplier, gtin)]
                if value + offer.pack_price >= target - 1e-9:
                    closers.append((step, gtin))
                ratio = step / offer.pack_price
                if best is None or (ratio, step, gtin) < best:
                    best = (ratio, step, gtin)
            if closers:
                gtin = min(closers)[1]
            elif best is not None:
                gtin = best[2]
            else:
                return None
            lines[gtin] = self._add_pack(supplier, gtin, lines.get(gtin))
            value += self.offers[(supplier, gtin)].pack_price
        return lines

    def _surplus(self, line: PlannedLine | None, need: Need, supplier: str) -> int:
        """Units stocked beyond the quickest supplier's cover (the holding clock's start),
        counting what is already held above the order-up-to level."""
        if line is None:
            return need.spare_for(supplier)
        return max(0, line.units - line.shortfall) + line.extra_cover + need.spare_for(supplier)

    def _next_pack_cost(self, supplier: str, gtin: str, line: PlannedLine | None) -> float | None:
        offer = self.offers[(supplier, gtin)]
        need = self.needs[gtin]
        units = line.units if line else 0
        if need.room is not None and units + offer.pack_size > need.room:
            return None
        after = self._surplus(line, need, supplier)
        if not self.costs.sells_in_time(need.daily_demand, after + offer.pack_size):
            return None
        return self.costs.holding_cost(offer.unit_price, need.daily_demand, after, offer.pack_size)

    def _add_pack(self, supplier: str, gtin: str, line: PlannedLine | None) -> PlannedLine:
        offer = self.offers[(supplier, gtin)]
        step = self._next_pack_cost(supplier, gtin, line) or 0.0
        if line is None:
            return PlannedLine(
                gtin=gtin,
                supplier=supplier,
                pack_size=offer.pack_size,
                pack_price=offer.pack_price,
                shortfall=0,
                packs=0,
                topup_packs=1,
                holding_cost=step,
            )
        return replace(
            line, topup_packs=line.topup_packs + 1, holding_cost=line.holding_cost + step
        )

    def order(
        self, supplier: str, gtins: frozenset[str], *, optimise_fee: bool = True
    ) -> SupplierOrder | None:
        """The cheapest order of `supplier` for these GTINs; None when it cannot be
        placed (a line does not fit the room, or the minimum cannot be reached)."""
        terms = self.terms[supplier]
        lines: dict[str, PlannedLine] = {}
        deferred = 0.0
        for gtin in gtins:
            line = self.base_line(supplier, gtin)
            if line is None:
                return None
            if line.packs:
                lines[gtin] = line
            else:
                deferred += line.window_value
        if not lines:
            return SupplierOrder(terms=terms, lines=(), deferred_value=deferred)
        topped: str | None = None
        value = sum(line.value for line in lines.values())
        if value < terms.min_order_value - 1e-9:
            reached = self.with_topup(supplier, lines, terms.min_order_value)
            if reached is None:
                return None
            lines, topped = reached, "minimum"
        threshold = terms.free_delivery_threshold
        value = sum(line.value for line in lines.values())
        if optimise_fee and threshold is not None and terms.delivery_fee > 0 and value < threshold:
            topped_up = self.with_topup(supplier, lines, threshold)
            if topped_up is not None:
                extra = sum(x.holding_cost for x in topped_up.values()) - sum(
                    x.holding_cost for x in lines.values()
                )
                if extra < terms.delivery_fee:  # a top-up saves today's fee only
                    lines, topped = topped_up, "free delivery"
        ordered = tuple(sorted(lines.values(), key=lambda x: x.gtin))
        return SupplierOrder(
            terms=terms, lines=ordered, topped_up_for=topped, deferred_value=deferred
        )


# ---- searching assignments --------------------------------------------------------------

Assignment = dict[str, str | None]
"""GTIN -> supplier (None: not bought)."""


Score = tuple[int, float]
"""(units left short, cost): plans compare on units short first, then on cost."""
INFEASIBLE: Score = (10**12, math.inf)


def _add(a: Score, b: Score) -> Score:
    return (a[0] + b[0], a[1] + b[1])


class _Search:
    """Evaluates assignments, caching each supplier's order (and its score) per set of
    GTINs; the GTINs not bought form the group None."""

    def __init__(self, problem: _Problem, *, optimise_fee: bool = True) -> None:
        self.problem = problem
        self.optimise_fee = optimise_fee
        self._orders: dict[tuple[str, frozenset[str]], SupplierOrder | None] = {}
        self._parts: dict[tuple[str | None, frozenset[str]], Score] = {}

    def order(self, supplier: str, gtins: frozenset[str]) -> SupplierOrder | None:
        key = (supplier, gtins)
        if key not in self._orders:
            self._orders[key] = self.problem.order(supplier, gtins, optimise_fee=self.optimise_fee)
        return self._orders[key]

    def part(self, supplier: str | None, gtins: frozenset[str]) -> Score:
        """The score of one group: an order, or the units of the GTINs not bought."""
        key = (supplier, gtins)
        if key not in self._parts:
            if supplier is None:
                needs = self.problem.needs
                short = sum(max(0, needs[g].units) for g in gtins)
                self._parts[key] = (short, sum(self.problem.later_cost(g) for g in gtins))
            else:
                order = self.order(supplier, gtins)
                self._parts[key] = (
                    INFEASIBLE
                    if order is None
                    else (sum(line.unmet for line in order.lines), order.cost)
                )
        return self._parts[key]

    def score(self, assignment: Assignment) -> Score:
        """(units left short, cost); an order that cannot be placed makes it infeasible."""
        total: Score = (0, 0.0)
        for supplier, gtins in _groups(assignment).items():
            total = _add(total, self.part(supplier, gtins))
        return total


def _groups(assignment: Assignment) -> dict[str | None, frozenset[str]]:
    groups: dict[str | None, set[str]] = {}
    for gtin, supplier in assignment.items():
        groups.setdefault(supplier, set()).add(gtin)
    return {s: frozenset(g) for s, g in groups.items()}


def _wanted(need: Need) -> bool:
    """True when some supplier would have to bring units of it."""
    return need.units > 0 or any(v > 0 for v in (need.units_by_supplier or {}).values())


def _options(problem: _Problem, gtin: str) -> list[str | None]:
    """Suppliers that list the GTIN, then None (not bought)."""
    listed = sorted(s for (s, g) in problem.offers if g == gtin)
    return [*listed, None]


def _exact(search: _Search, wanted: Sequence[str]) -> Assignment:
    options = [_options(search.problem, g) for g in wanted]
    best: tuple[Score, Assignment] | None = None
    for choice in itertools.product(*options):
        assignment = dict(zip(wanted, choice, strict=True))
        score = search.score(assignment)
        if best is None or _better(score, best[0]):
            best = (score, assignment)
    return best[1] if best else {}


def _cheapest_line(problem: _Problem, gtin: str, suppliers: Iterable[str]) -> str | None:
    best: tuple[tuple[int, float], str] | None = None
    for supplier in suppliers:
        if (supplier, gtin) not in problem.offers:
            continue
        line = problem.base_line(supplier, gtin)
        if line is None:
            continue
        rank = (line.unmet, line.cost)
        if best is None or rank < best[0]:
            best = (rank, supplier)
    return best[1] if best else None


def _better(a: Score, b: Score) -> bool:
    """True when `a` is a real improvement on `b` (not float noise)."""
    return a[0] < b[0] or (a[0] == b[0] and a[1] < b[1] - 1e-9)


def _local_search(search: _Search, assignment: Assignment) -> tuple[Score, Assignment]:
    """Apply the best improving move (one GTIN elsewhere, or a supplier emptied onto the
    others) until none improves. A one-GTIN move changes two orders, so it is scored by
    the difference of those two alone."""
    current = dict(assignment)
    score = search.score(current)
    for _ in range(MAX_LOCAL_SEARCH_ROUNDS):
        groups = _groups(current)
        best: tuple[Score, Assignment] | None = None
        for gtin, here in current.items():
            old_here = groups[here]
            new_here = old_here - {gtin}
            before_here = search.part(here, old_here)
            after_here = search.part(here, new_here) if new_here else (0, 0.0)
            for option in _options(search.problem, gtin):
                if option == here:
                    continue
                old_there = groups.get(option, frozenset())
                before_there = search.part(option, old_there) if old_there else (0, 0.0)
                after_there = search.part(option, old_there | {gtin})
                cand = (
                    score[0] - before_here[0] - before_there[0] + after_here[0] + after_there[0],
                    score[1] - before_here[1] - before_there[1] + after_here[1] + after_there[1],
                )
                if _better(cand, score) and (best is None or _better(cand, best[0])):
                    best = (cand, {**current, gtin: option})
        for candidate in _emptied(search.problem, current):
            cand = search.score(candidate)
            if _better(cand, score) and (best is None or _better(cand, best[0])):
                best = (cand, candidate)
        if best is None:
            break
        current = best[1]
        score = search.score(current)  # exact sum again, so float drift never accumulates
    return score, current


def _emptied(problem: _Problem, assignment: Assignment) -> Iterable[Assignment]:
    """For each supplier used, the assignment with its GTINs moved to their cheapest line
    among the other suppliers used (all others when it is the only one)."""
    used = {s for s in assignment.values() if s is not None}
    for supplier in used:
        others = [s for s in used if s != supplier] or [s for s in problem.terms if s != supplier]
        moved = dict(assignment)
        for gtin, s in assignment.items():
            if s == supplier:
                moved[gtin] = _cheapest_line(problem, gtin, others)
        yield moved


def _heuristic(search: _Search, wanted: Sequence[str]) -> Assignment:
    problem = search.problem
    suppliers = sorted(problem.terms)
    starts = [
        {g: _cheapest_line(problem, g, suppliers) for g in wanted},
        {g: _cheapest_unit_price(problem, g) for g in wanted},
    ]
    for supplier in suppliers:
        starts.append(
            {
                g: supplier
                if (supplier, g) in problem.offers
                else _cheapest_line(problem, g, suppliers)
                for g in wanted
            }
        )
    best: tuple[Score, Assignment] | None = None
    for start in starts:
        result = _local_search(search, start)
        if best is None or _better(result[0], best[0]):
            best = result
    return best[1] if best else {}


# ---- public functions -------------------------------------------------------------------


def _problem(
    needs: Iterable[Need],
    offers: Iterable[Offer],
    terms: Iterable[SupplierTerms],
    costs: CostModel | None,
) -> _Problem:
    need_map = {n.gtin: n for n in needs}
    term_map = {t.supplier: t for t in terms}
    offer_map: dict[tuple[str, str], Offer] = {}
    for offer in offers:
        if offer.gtin not in need_map or offer.supplier not in term_map:
            continue
        if offer.pack_size < 1 or offer.pack_price < 0:
            raise ValueError(f"offer {offer}: pack size must be >= 1 and pack price >= 0")
        offer_map[(offer.supplier, offer.gtin)] = offer
    return _Problem(need_map, offer_map, term_map, costs or CostModel())


def _plan(search: _Search, assignment: Assignment, method: str) -> PurchasePlan:
    orders = []
    unbought = []
    unmet = 0
    groups = _groups(assignment)
    for supplier in sorted(s for s in groups if s is not None):
        gtins = groups[supplier]
        order = search.order(supplier, gtins)
        if order is None:  # only when every option was infeasible; report it as short
            unbought.extend(sorted(gtins))
            unmet += sum(max(0, search.problem.needs[g].units) for g in gtins)
            continue
        if order.lines:
            orders.append(order)
        for line in order.lines:
            if line.unmet:
                unbought.append(line.gtin)
                unmet += line.unmet
    for gtin, supplier in assignment.items():
        if supplier is None and search.problem.needs[gtin].units > 0:
            unbought.append(gtin)
            unmet += search.problem.needs[gtin].units
    return PurchasePlan(
        orders=tuple(orders),
        unbought=tuple(sorted(set(unbought))),
        unmet_units=unmet,
        method=method,
    )


def choose_suppliers(
    needs: Iterable[Need],
    offers: Iterable[Offer],
    terms: Iterable[SupplierTerms],
    costs: CostModel | None = None,
    *,
    exact_limit: int = EXACT_LIMIT,
) -> PurchasePlan:
    """The cheapest plan buying every need (the module doc says what counts and how it
    searches). Needs of 0 units are only top-up candidates."""
    problem = _problem(needs, offers, terms, costs)
    search = _Search(problem)
    wanted = sorted(g for g, n in problem.needs.items() if _wanted(n))
    size = math.prod(len(_options(problem, g)) for g in wanted)
    if size <= exact_limit:
        return _plan(search, _exact(search, wanted), "exact")
    return _plan(search, _heuristic(search, wanted), "heuristic")


def _cheapest_unit_price(problem: _Problem, gtin: str) -> str | None:
    """The supplier with the lowest unit price whose packs fit the room (the baseline's
    pick); None when none fits."""
    fitting = [
        o
        for (s, g), o in problem.offers.items()
        if g == gtin and problem.base_line(s, g) is not None
    ]
    return min(fitting, key=lambda o: (o.unit_price, o.supplier)).supplier if fitting else None


def single_cheapest_plan(
    needs: Iterable[Need],
    offers: Iterable[Offer],
    terms: Iterable[SupplierTerms],
    costs: CostModel | None = None,
) -> PurchasePlan:
    """The baseline: each GTIN from the supplier with the lowest unit price whose packs fit;
    an order below its minimum is topped up (or cannot be placed: those GTINs stay short),
    the delivery fee is paid below the threshold."""
    problem = _problem(needs, offers, terms, costs)
    search = _Search(problem, optimise_fee=False)
    wanted = sorted(g for g, n in problem.needs.items() if _wanted(n))
    assignment = {g: _cheapest_unit_price(problem, g) for g in wanted}
    return _plan(search, assignment, "single-cheapest")

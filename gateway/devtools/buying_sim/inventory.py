"""Stock stepped hour by hour under one buying policy, on demand drawn once for all policies.

Each day: orders due arrive before opening; every hour each stocked SKU sells what the
drawn demand asks, up to the stock on hand (the rest is a lost sale); after closing, the
policy sees each store's stock, what is on order and the sales so far, and places orders
with the suppliers that take orders that day, to arrive `lead_time_days` mornings later.
A supplier refuses an order under its minimum value (counted, nothing arrives); an order
under the free-delivery threshold pays the delivery fee.

The demand draws are common random numbers: every policy meets exactly the same
customers, so their differences are the policies', not the dice's.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gateway.devtools.buying_sim.world import HOURS, World


@dataclass(frozen=True)
class OrderLine:
    """Packs of one SKU from one supplier."""

    sku: int
    supplier: str
    packs: int


@dataclass(frozen=True)
class StoreView:
    """What a policy may see of one store after closing on `day`."""

    world: World
    store: int
    day: int
    on_hand: np.ndarray
    """(skus,) units in the store now."""
    on_order: np.ndarray
    """(skus,) units ordered and not yet received."""
    sales: np.ndarray
    """(days so far incl. history, 24, skus) units sold per hour, oldest day first; day
    index i of the simulation is row `history_days + i`."""

    @property
    def history_days(self) -> int:
        return self.world.settings.history_days


class Policy(Protocol):
    """A buying rule: what to order for one store after closing on `day`."""

    name: str

    def orders(self, view: StoreView) -> list[OrderLine]: ...


def draw_demand(world: World, days: int) -> np.ndarray:
    """(history_days + days, 24, stores, skus) Poisson units wanted per hour, from the
    world's seed (its own stream, so every policy meets the same customers)."""
    rng = np.random.default_rng(np.random.SeedSequence([world.seed, 5]))
    first = -world.settings.history_days
    return np.stack(
        [
            rng.poisson(world.hourly_rate(first + d)).astype(np.int32)
            for d in range(world.settings.history_days + days)
        ]
    )


@dataclass
class RunResult:
    """What happened under one policy over the simulated days (SKUs not stocked left out)."""

    policy: str
    sold: np.ndarray  # (stores, skus) units
    lost: np.ndarray  # (stores, skus) units wanted when the shelf was empty
    stockout_hours: np.ndarray  # (stores, skus) open hours begun with nothing on hand
    stock_value: np.ndarray  # (days, stores) end-of-day stock at the valuation price
    bought: np.ndarray  # (stores, skus) units ordered (and accepted)
    units_bought: float = 0.0
    spend: float = 0.0  # pack prices paid
    fees: float = 0.0  # delivery fees paid
    orders: int = 0
    refused_orders: int = 0  # under the supplier's minimum order value
    over_capacity_units: float = 0.0  # received beyond shelf + backroom capacity
    by_supplier: dict[str, float] = field(default_factory=dict)  # spend per supplier
    sales: np.ndarray | None = None  # (history + days, 24, stores, skus) units sold


def run_policy(world: World, demand: np.ndarray, policy: Policy, days: int) -> RunResult:
    """Step `days` days under `policy`; `demand` from `draw_demand(world, days)`."""
    history = world.settings.history_days
    n_stores, n_skus = world.daily_demand.shape
    stocked = world.stocked
    valuation = world.unit_cost_floor()
    suppliers = {s.id: s for s in world.suppliers}
    sales = np.zeros(demand.shape, dtype=np.int32)
    sales[:history] = demand[:history] * stocked[None, None]
    on_hand = initial_stock(world, sales[:history])
    on_order = np.zeros((n_stores, n_skus), dtype=np.int64)
    arrivals: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # day -> (s, k, units)
    result = RunResult(
        policy=policy.name,
        sold=np.zeros((n_stores, n_skus)),
        lost=np.zeros((n_stores, n_skus)),
        stockout_hours=np.zeros((n_stores, n_skus)),
        stock_value=np.zeros((days, n_stores)),
        bought=np.zeros((n_stores, n_skus)),
        by_supplier=defaultdict(float),
    )
    for day in range(days):
        for s, k, units in arrivals.pop(day, []):
            over_before = max(0, on_hand[s, k] - world.capacity[s, k])
            on_hand[s, k] += units
            on_order[s, k] -= units
            result.over_capacity_units += max(0, on_hand[s, k] - world.capacity[s, k]) - over_before
        rate = world.hourly_rate(day)
        for hour in range(HOURS):
            wanted = demand[history + day, hour] * stocked
            result.stockout_hours += (on_hand == 0) & (rate[hour] > 0) & stocked
            sold = np.minimum(on_hand, wanted)
            on_hand -= sold
            sales[history + day, hour] = sold
            result.sold += sold
            result.lost += wanted - sold
        result.stock_value[day] = (on_hand * valuation).sum(axis=1)
        for s in range(n_stores):
            view = StoreView(
                world,
                s,
                day,
                on_hand[s].copy(),
                on_order[s].copy(),
                sales[: history + day + 1, :, s],
            )
            _place(world, suppliers, policy.orders(view), s, day, on_order, arrivals, result)
    result.by_supplier = dict(result.by_supplier)
    result.sales = sales
    return result


def initial_stock(world: World, history_sales: np.ndarray) -> np.ndarray:
    """Every policy starts from the same stock: a week of the history's average sales,
    within capacity."""
    per_day = history_sales.sum(axis=(0, 1)) / max(1, history_sales.shape[0])
    return np.minimum(np.ceil(per_day * 7), world.capacity).astype(np.int64)


def _place(
    world: World,
    suppliers: dict,
    lines: list[OrderLine],
    store: int,
    day: int,
    on_order: np.ndarray,
    arrivals: dict[int, list[tuple[int, int, int]]],
    result: RunResult,
) -> None:
    """Send one store's order lines, one order per supplier; the supplier's rules apply."""
    by_supplier: dict[str, list[OrderLine]] = defaultdict(list)
    for line in lines:
        if line.packs > 0:
            by_supplier[line.supplier].append(line)
    today = world.day(day)
    for supplier_id, order in by_supplier.items():
        supplier = suppliers[supplier_id]
        if not supplier.orders_on(today):
            raise ValueError(f"{supplier_id} takes no orders on {today:%A} (day {day})")
        value = sum(supplier.offers[line.sku].pack_price * line.packs for line in order)
        if value < supplier.min_order_value:
            result.refused_orders += 1
            continue
        result.orders += 1
        result.spend += value
        result.by_supplier[supplier_id] += value
        if value < supplier.free_delivery_threshold:
            result.fees += supplier.delivery_fee
        for line in order:
            units = supplier.offers[line.sku].pack_size * line.packs
            result.units_bought += units
            result.bought[store, line.sku] += units
            on_order[store, line.sku] += units
            arrivals[day + supplier.lead_time_days].append((store, line.sku, units))

"""The baseline a shop owner without shelfsense uses: a fixed reorder point and quantity.

Per SKU, fixed at the start from the sales history: reorder point = one week's average
sales (at most half the SKU's shelf + backroom space), order quantity = one week's average
sales in whole packs (at least one, and no more than fits above the reorder point), bought
from the SKU's cheapest supplier by unit price among those whose pack fits the shelf and
backroom. On that supplier's order days, when stock on hand plus on order falls under
the reorder point, the owner orders the quantity. An order under the supplier's minimum
is topped up with more packs of the same lines (fastest sellers first) as far as space
allows; the lines of one still under the minimum go to a supplier without a minimum that
takes orders today (the local distributor), as an owner would phone them through.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from gateway.devtools.buying_sim.inventory import OrderLine, StoreView
from gateway.devtools.buying_sim.world import Supplier, World


class NaiveReorderPoint:
    """(s, Q) per SKU from the history, with the cheapest single supplier."""

    name = "naive_reorder_point"

    def __init__(self, world: World) -> None:
        self.world = world
        self._plan: dict[int, tuple[np.ndarray, np.ndarray, list[str | None]]] = {}

    def _store_plan(self, view: StoreView) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """Reorder point, order packs and supplier per SKU, fixed on first use."""
        if view.store not in self._plan:
            history = view.sales[: view.history_days]
            week = history.sum(axis=(0, 1)) / max(1, history.shape[0]) * 7
            capacity = self.world.capacity[view.store]
            reorder_point = np.minimum(np.ceil(week), capacity // 2)
            packs = np.zeros(len(week), dtype=int)
            chosen: list[str | None] = []
            for k in range(len(week)):
                supplier = cheapest_fitting(self.world, view.store, k)
                chosen.append(supplier.id if supplier else None)
                if supplier:
                    pack = supplier.offers[k].pack_size
                    fits = (capacity[k] - reorder_point[k]) // pack
                    packs[k] = max(1, min(round(week[k] / pack), fits))
            self._plan[view.store] = (reorder_point, packs, chosen)
        return self._plan[view.store]

    def orders(self, view: StoreView) -> list[OrderLine]:
        reorder_point, packs, chosen = self._store_plan(view)
        today = self.world.day(view.day)
        position = view.on_hand + view.on_order
        lines: dict[str, dict[int, int]] = {}
        for supplier in self.world.suppliers:
            if not supplier.orders_on(today):
                continue
            due = {
                k: int(packs[k])
                for k in np.flatnonzero(self.world.stocked[view.store])
                if chosen[k] == supplier.id and position[k] < reorder_point[k]
            }
            if due:
                due = _top_up(self.world, view, supplier, due, reorder_point)
                if _value(supplier, due) >= supplier.min_order_value:
                    lines[supplier.id] = due
                else:
                    _reroute(self.world, today, supplier, due, lines)
        return [OrderLine(k, s, n) for s, due in lines.items() for k, n in due.items()]


def cheapest_fitting(world: World, store: int, sku: int) -> Supplier | None:
    """The supplier with the lowest unit cost whose pack is at most half the SKU's space."""
    fitting = [
        s
        for s in world.suppliers
        if sku in s.offers and s.offers[sku].pack_size * 2 <= world.capacity[store, sku]
    ]
    return min(fitting, key=lambda s: s.offers[sku].unit_cost, default=None)


def _value(supplier: Supplier, packs: dict[int, int]) -> float:
    return sum(supplier.offers[k].pack_price * n for k, n in packs.items())


def _reroute(
    world: World,
    today: date,
    supplier: Supplier,
    due: dict[int, int],
    lines: dict[str, dict[int, int]],
) -> None:
    """Send lines an order too small for `supplier` to the cheapest supplier without a
    minimum that takes orders today (the same units, in its packs)."""
    for k, packs in due.items():
        fallback = min(
            (
                s
                for s in world.suppliers
                if s.min_order_value == 0 and s.orders_on(today) and k in s.offers
            ),
            key=lambda s: s.offers[k].unit_cost,
            default=None,
        )
        if fallback is None:
            continue
        units = packs * supplier.offers[k].pack_size
        target = lines.setdefault(fallback.id, {})
        target[k] = target.get(k, 0) + math.ceil(units / fallback.offers[k].pack_size)


def _top_up(
    world: World, view: StoreView, supplier: Supplier, due: dict[int, int], speed: np.ndarray
) -> dict[int, int]:
    """Add packs (fastest sellers first) until the order reaches the supplier's minimum
    or no line has space for another pack."""
    value = _value(supplier, due)
    room = {k: world.capacity[view.store, k] - view.on_hand[k] - view.on_order[k] for k in due}
    for k in sorted(due, key=lambda k: -speed[k]):
        offer = supplier.offers[k]
        space = room[k] - offer.pack_size * due[k]
        extra = min(
            max(0, math.floor(space / offer.pack_size)),
            max(0, math.ceil((supplier.min_order_value - value) / offer.pack_price)),
        )
        due[k] += extra
        value += extra * offer.pack_price
        if value >= supplier.min_order_value:
            break
    return due

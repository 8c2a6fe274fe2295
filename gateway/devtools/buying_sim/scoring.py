"""The policies' runs and the head office's answers scored against the planted truth.

Definitions (the README's "Buying simulation" section says the same):
- lost sales: units customers wanted of a stocked SKU while its shelf was empty, and
  their value at the store's price; stock-out hours: open hours a stocked SKU began with
  nothing on hand;
- average stock value: end-of-day stock at each SKU's lowest supplier unit cost (one
  price for every policy, so only quantities differ), summed over stores, averaged
  over days;
- cost per unit: (pack prices + delivery fees) / units bought (landed cost), and the same
  spend per unit sold; beside it what those units would cost at each SKU's lowest unit
  price with no fees (a bound no supplier choice beats);
- precision@5: of each store's first five "add" suggestions (fewer where it got fewer),
  the share worth adding (`World.worth_adding`: not stocked, and planted demand there
  beating the store's slowest stocked SKU; the strict figure: at least its median
  stocked SKU), averaged over the stores that got any suggestion;
- nearby price error: |reference median - planted area price| / planted area price, over
  every published store x SKU reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gateway.devtools.buying_sim.inventory import RunResult
from gateway.devtools.buying_sim.world import World


def _pct(new: float, old: float) -> float | None:
    return None if old == 0 else round((new - old) / old * 100.0, 2)


def run_figures(world: World, run: RunResult) -> dict[str, Any]:
    """One policy's raw figures."""
    stocked = world.stocked
    cost = run.spend + run.fees
    sold = float(run.sold[stocked].sum())
    lost = float(run.lost[stocked].sum())
    return {
        "units_sold": sold,
        "lost_units": lost,
        "lost_sales_value": round(float((run.lost * world.price)[stocked].sum()), 2),
        "lost_share_pct": round(float(100.0 * lost / max(1.0, sold + lost)), 2),
        "stockout_hours": float(run.stockout_hours[stocked].sum()),
        "avg_stock_value": round(float(run.stock_value.sum(axis=1).mean()), 2),
        "units_bought": run.units_bought,
        "spend": round(run.spend, 2),
        "delivery_fees": round(run.fees, 2),
        "cost_per_unit_bought": round(cost / run.units_bought, 4) if run.units_bought else None,
        "cost_per_unit_sold": round(cost / sold, 4) if sold else None,
        "cost_per_unit_at_lowest_prices": _floor_cost(world, run),
        "orders": run.orders,
        "refused_orders": run.refused_orders,
        "over_capacity_units": run.over_capacity_units,
        "spend_by_supplier": {k: round(v, 2) for k, v in sorted(run.by_supplier.items())},
    }


def _floor_cost(world: World, run: RunResult) -> float | None:
    """What the same units would cost per unit at each SKU's lowest unit price, no fees:
    the bound no supplier choice can beat."""
    units = run.bought.sum()
    return round(float((run.bought * world.unit_cost_floor()).sum() / units), 4) if units else None


def buying_figures(world: World, naive: RunResult, followed: RunResult) -> dict[str, Any]:
    """Lost sales and stock value, suggestions followed against the naive reorder point."""
    a, b = run_figures(world, naive), run_figures(world, followed)
    return {
        "lost_sales_cut_pct": _neg(_pct(b["lost_units"], a["lost_units"])),
        "lost_sales_value_cut_pct": _neg(_pct(b["lost_sales_value"], a["lost_sales_value"])),
        "stockout_hours_cut_pct": _neg(_pct(b["stockout_hours"], a["stockout_hours"])),
        "stock_value_change_pct": _pct(b["avg_stock_value"], a["avg_stock_value"]),
    }


def _neg(value: float | None) -> float | None:
    return None if value is None else -value


def cost_figures(world: World, mix: RunResult, single: RunResult) -> dict[str, Any]:
    """Landed cost per unit with the supplier choice against the single cheapest supplier."""
    a, b = run_figures(world, single), run_figures(world, mix)
    saving = _pct(b["cost_per_unit_bought"] or 0.0, a["cost_per_unit_bought"] or 0.0)
    sold_saving = _pct(b["cost_per_unit_sold"] or 0.0, a["cost_per_unit_sold"] or 0.0)
    return {
        "cost_per_unit_saving_pct": _neg(saving),
        "cost_per_unit_sold_saving_pct": _neg(sold_saving),
    }


def assortment_precision(world: World, adds: pd.DataFrame, k: int = 5) -> dict[str, Any]:
    """Precision@k of the "add" suggestions (store, rank, sku GTIN) against the truth:
    the main figure against SKUs that would outsell the store's slowest stocked SKU, the
    strict one against SKUs selling at least its median stocked SKU."""
    truth, strict = world.worth_adding("slowest"), world.worth_adding("median")
    index = {sku.gtin: i for i, sku in enumerate(world.skus)}
    stores = {store.id: i for i, store in enumerate(world.stores)}
    per_store, per_store_strict = [], []
    hits = shown = gaps_found = 0
    for store_id, rows in adds.groupby("store"):
        s = stores[str(store_id)]
        top = [index[str(g)] for g in rows.sort_values("rank")["sku"].head(k)]
        good = sum(bool(truth[s, sku]) for sku in top)
        per_store.append(good / len(top))
        per_store_strict.append(sum(bool(strict[s, sku]) for sku in top) / len(top))
        gaps_found += sum(bool(world.planted_gap[s, sku]) for sku in top)
        hits += good
        shown += len(top)
    return {
        "assortment_precision_at_5": _mean(per_store),
        "assortment_strict_precision_at_5": _mean(per_store_strict),
        "assortment_pooled_precision_at_5": round(hits / shown, 3) if shown else None,
        "assortment_stores_with_adds": len(per_store),
        "assortment_adds_shown": shown,
        "assortment_true_adds_shown": hits,
        "assortment_worth_adding": int(truth.sum()),
        "assortment_worth_adding_strict": int(strict.sum()),
        "assortment_planted_gaps": int(world.planted_gap.sum()),
        "assortment_planted_gaps_found": gaps_found,
    }


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def price_error(world: World, references: pd.DataFrame) -> dict[str, Any]:
    """Error of the nearby median against the planted area price of the store's area."""
    index = {sku.gtin: i for i, sku in enumerate(world.skus)}
    stores = {store.id: i for i, store in enumerate(world.stores)}
    errors = []
    for row in references.itertuples(index=False):
        s, k = stores[str(row.store)], index[str(row.sku)]
        planted = world.area_price[world.stores[s].area, k]
        errors.append(abs(float(row.median) - planted) / planted * 100.0)
    e = np.array(errors)
    sold = int((world.stocked).sum())
    return {
        "nearby_price_error_pct": round(float(e.mean()), 3) if e.size else None,
        "nearby_price_error_median_pct": round(float(np.median(e)), 3) if e.size else None,
        "nearby_price_error_p90_pct": round(float(np.quantile(e, 0.9)), 3) if e.size else None,
        "nearby_price_within_2pct_share": round(float((e <= 2.0).mean()), 3) if e.size else None,
        "nearby_price_references": int(e.size),
        "nearby_price_store_skus": sold,
    }

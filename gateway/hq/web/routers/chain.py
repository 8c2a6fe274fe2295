"""Store-wide figures for merchandisers: display compliance and availability per store
over time, the worst stores and the worst SKUs.

Access: admin and merchandisers (a scoped one sees the stores of its chain or region
only). These figures cover every brand's slots, so a brand may not read them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import records, store_figures, store_trend, worst_skus
from gateway.hq.web.params import FilterParams, Limit, StepParam
from gateway.hq.web.scope import CHAIN_READERS, CurrentScope
from gateway.hq.web.selection import select

router = APIRouter(prefix="/chain", tags=["chain"], dependencies=[allow(*CHAIN_READERS)])


class StoreScore(BaseModel):
    compliance: float | None = Field(description="Mean display compliance of the cameras' hours.")
    osa: float | None = Field(description="Minutes with product over observed minutes, every slot.")
    oos_hours: float = Field(description="Slot-hours empty.")


class TrendPoint(StoreScore):
    period: str = Field(description="The day, or the Monday of the week.")


class StoreTrend(BaseModel):
    store: str
    store_name: str | None
    points: list[TrendPoint]


class ChainTrendOut(BaseModel):
    since: date
    until: date
    step: str
    periods: list[str]
    totals: StoreScore | None = Field(description="Every store over the whole range.")
    overall: list[TrendPoint] = Field(description="Every store in the selection together.")
    stores_total: int = Field(description="Stores in the selection.")
    stores: list[StoreTrend] = Field(
        description="The `lines` lowest-compliance stores, worst first."
    )


class WorstStore(StoreScore):
    store: str
    store_name: str | None
    chain: str | None
    region: str | None
    days: int


class WorstStoresOut(BaseModel):
    since: date
    until: date
    stores: list[WorstStore] = Field(description="Lowest compliance first.")


class WorstSku(BaseModel):
    sku: str
    brand: str | None
    name: str | None
    osa: float | None
    facing_compliance: float | None
    oos_hours: float
    lost_sales: float
    units: float
    revenue: float
    stores: int = Field(description="Stores that carry it in the selection.")


class WorstSkusOut(BaseModel):
    since: date
    until: date
    skus: list[WorstSku] = Field(description="Most lost sales first, then lowest availability.")


@router.get("/trend", response_model=ChainTrendOut)
def chain_trend(
    backend: Backend,
    scope: CurrentScope,
    filters: FilterParams,
    step: StepParam = "day",
    lines: Annotated[
        int, Query(ge=0, le=1000, description="Per-store series for this many stores at most.")
    ] = 8,
) -> ChainTrendOut:
    """Compliance and availability by day or week: every store in the selection
    together, and the lowest-compliance stores one by one (a chart of a thousand lines
    says nothing; `store=` picks one)."""
    picked = select(backend, scope, "store_days", filters)
    rows = picked.rows
    everyone = rows.assign(store="*") if not rows.empty else rows
    overall = store_trend(everyone, step).sort_values("period")
    totals = records(store_figures(everyone, "store"))
    ranked = store_figures(rows, "store").sort_values(["compliance", "store"])
    shown = list(ranked["store"].head(lines))
    per_store = picked.with_stores(store_trend(rows[rows["store"].isin(shown)], step))
    series = {store: group.sort_values("period") for store, group in per_store.groupby("store")}
    stores = [
        StoreTrend(
            store=str(store),
            store_name=records(series[store].head(1))[0]["store_name"],
            points=[TrendPoint(**p) for p in records(series[store])],
        )
        for store in shown
        if store in series
    ]
    return ChainTrendOut(
        since=picked.since,
        until=picked.until,
        step=step,
        totals=StoreScore(**totals[0]) if totals else None,
        periods=list(overall["period"]),
        overall=[TrendPoint(**r) for r in records(overall)],
        stores_total=len(ranked),
        stores=stores,
    )


@router.get("/worst-stores", response_model=WorstStoresOut)
def chain_worst_stores(
    backend: Backend, scope: CurrentScope, filters: FilterParams, limit: Limit = 10
) -> WorstStoresOut:
    """The stores with the lowest display compliance over the range."""
    picked = select(backend, scope, "store_days", filters)
    table = picked.with_stores(store_figures(picked.rows, "store"))
    table = table.sort_values(["compliance", "osa"], na_position="last").head(limit)
    return WorstStoresOut(
        since=picked.since, until=picked.until, stores=[WorstStore(**r) for r in records(table)]
    )


@router.get("/worst-skus", response_model=WorstSkusOut)
def chain_worst_skus(
    backend: Backend, scope: CurrentScope, filters: FilterParams, limit: Limit = 10
) -> WorstSkusOut:
    """The products that lost the most sales to empty shelves over the range."""
    picked = select(backend, scope, "sku_store_days", filters)
    table = worst_skus(picked.rows, backend.result("products"), limit)
    return WorstSkusOut(
        since=picked.since, until=picked.until, skus=[WorstSku(**r) for r in records(table)]
    )

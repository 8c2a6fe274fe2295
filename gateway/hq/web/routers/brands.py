"""A brand's figures: per store (ranked), per week or day, per region, per product.

Access: admin, merchandiser (the stores of their chain or region, if scoped) and a brand
(its own brand only: another brand's path is a 403, and every figure is made of the
brand's own rows). Store names, chains and regions are not brand data and are shown.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import (
    HIGHER_IS_BETTER,
    brand_figures,
    brand_products,
    brand_stores,
    brand_totals,
    brand_trend,
    records,
)
from gateway.hq.web.params import Brand, FilterParams, StepParam
from gateway.hq.web.scope import HQ_READERS, CurrentScope
from gateway.hq.web.selection import select

router = APIRouter(prefix="/brands", tags=["brands"], dependencies=[allow(*HQ_READERS)])

SortBy = Literal[
    "osa", "facing_compliance", "share_of_shelf", "units", "revenue", "oos_hours", "lost_sales"
]
assert set(SortBy.__args__) == set(HIGHER_IS_BETTER)  # type: ignore[attr-defined]


class Figures(BaseModel):
    """A brand's figures over some stores and days (rates from summed minutes)."""

    osa: float | None = Field(
        description="On-shelf availability: minutes with product over observed minutes."
    )
    facing_compliance: float | None = Field(
        description="Minutes with every facing filled over observed minutes."
    )
    oos_hours: float = Field(description="Hours the brand's slots were empty.")
    lost_sales: float = Field(description="Estimated sales lost while empty, in money.")
    units: float
    revenue: float
    price: float | None = Field(description="Mean unit price (revenue / units).")


class StoreFigures(Figures):
    rank: int = Field(description="1 = the best store by the chosen figure.")
    store: str
    store_name: str | None
    chain: str | None
    region: str | None
    currency: str | None
    facings: int | None = Field(description="The brand's facings in the store's current layouts.")
    share_of_shelf: float | None = Field(description="The brand's facings over all facings.")
    shelf_level: float | None = Field(description="Facings-weighted mean shelf (1 = top).")


class Totals(Figures):
    stores: int
    facings: int
    share_of_shelf: float | None = Field(description="The stores' mean share of shelf.")
    shelf_level: float | None


class BrandsOut(BaseModel):
    brands: list[str] = Field(description="The brands the caller may see (a brand: its own).")


class BrandStoresOut(BaseModel):
    brand: str
    since: date
    until: date
    sort: str
    currency: str | None = Field(description="The stores' currency; None when they use several.")
    totals: Totals | None
    stores: list[StoreFigures]


class TrendPoint(Figures):
    period: str = Field(description="The day, or the Monday of the week.")


class BrandTrendOut(BaseModel):
    brand: str
    since: date
    until: date
    step: str
    points: list[TrendPoint]


class RegionFigures(Figures):
    region: str | None
    stores: int


class BrandRegionsOut(BaseModel):
    brand: str
    since: date
    until: date
    regions: list[RegionFigures]


class ProductFigures(Figures):
    store: str
    store_name: str | None
    sku: str
    name: str | None
    facings: int | None
    shelf_level: int | None
    currency: str | None


class BrandProductsOut(BaseModel):
    brand: str
    since: date
    until: date
    products: list[ProductFigures]


def _name(rows: pd.DataFrame, asked: str) -> str:
    """The brand as the stores spell it (the path may use any case)."""
    return str(rows["brand"].iloc[0]) if not rows.empty else asked


@router.get("", response_model=BrandsOut)
def brands(backend: Backend, scope: CurrentScope, filters: FilterParams) -> BrandsOut:
    """The brands on the shelves of the caller's stores that the caller may see."""
    rows = select(backend, scope, "brand_store_days", filters).rows
    names = sorted(set(rows["brand"].dropna())) if not rows.empty else []
    return BrandsOut(brands=scope.brands(names))


@router.get("/{brand}/stores", response_model=BrandStoresOut)
def brand_store_figures(
    brand: Brand,
    backend: Backend,
    scope: CurrentScope,
    filters: FilterParams,
    sort: Annotated[SortBy, Query(description="Rank the stores by this figure.")] = "osa",
) -> BrandStoresOut:
    """The brand in every store that carries it: availability, out-of-stock hours, lost
    sales, facing compliance, share of shelf, shelf level, sales and price; ranked."""
    picked = select(backend, scope, "brand_store_days", filters, brand)
    table = picked.with_stores(brand_stores(picked.rows, sort))
    totals = brand_totals(table) if not table.empty else None
    return BrandStoresOut(
        brand=_name(picked.rows, brand),
        since=picked.since,
        until=picked.until,
        sort=sort,
        currency=picked.currency(table["store"]),
        totals=Totals(**totals) if totals else None,
        stores=[StoreFigures(**r) for r in records(table)],
    )


@router.get("/{brand}/trend", response_model=BrandTrendOut)
def brand_trend_figures(
    brand: Brand,
    backend: Backend,
    scope: CurrentScope,
    filters: FilterParams,
    step: StepParam = "week",
) -> BrandTrendOut:
    """The brand's figures per week (or day) across the stores that carry it."""
    picked = select(backend, scope, "brand_store_days", filters, brand)
    table = brand_trend(picked.rows, step).sort_values("period")
    return BrandTrendOut(
        brand=_name(picked.rows, brand),
        since=picked.since,
        until=picked.until,
        step=step,
        points=[TrendPoint(**r) for r in records(table)],
    )


@router.get("/{brand}/regions", response_model=BrandRegionsOut)
def brand_region_figures(
    brand: Brand, backend: Backend, scope: CurrentScope, filters: FilterParams
) -> BrandRegionsOut:
    """The brand's figures per region of the stores that carry it."""
    picked = select(backend, scope, "brand_store_days", filters, brand)
    if picked.rows.empty:
        table = brand_figures(picked.rows, "region").assign(stores=0)
    else:
        rows = picked.with_stores(picked.rows)
        rows = rows.assign(region=rows["region"].fillna("(no region)"))
        table = brand_figures(rows, "region")
        table["stores"] = table["region"].map(rows.groupby("region")["store"].nunique())
    return BrandRegionsOut(
        brand=_name(picked.rows, brand),
        since=picked.since,
        until=picked.until,
        regions=[RegionFigures(**r) for r in records(table.sort_values("region"))],
    )


@router.get("/{brand}/products", response_model=BrandProductsOut)
def brand_product_figures(
    brand: Brand, backend: Backend, scope: CurrentScope, filters: FilterParams
) -> BrandProductsOut:
    """Each of the brand's products in each store: its figures, facings and shelf."""
    picked = select(backend, scope, "sku_store_days", filters, brand)
    shelf = backend.brand_rows("products", brand)
    table = picked.with_stores(brand_products(picked.rows, shelf))
    table = table.sort_values(["sku", "store"]) if not table.empty else table
    return BrandProductsOut(
        brand=_name(picked.rows, brand),
        since=picked.since,
        until=picked.until,
        products=[ProductFigures(**r) for r in records(table)],
    )

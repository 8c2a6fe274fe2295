"""Prices across stores: a store's nearby price references, and a brand's price spread.

- `GET /api/stores/{store}/prices`: for each SKU the store sells, its own price beside
  the median and range of the price in its neighbouring stores (within the radius, or
  its region), only where at least five other stores contribute (the analytics job
  leaves out the rest: `gateway.hq.price_reference`). Access: admin, merchandiser (a
  scoped one: its chain's or region's stores) and the store's own staff, whose token is
  what the store gateway pulls its references with. A brand may not: a store's
  references cover every brand on its shelves.
- `GET /api/brands/{brand}/prices`: each of the brand's SKUs, its price in every store
  that sold it and the spread across them. Access: as the brand pages (a brand its own).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.auth.access import allow
from gateway.hq.price_reference import brand_price_spread
from gateway.hq.web.backend import Backend
from gateway.hq.web.figures import records
from gateway.hq.web.guidance_access import STORE_GUIDANCE_READERS, StoreInReach
from gateway.hq.web.params import Brand
from gateway.hq.web.scope import HQ_READERS, CurrentScope
from gateway.hq.web.selection import store_table

router = APIRouter(tags=["prices"])


class PriceReference(BaseModel):
    sku: str
    name: str | None = Field(description="From the shelves' product facts, if seen there.")
    brand: str | None
    price: float = Field(description="This store's price: revenue / units over the window.")
    units: float = Field(description="Units this store sold in the window.")
    median: float = Field(description="Median price in the other nearby stores.")
    low: float = Field(description="Lowest price among them.")
    high: float = Field(description="Highest price among them.")
    stores: int = Field(description="How many other stores contribute (at least five).")
    basis: str = Field(description="radius: within radius_km; region: the store's region.")
    radius_km: float | None
    diff_pct: float = Field(description="This store's price over the median, minus 1, in %.")


class StorePricesOut(BaseModel):
    store: str
    store_name: str | None
    currency: str | None
    refreshed_at: datetime | None = Field(description="When the analytics last ran.")
    references: list[PriceReference]


class SkuSpread(BaseModel):
    sku: str
    name: str | None
    currency: str | None
    stores: int = Field(description="Stores that sold it in the window.")
    median: float
    low: float
    high: float
    p25: float
    p75: float
    spread_pct: float = Field(description="Highest over lowest price, minus 1, in %.")


class StorePrice(BaseModel):
    sku: str
    store: str
    store_name: str | None
    region: str | None
    currency: str | None
    price: float
    units: float


class BrandPricesOut(BaseModel):
    brand: str
    refreshed_at: datetime | None
    skus: list[SkuSpread]
    stores: list[StorePrice]


def _names(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[["sku", "brand", "name"]].drop_duplicates("sku")


@router.get(
    "/stores/{store}/prices",
    response_model=StorePricesOut,
    dependencies=[allow(*STORE_GUIDANCE_READERS)],
)
def store_price_references(store: StoreInReach, backend: Backend) -> StorePricesOut:
    """The store's nearby price references (empty until the analytics job has run, or
    where fewer than five other stores sell a SKU)."""
    rows = backend.result("price_references")
    rows = rows[rows["store"] == store]
    prices = backend.result("store_prices")
    table = rows.merge(_names(prices[prices["store"] == store]), on="sku", how="left")
    info = store_table(backend.result("profiles")).set_index("store")
    known = store in info.index
    return StorePricesOut(
        store=store,
        store_name=info.at[store, "store_name"] if known else None,
        currency=info.at[store, "currency"] if known else None,
        refreshed_at=backend.refreshed_at(),
        references=[PriceReference(**r) for r in records(table.sort_values("sku"))],
    )


@router.get(
    "/brands/{brand}/prices", response_model=BrandPricesOut, dependencies=[allow(*HQ_READERS)]
)
def brand_prices(brand: Brand, backend: Backend, scope: CurrentScope) -> BrandPricesOut:
    """The brand's SKUs: price in each store that sold them, and the spread across stores
    (per currency). A scoped merchandiser sees its stores only."""
    scope.check_brand(brand)
    profiles = backend.result("profiles")
    rows = scope.rows(backend.brand_rows("store_prices", brand), profiles)
    stores = store_table(scope.stores(profiles))
    rows = rows.merge(stores, on="store", how="left")
    spread = brand_price_spread(rows, by=["sku", "currency"]) if not rows.empty else None
    skus = []
    if spread is not None and not spread.empty:
        spread = spread.merge(_names(rows)[["sku", "name"]], on="sku", how="left")
        skus = [SkuSpread(**r) for r in records(spread)]
    listed = rows.sort_values(["sku", "store"]) if not rows.empty else rows
    name = str(rows["brand"].iloc[0]) if not rows.empty else brand
    return BrandPricesOut(
        brand=name,
        refreshed_at=backend.refreshed_at(),
        skus=skus,
        stores=[
            StorePrice(**r)
            for r in records(
                listed[["sku", "store", "store_name", "region", "currency", "price", "units"]]
            )
            if r["price"] is not None
        ],
    )

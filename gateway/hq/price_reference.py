"""Nearby price reference: what a SKU sells for in the stores around a store.

Method. A store's selling price of a SKU is its revenue over its units in the last
`days` days of hourly sales (`store_sales.store_sku_sales`: the price shoppers actually
paid, promotions included, weighted by what sold). For each SKU a store sells, the
reference is the median, lowest and highest of that price in the store's *other*
neighbouring stores (`nearby.neighbour_pairs`: within `radius_km` by haversine on the
profiles' lat/lon, or the same region for a store without a location), each store
counted once however much it sold. The store's own price is set beside it, with its
difference from the median in percent ("12 % above the area median, 14 stores").

Privacy (GUIDE.md): a reference is published only where at least `min_stores` other
stores contribute, so no single competitor's price can be read off; below that the
row is not produced at all, not masked later.

A brand's view (`brand_price_spread`) is the price of its own SKUs in every store that
sold them, with the spread across stores; the brand sees nothing of other brands.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from gateway.hq.nearby import neighbour_pairs
from gateway.hq.store_sales import WINDOW_DAYS

REFERENCE_COLUMNS = [
    "store",
    "sku",
    "price",
    "units",
    "median",
    "low",
    "high",
    "stores",
    "basis",
    "radius_km",
    "diff_pct",
]
SPREAD_COLUMNS = ["sku", "stores", "median", "low", "high", "p25", "p75", "spread_pct"]


@dataclass(frozen=True)
class PriceReferenceSettings:
    """How far "nearby" reaches and how many stores a published figure needs."""

    radius_km: float = 3.0
    min_stores: int = 5
    days: int = WINDOW_DAYS

    def __post_init__(self) -> None:
        if self.radius_km <= 0:
            raise ValueError(f"radius_km must be positive, got {self.radius_km}")
        if self.min_stores < 1:
            raise ValueError(f"min_stores must be at least 1, got {self.min_stores}")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns=columns)


def nearby_prices(
    prices: pd.DataFrame,
    profiles: pd.DataFrame,
    settings: PriceReferenceSettings = PriceReferenceSettings(),
) -> pd.DataFrame:
    """Per store x SKU it sells: its price, and the median, low and high price of that
    SKU in its neighbouring stores with their count (`stores`), `basis` ("radius" or
    "region") and `diff_pct` (own vs median); only where `stores >= min_stores`.

    `prices`: `store_sku_sales(...)` (store, sku, units, price); `profiles`: the
    stores' latest profiles (store, lat, lon, region)."""
    priced = prices[prices["price"].notna() & (prices["units"] > 0)]
    if priced.empty or profiles.empty:
        return _empty(REFERENCE_COLUMNS)
    pairs = neighbour_pairs(profiles, settings.radius_km)
    if pairs.empty:
        return _empty(REFERENCE_COLUMNS)
    own = priced[["store", "sku", "price", "units"]]
    theirs = priced[["store", "sku", "price"]].rename(
        columns={"store": "other", "price": "other_price"}
    )
    wanted = own[["store", "sku"]].merge(pairs[["store", "other", "basis"]], on="store")
    seen = wanted.merge(theirs, on=["other", "sku"])
    if seen.empty:
        return _empty(REFERENCE_COLUMNS)
    grouped = seen.groupby(["store", "sku"])
    table = grouped["other_price"].agg(median="median", low="min", high="max")
    table["stores"] = grouped["other"].nunique()
    table["basis"] = grouped["basis"].first()
    table = table.reset_index()
    table = table[table["stores"] >= settings.min_stores]
    table = table.merge(own, on=["store", "sku"])
    table["radius_km"] = table["basis"].map({"radius": settings.radius_km}).astype(float)
    table["diff_pct"] = (table["price"] / table["median"] - 1.0) * 100.0
    table["stores"] = table["stores"].astype(int)
    return table[REFERENCE_COLUMNS].sort_values(["store", "sku"]).reset_index(drop=True)


def store_prices(prices: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """`store_sku_sales` rows with each SKU's brand and name from the shelves' product
    facts (any store's; None for a SKU never seen on a watched shelf)."""
    if products.empty:
        return prices.assign(brand=None, name=None)
    names = products.dropna(subset=["sku"]).groupby("sku")[["brand", "name"]].first()
    return prices.merge(names, left_on="sku", right_index=True, how="left")


def brand_price_spread(priced: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    """Per SKU of the given rows (one brand's `store_prices`): the stores that sold it,
    the median, lowest, highest and quartile prices, and the spread (high over low - 1,
    in percent). `by`: the grouping (default the SKU; add "currency" when stores use
    several, since prices in two currencies have no spread)."""
    keys = by or ["sku"]
    rows = priced[priced["price"].notna()]
    if rows.empty:
        return _empty([*keys, *SPREAD_COLUMNS[1:]])
    grouped = rows.groupby(keys, dropna=False)["price"]
    table = grouped.agg(
        stores="count",
        median="median",
        low="min",
        high="max",
        p25=lambda s: s.quantile(0.25),
        p75=lambda s: s.quantile(0.75),
    ).reset_index()
    table["spread_pct"] = (table["high"] / table["low"] - 1.0) * 100.0
    return table[[*keys, *SPREAD_COLUMNS[1:]]].sort_values(keys).reset_index(drop=True)

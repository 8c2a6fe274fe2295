"""Each store's sales per SKU over a recent window: the one input both the nearby price
reference and the assortment guidance read.

A price or a weekly rate over the last few weeks, not all history: prices change and
ranges come and go. The window ends on the last day any store reported sales, so a
replayed history gives the same answer as it did live. A store's weekly rate divides
by the days *that store* reported sales in the window (times 7), so a store that joined
mid-window, or whose uplink was down for days, is not read as a slow seller.

`store_sku_sales` takes the HQ's `sales` table (Dask or pandas: store, sku, day, units,
revenue) and does the heavy group-by on the engine; what it returns is small (one row
per store x SKU).
"""

from __future__ import annotations

from datetime import date, timedelta

import dask.dataframe as dd
import pandas as pd

WINDOW_DAYS = 28
"""Four weeks: every weekday four times, recent enough for today's prices."""

COLUMNS = ["store", "sku", "units", "revenue", "price", "days", "per_week"]


def _compute(value: object) -> object:
    return value.compute() if hasattr(value, "compute") else value  # dask or pandas


def empty() -> pd.DataFrame:
    """The result with no rows (no sales stored yet)."""
    return pd.DataFrame(
        {c: pd.Series(dtype=object if c in ("store", "sku") else float) for c in COLUMNS}
    )


def window(last_day: str, days: int) -> tuple[str, str]:
    """The first and last ISO day of a `days`-long window ending on `last_day`."""
    first = date.fromisoformat(last_day) - timedelta(days=days - 1)
    return first.isoformat(), last_day


def store_sku_sales(sales: pd.DataFrame | dd.DataFrame, days: int = WINDOW_DAYS) -> pd.DataFrame:
    """Per store x SKU over the last `days` days with sales: units, revenue, price
    (revenue / units), the store's reporting days in the window and units per week."""
    if days < 1:
        raise ValueError(f"the sales window needs at least one day, got {days}")
    sales = sales[["store", "sku", "day", "units", "revenue"]]
    sales = sales.assign(day=sales["day"].astype(str), store=sales["store"].astype(str))
    if isinstance(sales, pd.DataFrame) and sales.empty:
        return empty()
    last = str(_compute(sales["day"].max()))
    first, last = window(last, days)
    recent = sales[(sales["day"] >= first) & (sales["day"] <= last)]
    per_sku = recent.groupby(["store", "sku"])[["units", "revenue"]].sum()
    store_days = recent[["store", "day"]].drop_duplicates().groupby("store")["day"].count()
    table = _compute(per_sku).reset_index()  # type: ignore[union-attr]
    reporting = _compute(store_days).rename("days")  # type: ignore[union-attr]
    table = table.merge(reporting, left_on="store", right_index=True, how="left")
    table["price"] = table["revenue"] / table["units"].where(table["units"] > 0)
    table["per_week"] = table["units"] / table["days"] * 7.0
    table["days"] = table["days"].astype(float)
    return table[COLUMNS].sort_values(["store", "sku"]).reset_index(drop=True)

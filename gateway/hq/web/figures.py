"""The HQ pages' figures, computed from the saved results (small pandas frames).

Rates are always recomputed from summed minutes, never averaged: a store's OSA over a
week is its present minutes over its observed minutes in that week, and a brand's OSA
across stores weighs each store by how long its shelves were watched. Definitions are
`gateway.hq.analytics`'s. Share of shelf, facings and shelf level describe the current
layouts, so over a range they are the latest day's values.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from gateway.hq.analytics import OBSERVED, PRESENT

Step = Literal["day", "week"]
DEFAULT_DAYS = 28
"""A range without `since` covers this many days up to `until`."""

BRAND_SUMS = [
    "present_min",
    "min_stocked",
    "observed_min",
    "oos_hours",
    "units",
    "revenue",
    "lost_sales",
]
PLACEMENT = ["facings", "share_of_shelf", "shelf_level"]
HIGHER_IS_BETTER = {
    "osa": True,
    "facing_compliance": True,
    "share_of_shelf": True,
    "units": True,
    "revenue": True,
    "oos_hours": False,
    "lost_sales": False,
}
"""The figures stores can be ranked by, and which way is better (rank 1 = best)."""


def day_range(frame: pd.DataFrame, since: date | None, until: date | None) -> tuple[date, date]:
    """The days asked for; by default the last `DEFAULT_DAYS` days up to the last day
    with data, starting no earlier than the first."""
    if until is None:
        until = date.fromisoformat(frame["day"].max()) if not frame.empty else date.today()
    if since is None:
        since = until - timedelta(days=DEFAULT_DAYS - 1)
        if not frame.empty:
            since = min(until, max(since, date.fromisoformat(frame["day"].min())))
    return since, until


def in_range(frame: pd.DataFrame, since: date, until: date) -> pd.DataFrame:
    if frame.empty:
        return frame
    days = frame["day"]
    return frame[(days >= since.isoformat()) & (days <= until.isoformat())]


def period_of(days: pd.Series, step: Step) -> pd.Series:
    """Each day's period as ISO text: the day itself, or the Monday of its week."""
    if step == "day":
        return days
    stamps = pd.to_datetime(days)
    return (stamps - pd.to_timedelta(stamps.dt.weekday, unit="D")).dt.strftime("%Y-%m-%d")


def _rates(sums: pd.DataFrame) -> pd.DataFrame:
    observed = sums["observed_min"].where(sums["observed_min"] > 0)
    units = sums["units"].where(sums["units"] > 0)
    return sums.assign(
        osa=sums["present_min"] / observed,
        facing_compliance=sums["min_stocked"] / observed,
        price=sums["revenue"] / units,
    )


def _with_present(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(present_min=rows[[c for c in PRESENT if c in rows]].sum(axis=1))


def brand_figures(rows: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Brand x store x day rows summed by `by`, with OSA, facing compliance and price."""
    keys = [by] if isinstance(by, str) else by
    if rows.empty:
        return pd.DataFrame(columns=[*keys, *BRAND_SUMS, "osa", "facing_compliance", "price"])
    sums = _with_present(rows).groupby(keys)[BRAND_SUMS].sum().reset_index()
    return _rates(sums)


def placement(rows: pd.DataFrame) -> pd.DataFrame:
    """Per store: the brand's facings, share of shelf and shelf level on the latest day."""
    if rows.empty:
        return pd.DataFrame(columns=["store", *PLACEMENT])
    latest = rows.sort_values("day").groupby("store")[PLACEMENT].last()
    return latest.reset_index()


def brand_stores(rows: pd.DataFrame, sort: str) -> pd.DataFrame:
    """Per store: the brand's figures and placement, ranked by `sort` (1 = best)."""
    table = brand_figures(rows, "store").merge(placement(rows), on="store", how="left")
    ascending = not HIGHER_IS_BETTER[sort]
    table["rank"] = table[sort].rank(ascending=ascending, method="min", na_option="bottom")
    return table.sort_values(["rank", "store"]).reset_index(drop=True)


def brand_totals(stores: pd.DataFrame) -> dict[str, float | int | None]:
    """The brand across the stores of `brand_stores`: rates from summed minutes, share of
    shelf as the stores' mean, shelf level weighted by facings."""
    if stores.empty:
        return {"stores": 0}
    sums = _rates(stores[BRAND_SUMS].sum().to_frame().T).iloc[0]
    facings = stores["facings"].fillna(0)
    level = (stores["shelf_level"] * facings).sum() / facings.sum() if facings.sum() else None
    return {
        "stores": len(stores),
        **{k: _number(sums[k]) for k in (*BRAND_SUMS, "osa", "facing_compliance", "price")},
        "facings": int(facings.sum()),
        "share_of_shelf": _number(stores["share_of_shelf"].mean()),
        "shelf_level": _number(level),
    }


def brand_trend(rows: pd.DataFrame, step: Step) -> pd.DataFrame:
    """The brand's figures per day or week across the given rows' stores."""
    if rows.empty:
        return brand_figures(rows, "period")
    return brand_figures(rows.assign(period=period_of(rows["day"], step)), "period")


def brand_products(skus: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Per SKU x store: the figures, with the product's name and place on the shelf."""
    keys = ["store", "sku"]
    table = brand_figures(skus, keys)
    if products.empty:
        return table.assign(name=None, facings=None, shelf_level=None)
    shelf = (
        products.groupby(keys)
        .agg(name=("name", "first"), facings=("facings", "sum"), shelf_level=("shelf_level", "min"))
        .reset_index()
    )
    return table.merge(shelf, on=keys, how="left")


# ---- store-wide figures (chain and merchandiser views) --------------------------------


def store_figures(days: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Store x day rows summed by `by`: display compliance (the mean of the days' camera
    scores), OSA and out-of-stock hours."""
    keys = [by] if isinstance(by, str) else by
    if days.empty:
        return pd.DataFrame(columns=[*keys, "compliance", "osa", "oos_hours", "days"])
    frame = days.assign(
        present_min=days[list(PRESENT)].sum(axis=1),
        observed_min=days[[c for c in OBSERVED if c in days]].sum(axis=1),
    )
    grouped = frame.groupby(keys)
    table = grouped[["present_min", "observed_min", "oos_hours"]].sum()
    table["compliance"] = grouped["compliance"].mean()
    table["days"] = grouped["day"].nunique()
    observed = table["observed_min"].where(table["observed_min"] > 0)
    table["osa"] = table["present_min"] / observed
    return table.reset_index()


def store_trend(days: pd.DataFrame, step: Step) -> pd.DataFrame:
    """Per store and period: compliance, OSA and out-of-stock hours."""
    if days.empty:
        return store_figures(days, ["store", "period"])
    return store_figures(days.assign(period=period_of(days["day"], step)), ["store", "period"])


def worst_skus(skus: pd.DataFrame, products: pd.DataFrame, limit: int) -> pd.DataFrame:
    """SKUs across the given stores, most lost sales first (then lowest OSA)."""
    table = brand_figures(skus, ["sku", "brand"])
    if table.empty:
        return table.assign(name=None, stores=0)
    table["stores"] = table["sku"].map(skus.groupby("sku")["store"].nunique())
    names = products.groupby("sku")["name"].first() if not products.empty else pd.Series()
    table["name"] = table["sku"].map(names)
    ordered = table.sort_values(["lost_sales", "osa"], ascending=[False, True])
    return ordered.head(limit).reset_index(drop=True)


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with NaN as None (JSON has no NaN)."""
    return table.astype(object).where(table.notna(), None).to_dict("records")


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


# ---- devices -------------------------------------------------------------------------


def offline_devices(devices: pd.DataFrame, now: pd.Timestamp, minutes: float) -> pd.DataFrame:
    """Per camera whose store needs a look: the camera says it is offline, or was last
    seen more than `minutes` ago (`camera`), or its store's newest report is that old:
    the store's uplink (or gateway) has gone quiet (`uplink`). One row per camera of
    such a store, with `reasons`; cameras that are fine are left out."""
    columns = ["store", "camera", "online", "last_seen", "at", "uplink_backlog", "reasons"]
    if devices.empty:
        return pd.DataFrame(columns=columns)
    limit = now - pd.Timedelta(minutes=minutes)
    store_last = devices.groupby("store")["at"].transform("max")
    uplink_quiet = store_last < limit
    camera_quiet = devices["last_seen"].isna() | (devices["last_seen"] < limit)
    reasons = [
        [reason for reason, on in (("offline", off), ("not seen", quiet), ("uplink", up)) if on]
        for off, quiet, up in zip(
            ~devices["online"].astype(bool), camera_quiet, uplink_quiet, strict=True
        )
    ]
    table = devices.assign(reasons=reasons)
    table = table[table["reasons"].map(bool)]
    return table[columns].sort_values(["store", "camera"]).reset_index(drop=True)

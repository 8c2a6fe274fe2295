"""Cross-store figures, computed by Dask over the Parquet dataset and saved small.

The heavy questions (every slot-hour of every store) run on a Dask cluster: a
`distributed.LocalCluster` by default, or any scheduler address, with the same code.
What they produce is small (one row per brand x store x day, per store x day, per SKU x
store) and is written to `<root>/results/`, which the HQ pages read: a brand's page for a
thousand stores reads a few thousand rows, not the slot log.

Definitions (the README's "Head office" section says the same):
- observed minutes: a slot's minutes in any status but occluded or unknown;
- on-shelf availability (OSA): minutes with product on the slot (stocked, low, messy)
  over observed minutes;
- facing compliance: minutes stocked (every expected facing filled) over observed;
- out-of-stock hours: empty minutes / 60;
- lost sales: for a SKU in a store on a day, the units it sold per in-stock hour times
  its out-of-stock hours, in money at its mean price that day;
- share of shelf: a brand's facings over all facings of the store's current layouts;
- shelf level: the brand's facings-weighted mean shelf (1 = top).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dask.dataframe as dd
import pandas as pd

from gateway.hq import store_sales
from gateway.hq.assortment import AssortmentSettings, add_candidates, delist_candidates
from gateway.hq.price_reference import PriceReferenceSettings, nearby_prices, store_prices
from gateway.hq.store import HqStore
from gateway.hq.tables import SCHEMAS

RESULTS = "results"
PRESENT = ("min_stocked", "min_low", "min_messy")
OBSERVED = ("min_stocked", "min_low", "min_empty", "min_wrong_product", "min_messy")


@dataclass(frozen=True)
class EngineSettings:
    """Where the Dask scheduler is: None starts a local cluster in this process."""

    scheduler: str | None = None
    workers: int = 2
    threads_per_worker: int = 1


@contextlib.contextmanager
def engine(settings: EngineSettings = EngineSettings()) -> Iterator[object]:
    """A `distributed.Client` for the job's duration (a local cluster unless configured)."""
    from distributed import Client, LocalCluster

    if settings.scheduler:
        with Client(settings.scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=settings.workers,
            threads_per_worker=settings.threads_per_worker,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def _read(root: Path, table: str, columns: list[str] | None = None) -> dd.DataFrame | None:
    path = root / table
    if not any(path.glob("day=*/shard=*/*.parquet")):
        return None
    return dd.read_parquet(
        str(path),
        columns=columns,
        engine="pyarrow",
        dataset={"partitioning": "hive", "exclude_invalid_files": True},
        ignore_metadata_file=True,
    )


def _empty(table: str) -> pd.DataFrame:
    return SCHEMAS[table].empty_table().to_pandas()


def current_products(root: Path) -> pd.DataFrame:
    """Each camera's latest layout's products (small: one row per slot in the chain)."""
    ddf = _read(root, "products")
    if ddf is None:
        return _empty("products")
    products = ddf.compute()
    latest = products.groupby(["store", "camera"])["at"].transform("max")
    return products[products["at"] == latest].reset_index(drop=True)


def sku_store_days(root: Path) -> pd.DataFrame:
    """Per SKU x store x day: minutes by status, sales, price and lost sales."""
    hours = _read(root, "slot_hours")
    if hours is None:
        return pd.DataFrame()
    minutes = [c for c in hours.columns if c.startswith("min_")]
    shelf = (
        hours[hours["sku"].notnull()]
        .groupby(["store", "sku", "brand", "day"])[minutes]
        .sum()
        .compute()
        .reset_index()
    )
    sales_ddf = _read(root, "sales")
    if sales_ddf is not None:
        sales = (
            sales_ddf.groupby(["store", "sku", "day"])[["units", "revenue"]]
            .sum()
            .compute()
            .reset_index()
        )
        shelf = shelf.merge(sales, on=["store", "sku", "day"], how="left")
    else:
        shelf = shelf.assign(units=0.0, revenue=0.0)
    shelf[["units", "revenue"]] = shelf[["units", "revenue"]].fillna(0.0)
    return _with_rates(shelf)


def _with_rates(frame: pd.DataFrame) -> pd.DataFrame:
    observed = frame[list(OBSERVED)].sum(axis=1)
    present = frame[list(PRESENT)].sum(axis=1)
    price = frame["revenue"] / frame["units"].where(frame["units"] > 0)
    per_hour = frame["units"] / (present / 60).where(present > 0)
    oos_hours = frame["min_empty"] / 60
    lost_units = (per_hour * oos_hours).fillna(0.0)
    return frame.assign(
        observed_min=observed,
        osa=(present / observed.where(observed > 0)),
        facing_compliance=frame["min_stocked"] / observed.where(observed > 0),
        oos_hours=oos_hours,
        price=price,
        lost_units=lost_units,
        lost_sales=(lost_units * price.fillna(0.0)),
    )


def brand_store_days(skus: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Per brand x store x day: OSA, facing compliance, OOS hours, lost sales, sales, and
    the brand's share of shelf and shelf level in the store's current layouts."""
    if skus.empty:
        return pd.DataFrame()
    sums = [*PRESENT, "min_stocked", "observed_min", "oos_hours", "units", "revenue", "lost_sales"]
    sums = list(dict.fromkeys(sums))
    grouped = skus.groupby(["brand", "store", "day"])[sums].sum().reset_index()
    observed = grouped["observed_min"].where(grouped["observed_min"] > 0)
    grouped["osa"] = grouped[list(PRESENT)].sum(axis=1) / observed
    grouped["facing_compliance"] = grouped["min_stocked"] / observed
    return grouped.merge(shelf_presence(products), on=["brand", "store"], how="left")


def shelf_presence(products: pd.DataFrame) -> pd.DataFrame:
    """Per brand x store: facings, share of shelf, facings-weighted shelf level."""
    if products.empty:
        return pd.DataFrame(columns=["brand", "store", "facings", "share_of_shelf", "shelf_level"])
    store_facings = products.groupby("store")["facings"].sum().rename("store_facings")
    weighted = products.assign(level_x=products["shelf_level"] * products["facings"])
    brand = weighted.groupby(["brand", "store"])[["facings", "level_x"]].sum().reset_index()
    brand = brand.merge(store_facings, left_on="store", right_index=True)
    return brand.assign(
        share_of_shelf=brand["facings"] / brand["store_facings"],
        shelf_level=brand["level_x"] / brand["facings"],
    ).drop(columns=["level_x", "store_facings"])


def store_days(root: Path) -> pd.DataFrame:
    """Per store x day: mean compliance over camera-hours, OSA over every slot."""
    hours = _read(root, "slot_hours")
    if hours is None:
        return pd.DataFrame()
    minutes = [*PRESENT, *(m for m in OBSERVED if m not in PRESENT)]
    slots = hours.groupby(["store", "day"])[minutes].sum().compute().reset_index()
    cameras = (
        hours[["store", "day", "camera", "hour", "compliance"]]
        .drop_duplicates()
        .groupby(["store", "day"])["compliance"]
        .mean()
        .compute()
        .rename("compliance")
        .reset_index()
    )
    observed = slots[list(OBSERVED)].sum(axis=1)
    slots["osa"] = slots[list(PRESENT)].sum(axis=1) / observed.where(observed > 0)
    slots["oos_hours"] = slots["min_empty"] / 60
    return slots.merge(cameras, on=["store", "day"], how="left")


def device_status(root: Path) -> pd.DataFrame:
    """Each camera's latest health report (online, last seen, uplink backlog)."""
    ddf = _read(root, "health")
    if ddf is None:
        return _empty("health")
    health = ddf.compute()
    latest = health.groupby(["store", "camera"])["at"].transform("max")
    return health[health["at"] == latest].drop_duplicates(["store", "camera"])


def store_profiles(root: Path) -> pd.DataFrame:
    """Each store's latest profile."""
    ddf = _read(root, "profiles")
    if ddf is None:
        return _empty("profiles")
    profiles = ddf.compute()
    latest = profiles.groupby("store")["at"].transform("max")
    return profiles[profiles["at"] == latest].drop_duplicates("store").reset_index(drop=True)


@dataclass(frozen=True)
class GuidanceSettings:
    """The store guidance the job computes: nearby prices and assortment."""

    prices: PriceReferenceSettings = field(default_factory=PriceReferenceSettings)
    assortment: AssortmentSettings = field(default_factory=AssortmentSettings)


def recent_sales(root: Path, days: int) -> pd.DataFrame:
    """Per store x SKU over the last `days` days of sales (`store_sales.store_sku_sales`,
    the group-by on the engine)."""
    ddf = _read(root, "sales", ["store", "sku", "day", "units", "revenue"])
    return store_sales.empty() if ddf is None else store_sales.store_sku_sales(ddf, days)


def guidance_results(
    root: Path,
    skus: pd.DataFrame,
    products: pd.DataFrame,
    profiles: pd.DataFrame,
    guidance: GuidanceSettings,
) -> dict[str, pd.DataFrame]:
    """Nearby price references, each store's SKU prices (the brand view) and the
    assortment's add and delist candidates."""
    price_window = recent_sales(root, guidance.prices.days)
    mix_window = (
        price_window
        if guidance.assortment.weeks * 7 == guidance.prices.days
        else recent_sales(root, guidance.assortment.weeks * 7)
    )
    adds = add_candidates(mix_window, profiles, products, guidance.assortment)
    return {
        "store_prices": store_prices(price_window, products),
        "price_references": nearby_prices(price_window, profiles, guidance.prices),
        "assortment_adds": adds,
        "assortment_delists": delist_candidates(skus, products, adds, guidance.assortment),
    }


def refresh(
    root: str | Path,
    settings: EngineSettings = EngineSettings(),
    guidance: GuidanceSettings = GuidanceSettings(),
) -> dict[str, int]:
    """Recompute every result on the engine and save it; rows written per result."""
    root = Path(root)
    out = root / RESULTS
    out.mkdir(parents=True, exist_ok=True)
    store = HqStore(root)
    try:
        store.compact()  # one file per partition: the engine pays per file
    finally:
        store.close()
    with engine(settings):
        products = current_products(root)
        skus = sku_store_days(root)
        profiles = store_profiles(root)
        results = {
            "sku_store_days": skus,
            "brand_store_days": brand_store_days(skus, products),
            "store_days": store_days(root),
            "products": products,
            "devices": device_status(root),
            "profiles": profiles,
            **guidance_results(root, skus, products, profiles, guidance),
        }
    for name, frame in results.items():
        temp = out / f"{name}.parquet.tmp"
        frame.to_parquet(temp, index=False)
        temp.replace(out / f"{name}.parquet")  # readers never see half a file
    return {name: len(frame) for name, frame in results.items()}


def load_result(root: str | Path, name: str) -> pd.DataFrame:
    """A saved result (empty when the job has not run yet)."""
    path = Path(root) / RESULTS / f"{name}.parquet"
    return pd.read_parquet(path) if path.is_file() else pd.DataFrame()

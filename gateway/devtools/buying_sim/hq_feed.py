"""The simulated stores' uplink, written into a real head-office dataset.

What a store gateway would send the head office: its profile (format, area as region,
location), the products on its shelves (its assortment, with facings) and its hourly
sales at its own prices. The envelopes go through `HqStore` into the same Parquet tables
a live head office holds, so the head office's price and assortment code reads the
simulation exactly as it reads real stores.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np

from gateway.devtools.buying_sim.world import World
from gateway.hq.store import HqStore
from gateway.uplink.contract import (
    Envelope,
    HourlySales,
    Kind,
    ProductFacts,
    ShelfProduct,
    SkuSales,
    StoreProfile,
    envelope,
)

CHAIN = "Sim Chain"
CAMERA = "cam-1"
BATCH = 2000


def write_dataset(world: World, sales: np.ndarray, first_day: int, root: Path) -> int:
    """Write every store's profile, products and the hourly `sales` into an HqStore at
    `root`; `sales` is (days, 24, stores, skus), its row 0 being simulated day `first_day`.
    Returns how many messages were stored."""
    since = datetime.combine(world.day(first_day), time(), UTC) - timedelta(days=1)
    store = HqStore(root)
    stored = 0
    try:
        batch: list[Envelope] = []
        for message in _messages(world, sales, first_day, since):
            batch.append(message)
            if len(batch) >= BATCH:
                stored += _write(store, batch)
                batch = []
        stored += _write(store, batch)
    finally:
        store.close()
    return stored


def _write(store: HqStore, batch: list[Envelope]) -> int:
    if not batch:
        return 0
    result = store.write(batch)
    if result.rejected:
        raise ValueError(f"head office refused simulated messages: {result.rejected[:3]}")
    return result.stored


def _messages(world: World, sales: np.ndarray, first_day: int, since: datetime):
    for s in range(len(world.stores)):
        yield profile(world, s, since)
        yield products(world, s, since)
    for d in range(sales.shape[0]):
        midnight = datetime.combine(world.day(first_day + d), time(), UTC)
        for hour in range(sales.shape[1]):
            at = midnight + timedelta(hours=hour)
            for s, store in enumerate(world.stores):
                units = sales[d, hour, s]
                sold = np.flatnonzero(units)
                if sold.size == 0:
                    continue
                lines = [
                    SkuSales(
                        sku=world.skus[k].gtin,
                        units=float(units[k]),
                        revenue=round(float(units[k] * world.price[s, k]), 2),
                    )
                    for k in sold
                ]
                body = HourlySales(hour=at, lines=lines)
                yield envelope(store.id, Kind.SALES, at.isoformat(), body, at=at)


def profile(world: World, s: int, at: datetime) -> Envelope:
    store = world.stores[s]
    body = StoreProfile(
        name=store.name,
        chain=CHAIN,
        format=store.format,
        region=world.areas[store.area].code,
        lat=store.lat,
        lon=store.lon,
    )
    return envelope(store.id, Kind.PROFILE, "profile", body, at=at)


def products(world: World, s: int, at: datetime) -> Envelope:
    """The store's assortment as one camera's layout: one slot per stocked SKU."""
    stocked = np.flatnonzero(world.stocked[s])
    total = int(world.facings[s, stocked].sum()) or 1
    items = [
        ShelfProduct(
            camera=CAMERA,
            row=i // 8 + 1,
            slot=i % 8 + 1,
            sku=world.skus[k].gtin,
            brand=world.skus[k].brand,
            name=world.skus[k].name,
            facings=int(world.facings[s, k]),
            shelf_level=i // 8 + 1,
            share_of_shelf=float(world.facings[s, k]) / total,
        )
        for i, k in enumerate(stocked)
    ]
    body = ProductFacts(camera=CAMERA, layout_version="sim", products=items)
    return envelope(world.stores[s].id, Kind.PRODUCTS, f"{CAMERA}:sim", body, at=at)

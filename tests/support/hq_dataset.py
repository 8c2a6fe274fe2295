"""A small head-office dataset: four stores in two chains and two regions, two brands,
ten days of hourly rollups and sales, product facts, device health and store profiles,
written through the real `HqStore` and analysed by the real Dask job.

Brand Fizz (two SKUs, in every store) and brand Crunch (one SKU whose product name does
not contain the brand, in three stores) have distinct prices, so a test can tell their
figures apart: `foreign_words` and `foreign_figures` say what a Fizz user must never see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from gateway.hq import analytics
from gateway.hq.store import HqStore
from gateway.uplink.contract import (
    DeviceHealth,
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    ShelfProduct,
    SkuSales,
    SlotHour,
    StoreProfile,
    envelope,
)

FIRST_DAY = date(2026, 11, 16)  # a Monday: the ten days span two ISO weeks
DAYS = 10
HOURS = (9, 10, 11)


@dataclass(frozen=True)
class Product:
    sku: str
    brand: str
    name: str
    row: int
    slot: int
    facings: int
    units_per_hour: float


FIZZ, CRUNCH = "Fizz", "Crunch"
COLA = Product("40063813339310", FIZZ, "Fizz Cola 1.5L", 1, 1, 3, 3.0)
LEMON = Product("40063813339327", FIZZ, "Fizz Lemon 1.5L", 1, 2, 2, 2.0)
WAVES = Product("50000000000011", CRUNCH, "Salty Waves 150g", 2, 1, 4, 7.0)
CRUNCH_PRICE = 3.37


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    chain: str
    region: str
    price: float  # Fizz's unit price here
    empty: dict[str, float]  # SKU -> minutes empty per hour on day 0


SHOPS = (
    Shop(
        "store-a1",
        "Fresh Corner Centraal",
        "Fresh Corner",
        "north",
        2.00,
        {COLA.sku: 0.0, LEMON.sku: 6.0, WAVES.sku: 20.0},
    ),
    Shop(
        "store-a2",
        "Fresh Corner Zuid",
        "Fresh Corner",
        "south",
        2.10,
        {COLA.sku: 15.0, LEMON.sku: 10.0, WAVES.sku: 35.0},
    ),
    Shop(
        "store-b1",
        "Daily Market Haven",
        "Daily Market",
        "south",
        1.90,
        {COLA.sku: 30.0, LEMON.sku: 12.0, WAVES.sku: 0.0},
    ),
    Shop(
        "store-b2",
        "Daily Market Noord",
        "Daily Market",
        "north",
        2.20,
        {COLA.sku: 45.0, LEMON.sku: 24.0},
    ),
)
"""store-b2 has no Crunch product on its shelf."""


def products_of(shop: Shop) -> list[Product]:
    return [p for p in (COLA, LEMON, WAVES) if p.sku in shop.empty]


def empty_minutes(shop: Shop, product: Product, day: int) -> float:
    """A little worse on every third day, so the trend has a shape."""
    return min(60.0, shop.empty[product.sku] + 5.0 * (day % 3))


def low_minutes(shop: Shop, product: Product, day: int) -> float:
    """Some facings gone but product on the shelf: counts for availability, not for
    facing compliance."""
    return min(8.0, 60.0 - empty_minutes(shop, product, day))


def _price(shop: Shop, product: Product) -> float:
    return CRUNCH_PRICE if product.brand == CRUNCH else shop.price


def envelopes(now: datetime) -> list[Envelope]:
    """Every message the four stores send; health is relative to `now` (see module doc)."""
    out: list[Envelope] = []
    for shop in SHOPS:
        out.append(_profile(shop, now))
        out.append(_facts(shop, now))
        for day in range(DAYS):
            for hour in HOURS:
                at = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC)
                at += timedelta(hours=hour)
                out.append(_rollup(shop, day, at))
                out.append(_sales(shop, day, at))
    out.extend(_health(now))
    return out


def _profile(shop: Shop, now: datetime) -> Envelope:
    body = StoreProfile(name=shop.name, chain=shop.chain, region=shop.region, format="urban")
    return envelope(shop.id, Kind.PROFILE, "profile", body, at=now - timedelta(days=1))


def _facts(shop: Shop, now: datetime) -> Envelope:
    products = products_of(shop)
    total = sum(p.facings for p in products)
    body = ProductFacts(
        camera="cam-1",
        layout_version="v1",
        products=[
            ShelfProduct(
                camera="cam-1",
                row=p.row,
                slot=p.slot,
                sku=p.sku,
                brand=p.brand,
                name=p.name,
                facings=p.facings,
                shelf_level=p.row,
                share_of_shelf=p.facings / total,
            )
            for p in products
        ],
    )
    return envelope(shop.id, Kind.PRODUCTS, "cam-1:v1", body, at=now - timedelta(days=1))


def _rollup(shop: Shop, day: int, at: datetime) -> Envelope:
    slots = [
        SlotHour(
            row=p.row,
            slot=p.slot,
            sku=p.sku,
            brand=p.brand,
            facings=p.facings,
            minutes={
                "stocked": 60.0 - empty_minutes(shop, p, day) - low_minutes(shop, p, day),
                "low": low_minutes(shop, p, day),
                "empty": empty_minutes(shop, p, day),
            },
        )
        for p in products_of(shop)
    ]
    empty = sum(s.minutes["empty"] for s in slots)
    body = HourlyRollup(
        camera="cam-1", hour=at, compliance=1.0 - empty / (60.0 * len(slots)), slots=slots
    )
    return envelope(shop.id, Kind.ROLLUP, f"cam-1:{at.isoformat()}", body, at=at)


def _sales(shop: Shop, day: int, at: datetime) -> Envelope:
    lines = []
    for p in products_of(shop):
        in_stock = (60.0 - empty_minutes(shop, p, day)) / 60.0
        units = round(p.units_per_hour * in_stock, 2)
        lines.append(SkuSales(sku=p.sku, units=units, revenue=round(units * _price(shop, p), 4)))
    body = HourlySales(hour=at, lines=lines)
    return envelope(shop.id, Kind.SALES, at.isoformat(), body, at=at)


def _health(now: datetime) -> list[Envelope]:
    """a1: cam-2 unseen for 2 h; a2: the store silent for 3 h; b1: cam-1 offline;
    b2: all well."""

    def report(store: str, camera: str, at: datetime, online: bool, seen: datetime) -> Envelope:
        body = DeviceHealth(camera=camera, online=online, last_seen=seen, uplink_backlog=0)
        return envelope(store, Kind.HEALTH, f"{camera}:{at.isoformat()}", body, at=at)

    fresh = now - timedelta(minutes=2)
    return [
        report("store-a1", "cam-1", fresh, True, fresh),
        report("store-a1", "cam-2", fresh, True, now - timedelta(hours=2)),
        report("store-a2", "cam-1", now - timedelta(hours=3), True, now - timedelta(hours=3)),
        report("store-b1", "cam-1", fresh, False, now - timedelta(minutes=50)),
        report("store-b2", "cam-1", fresh, True, fresh),
    ]


def build(root: Path, now: datetime | None = None) -> Path:
    """Write the dataset under `root` and run the analytics; returns `root`."""
    store = HqStore(root)
    try:
        result = store.write(envelopes(now or datetime.now(UTC)))
        assert not result.rejected, result.rejected
    finally:
        store.close()
    analytics.refresh(root, analytics.EngineSettings(workers=1))
    return root


def foreign_words(brand: str) -> list[str]:
    """The names and SKUs of every brand but `brand`."""
    return [
        word for p in (COLA, LEMON, WAVES) if p.brand != brand for word in (p.brand, p.sku, p.name)
    ]

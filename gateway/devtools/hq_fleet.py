"""A fleet of simulated stores, producing what their gateways would send the head office.

Each store has a chain, a region, a location, a format, its own slice of a shared
catalogue, its own prices (the region's level times a store's own markup) and two
cameras over bays of slots. Every simulated hour each slot sells by a daily demand curve
(Poisson), runs down, sits empty for a while when it runs out, and is restocked; the
hour's minutes by status, the slot events, the sales and a health report per camera
become uplink envelopes with the same ids a real gateway's feeder would give them.

Seeded: the same seed gives the same fleet and the same hours, so a load test can count
exactly what it sent, and the demo looks the same every time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from edge.layout import with_check_digit
from gateway.export.uplink_facts import profile_envelope
from gateway.uplink.contract import (
    DeviceHealth,
    Envelope,
    HourlyRollup,
    HourlySales,
    Kind,
    ProductFacts,
    ShelfProduct,
    SkuSales,
    SlotEvent,
    SlotHour,
    StoreProfile,
    envelope,
)

CHAINS = ("Kiosko", "DailyMart", "Nachbar")
REGIONS = {  # code: (lat, lon) of the region's centre, price level
    "north": (52.55, 13.40, 1.04),
    "south": (52.45, 13.40, 0.97),
    "east": (52.50, 13.50, 1.00),
    "west": (52.50, 13.28, 1.08),
}
BRANDS = {  # brand: (category, base price)
    "Fizz": ("drinks", 1.29),
    "AquaPura": ("drinks", 0.79),
    "Crunch": ("snacks", 1.99),
    "Golden Oat": ("breakfast", 3.49),
    "Pawsome": ("pet food", 2.89),
    "Sparkle": ("household", 2.49),
}
SKUS_PER_BRAND = 4
CAMERAS = ("cam-1", "cam-2")
ROWS, SLOTS_PER_ROW = 3, 4
DEMAND_CURVE = (
    [0.2] * 7 + [0.8, 1.2, 1.0, 1.0, 1.3, 1.5, 1.1, 1.0, 1.1, 1.4, 1.8, 1.6, 1.0, 0.6] + [0.3] * 3
)
"""Relative demand by local hour (24 values, mean about 1)."""


@dataclass(frozen=True)
class Product:
    sku: str
    brand: str
    name: str
    base_price: float


@dataclass
class Slot:
    camera: str
    row: int
    slot: int
    product: Product
    facings: int
    capacity: int
    per_hour: float  # mean units sold in an average hour
    stock: int
    empty_since: float | None = None  # simulated minutes
    restock_after_min: float = 90.0


@dataclass
class SimStore:
    id: str
    profile: StoreProfile
    price_level: float
    slots: list[Slot] = field(default_factory=list)

    def price(self, product: Product) -> float:
        return round(product.base_price * self.price_level, 2)


def catalogue() -> list[Product]:
    """The products every store draws its slice from (valid GTINs)."""
    products = []
    for b, (brand, (_, price)) in enumerate(BRANDS.items()):
        for i in range(SKUS_PER_BRAND):
            sku = with_check_digit(f"400{b:02d}{i:02d}0000{b}{i}"[:12].ljust(12, "0"))
            products.append(
                Product(sku, brand, f"{brand} {i + 1}", round(price * (1 + 0.15 * i), 2))
            )
    return products


def make_fleet(count: int, seed: int = 1) -> list[SimStore]:
    """`count` stores with profiles, prices and stocked slots, the same for the same seed."""
    rng = random.Random(seed)
    products = catalogue()
    stores = []
    for n in range(count):
        region = rng.choice(list(REGIONS))
        lat, lon, level = REGIONS[region]
        profile = StoreProfile(
            name=f"Shop {n + 1:04d}",
            chain=rng.choice(CHAINS),
            format=rng.choice(("convenience", "mini-market")),
            region=region,
            lat=round(lat + rng.gauss(0, 0.02), 5),
            lon=round(lon + rng.gauss(0, 0.03), 5),
        )
        store = SimStore(f"store-{n + 1:04d}", profile, level * rng.uniform(0.97, 1.05))
        stocked = rng.sample(products, len(CAMERAS) * ROWS * SLOTS_PER_ROW // 2)
        places = [(c, r, s) for c in CAMERAS for r in range(ROWS) for s in range(SLOTS_PER_ROW)]
        for (camera, row, slot), product in zip(places, stocked * 2, strict=False):
            facings = rng.choice((1, 2, 2, 3))
            capacity = facings * rng.choice((4, 6, 8))
            store.slots.append(
                Slot(
                    camera,
                    row,
                    slot,
                    product,
                    facings,
                    capacity,
                    rng.uniform(0.2, 1.5),
                    capacity,
                    restock_after_min=rng.uniform(30, 240),
                )
            )
        stores.append(store)
    return stores


def profile_and_products(store: SimStore, at: datetime) -> list[Envelope]:
    """What a gateway sends at start: the store's profile (keyed by its content and since
    when, as a real gateway's feeder keys it), each camera's products."""
    messages = [profile_envelope(store.id, store.profile, since=at)]
    for camera in CAMERAS:
        mine = [s for s in store.slots if s.camera == camera]
        total = sum(s.facings for s in mine)
        body = ProductFacts(
            camera=camera,
            layout_version="v1",
            products=[
                ShelfProduct(
                    camera=camera,
                    row=s.row,
                    slot=s.slot,
                    sku=s.product.sku,
                    brand=s.product.brand,
                    name=s.product.name,
                    facings=s.facings,
                    shelf_level=s.row + 1,
                    share_of_shelf=s.facings / total,
                )
                for s in mine
            ],
        )
        messages.append(envelope(store.id, Kind.PRODUCTS, f"{camera}:v1", body, at=at))
    return messages


def simulate_hour(store: SimStore, hour: datetime, rng: random.Random) -> list[Envelope]:
    """One hour of a store: per camera a rollup and health reports, the slot events, the
    store's sales; the slots' stock moves on."""
    weight = DEMAND_CURVE[hour.hour]
    start_min = hour.timestamp() / 60
    events: list[Envelope] = []
    sold: dict[str, SkuSales] = {}
    hours: dict[str, list[SlotHour]] = {c: [] for c in CAMERAS}
    for slot in store.slots:
        minutes, units = _run_slot(slot, start_min, weight, rng, store, events, hour)
        hours[slot.camera].append(
            SlotHour(
                row=slot.row,
                slot=slot.slot,
                sku=slot.product.sku,
                brand=slot.product.brand,
                facings=slot.facings,
                minutes=minutes,
            )
        )
        if units:
            price = store.price(slot.product)
            line = sold.get(slot.product.sku, SkuSales(sku=slot.product.sku, units=0))
            sold[slot.product.sku] = SkuSales(
                sku=line.sku,
                units=line.units + units,
                revenue=round(line.revenue + units * price, 2),
            )
    messages = events
    for camera, slots in hours.items():
        stocked = sum(s.minutes.get("stocked", 0.0) for s in slots) / (60 * len(slots))
        body = HourlyRollup(camera=camera, hour=hour, compliance=round(stocked, 4), slots=slots)
        messages.append(
            envelope(
                store.id,
                Kind.ROLLUP,
                f"{camera}:{hour.isoformat()}",
                body,
                at=hour + timedelta(hours=1),
            )
        )
        for quarter in range(4):
            at = hour + timedelta(minutes=15 * (quarter + 1))
            health = DeviceHealth(
                camera=camera, online=True, last_seen=at, inference_ms=round(rng.uniform(30, 45), 1)
            )
            messages.append(
                envelope(store.id, Kind.HEALTH, f"{camera}:{at.isoformat()}", health, at=at)
            )
    sales = HourlySales(hour=hour, lines=list(sold.values()))
    messages.append(
        envelope(store.id, Kind.SALES, hour.isoformat(), sales, at=hour + timedelta(hours=1))
    )
    return messages


def _run_slot(
    slot: Slot,
    start_min: float,
    weight: float,
    rng: random.Random,
    store: SimStore,
    events: list[Envelope],
    hour: datetime,
) -> tuple[dict[str, float], int]:
    """Minute by minute in 5-minute steps: sales deplete, an empty slot waits, restock."""
    minutes = {"stocked": 0.0, "low": 0.0, "empty": 0.0}
    units = 0
    for step in range(12):
        now = start_min + step * 5
        if slot.stock == 0:
            if slot.empty_since is None:
                slot.empty_since = now
                events.append(_event(store, slot, "gap_opened", "empty", hour, step))
            if now - slot.empty_since >= slot.restock_after_min:
                slot.stock, slot.empty_since = slot.capacity, None
                events.append(_event(store, slot, "restocked", "stocked", hour, step))
        demand = _poisson(rng, slot.per_hour * weight / 12)
        sold = min(demand, slot.stock)
        slot.stock -= sold
        units += sold
        status = "empty" if slot.stock == 0 else "low" if slot.stock < slot.facings else "stocked"
        minutes[status] += 5.0
    return minutes, units


def _event(
    store: SimStore, slot: Slot, kind: str, status: str, hour: datetime, step: int
) -> Envelope:
    at = hour + timedelta(minutes=5 * step)
    body = SlotEvent(
        camera=slot.camera,
        row=slot.row,
        slot=slot.slot,
        sku=slot.product.sku,
        brand=slot.product.brand,
        event=kind,
        status=status,
        at=at,
    )
    key = f"{slot.camera}:{slot.row}:{slot.slot}:{at.isoformat()}:{kind}"
    return envelope(store.id, Kind.EVENT, key, body, at=at)


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of one slot in five minutes."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def fleet_hours(
    stores: list[SimStore], start: datetime, hours: int, seed: int = 1
) -> Iterator[list[Envelope]]:
    """Each simulated hour's envelopes from the whole fleet, hour by hour; the first
    batch also carries every store's profile and products."""
    rng = random.Random(seed + 1)
    first = [m for s in stores for m in profile_and_products(s, start)]
    for h in range(hours):
        hour = start + timedelta(hours=h)
        batch = [m for s in stores for m in simulate_hour(s, hour, rng)]
        yield (first + batch) if h == 0 else batch

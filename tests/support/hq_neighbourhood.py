"""A head-office dataset for store guidance: a neighbourhood of stores with locations,
formats, overlapping ranges and known prices, written through the real `HqStore` and
analysed by the real Dask job (the same path as `hq_dataset`).

Seven convenience stores n1..n7 lie within about 1 km of each other; n8, a store with no
location, is in their region, and f1, far away in another region, sells the same.
- COLA sells everywhere at a known price per store: each of n1..n7 has six other
  stores within 3 km, so each gets a reference; n8 gets one from its region.
- LEMON sells in n1..n5 (and far-away f1) only: each has four others near it selling it, one short of
  the five the privacy rule asks for, so no reference exists for LEMON anywhere; KIBBLE
  sells in n1..n6: five others each, just enough.
- KIBBLE (pet food) sells 21 a week in n1..n6 but n7 does not stock it: n7's top
  add candidate, "sells 21 a week in 6 of 6 similar stores within 3 km".
- DUSTER sits on 4 facings in n1, always on the shelf and never sold: n1's delist
  candidate, whose space goes to the fastest seller there (nothing to add in n1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from edge.layout import with_check_digit
from gateway.hq import analytics
from gateway.hq.store import HqStore
from gateway.uplink.contract import (
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

FIRST_DAY = date(2026, 10, 26)
DAYS = 28
HOURS = (10, 15)


@dataclass(frozen=True)
class Item:
    sku: str
    brand: str
    name: str
    per_hour: float


COLA = Item("40063813339310", "Fizz", "Fizz Cola 1.5L", 2.0)
LEMON = Item("40063813339327", "Fizz", "Fizz Lemon 1.5L", 1.0)
KIBBLE = Item(with_check_digit("500000000002"), "Pawsome", "Pawsome Kibble 2kg", 1.5)
DUSTER = Item(with_check_digit("500000000003"), "Sparkle", "Sparkle Duster", 0.0)


@dataclass(frozen=True)
class Site:
    id: str
    lat: float | None
    lon: float | None
    region: str
    prices: dict[str, float]
    facings: dict[str, int] = field(default_factory=dict)


def _prices(cola: float, lemon: bool, kibble: bool) -> dict[str, float]:
    out = {COLA.sku: cola}
    if lemon:
        out[LEMON.sku] = 1.10
    if kibble:
        out[KIBBLE.sku] = 6.50
    return out


SITES = (
    Site("n1", 52.5200, 13.4050, "mitte", _prices(1.00, True, True), {DUSTER.sku: 4}),
    Site("n2", 52.5230, 13.4070, "mitte", _prices(1.10, True, True)),
    Site("n3", 52.5180, 13.4020, "mitte", _prices(1.20, True, True)),
    Site("n4", 52.5210, 13.4100, "mitte", _prices(1.30, True, True)),
    Site("n5", 52.5250, 13.4000, "mitte", _prices(1.40, True, True)),
    Site("n6", 52.5170, 13.4090, "mitte", _prices(1.50, False, True)),
    Site("n7", 52.5220, 13.4030, "mitte", _prices(1.60, False, False)),
    Site("n8", None, None, "mitte", _prices(1.35, False, False)),
    Site("f1", 48.1370, 11.5750, "muenchen", _prices(2.00, True, True)),
)
BY_SKU = {i.sku: i for i in (COLA, LEMON, KIBBLE, DUSTER)}


def cola_price(store: str) -> float:
    return next(s for s in SITES if s.id == store).prices[COLA.sku]


def _shelf(site: Site) -> dict[str, int]:
    """SKU -> facings on the store's one watched bay."""
    return {**{sku: 2 for sku in site.prices}, **site.facings}


def envelopes(ids: dict[str, str] | None = None) -> list[Envelope]:
    """Every message the stores send; `ids` renames stores (e.g. n7 to a gateway's s1)."""
    ids = ids or {}
    now = datetime.combine(FIRST_DAY + timedelta(days=DAYS), datetime.min.time(), UTC)
    out: list[Envelope] = []
    for plain in SITES:
        site = Site(
            ids.get(plain.id, plain.id),
            plain.lat,
            plain.lon,
            plain.region,
            plain.prices,
            plain.facings,
        )
        profile = StoreProfile(
            name=f"Shop {site.id}",
            chain="Kiez",
            format="convenience",
            region=site.region,
            lat=site.lat,
            lon=site.lon,
            currency="EUR",
        )
        out.append(
            envelope(site.id, Kind.PROFILE, "profile", profile, at=now - timedelta(days=DAYS))
        )
        shelf = _shelf(site)
        total = sum(shelf.values())
        facts = ProductFacts(
            camera="cam-1",
            layout_version="v1",
            products=[
                ShelfProduct(
                    camera="cam-1",
                    row=1,
                    slot=n + 1,
                    sku=sku,
                    brand=BY_SKU[sku].brand,
                    name=BY_SKU[sku].name,
                    facings=f,
                    shelf_level=1,
                    share_of_shelf=f / total,
                )
                for n, (sku, f) in enumerate(shelf.items())
            ],
        )
        out.append(
            envelope(site.id, Kind.PRODUCTS, "cam-1:v1", facts, at=now - timedelta(days=DAYS))
        )
        for day in range(DAYS):
            for hour in HOURS:
                at = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC)
                out.extend(_hour(site, shelf, at + timedelta(hours=hour)))
    return out


def _hour(site: Site, shelf: dict[str, int], at: datetime) -> list[Envelope]:
    slots = [
        SlotHour(
            row=1,
            slot=n + 1,
            sku=sku,
            brand=BY_SKU[sku].brand,
            facings=f,
            minutes={"stocked": 60.0},
        )
        for n, (sku, f) in enumerate(shelf.items())
    ]
    rollup = HourlyRollup(camera="cam-1", hour=at, compliance=1.0, slots=slots)
    lines = [
        SkuSales(sku=sku, units=BY_SKU[sku].per_hour, revenue=round(BY_SKU[sku].per_hour * p, 4))
        for sku, p in site.prices.items()
    ]
    sales = HourlySales(hour=at, lines=lines)
    return [
        envelope(site.id, Kind.ROLLUP, f"cam-1:{at.isoformat()}", rollup, at=at),
        envelope(site.id, Kind.SALES, at.isoformat(), sales, at=at),
    ]


def build(root: Path, ids: dict[str, str] | None = None) -> Path:
    """Write the dataset under `root` and run the analytics job; returns `root`."""
    store = HqStore(root)
    try:
        result = store.write(envelopes(ids))
        assert not result.rejected, result.rejected
    finally:
        store.close()
    analytics.refresh(root, analytics.EngineSettings(workers=1))
    return root

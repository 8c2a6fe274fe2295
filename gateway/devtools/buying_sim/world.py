"""The simulated world: stores, their neighbourhoods' demand, assortments, prices, suppliers.

Everything the policies are measured against is planted here, from one seed:
- areas a few km apart, each with its own price level and its own appetite per category
  (a few "dog food" neighbourhoods with several times the usual demand for one category);
- stores in those areas, of a format (kiosk, convenience, supermarket) that sets their
  traffic, shelf space and how many SKUs they carry;
- each store's expected demand per SKU (whether it stocks the SKU or not), spread over the
  week by the SKU's category's weekday x hour shape;
- an assortment per store: the SKUs its owner believes sell best (belief is noisy), with
  planted gaps: some high-demand SKUs deliberately not stocked, which the head office's
  "add" suggestions should find;
- selling prices: a planted area price per SKU times a little store noise;
- suppliers with their own pack sizes, pack prices, minimum order values, free-delivery
  thresholds, delivery fees, lead times and order days;
- shelf (facings x depth) plus backroom capacity per SKU.

The world is realistic rather than tuned: its parameters are the module's constants and
`WorldSettings`, not chosen to make a target pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from edge.layout import with_check_digit

START = date(2026, 3, 2)
"""The first simulated day (a Monday); the sales history lies before it."""
HOURS = 24
WEEKDAYS = 7

CITY = (52.52, 13.40)
KM_LAT = 1 / 111.0
"""Degrees of latitude per km (longitude is scaled by cos(latitude))."""

CATEGORIES: dict[str, tuple[str, float, float]] = {
    # category: (brand, base price, mean units a day of one SKU in a convenience store)
    "drinks": ("Fizz", 1.49, 4.0),
    "snacks": ("Crunch", 1.99, 2.5),
    "breakfast": ("Golden Oat", 3.49, 1.5),
    "household": ("Sparkle", 2.79, 1.2),
    "dog food": ("Pawsome", 4.29, 1.0),
    "baby": ("Tiny Steps", 5.49, 0.8),
}
PLANTED_CATEGORIES = ("dog food", "baby")
"""Categories some neighbourhoods want several times more of than the rest."""


@dataclass(frozen=True)
class Format:
    traffic: float  # demand multiple of a convenience store
    skus: int  # how many SKUs of the catalogue it carries
    backroom: float  # backroom space as a multiple of the shelf's
    share: float  # share of stores with this format


FORMATS: dict[str, Format] = {
    "kiosk": Format(traffic=0.5, skus=16, backroom=0.5, share=0.25),
    "convenience": Format(traffic=1.0, skus=22, backroom=1.0, share=0.5),
    "supermarket": Format(traffic=2.2, skus=28, backroom=2.0, share=0.25),
}

OPEN_HOURS = range(7, 22)
WEEKDAY_FACTOR = np.array([0.9, 0.9, 0.95, 1.0, 1.2, 1.35, 0.7])
"""Mon..Sun relative demand (Sunday: short hours)."""
HOUR_PEAKS: dict[str, tuple[float, float]] = {
    # category: (peak hour, spread in hours) of its daily demand
    "drinks": (17.0, 4.0),
    "snacks": (16.0, 4.0),
    "breakfast": (9.0, 3.0),
    "household": (13.0, 5.0),
    "dog food": (18.0, 3.0),
    "baby": (11.0, 4.0),
}


@dataclass(frozen=True)
class WorldSettings:
    """The knobs of a world; the defaults are the reference world."""

    stores: int = 50
    areas: int = 5
    area_spacing_km: float = 4.0
    store_spread_km: float = 1.0
    skus_per_category: int = 5
    planted_areas: int = 2
    """Neighbourhoods with several times the usual demand for one planted category."""
    planted_lift: float = 3.0
    gap_share: float = 0.35
    """Share of stores in a planted area that do not stock the planted category's best SKUs,
    and of all stores that miss one of their best SKUs elsewhere."""
    belief_noise: float = 0.25
    """Lognormal sigma of an owner's belief in a SKU's demand when choosing the assortment."""
    store_price_noise: float = 0.03
    """Lognormal sigma of a store's price around its area's planted price."""
    history_days: int = 28


@dataclass(frozen=True)
class Area:
    code: str
    lat: float
    lon: float
    price_level: float
    planted: str | None  # the category this neighbourhood wants several times more of


@dataclass(frozen=True)
class Store:
    id: str
    name: str
    area: int
    format: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Sku:
    gtin: str
    name: str
    category: str
    brand: str
    base_price: float
    base_cost: float


@dataclass(frozen=True)
class Offer:
    """What one supplier sells one SKU as."""

    pack_size: int
    pack_price: float

    @property
    def unit_cost(self) -> float:
        return self.pack_price / self.pack_size


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    min_order_value: float
    free_delivery_threshold: float
    delivery_fee: float
    lead_time_days: int
    order_weekdays: tuple[int, ...]  # Monday = 0
    offers: dict[int, Offer]  # SKU index -> offer

    def orders_on(self, day: date) -> bool:
        return day.weekday() in self.order_weekdays


@dataclass
class World:
    settings: WorldSettings
    seed: int
    areas: list[Area]
    stores: list[Store]
    skus: list[Sku]
    suppliers: list[Supplier]
    daily_demand: np.ndarray
    """(stores, skus) planted expected units a day, averaged over the week, stocked or not."""
    shape: np.ndarray
    """(skus, 7, 24) share of a week's demand per weekday and hour, times 7 (sums to 7)."""
    stocked: np.ndarray
    """(stores, skus) bool: the store's assortment."""
    planted_gap: np.ndarray
    """(stores, skus) bool: high-demand SKUs deliberately left out of the assortment."""
    area_price: np.ndarray
    """(areas, skus) the planted area selling price."""
    price: np.ndarray
    """(stores, skus) each store's selling price."""
    facings: np.ndarray
    shelf_capacity: np.ndarray
    capacity: np.ndarray
    """(stores, skus) shelf + backroom units (0 where not stocked)."""

    @property
    def start(self) -> date:
        return START

    def day(self, index: int) -> date:
        """The date of simulated day `index` (negative: the history before the start)."""
        return START + timedelta(days=index)

    def hourly_rate(self, day_index: int) -> np.ndarray:
        """(24, stores, skus) expected units per hour on that day, stocked or not."""
        weekday = self.day(day_index).weekday()
        return self.shape[:, weekday, :].T[:, None, :] * self.daily_demand[None, :, :]

    def unit_cost_floor(self) -> np.ndarray:
        """(skus,) the lowest unit cost any supplier offers: the stock valuation price."""
        return np.array(
            [
                min(s.offers[k].unit_cost for s in self.suppliers if k in s.offers)
                for k in range(len(self.skus))
            ]
        )

    def worth_adding(self, bar: str = "slowest") -> np.ndarray:
        """(stores, skus) bool: the truth "add" suggestions are scored against.

        A SKU is worth adding where the store does not stock it and its planted demand
        there beats the store's slowest stocked SKU (`bar="slowest"`: it earns a place on
        this shelf), or, stricter, is at least the median of its stocked SKUs
        (`bar="median"`). A world without planted gaps and with owners who know their
        demand (`belief_noise=0`) has no SKU worth adding.
        """
        if bar not in ("slowest", "median"):
            raise ValueError(f"bar must be 'slowest' or 'median', got {bar!r}")
        out = np.zeros_like(self.stocked)
        for s in range(len(self.stores)):
            stocked = self.daily_demand[s, self.stocked[s]]
            if stocked.size:
                line = stocked.min() if bar == "slowest" else np.median(stocked)
                out[s] = ~self.stocked[s] & (
                    self.daily_demand[s] > line
                    if bar == "slowest"
                    else self.daily_demand[s] >= line
                )
        return out


def build_world(settings: WorldSettings, seed: int) -> World:
    """The world of `seed`: the same seed and settings give the same world."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 23]))
    areas = _areas(settings, rng)
    stores = _stores(settings, areas, rng)
    skus = _skus(settings, rng)
    demand = _daily_demand(settings, areas, stores, skus, rng)
    stocked, gaps = _assortments(settings, areas, stores, skus, demand, rng)
    area_price, price = _prices(settings, areas, stores, skus, rng)
    facings, shelf, capacity = _capacity(stores, demand, stocked, rng)
    return World(
        settings=settings,
        seed=seed,
        areas=areas,
        stores=stores,
        skus=skus,
        suppliers=_suppliers(skus, rng),
        daily_demand=demand,
        shape=_shapes(skus),
        stocked=stocked,
        planted_gap=gaps,
        area_price=area_price,
        price=price,
        facings=facings,
        shelf_capacity=shelf,
        capacity=capacity,
    )


def _areas(settings: WorldSettings, rng: np.random.Generator) -> list[Area]:
    """Area centres on a ring around the city centre, `area_spacing_km` apart."""
    count = settings.areas
    radius = settings.area_spacing_km / (2 * np.sin(np.pi / count)) if count > 1 else 0.0
    planted = rng.choice(count, size=min(settings.planted_areas, count), replace=False)
    out = []
    for i in range(count):
        angle = 2 * np.pi * i / count
        lat = CITY[0] + radius * np.sin(angle) * KM_LAT
        lon = CITY[1] + radius * np.cos(angle) * KM_LAT / np.cos(np.radians(CITY[0]))
        which = list(planted).index(i) if i in planted else None
        out.append(
            Area(
                code=f"area-{i + 1}",
                lat=float(lat),
                lon=float(lon),
                price_level=float(rng.uniform(0.92, 1.10)),
                planted=PLANTED_CATEGORIES[which % len(PLANTED_CATEGORIES)]
                if which is not None
                else None,
            )
        )
    return out


def _stores(settings: WorldSettings, areas: list[Area], rng: np.random.Generator) -> list[Store]:
    names = list(FORMATS)
    shares = np.array([FORMATS[n].share for n in names])
    out = []
    for i in range(settings.stores):
        area = i % len(areas)
        distance = settings.store_spread_km * np.sqrt(rng.uniform())
        angle = rng.uniform(0, 2 * np.pi)
        lat = areas[area].lat + distance * np.sin(angle) * KM_LAT
        lon = areas[area].lon + distance * np.cos(angle) * KM_LAT / np.cos(np.radians(CITY[0]))
        fmt = str(rng.choice(names, p=shares / shares.sum()))
        out.append(
            Store(
                id=f"store-{i + 1:03d}",
                name=f"Sim {fmt} {i + 1}",
                area=area,
                format=fmt,
                lat=float(lat),
                lon=float(lon),
            )
        )
    return out


def _skus(settings: WorldSettings, rng: np.random.Generator) -> list[Sku]:
    out = []
    for c, (category, (brand, price, _)) in enumerate(CATEGORIES.items()):
        for i in range(settings.skus_per_category):
            base_price = round(price * float(rng.uniform(0.8, 1.25)), 2)
            out.append(
                Sku(
                    gtin=with_check_digit(f"4009{c:02d}{i:02d}0000"),
                    name=f"{brand} {category} {i + 1}",
                    category=category,
                    brand=brand,
                    base_price=base_price,
                    base_cost=round(base_price * float(rng.uniform(0.62, 0.72)), 4),
                )
            )
    return out


def _daily_demand(
    settings: WorldSettings,
    areas: list[Area],
    stores: list[Store],
    skus: list[Sku],
    rng: np.random.Generator,
) -> np.ndarray:
    """Units a day: SKU popularity x format traffic x the neighbourhood's and the store's
    appetite for the category (planted areas several times more for theirs)."""
    categories = list(CATEGORIES)
    popularity = np.array([CATEGORIES[s.category][2] * rng.lognormal(0.0, 0.6) for s in skus])
    area_taste = rng.lognormal(0.0, 0.2, size=(len(areas), len(categories)))
    for a, area in enumerate(areas):
        if area.planted:
            area_taste[a, categories.index(area.planted)] *= settings.planted_lift
    store_taste = rng.lognormal(0.0, 0.15, size=(len(stores), len(categories)))
    sku_category = np.array([categories.index(s.category) for s in skus])
    traffic = np.array([FORMATS[s.format].traffic for s in stores])
    store_area = np.array([s.area for s in stores])
    taste = area_taste[store_area][:, sku_category] * store_taste[:, sku_category]
    return traffic[:, None] * popularity[None, :] * taste


def _shapes(skus: list[Sku]) -> np.ndarray:
    """Each SKU's week: its category's hour-of-day bell over the open hours times the
    weekday factor, scaled so a week sums to 7 (a mean day sums to 1)."""
    hours = np.arange(HOURS, dtype=float)
    open_mask = np.isin(np.arange(HOURS), list(OPEN_HOURS))
    out = np.zeros((len(skus), WEEKDAYS, HOURS))
    for k, sku in enumerate(skus):
        peak, spread = HOUR_PEAKS[sku.category]
        day = np.exp(-0.5 * ((hours - peak) / spread) ** 2) * open_mask
        day = day / day.sum()
        out[k] = WEEKDAY_FACTOR[:, None] * day[None, :]
        out[k] *= 7.0 / out[k].sum()
    return out


def _assortments(
    settings: WorldSettings,
    areas: list[Area],
    stores: list[Store],
    skus: list[Sku],
    demand: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Each store stocks the SKUs its owner believes sell best, minus planted gaps.

    Gaps: in a planted area, `gap_share` of the stores do not stock the planted category's
    three best SKUs; elsewhere `gap_share` of the stores miss one of their five best SKUs.
    The freed places go to the next SKUs the owner believes in.
    """
    stocked = np.zeros(demand.shape, dtype=bool)
    gaps = np.zeros(demand.shape, dtype=bool)
    for s, store in enumerate(stores):
        belief = demand[s] * rng.lognormal(0.0, settings.belief_noise, size=len(skus))
        order = np.argsort(-belief)
        keep = min(FORMATS[store.format].skus, len(skus))
        planted = areas[store.area].planted
        left_out: set[int] = set()
        if rng.uniform() < settings.gap_share:
            if planted:
                ranked = [k for k in np.argsort(-demand[s]) if skus[k].category == planted]
                left_out.update(int(k) for k in ranked[:3])
            else:
                left_out.add(int(rng.choice(np.argsort(-demand[s])[:5])))
        chosen = [int(k) for k in order if int(k) not in left_out][:keep]
        stocked[s, chosen] = True
        gaps[s, list(left_out)] = True
    return stocked, gaps


def _prices(
    settings: WorldSettings,
    areas: list[Area],
    stores: list[Store],
    skus: list[Sku],
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Planted area price (base x area level x a little SKU-in-area noise) and each store's
    price around it, in cents."""
    base = np.array([s.base_price for s in skus])
    levels = np.array([a.price_level for a in areas])
    area_price = base[None, :] * levels[:, None] * rng.lognormal(0.0, 0.02, (len(areas), len(skus)))
    store_area = np.array([s.area for s in stores])
    noise = rng.lognormal(0.0, settings.store_price_noise, (len(stores), len(skus)))
    price = np.round(area_price[store_area] * noise, 2)
    return area_price, price


def _capacity(
    stores: list[Store], demand: np.ndarray, stocked: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Facings by expected demand (a planogram gives fast movers more), depth 4-8 units,
    backroom as the format allows; nothing for SKUs not stocked."""
    facings = np.clip(np.round(demand / 2.0) + 1, 1, 6).astype(int)
    depth = rng.integers(4, 9, size=demand.shape)
    shelf = facings * depth
    backroom = np.array([FORMATS[s.format].backroom for s in stores])[:, None]
    capacity = np.round(shelf * (1 + backroom)).astype(int)
    return facings * stocked, shelf * stocked, capacity * stocked


def _suppliers(skus: list[Sku], rng: np.random.Generator) -> list[Supplier]:
    """Three kinds of supplier, as a small shop meets them:

    - a wholesaler: everything, packs of 12, cheaper, minimum order and a high free-delivery
      threshold, ordered Mon/Wed/Fri for delivery two days later;
    - a local distributor: everything, packs of 6, list price, small fee, next day, Mon-Sat;
    - a brand's direct sales: only drinks, dog food and household, packs of 24, cheapest,
      a large minimum and threshold, ordered on Tuesdays, three days' lead time.
    """

    def offers(pack: int, factor: float, categories: tuple[str, ...] | None) -> dict[int, Offer]:
        out = {}
        for k, sku in enumerate(skus):
            if categories is None or sku.category in categories:
                unit = sku.base_cost * factor * float(rng.uniform(0.96, 1.04))
                out[k] = Offer(pack_size=pack, pack_price=round(unit * pack, 2))
        return out

    return [
        Supplier(
            id="wholesale",
            name="Metro-style wholesaler",
            min_order_value=150.0,
            free_delivery_threshold=400.0,
            delivery_fee=25.0,
            lead_time_days=2,
            order_weekdays=(0, 2, 4),
            offers=offers(12, 0.92, None),
        ),
        Supplier(
            id="distributor",
            name="Local distributor",
            min_order_value=0.0,
            free_delivery_threshold=120.0,
            delivery_fee=9.0,
            lead_time_days=1,
            order_weekdays=(0, 1, 2, 3, 4, 5),
            offers=offers(6, 1.0, None),
        ),
        Supplier(
            id="direct",
            name="Brand direct",
            min_order_value=250.0,
            free_delivery_threshold=600.0,
            delivery_fee=40.0,
            lead_time_days=3,
            order_weekdays=(1,),
            offers=offers(24, 0.86, ("drinks", "dog food", "household")),
        ),
    ]

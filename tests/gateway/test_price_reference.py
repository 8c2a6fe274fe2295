"""Nearby price reference on plain frames: who counts as nearby (haversine radius, or the
region for a store without a location), the five-store privacy minimum, the median and
range, and a brand's price spread. The API over a real dataset is
test_hq_guidance_api.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gateway.hq.nearby import haversine_km, neighbour_pairs
from gateway.hq.price_reference import (
    PriceReferenceSettings,
    brand_price_spread,
    nearby_prices,
)
from gateway.hq.store_sales import store_sku_sales

KM_NORTH = 1 / 111.195  # one km in degrees of latitude


def ring(count: int, *, km: float = 1.0, lat: float = 52.52, lon: float = 13.40) -> pd.DataFrame:
    """`count` stores: s0 at the centre, the rest `km` north of it in a column."""
    return pd.DataFrame(
        {
            "store": [f"s{i}" for i in range(count)],
            "lat": [lat + (km * KM_NORTH if i else 0.0) for i in range(count)],
            "lon": [lon + 0.0001 * i for i in range(count)],
            "region": ["mitte"] * count,
        }
    )


def priced(stores: list[str], price_of: dict[str, float], sku: str = "A") -> pd.DataFrame:
    return pd.DataFrame(
        {"store": stores, "sku": sku, "units": 10.0, "price": [price_of[s] for s in stores]}
    )


def test_haversine_matches_a_known_distance() -> None:
    berlin_munich = haversine_km(
        np.array([52.5200]), np.array([13.4050]), np.array([48.1351]), np.array([11.5820])
    )
    assert berlin_munich[0] == pytest.approx(504.2, abs=1.0)


def test_four_other_stores_show_nothing_five_show_a_reference() -> None:
    prices = {f"s{i}": 1.0 + 0.1 * i for i in range(6)}
    four = nearby_prices(priced([f"s{i}" for i in range(5)], prices), ring(5))
    assert four.empty  # every store has four others: no figure for anyone
    five = nearby_prices(priced([f"s{i}" for i in range(6)], prices), ring(6))
    s0 = five.set_index("store").loc["s0"]
    assert s0["stores"] == 5 and s0["basis"] == "radius" and s0["radius_km"] == 3.0
    others = [1.1, 1.2, 1.3, 1.4, 1.5]
    assert (s0["median"], s0["low"], s0["high"]) == pytest.approx((1.3, 1.1, 1.5))
    assert s0["diff_pct"] == pytest.approx((1.0 / 1.3 - 1) * 100)
    assert s0["price"] == 1.0 and 1.0 not in others  # its own price is not in the median


def test_stores_beyond_the_radius_do_not_count() -> None:
    profiles = ring(6, km=4.0)  # s1..s5 are 4 km from s0, close to each other
    prices = {f"s{i}": 1.0 for i in range(6)}
    table = nearby_prices(priced(list(prices), prices), profiles)
    assert "s0" not in set(table["store"])
    assert set(table["store"]) == set()  # s1..s5 see only four others each
    wide = nearby_prices(
        priced(list(prices), prices), profiles, PriceReferenceSettings(radius_km=5)
    )
    assert set(wide["store"]) == set(prices)


def test_a_store_without_a_location_uses_its_region() -> None:
    profiles = pd.concat(
        [
            ring(5, lat=48.14, lon=11.58),  # munich stores, region mitte on purpose
            pd.DataFrame({"store": ["x"], "lat": [None], "lon": [None], "region": ["mitte"]}),
            pd.DataFrame({"store": ["y"], "lat": [None], "lon": [None], "region": ["other"]}),
        ],
        ignore_index=True,
    )
    pairs = neighbour_pairs(profiles, 3.0)
    x = pairs[pairs["store"] == "x"]
    assert set(x["other"]) == {f"s{i}" for i in range(5)} and set(x["basis"]) == {"region"}
    assert math.isnan(x["distance_km"].iloc[0])
    assert pairs[pairs["store"] == "y"].empty
    prices = {**{f"s{i}": 2.0 for i in range(5)}, "x": 2.2, "y": 1.0}
    table = nearby_prices(priced(list(prices), prices), profiles).set_index("store")
    assert table.loc["x", "basis"] == "region" and table.loc["x", "stores"] == 5
    assert table.loc["x", "diff_pct"] == pytest.approx(10.0)
    assert math.isnan(table.loc["x", "radius_km"])


def test_prices_are_revenue_over_units_in_the_last_window() -> None:
    days = pd.date_range("2026-10-01", periods=40).strftime("%Y-%m-%d")
    rows = [
        {
            "store": "s0",
            "sku": "A",
            "day": d,
            "units": 2.0,
            "revenue": 2.0 * (9.0 if i < 12 else 1.5),
        }
        for i, d in enumerate(days)
    ]
    table = store_sku_sales(pd.DataFrame(rows), days=28)
    assert table.loc[0, "price"] == pytest.approx(1.5)  # the old price fell out of the window
    assert table.loc[0, "days"] == 28 and table.loc[0, "per_week"] == pytest.approx(14.0)


def test_a_brand_sees_the_spread_of_each_of_its_skus() -> None:
    rows = pd.concat(
        [
            priced(["a", "b", "c", "d"], {"a": 1.0, "b": 1.2, "c": 1.4, "d": 2.0}, "A"),
            priced(["a", "b"], {"a": 3.0, "b": 3.3}, "B"),
        ]
    )
    spread = brand_price_spread(rows).set_index("sku")
    assert spread.loc["A", "stores"] == 4 and spread.loc["A", "median"] == pytest.approx(1.3)
    assert spread.loc["A", "spread_pct"] == pytest.approx(100.0)
    assert spread.loc["B", "spread_pct"] == pytest.approx(10.0)

"""Which stores are a store's neighbours: within a radius, or the same region.

A store whose profile has a location (lat/lon) has as neighbours the other located
stores within `radius_km` by great-circle (haversine) distance. A store without a
location falls back to the other stores of its region code (any of them, located or
not); a store with neither has no neighbours. The result is a pair list (store, other,
distance_km, basis), never a matrix, so a chain of a million stores costs its pairs, not
its square: located stores are bucketed into a grid of `radius_km` cells and only the
3 x 3 cells around each store are measured.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = 111.195
"""Along a meridian: one degree of latitude, on the mean Earth radius."""

PAIR_COLUMNS = ["store", "other", "distance_km", "basis"]


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _located(profiles: pd.DataFrame) -> pd.DataFrame:
    has = profiles["lat"].notna() & profiles["lon"].notna()
    return profiles.loc[has, ["store", "lat", "lon"]].reset_index(drop=True)


def _radius_pairs(located: pd.DataFrame, radius_km: float) -> pd.DataFrame:
    """Every ordered pair of located stores within `radius_km` (grid, then haversine)."""
    if located.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    cell_lat = radius_km / KM_PER_DEGREE
    # a degree of longitude is shortest at the fleet's highest latitude: size cells there
    widest = float(np.cos(np.radians(min(89.0, located["lat"].abs().max()))))
    cell_lon = radius_km / (KM_PER_DEGREE * max(widest, 1e-6))
    grid = located.assign(
        gy=np.floor(located["lat"] / cell_lat).astype(int),
        gx=np.floor(located["lon"] / cell_lon).astype(int),
    )
    pairs = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = grid.assign(gy=grid["gy"] + dy, gx=grid["gx"] + dx)
            pairs.append(grid.merge(shifted, on=["gy", "gx"], suffixes=("", "_o")))
    near = pd.concat(pairs, ignore_index=True)
    near = near[near["store"] != near["store_o"]]
    distance = haversine_km(
        near["lat"].to_numpy(),
        near["lon"].to_numpy(),
        near["lat_o"].to_numpy(),
        near["lon_o"].to_numpy(),
    )
    near = near.assign(distance_km=distance)[distance <= radius_km]
    return pd.DataFrame(
        {
            "store": near["store"].to_numpy(),
            "other": near["store_o"].to_numpy(),
            "distance_km": near["distance_km"].to_numpy(),
            "basis": "radius",
        }
    )


def _region_pairs(profiles: pd.DataFrame) -> pd.DataFrame:
    """For each store without a location: every other store of its region."""
    unlocated = profiles[
        (profiles["lat"].isna() | profiles["lon"].isna()) & profiles["region"].notna()
    ]
    if unlocated.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    regions = profiles.loc[profiles["region"].notna(), ["store", "region"]]
    pairs = unlocated[["store", "region"]].merge(regions, on="region", suffixes=("", "_o"))
    pairs = pairs[pairs["store"] != pairs["store_o"]]
    return pd.DataFrame(
        {
            "store": pairs["store"].to_numpy(),
            "other": pairs["store_o"].to_numpy(),
            "distance_km": np.nan,
            "basis": "region",
        }
    )


def neighbour_pairs(profiles: pd.DataFrame, radius_km: float) -> pd.DataFrame:
    """(store, other, distance_km, basis) for every store's neighbours (see module doc);
    `basis` is "radius" (distance_km set) or "region" (distance_km NaN)."""
    if radius_km <= 0:
        raise ValueError(f"the radius must be positive, got {radius_km} km")
    if profiles.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    profiles = profiles.drop_duplicates("store")
    for column in ("lat", "lon"):
        profiles = profiles.assign(**{column: pd.to_numeric(profiles[column], errors="coerce")})
    profiles = profiles.assign(region=profiles["region"].where(profiles["region"].notna(), None))
    pairs = [
        p
        for p in (_radius_pairs(_located(profiles), radius_km), _region_pairs(profiles))
        if not p.empty
    ]
    if not pairs:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    return (
        pd.concat(pairs, ignore_index=True).sort_values(["store", "other"]).reset_index(drop=True)
    )

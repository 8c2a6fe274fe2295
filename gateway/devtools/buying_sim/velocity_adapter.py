"""The store's velocity model, fed from the simulation's hourly sales arrays.

A store gateway estimates each SKU's weekday x hour rates from its sales table
(`velocity.estimate_profile`, which buckets (time, units) pairs). The simulation already
holds its sales bucketed by day and hour, so it runs the same estimator's steps
(`weekday_exposure`, `store_rates`, `sku_rates`) on the counts directly: the same rates,
without turning a million hourly counts into datetime pairs first.

Like the store, the simulation sees only what sold: hours a shelf stood empty read as
slow hours (the velocity model does not yet take stock-outs out of the exposure).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np

from gateway.devtools.buying_sim.world import HOURS, WEEKDAYS, World
from gateway.retail.demand_forecast import dispersion_index
from gateway.retail.velocity import (
    VelocityProfile,
    profile_from_counts,
    store_rates,
    weekday_exposure,
)

WINDOW_DAYS = 28
TZ = ZoneInfo("UTC")


def weekday_counts(world: World, sales: np.ndarray, first_day: int) -> np.ndarray:
    """(7, 24, skus) units per weekday and hour; `sales` is (days, 24, skus), its row 0
    being simulated day `first_day`."""
    counts = np.zeros((WEEKDAYS, HOURS, sales.shape[2]))
    for i in range(sales.shape[0]):
        counts[world.day(first_day + i).weekday()] += sales[i]
    return counts


def store_profiles(
    world: World, store: int, sales: np.ndarray, upto_day: int
) -> dict[int, VelocityProfile]:
    """Each stocked SKU's profile from the last `WINDOW_DAYS` complete days up to and
    including simulated day `upto_day`; `sales` rows start at day -history_days."""
    history = world.settings.history_days
    end_row = history + upto_day + 1
    start_row = max(0, end_row - WINDOW_DAYS)
    window = sales[start_row:end_row]
    first_day = start_row - history
    counts = weekday_counts(world, window, first_day)
    exposure = weekday_exposure(world.day(first_day), world.day(upto_day + 1))
    store_counts = counts.sum(axis=2)
    traffic = store_rates(store_counts, exposure)
    return {
        int(k): profile_from_counts(
            world.stores[store].id,
            world.skus[k].gtin,
            counts[:, :, k],
            store_counts,
            tz=TZ,
            window_start=world.day(first_day),
            window_end=world.day(upto_day + 1),
            traffic=traffic,
        )
        for k in np.flatnonzero(world.stocked[store])
    }


def dispersion(profile: VelocityProfile, daily_units: np.ndarray) -> float | None:
    """The demand forecast's variance-to-mean ratio from the window's daily totals against
    what the profile expected on each of those days (`dispersion_index`)."""
    return dispersion_index(list(map(float, daily_units)), profile.expected_per_day())


def at_close(world: World, day: int) -> datetime:
    """The moment after closing on simulated day `day` (UTC, the simulation's clock)."""
    return datetime.combine(world.day(day), time(22), UTC)

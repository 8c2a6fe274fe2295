"""Sales velocity per SKU and store: expected units per hour by local weekday and hour.

The estimate must be sensible for slow movers (a few sales a day), whose raw hour x
weekday counts are mostly 0. It is a stack of empirical-Bayes shrinkage steps over the
last `window_days` complete local days (weekday 0 = Monday, hours in the store's time):

1. Store traffic: all units of the store per (weekday, hour), shrunk towards an hour-of-day
   profile times a weekday factor. Hours in which the store never sells stay at 0.
2. SKU prior: the SKU's share of the store's units spread over the store's traffic, so a
   product with 3 sales a day gets a non-zero rate in every open hour and 0 at night.
3. SKU profile: the prior is corrected for the SKU's own hour-of-day, then weekday, then
   hour x weekday counts; each correction is a Poisson-gamma posterior mean whose prior
   strength is estimated from the data (Marshall's global estimator), so a pattern the
   counts clearly show is kept and noise is pooled away. The result is rescaled so the
   window's expected total equals the units actually sold.

Returns (negative lines) are not demand and are left out. An SKU without sales in the
window has rate 0 everywhere (`basis` "none"). Stock-outs are not yet taken out of the
exposure, so a product often empty looks slower than its demand.

Pure computation on (time, units) pairs: the velocity queries read them from the sales
table, so the estimator is tested on synthetic histories whose true rates are known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np

from gateway.retail.demand_forecast import (
    DemandForecast,
    expected_units,
    forecast_demand,
    hour_segments,
)

HOURS = 24
WEEKDAYS = 7


# ---- pure estimation -----------------------------------------------------------------


def bucket_units(sales: Iterable[tuple[datetime, float]], tz: ZoneInfo) -> np.ndarray:
    """Units per (local weekday, local hour) from (aware time, units) pairs."""
    counts = np.zeros((WEEKDAYS, HOURS))
    for ts, units in sales:
        local = ts.astimezone(tz)
        counts[local.weekday(), local.hour] += units
    return counts


def weekday_exposure(start: date, end: date) -> np.ndarray:
    """How many of each weekday lie in the local dates [start, end)."""
    days = np.zeros(WEEKDAYS)
    total = max(0, (end - start).days)
    full_weeks, rest = divmod(total, 7)
    days += full_weeks
    for offset in range(rest):
        days[(start + timedelta(days=full_weeks * 7 + offset)).weekday()] += 1
    return days


def shrink(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Empirical-Bayes relative rates: observed/expected pulled towards their mean.

    Poisson counts O_i with expectation theta_i * E_i and a gamma prior on theta_i whose
    mean m and variance A come from the data (Marshall 1991): the posterior mean is
    (m^2 + A O_i) / (m + A E_i). A = 0 (the counts vary no more than Poisson noise) pools
    every group to m; a large A keeps each group's own ratio.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    used = expected > 0
    theta = np.ones_like(expected)
    if not used.any() or expected[used].sum() <= 0:
        return theta
    o, e = observed[used], expected[used]
    m = o.sum() / e.sum()
    if m <= 0:
        theta[used] = 0.0
        return theta
    s2 = float((e * (o / e - m) ** 2).sum() / e.sum())
    a = max(0.0, s2 - m / e.mean())
    theta[used] = (m * m + a * o) / (m + a * e)
    return theta


def store_rates(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Store units per hour by (weekday, hour), smoothed (step 1 of the module doc)."""
    days = exposure[:, None] * np.ones((1, HOURS))
    total_days = exposure.sum()
    if total_days <= 0 or counts.sum() <= 0:
        return np.zeros((WEEKDAYS, HOURS))
    hour_profile = counts.sum(axis=0) / total_days  # units per hour at each hour, all days
    day_volume = np.divide(counts.sum(axis=1), exposure, out=np.zeros(WEEKDAYS), where=exposure > 0)
    mean_day = counts.sum() / total_days
    # An unseen weekday (a window shorter than a week) takes the average day.
    day_factor = np.where(exposure > 0, day_volume / mean_day, 1.0)
    prior = day_factor[:, None] * hour_profile[None, :]
    theta = shrink(counts, prior * days)
    return prior * theta


def sku_rates(counts: np.ndarray, exposure: np.ndarray, store: np.ndarray) -> np.ndarray:
    """SKU units per hour by (weekday, hour) (steps 2 and 3 of the module doc)."""
    days = exposure[:, None] * np.ones((1, HOURS))
    units = counts.sum()
    store_expected = (store * days).sum()
    if units <= 0 or store_expected <= 0:
        return np.zeros((WEEKDAYS, HOURS))
    rates = store * (units / store_expected)
    # Hour of day, pooled over weekdays.
    hour_theta = shrink(counts.sum(axis=0), (rates * days).sum(axis=0))
    rates = rates * hour_theta[None, :]
    # Weekday, pooled over hours.
    day_theta = shrink(counts.sum(axis=1), (rates * days).sum(axis=1))
    rates = rates * day_theta[:, None]
    # Each hour of each weekday.
    rates = rates * shrink(counts, rates * days)
    expected = (rates * days).sum()
    return rates * (units / expected) if expected > 0 else rates


# ---- the profile ---------------------------------------------------------------------


@dataclass(frozen=True)
class VelocityProfile:
    """Expected units per hour of one SKU in one store, by local weekday and hour."""

    store: str
    sku: str
    timezone: str
    window_start: date
    window_end: date
    """Local dates [window_start, window_end): complete days only (today is not in it)."""
    units: int
    store_units: int
    rates: np.ndarray
    """(7, 24) units per hour; rates[weekday, hour], Monday = 0, local time."""

    @property
    def days(self) -> int:
        return max(0, (self.window_end - self.window_start).days)

    @property
    def daily_rate(self) -> float:
        """Units per day over the window."""
        return self.units / self.days if self.days else 0.0

    @property
    def basis(self) -> Literal["sku", "none"]:
        """'sku' when the SKU sold in the window, 'none' when its rates are all 0."""
        return "sku" if self.units > 0 else "none"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rate_at(self, at: datetime) -> float:
        """Expected units per hour at `at`."""
        local = at.astimezone(self.tz)
        return float(self.rates[local.weekday(), local.hour])

    def _segments(self, start: datetime, end: datetime) -> Iterable[tuple[float, float]]:
        """(hours, rate) pieces of [start, end), split at local hour boundaries."""
        return hour_segments(self.rates, self.tz, start, end)

    def expected_units(self, start: datetime, end: datetime) -> float:
        """Units expected to sell in [start, end)."""
        return expected_units(self.rates, self.tz, start, end)

    def expected_per_day(self) -> list[float]:
        """What the rates expect on each local day of the window, oldest first: the
        yardstick daily sales are measured against (`dispersion_index`)."""
        tz = self.tz
        days = [self.window_start + timedelta(days=k) for k in range(max(0, self.days))]
        return [
            self.expected_units(
                datetime.combine(day, time(0), tzinfo=tz),
                datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz),
            )
            for day in days
        ]

    def forecast(
        self, start: datetime, end: datetime, *, dispersion: float | None = None
    ) -> DemandForecast:
        """Mean and variance of the units sold in [start, end) (`demand_forecast`)."""
        return forecast_demand(self.rates, self.tz, start, end, dispersion=dispersion)

    def probability_no_sale(self, start: datetime, end: datetime) -> float:
        """Chance of not one sale in [start, end) if demand is as usual (Poisson)."""
        return math.exp(-self.expected_units(start, end))

    def expected_time_between_sales(self, at: datetime) -> timedelta | None:
        """Mean wait from `at` until the next sale, following the hourly rates.

        For a time-varying Poisson rate the mean wait is the integral of the chance of no
        sale so far, exp(-expected units). The rates repeat weekly, so integrating one week
        and dividing by (1 - chance of a week without a sale) is exact. None when nothing
        is expected to sell at all.
        """
        waited = 0.0  # hours, over the first week
        expected = 0.0
        for hours, rate in self._segments(at, at + timedelta(days=7)):
            if rate > 0:
                waited += math.exp(-expected) * -math.expm1(-rate * hours) / rate
            else:
                waited += math.exp(-expected) * hours
            expected += rate * hours
        if expected <= 0:
            return None
        return timedelta(hours=waited / -math.expm1(-expected))


def estimate_profile(
    store: str,
    sku: str,
    sku_sales: Iterable[tuple[datetime, float]],
    store_sales: Iterable[tuple[datetime, float]],
    *,
    tz: ZoneInfo,
    window_start: date,
    window_end: date,
) -> VelocityProfile:
    """The profile from sale (time, units) pairs already limited to the window."""
    return profile_from_counts(
        store,
        sku,
        bucket_units(sku_sales, tz),
        bucket_units(store_sales, tz),
        tz=tz,
        window_start=window_start,
        window_end=window_end,
    )


def profile_from_counts(
    store: str,
    sku: str,
    sku_counts: np.ndarray,
    store_counts: np.ndarray,
    *,
    tz: ZoneInfo,
    window_start: date,
    window_end: date,
    traffic: np.ndarray | None = None,
) -> VelocityProfile:
    """The profile from units already bucketed by (weekday, hour) over the window.

    `traffic` is `store_rates` of `store_counts`: a caller profiling many SKUs of one store
    computes it once and passes it in (the buying simulation does)."""
    exposure = weekday_exposure(window_start, window_end)
    if traffic is None:
        traffic = store_rates(store_counts, exposure)
    return VelocityProfile(
        store=store,
        sku=sku,
        timezone=tz.key,
        window_start=window_start,
        window_end=window_end,
        units=int(sku_counts.sum()),
        store_units=int(store_counts.sum()),
        rates=sku_rates(sku_counts, exposure, traffic),
    )

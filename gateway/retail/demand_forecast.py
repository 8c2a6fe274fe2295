"""Demand over a time window from weekday x hour rates: its mean and its variance.

The velocity model (`velocity`) gives expected units per hour by local weekday and hour.
Replenishment needs the demand over a whole protection period (lead time + review
period), starting at a given moment: the mean is the integral of the hourly rates over
the window, split at local hour boundaries (so a week-end or a closed night counts as
it really falls, daylight-saving changes included).

The variance is what sizes safety stock. Demand counted in units is rarely pure Poisson:
a customer buying 6 bottles at once makes daily totals vary more than their mean. The
index of dispersion (variance / mean of daily totals against their expected values,
`dispersion_index`) carries that over from history; without enough history the
forecast falls back to Poisson (variance = mean).

Pure computation, no I/O: the store's replenishment and the simulation use the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

MIN_DISPERSION_DAYS = 7
"""Fewer observed days than this and the variance of daily totals is too noisy to use."""


def hour_segments(
    rates: np.ndarray, tz: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[float, float]]:
    """(hours, units per hour) pieces of [start, end), split at local hour boundaries.

    `rates` is (7, 24): rates[weekday, hour], Monday = 0, in the local time of `tz`.
    """
    t = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while t < end:
        local = t.astimezone(tz)
        next_hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        next_hour += timedelta(hours=1)
        stop = min(next_hour, end)
        yield (stop - t).total_seconds() / 3600, float(rates[local.weekday(), local.hour])
        t = stop


def expected_units(rates: np.ndarray, tz: ZoneInfo, start: datetime, end: datetime) -> float:
    """Units expected to sell in [start, end) at these hourly rates."""
    return sum(hours * rate for hours, rate in hour_segments(rates, tz, start, end))


@dataclass(frozen=True)
class DemandForecast:
    """Demand of one SKU over [start, end): mean and variance in units."""

    start: datetime
    end: datetime
    mean: float
    variance: float
    dispersion: float
    """variance / mean used: 1.0 is Poisson (no history of variance)."""

    @property
    def sd(self) -> float:
        return math.sqrt(max(0.0, self.variance))

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)


def forecast_demand(
    rates: np.ndarray,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    dispersion: float | None = None,
) -> DemandForecast:
    """Mean and variance of the units sold in [start, end).

    `dispersion` is the variance-to-mean ratio of demand (`dispersion_index`); None means
    no history of variance, and the forecast is Poisson (variance = mean).
    """
    if end < start:
        raise ValueError(f"window ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    ratio = 1.0 if dispersion is None else dispersion
    if ratio < 0 or not math.isfinite(ratio):
        raise ValueError(f"dispersion must be a finite number >= 0, got {dispersion}")
    mean = expected_units(rates, tz, start, end)
    return DemandForecast(start=start, end=end, mean=mean, variance=mean * ratio, dispersion=ratio)


def dispersion_index(
    observed: Sequence[float], expected: Sequence[float], *, min_days: int = MIN_DISPERSION_DAYS
) -> float | None:
    """Variance-to-mean ratio of daily demand: sum((o - e)^2) / sum(e) over the days.

    `observed` are units sold per day, `expected` what the rates predicted for those days
    (so a busy Saturday is not mistaken for variance). Never below 1: an index under 1
    on a few weeks is more likely luck than a steadier-than-Poisson demand, and
    under-sizing safety stock costs lost sales. None with fewer than `min_days` days or no
    expected demand: the caller then uses Poisson.
    """
    if len(observed) != len(expected):
        raise ValueError(f"{len(observed)} observed days but {len(expected)} expected")
    if len(observed) < min_days:
        return None
    o = np.asarray(observed, dtype=float)
    e = np.asarray(expected, dtype=float)
    total = float(e.sum())
    if total <= 0:
        return None
    return max(1.0, float(((o - e) ** 2).sum() / total))

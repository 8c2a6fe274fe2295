"""Report buckets on the store's clock: its local hours and days.

A shop owner reads "Tuesday" as midnight to midnight where the shop is, not in UTC: a
store in Bangkok whose days were cut at UTC midnight would see each day start at 07:00.
So day buckets run from local midnight to local midnight (23 or 25 hours across a
daylight-saving change) and hour buckets start on the local hour (which differs from
the UTC hour where the offset has half hours, as in India).

Bucket bounds are UTC: Python subtracts and compares two datetimes of the same zone by
their wall clocks, so a 25-hour day would measure 24 hours and the repeated hour of a
daylight-saving change would sort as one. Reports turn the starts into the store's zone
only to show them.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal

Unit = Literal["hour", "day"]
HOUR = timedelta(hours=1)


def bucket_start(moment: datetime, unit: Unit, zone: tzinfo) -> datetime:
    """The start (UTC) of the local hour or day of `zone` that holds `moment`."""
    local = moment.astimezone(zone)
    if unit == "day":
        local = datetime.combine(local.date(), time(), tzinfo=zone)
    else:
        local = local.replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _next_start(start: datetime, unit: Unit, zone: tzinfo) -> datetime:
    if unit == "day":
        return bucket_start(start.astimezone(zone) + timedelta(days=1), unit, zone)
    # Hours step in real time: a daylight-saving change repeats or skips a local hour.
    return start + HOUR


def calendar_buckets(
    since: datetime, until: datetime, unit: Unit, zone: tzinfo, limit: int
) -> list[tuple[datetime, datetime]]:
    """[start, end) (UTC) of each local hour or day from the one holding `since` to
    `until` (the last one cut at `until`). Stops after `limit` + 1 buckets, so a caller can
    refuse a range that is too long without building all of it."""
    out: list[tuple[datetime, datetime]] = []
    start = bucket_start(since, unit, zone)
    while start < until and len(out) <= limit:
        end = _next_start(start, unit, zone)
        out.append((start, min(end, until.astimezone(UTC))))
        start = end
    return out


def bucket_index(starts: list[datetime], moment: datetime) -> int:
    """Index of the bucket holding `moment` (-1 before the first one)."""
    return bisect_right(starts, moment) - 1


def overlapping(starts: list[datetime], start: datetime, end: datetime) -> range:
    """Indices of the buckets (by their `starts`) that [start, end) can overlap: a span
    visits only its own buckets, not every bucket of the range."""
    first = max(bucket_index(starts, start), 0)
    return range(first, min(bucket_index(starts, end), len(starts) - 1) + 1)


__all__ = ["Unit", "bucket_index", "bucket_start", "calendar_buckets", "overlapping"]

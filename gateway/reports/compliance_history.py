"""Display compliance over time, per store, per camera (a camera watches one bay) and
per shelf row, in hourly or daily buckets.

A bucket's score is the compliance score (README: Display compliance) averaged over
time and weighted by facings: the credited facing-seconds over the expected
facing-seconds of the slots in scope. For one camera whose slots are all seen this is
the plain time average of its score; for a store it weights each bay by its facings,
as the store's score at any moment does. Buckets are the store's local hours or days
(`gateway.reports.calendar`), or the whole range; a bucket with no seen slot has no score
(None), never 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Literal

from edge.contract.compliance import CREDIT
from gateway.reports.calendar import calendar_buckets, overlapping
from gateway.reports.scope import ReportScope, ScopeError
from gateway.reports.slot_timeline import camera_timelines
from gateway.storage.connection import Database

Granularity = Literal["hour", "day", "total"]
"""`total` is one bucket over the whole range (e.g. today's score so far)."""
MAX_BUCKETS = 800
"""About a month of hours or two years of days: more is one request too many."""

SeriesKey = tuple[str, str | None, int | None]


@dataclass
class Series:
    """One line of the chart: a store, a camera of it, or one shelf row of a camera."""

    level: Literal["store", "camera", "row"]
    store: str
    camera: str | None
    row: int | None
    scores: list[float | None] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    """Share of the bucket's slot time that was seen (0..1): how much a score rests on."""

    @property
    def label(self) -> str:
        if self.camera is None:
            return self.store
        if self.row is None:
            return f"{self.store}/{self.camera}"
        return f"{self.store}/{self.camera} row {self.row}"


@dataclass
class ComplianceHistory:
    granularity: Granularity
    starts: list[datetime]
    series: list[Series]


def _cuts(
    scope: ReportScope, granularity: Granularity, zone: tzinfo
) -> list[tuple[datetime, datetime]]:
    """The buckets of the range: local hours or days from the one holding `since`."""
    if granularity == "total":
        return [(scope.since, scope.until)]
    cuts = calendar_buckets(scope.since, scope.until, granularity, zone, MAX_BUCKETS)
    if len(cuts) > MAX_BUCKETS:
        raise ScopeError(
            f"too many {granularity} buckets from since to until: at most {MAX_BUCKETS}"
            " (use day, or a shorter range)"
        )
    return cuts


def compliance_history(
    db: Database,
    scope: ReportScope,
    granularity: Granularity = "hour",
    now: datetime | None = None,
    zone: tzinfo = UTC,
) -> ComplianceHistory:
    """The series of every store, camera and row in scope over the scope's range, in
    buckets of the store's time `zone`."""
    now = now or datetime.now(UTC)
    cuts = _cuts(scope, granularity, zone)
    starts = [start for start, _ in cuts]
    origin = starts[0]
    aligned = ReportScope(origin, scope.until, scope.store, scope.brand, scope.category)
    credited: dict[SeriesKey, list[float]] = defaultdict(lambda: [0.0] * len(cuts))
    expected: dict[SeriesKey, list[float]] = defaultdict(lambda: [0.0] * len(cuts))
    seen: dict[SeriesKey, list[float]] = defaultdict(lambda: [0.0] * len(cuts))
    slots_of: dict[SeriesKey, int] = defaultdict(int)
    for timeline in camera_timelines(db, aligned, now):
        for row in timeline.layout.rows:
            for _slot in row.slots:
                for key in _keys(timeline.store, timeline.camera, row.index):
                    slots_of[key] += 1
        for span in timeline.spans:
            if span.effective is None:
                continue
            facings = spec.facings if (spec := timeline.slot(span.row, span.slot)) else 1
            for i in overlapping(starts, span.start, span.end):
                seconds = span.overlap(*cuts[i])
                for key in _keys(timeline.store, timeline.camera, span.row):
                    credited[key][i] += CREDIT[span.effective] * facings * seconds
                    expected[key][i] += facings * seconds
                    seen[key][i] += seconds
    series = []
    for key in sorted(slots_of, key=_order):
        store, camera, row = key
        level = "store" if camera is None else "camera" if row is None else "row"
        done = expected.get(key, [0.0] * len(cuts))
        got = credited.get(key, [0.0] * len(cuts))
        series.append(
            Series(
                level=level,
                store=store,
                camera=camera,
                row=row,
                scores=[round(c / e, 4) if e else None for c, e in zip(got, done, strict=True)],
                coverage=[
                    round(s / (slots_of[key] * (end - start).total_seconds()), 4)
                    for s, (start, end) in zip(seen.get(key, [0.0] * len(cuts)), cuts, strict=True)
                ],
            )
        )
    return ComplianceHistory(granularity, [t.astimezone(zone) for t in starts], series)


def _keys(store: str, camera: str, row: int) -> tuple[SeriesKey, ...]:
    return ((store, None, None), (store, camera, None), (store, camera, row))


def _order(key: SeriesKey) -> tuple[str, str, int]:
    store, camera, row = key
    return (store, camera or "", -1 if row is None else row)

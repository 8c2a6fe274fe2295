"""Where displays fail: the slots that spent most time non-compliant, and each
violation (a run of one failing state in one slot) with its evidence.

Non-compliant means a status the compliance score credits nothing for: empty, wrong
product, messy (an occluded slot counts as it was last seen). A low slot is half
credited, so it is reported as its own column, not as a violation. The evidence of a
violation is the shelf events the camera sent for that slot while it lasted (what the
camera said, and when).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edge.contract.messages import SlotStatus
from gateway.reports.scope import ReportScope
from gateway.reports.slot_timeline import CameraTimeline, SlotSpan, camera_timelines
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

FAILING = (SlotStatus.EMPTY, SlotStatus.WRONG_PRODUCT, SlotStatus.MESSY)
MAX_EVIDENCE = 20
"""Events shown per violation (the count says how many there were)."""


@dataclass
class SlotTally:
    """One slot's time by kind of state over the range."""

    store: str
    camera: str
    row: int
    slot: int
    sku: str | None
    name: str | None
    brand: str | None
    seen_minutes: float = 0.0
    failing_minutes: float = 0.0
    low_minutes: float = 0.0
    minutes_by_status: dict[str, float] = field(default_factory=dict)

    @property
    def failing_share(self) -> float | None:
        return round(self.failing_minutes / self.seen_minutes, 4) if self.seen_minutes else None


@dataclass
class Violation:
    store: str
    camera: str
    row: int
    slot: int
    sku: str | None
    name: str | None
    brand: str | None
    status: SlotStatus
    start: datetime
    end: datetime | None
    """None while it lasts."""
    minutes: float
    events: list[dict[str, Any]]
    event_count: int


def worst_slots(
    db: Database, scope: ReportScope, limit: int = 20, now: datetime | None = None
) -> list[SlotTally]:
    """Slots in scope by failing minutes, most first (slots never failing are left out)."""
    tallies = []
    for timeline in camera_timelines(db, scope, now or datetime.now(UTC)):
        by_slot: dict[tuple[int, int], SlotTally] = {}
        for span in timeline.spans:
            tally = by_slot.get((span.row, span.slot))
            if tally is None:
                tally = by_slot[(span.row, span.slot)] = _tally(timeline, span)
            _add(tally, span)
        tallies.extend(t for t in by_slot.values() if t.failing_minutes > 0)
    tallies.sort(key=lambda t: (-t.failing_minutes, t.store, t.camera, t.row, t.slot))
    return tallies[:limit]


def _tally(timeline: CameraTimeline, span: SlotSpan) -> SlotTally:
    spec = timeline.slot(span.row, span.slot)
    return SlotTally(
        store=timeline.store,
        camera=timeline.camera,
        row=span.row,
        slot=span.slot,
        sku=spec.sku if spec else span.sku,
        name=spec.name if spec else None,
        brand=spec.brand if spec else None,
    )


def _add(tally: SlotTally, span: SlotSpan) -> None:
    minutes = span.seconds / 60
    label = span.status.value
    tally.minutes_by_status[label] = round(tally.minutes_by_status.get(label, 0.0) + minutes, 2)
    if span.effective is None:
        return
    tally.seen_minutes = round(tally.seen_minutes + minutes, 2)
    if span.effective in FAILING:
        tally.failing_minutes = round(tally.failing_minutes + minutes, 2)
    elif span.effective == SlotStatus.LOW:
        tally.low_minutes = round(tally.low_minutes + minutes, 2)


def violations(
    db: Database,
    scope: ReportScope,
    *,
    min_minutes: float = 0.0,
    limit: int = 100,
    now: datetime | None = None,
) -> list[Violation]:
    """Failing runs in scope, longest first, each with the slot's events during it."""
    now = now or datetime.now(UTC)
    found: list[Violation] = []
    for timeline in camera_timelines(db, scope, now):
        runs = _runs(timeline, min(scope.until, now))
        if not runs:
            continue
        events = _slot_events(db, timeline, scope)
        for run in runs:
            if run.minutes < min_minutes:
                continue
            end = run.end or now
            during = [
                e
                for e in events[(run.row, run.slot)]
                if run.start <= datetime.fromisoformat(e["ts"]) <= end
            ]
            run.event_count = len(during)
            run.events = during[:MAX_EVIDENCE]
            found.append(run)
    found.sort(key=lambda v: (-v.minutes, v.start))
    return found[:limit]


def _runs(timeline: CameraTimeline, range_end: datetime) -> list[Violation]:
    """Consecutive spans of one slot in the same failing state, merged into one run."""
    runs: list[Violation] = []
    current: dict[tuple[int, int], Violation] = {}
    for span in sorted(timeline.spans, key=lambda s: (s.row, s.slot, s.start)):
        key = (span.row, span.slot)
        run = current.get(key)
        if span.effective in FAILING:
            if run is not None and run.status == span.effective and run.end == span.start:
                run.end = span.end
                run.minutes = round((span.end - run.start).total_seconds() / 60, 2)
                continue
            spec = timeline.slot(span.row, span.slot)
            run = Violation(
                store=timeline.store,
                camera=timeline.camera,
                row=span.row,
                slot=span.slot,
                sku=spec.sku if spec else span.sku,
                name=spec.name if spec else None,
                brand=spec.brand if spec else None,
                status=span.effective,
                start=span.start,
                end=span.end,
                minutes=round(span.seconds / 60, 2),
                events=[],
                event_count=0,
            )
            current[key] = run
            runs.append(run)
        else:
            current.pop(key, None)
    for run in runs:
        if run.end == range_end:
            run.end = None  # still failing when the range (or now) ends
    return runs


def _slot_events(
    db: Database, timeline: CameraTimeline, scope: ReportScope
) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """The camera's slot events in the range, by slot, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            "SELECT payload FROM events WHERE store = ? AND camera = ? AND ts >= ? AND ts <= ?"
            " AND row IS NOT NULL AND slot IS NOT NULL ORDER BY ts",
            (timeline.store, timeline.camera, db_time(scope.since), db_time(scope.until)),
        ).fetchall()
    by_slot: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        event = json.loads(r["payload"])
        by_slot[(event["row"], event["slot"])].append(
            {
                "id": event["id"],
                "ts": event["ts"],
                "type": event["type"],
                "status": event.get("status"),
                "previous": event.get("previous"),
                "confidence": event.get("confidence"),
            }
        )
    return by_slot

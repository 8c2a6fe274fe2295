"""The slot change log (`slot_states`) as time spans, the base of every shelf report.

A change-log row holds until the slot's next row, so a slot's history in a time range is
a list of spans: the state it was in when the range began, then each change, the last
one lasting until the end of the range (or now, when sooner). An occluded span counts
as the slot was last seen (`edge.contract.compliance.effective_status`), exactly as the
compliance score does, so reports and the score agree.

Only the camera's current layout is stored, so reports read past states through it: a
slot that was re-assigned keeps its history under its new product.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from edge.contract.compliance import effective_status
from edge.contract.messages import SlotStatus
from edge.layout import Layout, SlotSpec
from gateway.reports.scope import ReportScope
from gateway.storage.connection import Database
from gateway.storage.sql import db_time

SlotKey = tuple[int, int]


@dataclass(frozen=True)
class SlotSpan:
    """One slot in one state from `start` to `end`."""

    row: int
    slot: int
    sku: str | None
    status: SlotStatus
    effective: SlotStatus | None
    """What counts for compliance: occluded reads as last seen; None: does not count."""
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def overlap(self, start: datetime, end: datetime) -> float:
        """Seconds of this span inside [start, end)."""
        return max(0.0, (min(self.end, end) - max(self.start, start)).total_seconds())


@dataclass
class CameraTimeline:
    """A camera's layout (narrowed to the scope) and its slots' spans in the range."""

    store: str
    camera: str
    layout: Layout
    spans: list[SlotSpan] = field(default_factory=list)
    rows_top_down: list[int] = field(default_factory=list)
    """Row indexes of the whole layout from the top shelf down (for placement)."""
    shelf_facings: int = 0
    """Facings of every slot of the camera in the scope's category, any brand (share
    of shelf is a brand's facings over these)."""

    def slot(self, row: int, slot: int) -> SlotSpec | None:
        for spec_row in self.layout.rows:
            if spec_row.index == row:
                for spec in spec_row.slots:
                    if spec.index == slot:
                        return spec
        return None

    def row_count(self) -> int:
        return len(self.layout.rows)


def product_categories(conn: sqlite3.Connection) -> dict[str, str | None]:
    """GTIN -> category from the catalogue."""
    return {r["gtin"]: r["category"] for r in conn.execute("SELECT gtin, category FROM products")}


def _history_rows(
    conn: sqlite3.Connection, store: str, camera: str, since: str, until: str
) -> list[sqlite3.Row]:
    """Each slot's last row before `since`, its last seen (not occluded) row before
    `since`, then every row in [since, until), in time order."""
    return conn.execute(
        "SELECT row, slot, sku, status, ts, id FROM slot_states WHERE id IN ("
        "  SELECT max(id) FROM slot_states WHERE store = ?1 AND camera = ?2 AND ts < ?3"
        "  GROUP BY row, slot"
        "  UNION SELECT max(id) FROM slot_states WHERE store = ?1 AND camera = ?2 AND ts < ?3"
        "  AND status != 'occluded' GROUP BY row, slot)"
        " OR (store = ?1 AND camera = ?2 AND ts >= ?3 AND ts < ?4)"
        " ORDER BY ts, id",
        (store, camera, since, until),
    ).fetchall()


def _spans(rows: Iterable[sqlite3.Row], since: datetime, until: datetime) -> Iterator[SlotSpan]:
    """Spans clipped to [since, until) from change-log rows in time order."""
    seen: dict[SlotKey, SlotStatus] = {}
    open_: dict[SlotKey, tuple[str | None, SlotStatus, datetime]] = {}
    for r in rows:
        key = (r["row"], r["slot"])
        status = SlotStatus(r["status"])
        at = max(datetime.fromisoformat(r["ts"]), since)
        if key in open_:
            yield _span(key, open_[key], at, seen.get(key))
        open_[key] = (r["sku"], status, at)
        if status != SlotStatus.OCCLUDED:
            seen[key] = status
    for key, opened in open_.items():
        yield _span(key, opened, until, seen.get(key))


def _span(
    key: SlotKey,
    opened: tuple[str | None, SlotStatus, datetime],
    end: datetime,
    held: SlotStatus | None,
) -> SlotSpan:
    sku, status, start = opened
    return SlotSpan(key[0], key[1], sku, status, effective_status(status, held), start, end)


def camera_timelines(db: Database, scope: ReportScope, now: datetime) -> list[CameraTimeline]:
    """Every camera with a layout in the scope's store, its slots narrowed to the scope
    (brand, category) and their spans over [since, min(until, now))."""
    until = min(scope.until, now)
    timelines = []
    with db.read() as conn:
        categories = product_categories(conn)
        layouts = conn.execute(
            "SELECT store, camera, layout FROM layouts ORDER BY store, camera"
        ).fetchall()
        for record in layouts:
            if not scope.sees_store(record["store"]):
                continue
            whole = Layout.model_validate(json.loads(record["layout"]))
            layout = scope.narrow(whole, categories)
            if not layout.rows:
                continue
            any_brand = ReportScope(scope.since, scope.until, category=scope.category)
            timeline = CameraTimeline(
                record["store"],
                record["camera"],
                layout,
                rows_top_down=[r.index for r in sorted(whole.rows, key=lambda r: r.y0)],
                shelf_facings=sum(
                    s.facings for _, s, _ in any_brand.narrow(whole, categories).slot_boxes()
                ),
            )
            if until > scope.since:
                wanted = {(row.index, s.index) for row, s, _ in layout.slot_boxes()}
                rows = _history_rows(
                    conn, timeline.store, timeline.camera, db_time(scope.since), db_time(until)
                )
                timeline.spans = [
                    s
                    for s in _spans(rows, scope.since, until)
                    if (s.row, s.slot) in wanted and s.seconds > 0
                ]
            timelines.append(timeline)
    return timelines

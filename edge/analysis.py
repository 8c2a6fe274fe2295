"""Detections -> slot states for the node's layout, and slot transitions -> events.

Two parts on purpose: `analyse()` is a pure function of (layout, detections, settings) for
one frame, easy to test and to replace; `SlotTracker` holds what must persist between
frames (the confirmed status of each slot, since when) and emits one event per confirmed
transition. Later stages (temporal smoothing, occlusion, wrong-product checks) slot in
between the two without changing either interface.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from edge.contract.messages import (
    Detection,
    EventType,
    ShelfEvent,
    SlotReading,
    SlotStatus,
    utc_now,
)
from edge.layout import Layout
from edge.settings import AnalysisSettings

GAP_LABEL = "gap"
MESSY_LABEL = "messy"

Box = tuple[float, float, float, float]


def _clip(box: Box, to: Box) -> Box | None:
    x0, y0 = max(box[0], to[0]), max(box[1], to[1])
    x1, y1 = min(box[2], to[2]), min(box[3], to[3])
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def union_area(rects: Sequence[Box]) -> float:
    """Exact area covered by axis-aligned rectangles (overlaps counted once).

    Sweeps the vertical strips between distinct x edges and merges the y-intervals in
    each; a slot meets a handful of boxes, so the simple O(n² log n) form is plenty.
    """
    if not rects:
        return 0.0
    xs = sorted({x for r in rects for x in (r[0], r[2])})
    total = 0.0
    for left, right in itertools.pairwise(xs):
        spans = sorted((r[1], r[3]) for r in rects if r[0] <= left and r[2] >= right)
        covered, end = 0.0, float("-inf")
        for y0, y1 in spans:
            if y1 <= end:
                continue
            covered += y1 - max(y0, end)
            end = y1
        total += covered * (right - left)
    return total


@dataclass(frozen=True)
class SlotCoverage:
    """How much of one slot the gap and messy boxes cover, and how sure they are."""

    gap_fraction: float
    gap_score: float  # area-weighted mean score of the gap boxes over the slot
    messy_fraction: float
    messy_score: float


ScoredBoxes = dict[str, list[tuple[Box, float]]]


def boxes_by_label(detections: Iterable[Detection]) -> ScoredBoxes:
    """The gap and the messy boxes with their scores, gathered once per frame rather
    than once per slot (the per-frame work around the model is budgeted)."""
    parts: ScoredBoxes = {GAP_LABEL: [], MESSY_LABEL: []}
    for det in detections:
        if det.label in parts:
            parts[det.label].append((det.box, det.score))
    return parts


def _cover(slot_box: Box, slot_area: float, items: list[tuple[Box, float]]) -> tuple[float, float]:
    """(covered fraction, area-weighted mean score) of `items` over one slot."""
    pieces = [(piece, score) for box, score in items if (piece := _clip(box, slot_box))]
    if not pieces or slot_area <= 0:
        return 0.0, 0.0
    fraction = min(1.0, union_area([b for b, _ in pieces]) / slot_area)
    weights = [_area(b) for b, _ in pieces]
    score = sum(w * s for w, (_, s) in zip(weights, pieces, strict=True)) / sum(weights)
    return fraction, score


def coverage(slot_box: Box, parts: ScoredBoxes) -> SlotCoverage:
    """Share of `slot_box` covered by gap boxes and by messy boxes (`boxes_by_label`)."""
    slot_area = _area(slot_box)
    gap_fraction, gap_score = _cover(slot_box, slot_area, parts[GAP_LABEL])
    messy_fraction, messy_score = _cover(slot_box, slot_area, parts[MESSY_LABEL])
    return SlotCoverage(gap_fraction, gap_score, messy_fraction, messy_score)


NO_COVERAGE = SlotCoverage(0.0, 0.0, 0.0, 0.0)


def in_band(parts: ScoredBoxes, y0: float, y1: float) -> ScoredBoxes:
    """Only the boxes that reach into the horizontal band y0..y1 (one shelf row): each
    slot of the row then clips a few boxes instead of every box in the frame."""
    return {
        label: [item for item in items if item[0][1] < y1 and item[0][3] > y0]
        for label, items in parts.items()
    }


def classify(cov: SlotCoverage, settings: AnalysisSettings) -> tuple[SlotStatus, float]:
    """One slot's status and confidence: empty > messy > low > stocked.

    A messy slot still holds product, so "empty" wins over it; "messy" wins over "low"
    because tidying is what staff must do first there (the simulator's truth agrees).
    """
    if cov.gap_fraction >= settings.empty_fraction:
        return SlotStatus.EMPTY, cov.gap_score
    if cov.messy_fraction >= settings.messy_fraction:
        return SlotStatus.MESSY, cov.messy_score
    if cov.gap_fraction >= settings.low_fraction:
        return SlotStatus.LOW, cov.gap_score
    # Stocked: as sure as the detector was that the bits of gap it saw are not a gap.
    doubt = cov.gap_score * (
        cov.gap_fraction / settings.low_fraction if settings.low_fraction else 0
    )
    return SlotStatus.STOCKED, max(0.0, 1.0 - doubt)


def analyse(
    layout: Layout | None, detections: Sequence[Detection], settings: AnalysisSettings
) -> list[SlotReading]:
    """Per-slot readings for one frame; no layout means no slots."""
    if layout is None:
        return []
    readings = []
    parts = boxes_by_label(detections)
    for row in layout.rows:
        row_parts = in_band(parts, row.y0, row.y1)
        bare = not any(row_parts.values())  # nothing found on this shelf: skip the clipping
        for slot in row.slots:
            box = (slot.x0, row.y0, slot.x1, row.y1)
            cov = NO_COVERAGE if bare else coverage(box, row_parts)
            status, confidence = classify(cov, settings)
            readings.append(
                SlotReading(
                    row=row.index,
                    slot=slot.index,
                    sku=slot.sku,
                    status=status,
                    confidence=round(min(1.0, max(0.0, confidence)), 4),
                    gap_fraction=round(cov.gap_fraction, 4),
                )
            )
    return readings


def transition_event(previous: SlotStatus | None, status: SlotStatus) -> EventType | None:
    """The event a confirmed change from `previous` to `status` is worth; None for none.

    `previous` is None the first time a slot is seen: a shelf that is already empty when
    the node starts is news, one that is stocked is not.
    """
    if previous == status:
        return None
    if status == SlotStatus.EMPTY:
        return EventType.GAP_OPENED
    if status == SlotStatus.WRONG_PRODUCT:
        return EventType.WRONG_PRODUCT
    if previous == SlotStatus.EMPTY:
        return EventType.GAP_CLOSED
    if status == SlotStatus.LOW:
        return EventType.LOW_STOCK
    if status == SlotStatus.MESSY:
        return EventType.MESSY
    if status == SlotStatus.STOCKED:
        if previous == SlotStatus.LOW:
            return EventType.RESTOCKED
        return None if previous is None else EventType.STATUS_CHANGED
    return EventType.STATUS_CHANGED if previous is not None else None


def transition_events(previous: SlotStatus | None, status: SlotStatus) -> list[EventType]:
    """Every event a confirmed change is worth: a gap filled with the wrong product (or
    left messy) closed the gap *and* needs fixing, so it is two events."""
    kind = transition_event(previous, status)
    if kind is None:
        return []
    if previous == SlotStatus.EMPTY and status in (SlotStatus.WRONG_PRODUCT, SlotStatus.MESSY):
        return [EventType.GAP_CLOSED, EventType.MESSY if status == SlotStatus.MESSY else kind]
    return [kind]


@dataclass
class _Track:
    status: SlotStatus
    since: datetime
    candidate: SlotStatus | None = None
    candidate_frames: int = 0
    candidate_since: datetime | None = None
    misplaced: bool = False
    """A wrong product was confirmed and the slot has not since been seen with its own
    product or empty: messy frames in between are the same misplacement."""


ENDS_MISPLACEMENT = frozenset({SlotStatus.STOCKED, SlotStatus.LOW, SlotStatus.EMPTY})


class SlotTracker:
    """Confirmed status per slot, and one event per confirmed change.

    Temporal smoothing: a new status replaces the confirmed one once it has been seen in
    `confirm_frames` visible frames in a row, or (when `confirm_s` is set) for
    `confirm_s` seconds, whichever comes first. An occluded frame neither confirms nor
    breaks a run: the slot keeps its confirmed status (published as `occluded` with
    `held_status`), so a shopper standing in front never opens a gap, and a change that
    happened behind them is reported once they have gone.

    One misplacement, one `wrong_product` event: a wrong product seen again after messy
    frames (not after the slot's own product or an empty slot) is the same episode, so
    that change is a `status_changed`.
    """

    def __init__(
        self,
        store: str,
        camera: str,
        confirm_frames: int = 2,
        confirm_s: float | None = None,
    ) -> None:
        self.store = store
        self.camera = camera
        self.confirm_frames = confirm_frames
        self.confirm_s = confirm_s
        self._tracks: dict[tuple[int, int], _Track] = {}

    def reset(self) -> None:
        """Forget every slot (the layout changed, so slot numbers mean other products)."""
        self._tracks.clear()

    def confirmed(self, row: int, slot: int) -> SlotStatus | None:
        """The confirmed status of a slot; None before it was first seen."""
        track = self._tracks.get((row, slot))
        return track.status if track else None

    def _confirms(self, track: _Track, status: SlotStatus, now: datetime) -> bool:
        """Count one more visible frame showing `status`; True once it is confirmed."""
        if status == track.candidate:
            track.candidate_frames += 1
        else:
            track.candidate, track.candidate_frames, track.candidate_since = status, 1, now
        if track.candidate_frames >= self.confirm_frames:
            return True
        since = track.candidate_since or now
        return self.confirm_s is not None and (now - since).total_seconds() >= self.confirm_s

    def update(
        self,
        readings: Sequence[SlotReading],
        now: datetime | None = None,
        hold: Collection[tuple[int, int]] = (),
    ) -> tuple[list[SlotReading], list[ShelfEvent]]:
        """Smoothed readings (status held until a change is confirmed) and new events.

        Slots in `hold` (partly hidden: their reading may show only part of them) keep
        their confirmed status this frame, like occluded ones, but are not called occluded.
        """
        now = now or utc_now()
        smoothed: list[SlotReading] = []
        events: list[ShelfEvent] = []
        seen = set()
        for reading in readings:
            key = (reading.row, reading.slot)
            seen.add(key)
            track = self._tracks.get(key)
            if reading.status == SlotStatus.OCCLUDED:
                smoothed.append(self._occluded(reading, track))
                continue
            if key in hold and track is not None:
                smoothed.append(
                    reading.model_copy(update={"status": track.status, "since": track.since})
                )
                continue
            previous: SlotStatus | None = None
            if track is None:
                track = self._tracks[key] = _Track(reading.status, now)
                changed = True
            elif reading.status == track.status:
                track.candidate, track.candidate_frames, track.candidate_since = None, 0, None
                changed = False
            else:
                changed = self._confirms(track, reading.status, now)
                if changed:
                    previous = track.status
                    track.status, track.since = reading.status, now
                    track.candidate, track.candidate_frames, track.candidate_since = None, 0, None
            if changed:
                kinds = transition_events(previous, track.status)
                if track.misplaced and track.status == SlotStatus.WRONG_PRODUCT:
                    kinds = [EventType.STATUS_CHANGED]  # one episode, one wrong_product event
                if track.status == SlotStatus.WRONG_PRODUCT:
                    track.misplaced = True
                elif track.status in ENDS_MISPLACEMENT:
                    track.misplaced = False
                events.extend(self._events(reading, previous, track.status, now, kinds))
            # An unconfirmed change keeps reporting the confirmed status. model_copy: the
            # values were validated when `reading` was built, and a copy costs about half
            # of building one again (model_construct costs twice as much).
            smoothed.append(
                reading.model_copy(update={"status": track.status, "since": track.since})
            )
        for key in set(self._tracks) - seen:
            del self._tracks[key]
        return smoothed, events

    @staticmethod
    def _occluded(reading: SlotReading, track: _Track | None) -> SlotReading:
        if track is None:
            return reading
        return reading.model_copy(update={"held_status": track.status, "since": track.since})

    def _events(
        self,
        reading: SlotReading,
        previous: SlotStatus | None,
        status: SlotStatus,
        now: datetime,
        kinds: list[EventType],
    ) -> list[ShelfEvent]:
        detail: dict[str, float | str] = {"gap_fraction": reading.gap_fraction}
        if reading.appearance is not None:
            detail["appearance"] = reading.appearance
        if reading.looks_like_sku is not None and status == SlotStatus.WRONG_PRODUCT:
            detail["looks_like_sku"] = reading.looks_like_sku
        return [
            ShelfEvent(
                store=self.store,
                camera=self.camera,
                ts=now,
                type=kind,
                row=reading.row,
                slot=reading.slot,
                sku=reading.sku,
                previous=previous,
                status=status,
                confidence=reading.confidence,
                detail=detail,
            )
            for kind in kinds
        ]

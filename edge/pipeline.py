"""The per-frame shelf stages after the detector, and the state they keep between frames.

    detections -> slot readings (edge.analysis.analyse)
               -> occluded where something stands in front (edge.motion)
               -> wrong_product / messy where the look departs from the reference
                  (edge.appearance; only slots the detector shows holding product)
               -> smoothing and events (edge.analysis.SlotTracker)
               -> compliance score (edge.contract.compliance)

The node runs one `ShelfPipeline` per camera; `shelf-gateway simulate` runs the same one
through `CameraNode.process`. Everything here is cheap next to the detector: the motion
gate works on a 160-pixel-wide copy, appearance on small crops of facings (see
`StageTiming`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from edge.analysis import SlotTracker, analyse, boxes_by_label, coverage
from edge.appearance import FramePlanes, ReferenceBook, Verdict
from edge.contract.compliance import Compliance, of_readings
from edge.contract.messages import Detection, ShelfEvent, SlotReading, SlotStatus
from edge.layout import Layout
from edge.motion import MotionGate, MotionResult, PersonDetector, empty_result
from edge.settings import NodeSettings

log = logging.getLogger(__name__)

FACING_GAP_MAX = 0.2
"""A facing more covered by gap boxes than this is compared by colour only, on what the
gap boxes leave (a narrower product than planned leaves gaps beside it)..."""
FACING_PARTLY_EMPTY = 0.6
"""... and one more covered than this shows too little product to compare."""
FACING_MOTION_MAX = 0.05
"""A facing with more changed pixels than this is being touched: not compared."""
PARTLY_HIDDEN = 0.05
"""A slot this much covered by what stands in front (but less than occluded) shows only
part of itself: it keeps its status this frame."""


@dataclass
class StageTiming:
    """Milliseconds each stage took on the last frame (the detector is timed apart)."""

    analysis_ms: float = 0.0
    motion_ms: float = 0.0
    appearance_ms: float = 0.0
    tracking_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.analysis_ms + self.motion_ms + self.appearance_ms + self.tracking_ms


@dataclass
class FrameResult:
    """What one frame adds up to: the smoothed slots, new events and the score."""

    slots: list[SlotReading]
    events: list[ShelfEvent]
    compliance: Compliance | None
    occluded: bool
    motion: MotionResult
    timing: StageTiming = field(default_factory=StageTiming)

    @property
    def score(self) -> float | None:
        return self.compliance.score if self.compliance else None


class ShelfPipeline:
    """One camera's slot analysis; `set_layout()` when the gateway sends another layout."""

    def __init__(
        self,
        settings: NodeSettings,
        layout: Layout | None = None,
        person_detector: PersonDetector | None = None,
    ) -> None:
        self.settings = settings
        occlusion = settings.occlusion
        self.gate = MotionGate(occlusion, person_detector) if occlusion.enabled else None
        self.tracker = SlotTracker(
            settings.store,
            settings.camera,
            confirm_frames=settings.analysis.confirm_frames,
            confirm_s=settings.analysis.confirm_s,
        )
        self.layout: Layout | None = None
        self.book: ReferenceBook | None = None
        self._start: datetime | None = None
        self._saved_learned = 0
        self.set_layout(layout)

    # ---- layout and references -------------------------------------------------------

    def set_layout(self, layout: Layout | None) -> None:
        """Use another layout: slot numbers mean other products now, so the tracker and
        the references start again (references saved for this version are read back)."""
        self.layout = layout
        slots = layout.slot_boxes() if layout else []
        self._slot_boxes = {(r.index, s.index): box for r, s, box in slots}
        self._skus = {(r.index, s.index): s.sku for r, s, _ in slots}
        self.tracker.reset()
        self.book = None
        self._saved_learned = 0
        a = self.settings.appearance
        if layout is None or not a.enabled:
            return
        self.book = ReferenceBook(
            layout,
            learn_frames=a.learn_frames,
            colour_threshold=a.colour_threshold,
            structure_threshold=a.structure_threshold,
            adapt=a.adapt,
        )
        path = self._references_path()
        if path is not None and self.book.load(path):
            log.info("product references of layout %s read from %s", layout.version, path)

    def _references_path(self) -> Path | None:
        if self.settings.state_dir is None or self.layout is None:
            return None
        return Path(self.settings.state_dir) / f"references-{self.layout.version}.npz"

    def _save_references(self) -> None:
        """Save once more facings have been learned (rarely: learning ends early on)."""
        path = self._references_path()
        if path is None or self.book is None:
            return
        learned = sum(self.book.learned(key) for key in self._slot_keys())
        if learned > self._saved_learned:
            try:
                self.book.save(path)
                self._saved_learned = learned
            except OSError as error:
                log.warning("cannot save product references to %s: %s", path, error)

    def _slot_keys(self) -> list[tuple[int, int]]:
        return list(self._slot_boxes)

    # ---- one frame -------------------------------------------------------------------

    def process(self, frame: np.ndarray, detections: list[Detection], now: datetime) -> FrameResult:
        """Run every stage on one BGR frame and the detector's boxes for it."""
        timing = StageTiming()
        started = time.perf_counter()
        readings = analyse(self.layout, detections, self.settings.analysis)
        timing.analysis_ms = _ms_since(started)

        started = time.perf_counter()
        motion = self._motion(frame, now)
        readings = [self._occlusion(r, motion) for r in readings]
        hold = self._partly_hidden(readings, motion)
        timing.motion_ms = _ms_since(started)

        started = time.perf_counter()
        readings = self._appearance(frame, readings, detections, motion)
        timing.appearance_ms = _ms_since(started)

        started = time.perf_counter()
        slots, events = self.tracker.update(readings, now, hold=hold)
        result = of_readings(self.layout, slots) if self.layout is not None else None
        timing.tracking_ms = _ms_since(started)
        return FrameResult(slots, events, result, motion.anything_in_front, motion, timing)

    def _motion(self, frame: np.ndarray, now: datetime) -> MotionResult:
        if self.gate is None:
            return empty_result()
        if self._start is None:
            self._start = now
        rows = [(r.y0, r.y1) for r in self.layout.rows] if self.layout else []
        return self.gate.update(frame, (now - self._start).total_seconds(), rows)

    def _occlusion(self, reading: SlotReading, motion: MotionResult) -> SlotReading:
        """A slot mostly hidden by what stands in front reads `occluded`."""
        if self.gate is None or self.layout is None or not motion.people:
            return reading
        share = motion.share(self._box(reading))
        if share < self.settings.occlusion.occluded_fraction:
            return reading
        return _with(reading, status=SlotStatus.OCCLUDED, confidence=round(share, 4))

    def _partly_hidden(
        self, readings: list[SlotReading], motion: MotionResult
    ) -> set[tuple[int, int]]:
        """Slots something in front covers a little: what shows of them is not all."""
        if not motion.people:
            return set()
        return {
            (r.row, r.slot)
            for r in readings
            if r.status != SlotStatus.OCCLUDED and motion.share(self._box(r)) >= PARTLY_HIDDEN
        }

    def _box(self, reading: SlotReading) -> tuple[float, float, float, float]:
        return self._slot_boxes[(reading.row, reading.slot)]

    def _appearance(
        self,
        frame: np.ndarray,
        readings: list[SlotReading],
        detections: list[Detection],
        motion: MotionResult,
    ) -> list[SlotReading]:
        """Compare the look of slots the detector shows holding product (stocked, low)
        with their references; other statuses are left as they are."""
        if self.book is None:
            return readings
        candidates = [r for r in readings if r.status in (SlotStatus.STOCKED, SlotStatus.LOW)]
        if not candidates:
            return readings
        planes = FramePlanes.of(frame, ignore=motion.moving | motion.in_front)
        gaps = [d for d in detections if d.label == "gap"]
        gap_boxes = boxes_by_label(gaps)
        # References are learned only from frames known to be clear: the gate has a
        # background to compare with and nothing stands in front anywhere.
        learn = motion.ready and not motion.people
        verdicts: dict[tuple[int, int], Verdict] = {}
        for reading in candidates:
            key = (reading.row, reading.slot)
            usable, partial = [], {}
            for f, box in enumerate(self.book.facings(key)):
                if motion.share(box, "moving") > FACING_MOTION_MAX:
                    continue
                empty = coverage(box, gap_boxes).gap_fraction
                if empty <= FACING_GAP_MAX:
                    usable.append(f)
                elif empty <= FACING_PARTLY_EMPTY:
                    partial[f] = [d.box for d in gaps]
            verdict = self.book.check(planes, key, usable, partial=partial, learn=learn)
            if verdict is not None:
                verdicts[key] = verdict
        self._save_references()
        judged = {(r.row, r.slot) for r in candidates}
        return [
            self._judged(r, verdicts.get((r.row, r.slot))) if (r.row, r.slot) in judged else r
            for r in readings
        ]

    def _judged(self, reading: SlotReading, verdict: Verdict | None) -> SlotReading:
        """A stocked or low reading with the appearance verdict applied, read against
        what the slot was doing.

        Staff put a wrong product in while filling a slot: a slot that departs from its
        reference while it fills up (confirmed empty, now showing product; confirmed
        low, now stocked) holds a wrong product, and keeps it until its colours clearly
        match again. A slot that departs otherwise is disordered (a unit turned, a stray
        one left) unless it now clearly shows another slot's product. Before anything is
        confirmed, the look alone decides. When nothing could be compared this frame
        (facings hidden by gap boxes or motion), a wrong product or a mess the
        references found stands.
        """
        key = (reading.row, reading.slot)
        confirmed = self.tracker.confirmed(*key)
        if verdict is None:
            assert self.book is not None
            if confirmed in _FOUND_BY_LOOK and self.book.learned(key):
                return _with(reading, status=confirmed)
            return reading
        update: dict[str, object] = {"appearance": round(verdict.colour, 4)}
        if confirmed == SlotStatus.WRONG_PRODUCT:
            # Hysteresis: colours near the threshold do not flip a wrong product back.
            threshold = self.settings.appearance.colour_threshold
            wrong = verdict.colour < threshold + WRONG_HYSTERESIS
            departs = wrong or verdict.departs
        else:
            departs = verdict.departs
            if not departs:
                wrong = False
            elif _refilling(confirmed, reading.status):
                wrong = True
            elif confirmed is None:
                wrong = verdict.likely_wrong
            else:
                wrong = verdict.looks_like is not None
        if departs:
            update |= self._departure(verdict, wrong)
        return _with(reading, **update)

    def _departure(self, verdict: Verdict, wrong: bool) -> dict[str, object]:
        """The status, confidence (and the SKU it looks like) of a slot that departs."""
        if not wrong:
            score = min(verdict.colour, verdict.structure)
            return {"status": SlotStatus.MESSY, "confidence": round(min(1.0, 1.3 - score), 4)}
        update: dict[str, object] = {
            "status": SlotStatus.WRONG_PRODUCT,
            "confidence": round(min(1.0, 1.5 - verdict.colour), 4),
        }
        if verdict.looks_like is not None:
            update["looks_like_sku"] = self._skus.get(verdict.looks_like)
        return update


WRONG_HYSTERESIS = 0.05
"""A wrong product is right again only when its colours match this much above the
threshold (colours near it would flip the status, an event each time)."""
_FOUND_BY_LOOK = (SlotStatus.WRONG_PRODUCT, SlotStatus.MESSY)
"""Statuses the references can find, which stand while nothing can be compared."""


def _refilling(confirmed: SlotStatus | None, now: SlotStatus) -> bool:
    """Is the slot filling up: confirmed empty and now showing product, or confirmed low
    and now stocked?"""
    if confirmed == SlotStatus.EMPTY:
        return now in (SlotStatus.LOW, SlotStatus.STOCKED)
    return confirmed == SlotStatus.LOW and now == SlotStatus.STOCKED


def _with(reading: SlotReading, **update: object) -> SlotReading:
    """A copy of a reading (validated when built; this runs per slot per frame)."""
    return reading.model_copy(update=update)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1e3

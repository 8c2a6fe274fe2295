"""Tiles and a region of interest: the detector looks closer where small gaps hide.

A shelf is watched every few seconds, not at video rate, so the node can afford several
detector runs a frame. Shrinking a whole 1280 px frame into a 320 px input turns a 40 px
gap into a 10 px one, under what a stride-8 head resolves; a 2x2 grid of tiles keeps it
at 20 px. Each tile is letterboxed as a frame of its own, its boxes are mapped back to the
frame, and the tiles' boxes are merged by class-wise NMS (a gap cut by a tile edge is
found in the neighbouring, overlapping tile too).

The region of interest is the layout's rows: the part of the frame above the top shelf
and below the bottom one holds no slot, so the tiles cover the rows alone.

A model must be trained on tiles for this to pay (see `shelf-model tile-dataset`):
measured on the shipped from-scratch model, naive 2x2 tiles lost precision (0.76 ->
0.51) because it had never seen zoomed crops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.detector import Detection, OnnxDetector, Timing
from edge.postprocess import RawDetections, class_wise_nms


@dataclass(frozen=True)
class Window:
    """A rectangle of the frame, normalised 0..1 (x0, y0) inclusive to (x1, y1)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def pixels(self, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
        """The window in whole pixels of a frame, at least one pixel each way."""
        x0, y0 = int(self.x0 * frame_w), int(self.y0 * frame_h)
        x1 = max(x0 + 1, round(self.x1 * frame_w))
        y1 = max(y0 + 1, round(self.y1 * frame_h))
        return x0, y0, min(x1, frame_w), min(y1, frame_h)


FULL_FRAME = Window(0.0, 0.0, 1.0, 1.0)


def tile_windows(cols: int, rows: int, overlap: float, region: Window = FULL_FRAME) -> list[Window]:
    """`cols` x `rows` windows covering `region`, neighbours overlapping by `overlap` of a
    tile's side, row by row from the top left."""
    if cols < 1 or rows < 1:
        raise ValueError(f"tiles must be at least 1x1, got {cols}x{rows}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    return [
        Window(x0, y0, x1, y1)
        for y0, y1 in _spans(region.y0, region.y1, rows, overlap)
        for x0, x1 in _spans(region.x0, region.x1, cols, overlap)
    ]


def _spans(start: float, end: float, count: int, overlap: float) -> list[tuple[float, float]]:
    """`count` equal spans over [start, end], each overlapping the next by `overlap`."""
    length = end - start
    size = length / (count - (count - 1) * overlap)
    step = size * (1.0 - overlap)
    spans = [(start + i * step, start + i * step + size) for i in range(count)]
    last_start = spans[-1][0]
    spans[-1] = (last_start, end)  # no rounding gap at the far edge
    return spans


def rows_region(rows: Sequence[tuple[float, float]], margin: float = 0.05) -> Window:
    """The band of the frame holding the layout's rows, given each row's (y0, y1), widened
    by `margin` of the frame so a gap box reaching above its shelf is still seen whole."""
    if not rows:
        return FULL_FRAME
    top = max(0.0, min(y0 for y0, _ in rows) - margin)
    bottom = min(1.0, max(y1 for _, y1 in rows) + margin)
    return Window(0.0, top, 1.0, bottom)


def to_frame(found: RawDetections, window: Window) -> RawDetections:
    """Boxes normalised to a window, normalised to the whole frame instead."""
    scale = np.array((window.x1 - window.x0, window.y1 - window.y0) * 2, dtype=np.float32)
    offset = np.array((window.x0, window.y0) * 2, dtype=np.float32)
    return RawDetections(found.boxes * scale + offset, found.scores, found.classes)


def merge(parts: Sequence[RawDetections], iou: float, max_det: int = 300) -> RawDetections:
    """One set of boxes from overlapping windows: class-wise NMS over all of them."""
    if not parts:
        return RawDetections(
            np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64)
        )
    boxes = np.concatenate([p.boxes for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    classes = np.concatenate([p.classes for p in parts])
    keep = class_wise_nms(boxes, scores, classes, iou, max_det)
    return RawDetections(boxes[keep], scores[keep], classes[keep])


class TiledDetector:
    """The detector contract (`detect(frame) -> boxes`) over tiles of a region.

    Wraps one `OnnxDetector` (one session, its buffers reused for every tile) and keeps
    its thresholds; `set_rows` narrows the region to the layout's rows when configured.
    """

    def __init__(
        self,
        detector: OnnxDetector,
        *,
        cols: int,
        rows: int,
        overlap: float = 0.15,
        full_frame: bool = False,
        rows_only: bool = False,
    ) -> None:
        self.detector = detector
        self.cols, self.rows, self.overlap = cols, rows, overlap
        self.full_frame = full_frame
        self.rows_only = rows_only
        self.region = FULL_FRAME
        self.windows = tile_windows(cols, rows, overlap)
        self.name = detector.name
        self.names = detector.names
        self.timing = Timing()
        # What a source should decode a photo to: big enough that no tile is upscaled
        # (a tile spans 1 / (n - (n - 1) * overlap) of the frame).
        self.input_w = round(detector.input_w * (cols - (cols - 1) * overlap))
        self.input_h = round(detector.input_h * (rows - (rows - 1) * overlap))

    def set_rows(self, rows: Sequence[tuple[float, float]]) -> None:
        """Cover only the layout's rows (each row's y0, y1), if `rows_only` is on."""
        if self.rows_only:
            self.region = rows_region(rows)
            self.windows = tile_windows(self.cols, self.rows, self.overlap, self.region)

    def detect_raw(self, frame_bgr: np.ndarray) -> RawDetections:
        frame_h, frame_w = frame_bgr.shape[:2]
        windows = [*self.windows, FULL_FRAME] if self.full_frame else self.windows
        parts, pre, infer, post = [], 0.0, 0.0, 0.0
        for window in windows:
            x0, y0, x1, y1 = window.pixels(frame_w, frame_h)
            found = self.detector.detect_raw(frame_bgr[y0:y1, x0:x1])
            exact = Window(x0 / frame_w, y0 / frame_h, x1 / frame_w, y1 / frame_h)
            parts.append(to_frame(found, exact))
            t = self.detector.timing
            pre, infer, post = (
                pre + t.preprocess_ms,
                infer + t.inference_ms,
                post + t.postprocess_ms,
            )
        merged = merge(parts, self.detector.iou, self.detector.max_det)
        self.timing = Timing(pre, infer, post)
        return merged

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        return self.detector.detections(self.detect_raw(frame_bgr))

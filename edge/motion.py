"""The motion gate: what stands in front of the shelf, so its slots keep their status.

Frigate's recipe, made to tell a shopper from a sold-out slot. Each frame is shrunk to a
small grey image and compared with a background model; changed pixels form regions. A
product taken or put back changes pixels inside one shelf row, so a region no taller than
a row is a shelf change: it joins the background at once and the detector judges the
slot. A region taller than a row is something in front (a shopper, a trolley): its
pixels stay out of the background while it stays, so a shopper who stands still is still
seen, and the slots it covers are occluded. Something in front for longer than
`absorb_s` becomes part of the scene. A brightness change of the whole frame (lights)
is divided out first, and a change of most of the frame (camera moved) re-learns the
background instead of hiding every slot.

OpenCV's HOG people detector (bundled with OpenCV, no download) runs only on frames that
have motion, and also marks people whose motion region is broken up or short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.settings import OcclusionSettings

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class MotionResult:
    """One frame's verdict, on the gate's small grid (`shape`)."""

    in_front: np.ndarray  # uint8 0/1: something in front of the shelf
    moving: np.ndarray  # uint8 0/1: every changed pixel (in front or on the shelf)
    people: list[Box] = field(default_factory=list)  # in-front boxes, normalised
    changed_fraction: float = 0.0
    relearned: bool = False
    ready: bool = True  # False until the gate has a background to compare with
    _sums: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.in_front.shape[:2]  # type: ignore[return-value]

    @property
    def anything_in_front(self) -> bool:
        return bool(self.people)

    def _integral(self, name: str) -> np.ndarray:
        table = self._sums.get(name)
        if table is None:
            table = cv2.integral(getattr(self, name))
            self._sums[name] = table
        return table

    def share(self, box: Box, what: str = "in_front") -> float:
        """Share of the normalised `box` covered by `what` ("in_front" or "moving")."""
        h, w = self.shape
        x0, x1 = int(box[0] * w), max(int(box[0] * w) + 1, round(box[2] * w))
        y0, y1 = int(box[1] * h), max(int(box[1] * h) + 1, round(box[3] * h))
        x0, x1, y0, y1 = max(0, x0), min(w, x1), max(0, y0), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            return 0.0
        t = self._integral(what)
        total = int(t[y1, x1]) - int(t[y0, x1]) - int(t[y1, x0]) + int(t[y0, x0])
        return total / ((x1 - x0) * (y1 - y0))


def empty_result(shape: tuple[int, int] = (1, 1), *, ready: bool = True) -> MotionResult:
    """Nothing in front, nothing moving: the gate is off (`ready`), or has just started
    and cannot tell yet (not `ready`)."""
    zeros = np.zeros(shape, np.uint8)
    return MotionResult(zeros, zeros, ready=ready)


class PersonDetector:
    """OpenCV's bundled HOG + linear SVM pedestrian detector on a 320-pixel-wide copy."""

    WIDTH = 320

    def __init__(self) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, frame_bgr: np.ndarray) -> list[Box]:
        """Normalised boxes of upright people; a person must be at least 128 pixels tall
        in the 320-wide copy (about half the frame): the shoppers that hide a shelf."""
        h, w = frame_bgr.shape[:2]
        scale = self.WIDTH / w
        small = cv2.resize(frame_bgr, (self.WIDTH, max(1, int(h * scale))))
        if small.shape[0] < 128:
            return []
        rects, weights = self._hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=1.1
        )
        sh, sw = small.shape[:2]
        boxes = []
        for (x, y, bw, bh), weight in zip(rects, np.ravel(weights), strict=False):
            if float(weight) > 0.5:
                boxes.append((x / sw, y / sh, (x + bw) / sw, (y + bh) / sh))
        return boxes


def _whole_frame(box: Box) -> bool:
    """A changed region spanning the whole frame both ways is no person (two shoppers
    side by side can span nine tenths of it)."""
    return box[2] - box[0] >= 0.97 and box[3] - box[1] >= 0.97


def _below(part: np.ndarray, person: np.ndarray) -> bool:
    """Is a region (connected-component stats) below a person, mostly within their columns?"""
    x, y, w = int(part[0]), int(part[1]), int(part[2])
    px, py, pw = int(person[0]), int(person[1]), int(person[2])
    overlap = min(x + w, px + pw) - max(x, px)
    return y > py and overlap >= 0.5 * w


def _fill_columns(mask: np.ndarray) -> np.ndarray:
    """Each column filled from its first to its last marked pixel."""
    marked = mask.any(axis=0)
    if not marked.any():
        return mask
    h = mask.shape[0]
    top = np.argmax(mask, axis=0)
    bottom = h - 1 - np.argmax(mask[::-1], axis=0)
    ys = np.arange(h)[:, None]
    return ((ys >= top) & (ys <= bottom) & marked).astype(np.uint8)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """A person is solid: parts of a shirt that match the shelf behind it are in front too.

    Closes small gaps, then floods the outside from a one-pixel frame around the mask;
    whatever the flood cannot reach is enclosed, hence filled.
    """
    closed = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    padded = cv2.copyMakeBorder(closed, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(padded, None, (0, 0), 2)
    return (padded[1:-1, 1:-1] != 2).astype(np.uint8)


class MotionGate:
    """The background model of one camera; `update()` once per frame."""

    def __init__(
        self, settings: OcclusionSettings, person_detector: PersonDetector | None = None
    ) -> None:
        self.settings = settings
        self.person_detector = person_detector
        if person_detector is None and settings.person_detector == "hog":
            self.person_detector = PersonDetector()
        self._background: np.ndarray | None = None
        self._age: np.ndarray | None = None  # seconds each pixel has been in front
        self._last_t: float | None = None
        self._kernel = np.ones((3, 3), np.uint8)
        self._group_kernel = np.ones((7, 7), np.uint8)

    def reset(self) -> None:
        """Forget the background (a new layout, or the camera was moved)."""
        self._background = self._age = None
        self._last_t = None

    def _small(self, frame_bgr: np.ndarray) -> np.ndarray:
        """A small blurred colour copy: a shirt as bright as the shelf behind it still
        differs in colour, so all three channels are compared."""
        h, w = frame_bgr.shape[:2]
        width = min(self.settings.width, w)
        size = (width, max(1, round(h * width / w)))
        small = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)

    def update(
        self, frame_bgr: np.ndarray, t: float, rows: Sequence[tuple[float, float]] = ()
    ) -> MotionResult:
        """Compare a frame (taken at `t` seconds) with the background, then learn from it.

        `rows` are the layout's (y0, y1) row bands: what is taller than a row is in front.
        """
        small = self._small(frame_bgr)
        dt = 0.0 if self._last_t is None else max(0.0, t - self._last_t)
        self._last_t = t
        if self._background is None or self._background.shape != small.shape:
            self._background, self._age = small, np.zeros(small.shape[:2], np.float32)
            return empty_result(small.shape[:2], ready=False)
        assert self._age is not None
        background = self._background
        # Lights dimmed or brightened: divide out one gain, robust to what moved (the
        # median over every fourth pixel).
        gain = float(np.median(small[::2, ::2] / (background[::2, ::2] + 1.0)))
        difference = cv2.absdiff(small, background * gain).max(axis=2)
        changed = (difference > self.settings.threshold).astype(np.uint8)
        changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, self._kernel)
        fraction = float(changed.mean())
        in_front, boxes = self._in_front(changed, rows)
        if fraction >= self.settings.reset_fraction or any(_whole_frame(b) for b in boxes):
            # The camera was moved (or the scene swapped): nobody stands that wide.
            self._background, self._age = small, np.zeros(small.shape[:2], np.float32)
            return MotionResult(
                np.zeros_like(changed),
                changed,
                changed_fraction=fraction,
                relearned=True,
                ready=False,
            )
        if self.person_detector is not None and changed.any():
            people = self.person_detector.detect(frame_bgr)
            in_front, boxes = self._add_people(in_front, boxes, people, changed)
        self._learn(small, gain, changed, in_front, dt)
        return MotionResult(in_front, changed, boxes, fraction)

    def _in_front(
        self, changed: np.ndarray, rows: Sequence[tuple[float, float]]
    ) -> tuple[np.ndarray, list[Box]]:
        """Changed regions in front of the shelf: taller than a shelf row (a product that
        sells or is put back changes pixels within its row only).

        Regions are grouped on a dilated copy, so a head whose neck barely differs from
        the shelf behind it still belongs to its body. A person stands on the floor:
        changed regions below one, in the same columns, are more of them (a shirt the
        colour of the back panel shows only where it hides shelf edges and products),
        and the columns in between are filled.
        """
        h, w = changed.shape
        row_h = (
            float(np.mean([y1 - y0 for y0, y1 in rows])) if rows else 0.3
        ) * self.settings.occluder_rows
        grouped = cv2.dilate(changed, self._group_kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(grouped, connectivity=8)
        min_area = self.settings.min_area * h * w
        grown = self._group_kernel.shape[0] - 1  # the dilation added this much height
        tall = [
            label
            for label in range(1, count)
            if stats[label, 4] >= min_area and (stats[label, 3] - grown) / h > row_h
        ]
        if not tall:
            return np.zeros_like(changed), []
        members = set(tall)
        for label in range(1, count):
            if label not in members and any(_below(stats[label], stats[person]) for person in tall):
                members.add(label)
        in_front = np.isin(labels, sorted(members)).astype(np.uint8)
        in_front = in_front & changed | cv2.erode(in_front, self._group_kernel)
        in_front = _fill_columns(_fill_holes(in_front))
        # Blur and shadows spill a few pixels beyond what the difference finds.
        in_front = cv2.dilate(in_front, self._kernel, iterations=1)
        boxes = []
        for label in tall:
            x, y, bw, bh = (int(v) for v in stats[label, :4])
            boxes.append((x / w, y / h, (x + bw) / w, (y + bh) / h))
        return in_front, boxes

    def _add_people(
        self,
        in_front: np.ndarray,
        boxes: list[Box],
        people: list[Box],
        changed: np.ndarray,
    ) -> tuple[np.ndarray, list[Box]]:
        """A HOG person box counts where it holds changed pixels (a still poster of a
        person on the shelf is not a shopper)."""
        h, w = changed.shape
        for box in people:
            x0, y0 = int(box[0] * w), int(box[1] * h)
            x1, y1 = max(x0 + 1, int(box[2] * w)), max(y0 + 1, int(box[3] * h))
            if changed[y0:y1, x0:x1].mean() < 0.15:
                continue
            in_front[y0:y1, x0:x1] |= changed[y0:y1, x0:x1]
            boxes.append(box)
        return in_front, boxes

    def _learn(
        self,
        small: np.ndarray,
        gain: float,
        changed: np.ndarray,
        in_front: np.ndarray,
        dt: float,
    ) -> None:
        """Background update: quiet pixels blend in, shelf changes replace at once, what
        is in front stays out until it has stayed `absorb_s`."""
        assert self._background is not None and self._age is not None
        front = in_front == 1
        self._age[front] += dt
        self._age[~front] = 0.0
        stale = self._age > self.settings.absorb_s
        self._age[stale] = 0.0
        # How far each pixel moves towards the new frame: quiet 0.5, a shelf change 1,
        # in front 0 (until stale: 1).
        rate = np.where(changed == 0, np.float32(0.5), np.float32(1.0))
        rate[front & ~stale] = 0.0
        background = self._background * gain
        background += rate[..., None] * (small - background)
        self._background = background

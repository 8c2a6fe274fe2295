"""Wrong-product check: does each facing still look like the product it was calibrated with?

Each facing (a slot's width split by its expected facings, over its row's height) gets a
reference signature, learned from the first clear frames after a new layout, when the
shelf is full and correct. A signature has two parts, both cheap on small crops and both
robust to light:

- colour: a hue-saturation histogram (brightness left out, so dimmer light changes
  little; colourless pixels share one hue bin, since their hue is noise), compared by
  Bhattacharyya distance;
- structure: the crop's grey levels on a 12x24 grid, minus their mean and divided by
  their spread, compared by correlation: SSIM's structure term, blind to gain and offset.

Before hues are taken the frame is balanced to grey (each channel scaled to a common
mean), which divides out a colour cast of the light. Only facings the detector shows as
holding product, with nothing in front and nothing moving, are compared; a slot's verdict
takes the median over its compared facings, so one odd unit (a stray product left by a
shopper) does not make a whole slot wrong. Other colours mean another product
(wrong_product); the right colours in another arrangement mean units turned, tilted or
fallen (messy). References follow slow light changes by blending in a little of each
frame that matches very well.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.layout import Layout

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]
SlotKey = tuple[int, int]

HUE_BINS, SAT_BINS = 18, 4
GRID = (12, 24)  # structure grid (w, h)
COLOURLESS_SAT = 40
MIN_SHOWN = 0.3  # a partly empty facing must show at least this share of itself
WORK_WIDTH = 640  # frames are compared at this width at most
ADAPT_EVERY = 10  # a well-matching facing is blended into its reference every this many checks
ADAPT_ABOVE = 0.95
"""Only a facing this similar in colour and structure is blended into its reference, so
a slow drift of light is followed and another product never is."""


@dataclass
class Signature:
    """How one facing looks: a normalised H-S histogram and a normalised grey grid."""

    hist: np.ndarray  # float32 (HUE_BINS * SAT_BINS,), sums to 1
    grid: np.ndarray  # float32 GRID, zero mean, unit norm

    def blend(self, other: Signature, weight: float) -> Signature:
        hist = (1 - weight) * self.hist + weight * other.hist
        grid = (1 - weight) * self.grid + weight * other.grid
        return Signature(hist / max(hist.sum(), 1e-9), _unit(grid))


def _unit(grid: np.ndarray) -> np.ndarray:
    grid = grid - grid.mean()
    norm = float(np.linalg.norm(grid))
    return grid / norm if norm > 1e-6 else grid


def grey_world(frame_bgr: np.ndarray, ignore: np.ndarray | None = None) -> np.ndarray:
    """The frame with each channel scaled to a common mean: a colour cast of the light
    (or the camera's white balance drifting) divided out before hues are compared.

    `ignore` (any size, non-zero = leave out) keeps what moves out of the means: a
    shopper's red coat must not tint the whole shelf.
    """
    mask = None
    if ignore is not None and ignore.any():
        h, w = frame_bgr.shape[:2]
        keep = cv2.resize(ignore, (w, h), interpolation=cv2.INTER_NEAREST) == 0
        mask = keep.astype(np.uint8) if keep.mean() > 0.2 else None
    means = np.array(cv2.mean(frame_bgr, mask=mask)[:3]) + 1e-3
    scale = means.mean() / means
    lut = np.clip(np.arange(256)[:, None] * scale[None, :], 0, 255).astype(np.uint8)
    return cv2.LUT(frame_bgr, lut[:, None, :])


@dataclass(frozen=True)
class FramePlanes:
    """A frame converted once for every crop of it: HSV bins and grey."""

    bins: np.ndarray  # uint8 (h, w): hue-saturation bin index per pixel
    grey: np.ndarray  # uint8 (h, w)

    @classmethod
    def of(cls, frame_bgr: np.ndarray, ignore: np.ndarray | None = None) -> FramePlanes:
        """Convert a frame (shrunk to WORK_WIDTH: facings stay tens of pixels wide, and a
        Pi camera's 1280-pixel frame costs no more than a 640 one); `ignore` marks what
        moves (see `grey_world`)."""
        h, w = frame_bgr.shape[:2]
        if w > WORK_WIDTH:
            size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / w)))
            frame_bgr = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(grey_world(frame_bgr, ignore), cv2.COLOR_BGR2HSV)
        hue, sat = hsv[..., 0], hsv[..., 1]
        hue_bin = (hue.astype(np.uint16) * HUE_BINS // 180).astype(np.uint8)
        sat_bin = np.minimum(sat.astype(np.uint16) * SAT_BINS // 256, SAT_BINS - 1).astype(np.uint8)
        hue_bin[sat < COLOURLESS_SAT] = 0
        bins = hue_bin * SAT_BINS + sat_bin
        return cls(bins, cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY))

    def pixels(self, box: Box) -> tuple[slice, slice] | None:
        h, w = self.grey.shape
        x0, x1 = int(box[0] * w), round(box[2] * w)
        y0, y1 = int(box[1] * h), round(box[3] * h)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            return None
        return slice(y0, y1), slice(x0, x1)

    def signature(self, box: Box, hide: Sequence[Box] = ()) -> Signature | None:
        """The signature of a normalised box; None when it is too small to judge.

        `hide`: boxes (a detector's gaps) whose pixels the colours leave out, so a facing
        partly empty still shows the colours of what stands in it.
        """
        where = self.pixels(box)
        if where is None:
            return None
        bins = self.bins[where]
        if hide:
            keep = np.ones(bins.shape, bool)
            h, w = self.grey.shape
            ys, xs = where
            for hx0, hy0, hx1, hy1 in hide:
                y0, y1 = max(0, int(hy0 * h) - ys.start), max(0, round(hy1 * h) - ys.start)
                x0, x1 = max(0, int(hx0 * w) - xs.start), max(0, round(hx1 * w) - xs.start)
                keep[y0:y1, x0:x1] = False
            if keep.mean() < MIN_SHOWN:
                return None
            bins = bins[keep]
        hist = np.bincount(bins.ravel(), minlength=HUE_BINS * SAT_BINS)
        hist = hist.astype(np.float32) / max(int(hist.sum()), 1)
        grid = cv2.resize(self.grey[where], GRID, interpolation=cv2.INTER_AREA)
        return Signature(hist, _unit(grid.astype(np.float32)))


def colour_similarity(a: Signature, b: Signature) -> float:
    """Bhattacharyya coefficient of the hue-saturation histograms: 0 .. 1 (same colours)."""
    return float(np.sum(np.sqrt(a.hist * b.hist)))


def structure_similarity(a: Signature, b: Signature) -> float:
    """Correlation of the normalised grey grids, clipped at 0: 0 .. 1 (same layout)."""
    return max(0.0, float(np.sum(a.grid * b.grid)))


def _consistency(looks: list[Signature]) -> float:
    """Median colour similarity between the facings seen now; 1 for a single facing."""
    pairs = [colour_similarity(a, b) for i, a in enumerate(looks) for b in looks[i + 1 :]]
    return statistics.median(pairs) if pairs else 1.0


def facing_boxes(slot_box: Box, facings: int) -> list[Box]:
    """The slot's rectangle cut into `facings` equal columns, left to right."""
    x0, y0, x1, y1 = slot_box
    width = (x1 - x0) / facings
    return [(x0 + i * width, y0, x0 + (i + 1) * width, y1) for i in range(facings)]


@dataclass
class _Reference:
    signature: Signature | None = None
    seen: int = 0  # clear looks averaged in while learning
    matched: int = 0  # checks that matched well enough to adapt to


@dataclass(frozen=True)
class Verdict:
    """A slot's appearance check: median similarities over the facings compared.

    `departs`: the slot no longer looks like its reference, in colour or structure.
    Taken alone, the look suggests which way (`likely_wrong`): another product has other
    colours, the same on every facing, and often the colours of a neighbouring slot's
    product (`looks_like`); the same product turned, tilted, fallen or mixed with a
    stray unit differs from facing to facing, or keeps its colours but not its
    structure. The caller weighs this against what the slot was doing.
    """

    colour: float
    structure: float
    consistency: float  # how alike the compared facings are to each other (1 for one)
    compared: int
    departs: bool
    likely_wrong: bool
    looks_like: SlotKey | None = None


CONSISTENT = 0.9
"""Facings at least this alike in colour hold one product (a swap, not a mess)."""
LOOKS_LIKE, LOOKS_LIKE_MARGIN = 0.93, 0.1


class ReferenceBook:
    """The reference look of every facing of one layout, learned and then checked."""

    def __init__(
        self,
        layout: Layout,
        *,
        learn_frames: int = 3,
        colour_threshold: float = 0.85,
        structure_threshold: float = 0.65,
        adapt: float = 0.05,
    ) -> None:
        self.version = layout.version
        self.learn_frames = learn_frames
        self.colour_threshold = colour_threshold
        self.structure_threshold = structure_threshold
        self.adapt = adapt
        self._boxes: dict[SlotKey, list[Box]] = {
            (row.index, slot.index): facing_boxes(box, slot.facings)
            for row, slot, box in layout.slot_boxes()
        }
        self._refs: dict[SlotKey, list[_Reference]] = {
            key: [_Reference() for _ in boxes] for key, boxes in self._boxes.items()
        }

    def facings(self, key: SlotKey) -> list[Box]:
        return self._boxes.get(key, [])

    def learned(self, key: SlotKey) -> int:
        """How many of the slot's facings have a complete reference."""
        return sum(r.seen >= self.learn_frames for r in self._refs.get(key, []))

    def _learn(self, ref: _Reference, current: Signature) -> None:
        """One more clear look into a reference still being learned (a running mean)."""
        ref.seen += 1
        if ref.signature is None:
            ref.signature = current
        else:
            ref.signature = ref.signature.blend(current, 1.0 / ref.seen)

    def check(
        self,
        planes: FramePlanes,
        key: SlotKey,
        usable: Iterable[int],
        *,
        partial: Mapping[int, Sequence[Box]] | None = None,
        learn: bool = True,
    ) -> Verdict | None:
        """Compare the `usable` facings (showing product, nothing in front) with their
        references; with `learn`, facings still being learned take this look in.
        `partial` facings are partly empty (facing -> its gap boxes): only their colours
        count, from what is not empty, and nothing is learned from them. None: nothing
        to judge yet."""
        colours, structures, looks = [], [], []
        facings = [(f, ()) for f in usable] + list((partial or {}).items())
        for f, hide in facings:
            ref = self._refs[key][f]
            current = planes.signature(self._boxes[key][f], hide)
            if current is None:
                continue
            if ref.seen < self.learn_frames:
                if learn and not hide:
                    self._learn(ref, current)
                continue
            assert ref.signature is not None
            colour = colour_similarity(ref.signature, current)
            colours.append(colour)
            looks.append(current)
            if hide:
                continue
            structure = structure_similarity(ref.signature, current)
            structures.append(structure)
            if self.adapt and colour >= ADAPT_ABOVE and structure >= ADAPT_ABOVE:
                ref.matched += 1
                if ref.matched % ADAPT_EVERY == 0:  # light drifts slowly; blending is not free
                    ref.signature = ref.signature.blend(current, self.adapt)
        if not colours:
            return None
        colour = statistics.median(colours)
        structure = statistics.median(structures) if structures else 1.0
        consistency = _consistency(looks)
        looks_like = (
            self._looks_like(key, looks, colour) if colour < self.colour_threshold else None
        )
        departs = colour < self.colour_threshold or structure < self.structure_threshold
        wrong = colour < self.colour_threshold and (
            consistency >= CONSISTENT or looks_like is not None
        )
        return Verdict(colour, structure, consistency, len(colours), departs, wrong, looks_like)

    def _looks_like(self, key: SlotKey, looks: list[Signature], own: float) -> SlotKey | None:
        """The other slot whose product these facings clearly match in colour, if any:
        a misplaced product usually comes from nearby. Clearly: at least LOOKS_LIKE and
        LOOKS_LIKE_MARGIN better than the slot's own reference (one brand's products
        can look alike, and a fallen unit shows the back panel)."""
        best, best_score = None, max(LOOKS_LIKE, own + LOOKS_LIKE_MARGIN)
        for other, refs in self._refs.items():
            if other == key:
                continue
            known = [r.signature for r in refs if r.signature is not None]
            if not known:
                continue
            score = statistics.median(colour_similarity(r, s) for r in known for s in looks)
            if score >= best_score:
                best, best_score = other, score
        return best

    # ---- persistence: references survive a node restart --------------------------

    def save(self, path: Path) -> None:
        """Write the learned references to an .npz file named by the layout version."""
        arrays: dict[str, np.ndarray] = {}
        for (row, slot), refs in self._refs.items():
            for f, ref in enumerate(refs):
                if ref.signature is not None:
                    name = f"{row}_{slot}_{f}"
                    arrays[f"h{name}"] = ref.signature.hist
                    arrays[f"g{name}"] = ref.signature.grid
                    arrays[f"n{name}"] = np.array(ref.seen)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    def load(self, path: Path) -> bool:
        """Read references saved for this layout; False (and nothing changed) if none."""
        if not path.is_file():
            return False
        try:
            with np.load(path) as data:
                for (row, slot), refs in self._refs.items():
                    for f, ref in enumerate(refs):
                        name = f"{row}_{slot}_{f}"
                        if f"h{name}" in data:
                            ref.signature = Signature(data[f"h{name}"], data[f"g{name}"])
                            ref.seen = int(data[f"n{name}"])
        except (OSError, ValueError, KeyError) as error:
            log.warning("%s: cannot read product references (%s); learning them again", path, error)
            return False
        return True

"""Calibration: propose a layout (shelf rows, then slots) from a reference image.

Taken when the shelf is full and correct; the installer then corrects the proposal on
the gateway's calibration page and assigns SKUs. Plain image processing, no model:

Rows. A shelf's front edge is a straight line across the whole picture; product tops,
labels and text are not. The horizontal-edge strength is measured in narrow vertical
strips, and a line counts only where most strips agree (at one slope for the whole
picture, found by trying a few, since the camera may be slightly turned); each line is
then fitted across the strips. Two lines close together are the top and bottom of one
shelf edge; a row is the band between one shelf edge and the next (the first row starts
at the topmost lone line, the ceiling, or at the top of the picture).

Slots. Within a row, the picture is cut where the products change: each column of the
product band gets a colour histogram, and a boundary is where the histograms of the
stretches left and right of it differ most (peaks, at least a minimum width apart).
Facings are counted as the runs of product columns (columns that differ from the back
panel seen just under the shelf above) within each slot.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.layout import Layout, RowSpec, SlotSpec

WORK_WIDTH = 320
STRIPS = 16
SLOPES = np.linspace(-0.08, 0.08, 17)  # dy/dx candidates for the shelf lines
EDGE_GAP = 0.05  # lines of one shelf edge are at most this far apart (share of height)
SHORT_ROW = 0.6  # a band under this share of the typical row is merged into a neighbour
TOP_EDGE = 0.15  # an edge this near the top of the picture is the first row's top
MIN_ROW = 0.08  # rows are at least this tall (share of height)
MIN_SLOT = 0.04  # slots are at least this wide (share of width)
SLOT_CHANGE = 0.5  # how different the products either side of a slot boundary look (0..1)


@dataclass(frozen=True)
class Line:
    """A near-horizontal line y = y_mid + slope * (x - 0.5), all in frame shares."""

    y_mid: float
    slope: float
    strength: float

    def at(self, x: float) -> float:
        return self.y_mid + self.slope * (x - 0.5)

    @property
    def top(self) -> float:
        return min(self.at(0.0), self.at(1.0))

    @property
    def bottom(self) -> float:
        return max(self.at(0.0), self.at(1.0))


def _work_image(image_bgr: np.ndarray) -> np.ndarray:
    h, w = image_bgr.shape[:2]
    scale = WORK_WIDTH / w
    return cv2.resize(image_bgr, (WORK_WIDTH, max(16, round(h * scale))), cv2.INTER_AREA)


def _strip_edges(grey: np.ndarray) -> np.ndarray:
    """(STRIPS, h) mean |d/dy| per vertical strip and image row."""
    gy = np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    bounds = np.linspace(0, gy.shape[1], STRIPS + 1).astype(int)
    return np.stack([gy[:, a:b].mean(axis=1) for a, b in itertools.pairwise(bounds)])


def _sheared_score(edges: np.ndarray, slope: float, aspect: float) -> np.ndarray:
    """Per image row: the 25th percentile over strips of the edge strength along a line
    of `slope` through that row, so only lines most strips share score high."""
    strips, h = edges.shape
    centres = (np.arange(strips) + 0.5) / strips - 0.5
    shifted = np.empty_like(edges)
    for s, cx in enumerate(centres):
        dy = round(slope * cx * aspect * h)
        shifted[s] = np.roll(edges[s], -dy)
    local = np.maximum.reduce([np.roll(shifted, k, axis=1) for k in (-1, 0, 1)])
    return np.percentile(local, 25, axis=0)


def _peaks(score: np.ndarray, min_gap: int, threshold: float) -> list[int]:
    """Local maxima above `threshold`, strongest first, at least `min_gap` apart."""
    order = np.argsort(score)[::-1]
    chosen: list[int] = []
    for y in order:
        if score[y] < threshold:
            break
        if all(abs(int(y) - c) >= min_gap for c in chosen):
            chosen.append(int(y))
    return sorted(chosen)


def find_lines(image_bgr: np.ndarray) -> list[Line]:
    """The long near-horizontal lines of a shelf picture, top to bottom."""
    small = _work_image(image_bgr)
    grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0).astype(np.float32)
    h, w = grey.shape
    aspect = w / h
    edges = _strip_edges(grey)
    best, best_slope = None, 0.0
    for slope in SLOPES:
        score = _sheared_score(edges, slope, aspect)
        top = np.sort(score)[-8:].sum()
        if best is None or top > best[0]:
            best, best_slope = (top, score), float(slope)
    assert best is not None
    score = best[1]
    peaks = _peaks(score, max(2, int(0.015 * h)), 0.0)
    strengths = sorted((float(score[y]) for y in peaks), reverse=True)
    # Shelf edges are the strongest lines, and a picture shows a few of them: keep the
    # lines at least half as strong as the typical one of the strongest few.
    typical = float(np.median(strengths[1:7])) if len(strengths) > 2 else strengths[0]
    kept = [y for y in peaks if score[y] >= 0.5 * typical]
    return [_fit(edges, y, best_slope, aspect, float(score[y])) for y in kept]


def _fit(edges: np.ndarray, y: int, slope: float, aspect: float, strength: float) -> Line:
    """Refine one line: its y in each strip near the first guess, then a least-squares fit."""
    strips, h = edges.shape
    centres = (np.arange(strips) + 0.5) / strips - 0.5
    reach = max(2, int(0.01 * h))
    xs, ys = [], []
    for s, cx in enumerate(centres):
        guess = y + slope * cx * aspect * h
        lo, hi = int(max(0, guess - reach)), int(min(h, guess + reach + 1))
        if hi <= lo:
            continue
        yy = lo + int(np.argmax(edges[s, lo:hi]))
        xs.append(cx)
        ys.append((yy + 0.5) / h)
    fitted_slope, y_mid = np.polyfit(xs, ys, 1) if len(xs) >= 3 else (slope * aspect, y / h)
    return Line(float(y_mid), float(fitted_slope), strength)


def shelf_edges(lines: Sequence[Line]) -> list[list[Line]]:
    """Lines grouped into shelf edges: the board's front, the lip's top and bottom lie
    close together; groups are at least EDGE_GAP apart."""
    groups: list[list[Line]] = []
    for line in sorted(lines, key=lambda line: line.y_mid):
        if groups and line.y_mid - groups[-1][-1].y_mid <= EDGE_GAP:
            groups[-1].append(line)
        else:
            groups.append([line])
    return groups


def rows_from_lines(lines: Sequence[Line]) -> list[tuple[float, float]]:
    """(y0, y1) row bands between shelf edges.

    A row ends at the top of the lip below it (the edge's second-lowest line: the
    lowest is the lip's bottom, where the next row starts). A lone edge near the top of
    the picture is the top of the first row (the ceiling, or the shelf above); without
    one, the first row starts at the top of the picture. A band too short to hold
    products (under half the typical row) is no row.
    """
    edges = shelf_edges(lines)
    if not edges:
        return []

    bands: list[tuple[float, float]] = []
    start = 0.0
    first = edges[0]
    if first[-1].y_mid <= TOP_EDGE:
        start = first[-1].bottom
        edges = edges[1:]
    for edge in edges:
        end = (edge[-2] if len(edge) >= 2 else edge[-1]).top
        bands.append((start, end))
        start = edge[-1].bottom
    if 1.0 - start >= MIN_ROW:
        bands.append((start, 1.0))
    bands = _merge_short(bands)
    return [(round(max(0.0, a), 4), round(min(1.0, b), 4)) for a, b in bands]


def _merge_short(bands: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge a band much shorter than the typical row into its shorter neighbour: the
    line between them was the tops of a run of products, not a shelf."""
    bands = [b for b in bands if b[1] - b[0] > 0.02]
    while len(bands) > 1:
        typical = float(np.median([b - a for a, b in bands]))
        short = min(range(len(bands)), key=lambda i: bands[i][1] - bands[i][0])
        if bands[short][1] - bands[short][0] >= SHORT_ROW * typical:
            break
        neighbours = [i for i in (short - 1, short + 1) if 0 <= i < len(bands)]
        other = min(neighbours, key=lambda i: bands[i][1] - bands[i][0])
        a, b = sorted((short, other))
        bands[a : b + 1] = [(bands[a][0], bands[b][1])]
    return [b for b in bands if b[1] - b[0] >= MIN_ROW]


def _column_histograms(band: np.ndarray, back_colour: np.ndarray) -> np.ndarray:
    """(w, bins) hue-saturation-value histogram per column of a row's product band,
    over product pixels only (the back panel between units is left out, so two units of
    one product separated by a gap still look alike)."""
    hsv = cv2.cvtColor(band, cv2.COLOR_BGR2HSV)
    hue = hsv[..., 0].astype(np.int32) * 12 // 180
    sat = np.minimum(hsv[..., 1].astype(np.int32) * 3 // 256, 2)
    val = np.minimum(hsv[..., 2].astype(np.int32) * 4 // 256, 3)
    hue[hsv[..., 1] < 40] = 0
    count = 12 * 3 * 4
    bins = (hue * 3 + sat) * 4 + val
    product = np.abs(band.astype(np.int16) - back_colour.astype(np.int16)).max(axis=2) > 30
    bins[~product] = count  # one extra bin, dropped below
    w = bins.shape[1]
    hist = np.zeros((w, count), np.float32)
    for x in range(w):
        hist[x] = np.bincount(bins[:, x], minlength=count + 1)[:count]
    return hist


def slot_bounds(
    band: np.ndarray, back_colour: np.ndarray, min_width: float = MIN_SLOT
) -> list[float]:
    """Inner slot boundaries (shares of the band's width) where the products change."""
    hist = _column_histograms(band, back_colour)
    w = hist.shape[0]
    win = max(3, int(0.06 * w))
    cumulative = np.vstack([np.zeros((1, hist.shape[1]), np.float32), np.cumsum(hist, axis=0)])
    change = np.zeros(w, np.float32)
    for x in range(win, w - win):
        left = cumulative[x] - cumulative[x - win]
        right = cumulative[x + win] - cumulative[x]
        if left.sum() < 1 or right.sum() < 1:
            continue
        left, right = left / left.sum(), right / right.sum()
        change[x] = 1.0 - float(np.sum(np.sqrt(left * right)))
    peaks = _peaks(change, max(2, int(min_width * w)), SLOT_CHANGE)
    return [p / w for p in peaks if min_width * w <= p <= w - min_width * w]


def count_facings(band: np.ndarray, back_colour: np.ndarray, x0: int, x1: int) -> int:
    """Runs of product columns in [x0, x1): columns that differ from the back panel."""
    diff = np.abs(band[:, x0:x1].astype(np.int16) - back_colour.astype(np.int16)).max(axis=2)
    product = (diff > 40).mean(axis=0) > 0.3
    runs, inside = 0, False
    min_run = max(2, int(0.25 * (x1 - x0) / 8))
    length = 0
    for flag in [*product.tolist(), False]:
        if flag:
            length += 1
            inside = True
        else:
            if inside and length >= min_run:
                runs += 1
            inside, length = False, 0
    return max(1, runs)


def propose_layout(image_bgr: np.ndarray) -> Layout:
    """A layout for the shelf in a reference image: rows and slots, no SKUs yet."""
    small = _work_image(image_bgr)
    h, w = small.shape[:2]
    rows = []
    for index, (y0, y1) in enumerate(rows_from_lines(find_lines(image_bgr))):
        top, bottom = int(y0 * h), int(y1 * h)
        # Products stand on the shelf: their band is the lower part of the row, and just
        # under the shelf above shows the back panel.
        band = small[top + int(0.3 * (bottom - top)) : bottom]
        back = small[top + int(0.05 * (bottom - top)) : top + int(0.15 * (bottom - top)) + 1]
        back_colour = np.median(back.reshape(-1, 3), axis=0)
        edges = [0.0, *slot_bounds(band, back_colour), 1.0]
        slots = []
        for i, (x0, x1) in enumerate(itertools.pairwise(edges)):
            left = int(x0 * w)
            facings = count_facings(band, back_colour, left, max(left + 1, int(x1 * w)))
            slots.append(
                SlotSpec(index=i, x0=round(x0, 4), x1=round(x1, 4), facings=facings, depth=1)
            )
        rows.append(RowSpec(index=index, y0=round(y0, 4), y1=round(y1, 4), slots=slots))
    return Layout(rows=rows)


def carry_assignments(proposal: Layout, current: Layout | None) -> Layout:
    """The proposal with SKUs, names, brands, facings and depths taken over from the
    current layout, slot by slot where they overlap most (re-calibrating keeps work)."""
    if current is None:
        return proposal
    old = current.slot_boxes()
    rows = []
    for row in proposal.rows:
        slots = []
        for slot in row.slots:
            box = (slot.x0, row.y0, slot.x1, row.y1)
            match = max(old, key=lambda item: _overlap(box, item[2]), default=None)
            if match is not None and _overlap(box, match[2]) > 0.5:
                kept = match[1]
                slot = slot.model_copy(
                    update={
                        "sku": kept.sku,
                        "name": kept.name,
                        "brand": kept.brand,
                        "facings": kept.facings,
                        "depth": kept.depth,
                    }
                )
            slots.append(slot)
        rows.append(row.model_copy(update={"slots": slots}))
    return Layout(rows=rows)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Share of `a` inside `b`."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return w * h / area if area > 0 else 0.0

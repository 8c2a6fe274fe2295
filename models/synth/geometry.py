"""Where things are on a shelf section: rows, slots and facings, in canvas pixels."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from models.synth.products import ProductLook, natural_size


@dataclass(frozen=True)
class ShelfStyle:
    """Colours and textures of one shelf unit (varied per scene for training data)."""

    back: tuple[int, int, int]  # the back panel a gap shows
    pattern: str  # "plain" | "pegboard" | "grid"
    board: tuple[int, int, int]  # bare shelf surface
    edge: tuple[int, int, int]  # shelf front lip
    strip: tuple[int, int, int]  # price strip
    ceiling: tuple[int, int, int]


@dataclass(frozen=True)
class SlotGeometry:
    row: int
    slot: int
    x0: int
    x1: int
    facings: int

    def facing_span(self, f: int, count: int | None = None) -> tuple[int, int]:
        """Pixel span of facing `f` of `count` (default: the slot's facings)."""
        width = (self.x1 - self.x0) / (count or self.facings)
        return int(self.x0 + f * width), int(self.x0 + (f + 1) * width)


@dataclass(frozen=True)
class RowGeometry:
    index: int
    top: int  # underside of the shelf above: the top of the clear space
    floor: int  # the board products stand on
    edge_h: int  # height of the front lip below `floor`
    slots: list[SlotGeometry] = field(default_factory=list)

    @property
    def clear_h(self) -> int:
        return self.floor - self.top


@dataclass(frozen=True)
class ShelfGeometry:
    width: int
    height: int
    rows: list[RowGeometry]
    style: ShelfStyle


def random_style(rng: np.random.Generator) -> ShelfStyle:
    def grey(lo: int, hi: int) -> tuple[int, int, int]:
        v = int(rng.integers(lo, hi))
        tint = rng.integers(-12, 12, 3)
        return tuple(int(np.clip(v + t, 0, 255)) for t in tint)  # type: ignore[return-value]

    dark_back = rng.random() < 0.75
    return ShelfStyle(
        back=grey(15, 70) if dark_back else grey(150, 230),
        pattern=("plain", "pegboard", "grid")[int(rng.integers(3))],
        board=grey(150, 235),
        edge=grey(20, 90) if rng.random() < 0.5 else grey(170, 240),
        strip=(245, 245, 245) if rng.random() < 0.6 else (90, 230, 250),
        ceiling=grey(120, 230),
    )


def build_geometry(
    rng: np.random.Generator,
    size: tuple[int, int],
    rows: int,
    slots_per_row: int,
    style: ShelfStyle | None = None,
) -> ShelfGeometry:
    """Rows evenly stacked below a strip of store ceiling; slots of random widths."""
    width, height = size
    top_margin = int(height * rng.uniform(0.0, 0.08))
    row_h = (height - top_margin) / rows
    result = []
    for r in range(rows):
        top = int(top_margin + r * row_h)
        edge_h = max(4, int(row_h * rng.uniform(0.07, 0.12)))
        floor = int(top_margin + (r + 1) * row_h) - edge_h
        widths = rng.dirichlet(np.full(slots_per_row, 6.0)) * width
        edges = np.concatenate([[0.0], np.cumsum(widths)]).astype(int)
        edges[-1] = width
        slots = [
            SlotGeometry(r, s, int(edges[s]), int(edges[s + 1]), 1) for s in range(slots_per_row)
        ]
        result.append(RowGeometry(r, top, floor, edge_h, slots))
    return ShelfGeometry(width, height, result, style or random_style(rng))


def fit_facings(
    geometry: ShelfGeometry, looks: dict[tuple[int, int], ProductLook]
) -> ShelfGeometry:
    """Give each slot as many facings as its product fits side by side: shelves are packed."""
    rows = []
    for row in geometry.rows:
        slots = []
        for slot in row.slots:
            width, _ = natural_size(looks[(row.index, slot.slot)], row.clear_h)
            facings = max(1, int((slot.x1 - slot.x0) // (width * 1.04)))
            slots.append(replace(slot, facings=facings))
        rows.append(replace(row, slots=slots))
    return replace(geometry, rows=rows)


def draw_background(canvas: np.ndarray, geometry: ShelfGeometry) -> None:
    """Ceiling, back panel with its texture, bare shelf boards: what a gap reveals."""
    style = geometry.style
    canvas[:] = style.back
    first = geometry.rows[0].top if geometry.rows else 0
    canvas[:first] = style.ceiling
    h, w = canvas.shape[:2]
    if style.pattern == "pegboard":
        darker = tuple(max(0, c - 25) for c in style.back)
        for y in range(first + 6, h, 14):
            for x in range(6, w, 14):
                cv2.circle(canvas, (x, y), 2, darker, -1)
    elif style.pattern == "grid":
        lighter = tuple(min(255, c + 30) for c in style.back)
        for x in range(0, w, 24):
            cv2.line(canvas, (x, first), (x, h), lighter, 1)
    for row in geometry.rows:
        shadow_h = max(2, row.clear_h // 6)
        shade = np.linspace(0.45, 1.0, shadow_h, dtype=np.float32)[:, None, None]
        band = canvas[row.top : row.top + shadow_h]
        band[:] = (band.astype(np.float32) * shade).astype(np.uint8)
        board_h = max(3, row.clear_h // 7)
        canvas[row.floor - board_h : row.floor] = style.board
        shade = np.linspace(0.7, 1.0, board_h, dtype=np.float32)[:, None, None]
        board = canvas[row.floor - board_h : row.floor]
        board[:] = (board.astype(np.float32) * shade).astype(np.uint8)


def draw_shelf_edges(canvas: np.ndarray, geometry: ShelfGeometry, prices: dict) -> None:
    """Front lips with a price label under each slot; drawn over the products' feet."""
    style = geometry.style
    for row in geometry.rows:
        y0, y1 = row.floor, row.floor + row.edge_h
        canvas[y0:y1] = style.edge
        strip_h = max(3, int(row.edge_h * 0.7))
        sy = y0 + (row.edge_h - strip_h) // 2
        for slot in row.slots:
            lw = min(slot.x1 - slot.x0 - 2, max(14, strip_h * 3))
            lx = slot.x0 + 2
            cv2.rectangle(canvas, (lx, sy), (lx + lw, sy + strip_h), style.strip, -1)
            price = prices.get((slot.row, slot.slot), 0.0)
            scale = max(0.2, strip_h / 30.0)
            cv2.putText(
                canvas,
                f"{price:.2f}",
                (lx + 1, sy + strip_h - 1),
                cv2.FONT_HERSHEY_PLAIN,
                scale,
                (20, 20, 20),
                1,
                cv2.LINE_AA,
            )

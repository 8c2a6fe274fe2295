"""Compose one camera frame of a shelf section, with exact `gap` and `messy` boxes.

Gap boxes follow the real dataset's labelling: one box per contiguous run of empty facings
within a row, from just under the shelf above down to the board. A box a shopper hides
for more than half is not labelled (nobody could see it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from models.synth.camera_effects import CameraPose, Lighting, PixelBox, sensor
from models.synth.geometry import RowGeometry, ShelfGeometry, draw_background, draw_shelf_edges
from models.synth.products import ProductLook, natural_size, paste, sprite
from models.synth.shopper import Shopper

MIN_VISIBLE = 0.5


@dataclass
class SlotView:
    """What a slot shows right now: which front facings hold product, and how tidy."""

    look: ProductLook
    present: list[bool]
    messy: bool = False


@dataclass
class CameraLook:
    """The camera's fixed pose and light, and how noisy its sensor is."""

    pose: CameraPose
    lighting: Lighting
    blur: float = 0.6
    noise: float = 3.0
    jpeg: int = 85


@dataclass
class Frame:
    """A rendered frame with boxes in frame pixels and the shopper mask."""

    image: np.ndarray
    boxes: list[tuple[str, PixelBox]] = field(default_factory=list)
    shopper_mask: np.ndarray | None = None


def _facing_size(look: ProductLook, row: RowGeometry, facing_w: int) -> tuple[int, int]:
    w, h = natural_size(look, row.clear_h)
    if w > facing_w * 0.96:
        w = facing_w * 0.96
        h = w / look.aspect
    return max(3, int(w)), max(3, int(h))


def _paste_rotated(
    canvas: np.ndarray, image: np.ndarray, mask: np.ndarray, cx: int, bottom: int, angle: float
) -> None:
    h, w = mask.shape
    side = int(np.hypot(w, h)) + 2
    pad_img = np.zeros((side, side, 3), np.uint8)
    pad_mask = np.zeros((side, side), np.uint8)
    ox, oy = (side - w) // 2, (side - h) // 2
    pad_img[oy : oy + h, ox : ox + w] = image
    pad_mask[oy : oy + h, ox : ox + w] = mask
    rot = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    pad_img = cv2.warpAffine(pad_img, rot, (side, side), flags=cv2.INTER_LINEAR)
    pad_mask = cv2.warpAffine(pad_mask, rot, (side, side), flags=cv2.INTER_NEAREST)
    ys = np.nonzero(pad_mask.any(axis=1))[0]
    lowest = int(ys.max()) if len(ys) else side
    paste(canvas, pad_img, pad_mask, cx - side // 2, bottom - lowest - 1)


def _draw_slot(
    canvas: np.ndarray, row: RowGeometry, slot, view: SlotView, rng: np.random.Generator
) -> None:
    for f, present in enumerate(view.present):
        if not present:
            continue
        fx0, fx1 = slot.facing_span(f)
        w, h = _facing_size(view.look, row, fx1 - fx0)
        image, mask = sprite(view.look, w, h)
        cx = (fx0 + fx1) // 2
        if view.messy and rng.random() < 0.75:
            fallen = rng.random() < 0.3
            angle = float(
                rng.choice([-1, 1]) * (rng.uniform(70, 90) if fallen else rng.uniform(12, 40))
            )
            shift = int(rng.uniform(-0.25, 0.25) * (fx1 - fx0))
            _paste_rotated(canvas, image, mask, cx + shift, row.floor, angle)
        else:
            paste(canvas, image, mask, cx - w // 2, row.floor - h)


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """[start, end) index runs where `flags` is True."""
    runs, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _row_boxes(
    row: RowGeometry, views: dict[tuple[int, int], SlotView]
) -> list[tuple[str, PixelBox]]:
    spans: list[tuple[int, int]] = []
    empty: list[bool] = []
    boxes: list[tuple[str, PixelBox]] = []
    y0 = row.top + row.clear_h * 0.08
    for slot in row.slots:
        view = views[(row.index, slot.slot)]
        for f, present in enumerate(view.present):
            spans.append(slot.facing_span(f))
            empty.append(not present)
        if view.messy and any(view.present):
            boxes.append(("messy", (slot.x0, row.top + row.clear_h * 0.15, slot.x1, row.floor)))
    for a, b in _runs(empty):
        boxes.append(("gap", (spans[a][0], y0, spans[b - 1][1], row.floor)))
    return boxes


def _visible(box: PixelBox, mask: np.ndarray) -> float:
    x0, y0, x1, y1 = (round(v) for v in box)
    region = mask[y0:y1, x0:x1]
    return 1.0 - float((region > 0).mean()) if region.size else 0.0


def render_frame(
    geometry: ShelfGeometry,
    views: dict[tuple[int, int], SlotView],
    prices: dict[tuple[int, int], float],
    camera: CameraLook,
    shoppers: list[Shopper],
    rng: np.random.Generator,
    background: np.ndarray | None = None,
) -> Frame:
    """Draw the shelf, its products and shoppers, then pass it through the camera.

    `background` is `draw_background`'s result for this geometry, when the caller keeps it.
    """
    if background is None:
        canvas = np.empty((geometry.height, geometry.width, 3), np.uint8)
        draw_background(canvas, geometry)
    else:
        canvas = background.copy()
    boxes: list[tuple[str, PixelBox]] = []
    for row in geometry.rows:
        for slot in row.slots:
            _draw_slot(canvas, row, slot, views[(row.index, slot.slot)], rng)
        boxes.extend(_row_boxes(row, views))
    draw_shelf_edges(canvas, geometry, prices)
    mask = np.zeros(canvas.shape[:2], np.uint8)
    for shopper in shoppers:
        mask = np.maximum(mask, shopper.draw(canvas))
    boxes = [(label, box) for label, box in boxes if _visible(box, mask) >= MIN_VISIBLE]

    size = (geometry.width, geometry.height)
    image = camera.pose.warp(canvas)
    warped_mask = camera.pose.warp(mask) if shoppers else mask
    boxes = [(label, camera.pose.box(box, size)) for label, box in boxes]
    image = camera.lighting.apply(image)
    image = sensor(image, rng, camera.blur, camera.noise, camera.jpeg)
    return Frame(image=image, boxes=boxes, shopper_mask=warped_mask)

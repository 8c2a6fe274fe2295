"""Compose one camera frame of a shelf section, with exact `gap` and `messy` boxes.

Gap boxes follow the real dataset's labelling: one box per contiguous run of empty facings
within a row, from just under the shelf above down to the board. A box a shopper hides
for more than half is not labelled (nobody could see it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from models.synth.camera_effects import CameraPose, Lighting, PixelBox, expose
from models.synth.geometry import RowGeometry, ShelfGeometry, draw_background, draw_shelf_edges
from models.synth.products import ProductLook, natural_size, paste, side_sprite, sprite
from models.synth.shopper import Shopper

MIN_VISIBLE = 0.5


@dataclass
class SlotView:
    """What a slot shows right now: which front facings hold product, and how tidy."""

    look: ProductLook
    present: list[bool]
    messy: bool = False
    messy_seed: int = 0  # fixes how a messy slot's units lie until it is tidied
    mix: ProductLook | None = None  # a stray product that can end up in a messy slot


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
) -> tuple[int, int, int, int] | None:
    """Paste a sprite turned by `angle` degrees, resting on `bottom`; returns the tight
    canvas rectangle of what was drawn."""
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
    xs = np.nonzero(pad_mask.any(axis=0))[0]
    if not len(ys):
        return None
    x, y = cx - side // 2, bottom - int(ys.max()) - 1
    if paste(canvas, pad_img, pad_mask, x, y) is None:
        return None
    ch, cw = canvas.shape[:2]
    x0, x1 = max(0, x + int(xs.min())), min(cw, x + int(xs.max()) + 1)
    y0, y1 = max(0, y + int(ys.min())), min(ch, y + int(ys.max()) + 1)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


MESSY_POSES = ("upright", "tilted", "fallen", "turned", "pushed_back", "mixed")
_POSE_P = (0.2, 0.3, 0.15, 0.15, 0.12, 0.08)


def messy_poses(view: SlotView, row: int, slot: int) -> list[str]:
    """How each unit of a messy slot sits. Stable while the slot stays messy (it is drawn
    from the slot's messy seed), and at least one unit is visibly out of place."""
    rng = np.random.default_rng([view.messy_seed, row, slot])
    poses = [str(p) for p in rng.choice(MESSY_POSES, size=len(view.present), p=_POSE_P)]
    if view.mix is None:
        poses = ["tilted" if p == "mixed" else p for p in poses]
    present = [i for i, p in enumerate(view.present) if p]
    if present and all(poses[i] == "upright" for i in present):
        poses[present[int(rng.integers(len(present)))]] = (
            "tilted" if rng.random() < 0.6 else "fallen"
        )
    return poses


def _draw_slot(canvas: np.ndarray, row: RowGeometry, slot, view: SlotView) -> PixelBox | None:
    """Draw a slot's units; for a messy slot, returns the rectangle around the units that
    are out of place (its `messy` box), like the real dataset's labels."""
    messy = view.messy and any(view.present)
    poses = messy_poses(view, row.index, slot.slot) if messy else ["upright"] * len(view.present)
    rng = np.random.default_rng([view.messy_seed, row.index, slot.slot, 1])
    rects: list[tuple[int, int, int, int]] = []
    for f, present in enumerate(view.present):
        if not present:
            continue
        fx0, fx1 = slot.facing_span(f, len(view.present))
        fw = fx1 - fx0
        w, h = _facing_size(view.look, row, fw)
        image, mask = sprite(view.look, w, h)
        cx = (fx0 + fx1) // 2
        pose = poses[f]
        shift = int(rng.uniform(-0.25, 0.25) * fw) if pose != "upright" else 0
        rect = None
        if pose == "upright":
            paste(canvas, image, mask, cx - w // 2, row.floor - h)
        elif pose in ("tilted", "fallen"):
            lo, hi = (70, 90) if pose == "fallen" else (12, 40)
            angle = float(rng.choice([-1, 1]) * rng.uniform(lo, hi))
            rect = _paste_rotated(canvas, image, mask, cx + shift, row.floor, angle)
        elif pose == "turned":
            sw = max(3, int(w * rng.uniform(0.45, 0.7)))
            side_img, side_mask = side_sprite(view.look, sw, h)
            angle = float(rng.uniform(-6, 6))
            rect = _paste_rotated(canvas, side_img, side_mask, cx + shift, row.floor, angle)
        elif pose == "pushed_back":
            bw, bh = max(3, int(w * 0.82)), max(3, int(h * 0.82))
            back = (cv2.resize(image, (bw, bh), interpolation=cv2.INTER_AREA) * 0.62).astype(
                np.uint8
            )
            back_mask = cv2.resize(mask, (bw, bh), interpolation=cv2.INTER_NEAREST)
            lift = max(2, row.clear_h // 9)
            rect = paste(canvas, back, back_mask, cx + shift - bw // 2, row.floor - lift - bh)
        else:  # mixed: another product put back in the wrong place
            assert view.mix is not None
            mw, mh = _facing_size(view.mix, row, fw)
            mix_img, mix_mask = sprite(view.mix, mw, mh)
            angle = float(rng.uniform(-15, 15))
            rect = _paste_rotated(canvas, mix_img, mix_mask, cx + shift, row.floor, angle)
        if rect is not None:
            rects.append(rect)
    if not rects:
        return None
    return (
        float(min(r[0] for r in rects)),
        float(min(r[1] for r in rects)),
        float(max(r[2] for r in rects)),
        float(max(r[3] for r in rects)),
    )


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
            spans.append(slot.facing_span(f, len(view.present)))
            empty.append(not present)
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
        messy_slots = []
        for slot in row.slots:
            view = views[(row.index, slot.slot)]
            if view.messy:  # drawn last: fallen units lie over their neighbours
                messy_slots.append((slot, view))
            else:
                _draw_slot(canvas, row, slot, view)
        for slot, view in messy_slots:
            rect = _draw_slot(canvas, row, slot, view)
            if rect is not None:
                boxes.append(("messy", rect))
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
    image = expose(image, camera.lighting, rng, camera.blur, camera.noise, camera.jpeg)
    return Frame(image=image, boxes=boxes, shopper_mask=warped_mask)

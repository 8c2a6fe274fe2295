"""Synthetic training data in YOLO format, with the real dataset's classes.

Each image is a new random scene: shelf structure, products, stock, mess, shoppers,
camera pose, light and sensor all vary, so a detector learns gaps and mess rather than
one shelf.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from models.synth.camera_effects import CameraPose, Lighting
from models.synth.render import CameraLook
from models.synth.shopper import Shopper
from models.synth.simulated_shelf import RenderedFrame, SimulatedShelf

CLASSES = ("gap", "messy")


def random_frame(seed: int, size: tuple[int, int] = (640, 480)) -> RenderedFrame:
    """One random training scene, rendered."""
    rng = np.random.default_rng([seed, 7])
    shelf = SimulatedShelf(
        seed=seed, rows=int(rng.integers(3, 8)), slots_per_row=int(rng.integers(3, 11)), size=size
    )
    for stock in shelf.slots.values():
        draw = rng.random()
        if draw < 0.14:
            stock.units = 0
        elif draw < 0.32:
            stock.units = int(rng.integers(1, stock.capacity + 1))
        stock.messy = False
        if stock.units > 0 and rng.random() < 0.08:
            SimulatedShelf.make_messy(stock, rng)
    shelf.camera_look = CameraLook(
        CameraPose.random(rng, size, float(rng.uniform(0.0, 0.07))),
        Lighting.random(rng, size),
        blur=float(rng.uniform(0.0, 1.6)),
        noise=float(rng.uniform(0.0, 8.0)),
        jpeg=int(rng.integers(45, 96)),
    )
    shelf._visits = []
    if rng.random() < 0.2:
        from models.synth.simulated_shelf import _Visit

        shelf._visits.append(_Visit(Shopper.random(rng), math.inf))
    return shelf.render()


def yolo_lines(frame: RenderedFrame) -> list[str]:
    """`class cx cy w h` lines, normalised, skipping degenerate boxes."""
    lines = []
    for box in frame.boxes:
        w, h = box.x1 - box.x0, box.y1 - box.y0
        if w > 0.004 and h > 0.004:
            cx, cy = box.x0 + w / 2, box.y0 + h / 2
            lines.append(f"{CLASSES.index(box.label)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def render_dataset(
    out_dir: Path,
    count: int,
    seed: int = 0,
    size: tuple[int, int] = (640, 480),
    val_fraction: float = 0.15,
) -> Path:
    """Write images/{train,val}, labels/{train,val} and data.yaml; returns data.yaml."""
    out_dir = Path(out_dir)
    n_val = max(1, round(count * val_fraction)) if count > 1 else 0
    for i in range(count):
        split = "val" if i < n_val else "train"
        frame = random_frame(seed * 1_000_003 + i, size)
        (out_dir / "images" / split).mkdir(parents=True, exist_ok=True)
        (out_dir / "labels" / split).mkdir(parents=True, exist_ok=True)
        name = f"synth-{seed}-{i:06d}"
        cv2.imwrite(
            str(out_dir / "images" / split / f"{name}.jpg"),
            frame.image,
            [cv2.IMWRITE_JPEG_QUALITY, 92],
        )
        (out_dir / "labels" / split / f"{name}.txt").write_text("\n".join(yolo_lines(frame)) + "\n")
    data_yaml = out_dir / "data.yaml"
    names = "\n".join(f"  {i}: {name}" for i, name in enumerate(CLASSES))
    data_yaml.write_text(
        f"path: {out_dir.resolve()}\ntrain: images/train\nval: images/val\nnames:\n{names}\n"
    )
    return data_yaml

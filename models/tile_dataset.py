"""A dataset of tiles cut the way the node cuts them, so a model learns zoomed crops.

The node's tiles (edge/tiling.py) show the detector a part of the frame at a larger
scale than it was trained on; without training on such crops it finds more small gaps
but draws many false ones. This writes each photo's tiles (the node's windows, same
overlap) as images of their own, with the labels clipped to each tile, and by default
the whole photo too, so the model keeps seeing the full-frame scale.

A labelled box is kept in a tile when at least `min_visible` of its area falls inside
it (clipped to the tile); a sliver of a gap at a tile's edge is not a gap to learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from edge.tiling import FULL_FRAME, Window, tile_windows
from models.yolo_dataset import DatasetError, LabelledImage, load_dataset

MIN_VISIBLE = 0.5


@dataclass(frozen=True)
class TileGrid:
    """The node's tile settings, as `shelf-model eval --tiles` and the node take them."""

    cols: int
    rows: int
    overlap: float = 0.15
    full_frame: bool = False
    """Also detect on the whole frame (the node's `detector.tiles.full_frame`)."""

    @classmethod
    def parse(cls, text: str, overlap: float = 0.15, full_frame: bool = False) -> TileGrid:
        """`2x2` -> 2 columns, 2 rows."""
        try:
            cols, rows = (int(part) for part in text.lower().split("x"))
        except ValueError:
            raise ValueError(f"--tiles {text!r}: want COLSxROWS, e.g. 2x2") from None
        return cls(cols, rows, overlap, full_frame)

    def windows(self) -> list[Window]:
        return tile_windows(self.cols, self.rows, self.overlap)


def clip_to_window(
    truth: LabelledImage, window: Window, min_visible: float = MIN_VISIBLE
) -> tuple[np.ndarray, np.ndarray]:
    """The image's boxes inside `window`, normalised to it: (xyxy, classes)."""
    win = np.array((window.x0, window.y0, window.x0, window.y0))
    size = np.array((window.x1 - window.x0, window.y1 - window.y0) * 2)
    clipped = np.clip(truth.boxes, (window.x0, window.y0) * 2, (window.x1, window.y1) * 2)
    area = np.prod(np.clip(truth.boxes[:, 2:] - truth.boxes[:, :2], 0, None), axis=1)
    inside = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
    keep = (area > 0) & (inside >= min_visible * area)
    return (clipped[keep] - win) / size, truth.classes[keep]


def write_tiles(
    data_yaml: Path,
    out: Path,
    grid: TileGrid,
    *,
    splits: tuple[str, ...] = ("train", "val"),
    full_frame: bool = True,
) -> Path:
    """Write `out/images/<split>/`, `out/labels/<split>/` and `out/data.yaml`; returns it."""
    dataset = load_dataset(data_yaml)
    out = Path(out)
    windows = grid.windows() + ([FULL_FRAME] if full_frame else [])
    for split in splits:
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        for truth in dataset.labelled(split):
            _write_image_tiles(truth, windows, out, split)
    data = out / "data.yaml"
    data.write_text(
        yaml.safe_dump(
            {
                "path": str(out.resolve()),
                **{split: f"images/{split}" for split in splits},
                "names": dict(enumerate(dataset.names)),
            },
            sort_keys=False,
        )
    )
    return data


def _write_image_tiles(truth: LabelledImage, windows: list[Window], out: Path, split: str) -> None:
    image = cv2.imread(str(truth.path), cv2.IMREAD_COLOR)
    if image is None:
        raise DatasetError(f"{truth.path}: not a readable image")
    h, w = image.shape[:2]
    for index, window in enumerate(windows):
        x0, y0, x1, y1 = window.pixels(w, h)
        exact = Window(x0 / w, y0 / h, x1 / w, y1 / h)
        boxes, classes = clip_to_window(truth, exact)
        name = f"{truth.path.stem}_t{index}"
        cv2.imwrite(str(out / "images" / split / f"{name}.jpg"), image[y0:y1, x0:x1])
        lines = [
            f"{c} {(b[0] + b[2]) / 2:.6f} {(b[1] + b[3]) / 2:.6f} {b[2] - b[0]:.6f} {b[3] - b[1]:.6f}"
            for b, c in zip(boxes.tolist(), classes.tolist(), strict=True)
        ]
        (out / "labels" / split / f"{name}.txt").write_text("".join(f"{line}\n" for line in lines))

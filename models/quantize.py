"""Static int8 quantisation of the detector with ONNX Runtime, calibrated on real photos.

Why static, not dynamic: dynamic quantisation leaves convolutions in float, so a conv net
gains little; static QDQ lets ONNX Runtime run integer convolutions (VNNI on x86, the dot
product instructions on a Pi 5). Activations are uint8 and weights int8 per channel (the
U8S8 form ONNX Runtime's CPU kernels are fastest in), in 7 bits (`reduce_range`): an x86
CPU without VNNI (AVX2 only) adds u8 x s8 products in pairs into 16 bits and saturates
with full-range weights, which cost the 8-bit twin 0.009 gap AP50 on such a machine;
7-bit weights lose nothing measurable where nothing saturates (ONNX Runtime's reference
arithmetic gives both the fp32 model's figures). A ReLU after a convolution folds
into it (the quantised output range starts at zero), so the shipped ReLU model runs no
activation op of its own; a SiLU does not fold and costs a lookup and a multiply.

The head's decoding (the DFL softmax, box arithmetic, class sigmoid, output concat) stays
in float: its outputs are pixel coordinates and 0..1 scores whose one shared int8 scale
would cost box precision for no speed (it is a sliver of the compute).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx

from edge.detector import OnnxDetector
from edge.image_decode import decode_image
from models.pixel_input import take_camera_bytes
from models.yolo_dataset import load_dataset


class _LetterboxedImages:
    """ONNX Runtime's calibration reader: the node's own decoding (JPEGs at the scale the
    detector needs) and pre-processing of each image."""

    def __init__(self, model: Path, images: list[Path]) -> None:
        self._detector = OnnxDetector(model, threads=2, warmup_runs=0)
        self._fit = (self._detector.input_w, self._detector.input_h)
        self._images: Iterator[Path] = iter(images)

    def get_next(self) -> dict[str, np.ndarray] | None:
        for path in self._images:
            frame = decode_image(np.fromfile(str(path), np.uint8), self._fit)
            if frame is None:
                continue
            self._detector.preprocess(frame)
            return {self._detector.input_name: self._detector.input_tensor.copy()}
        return None


def head_prefix(model: onnx.ModelProto) -> str:
    """`/model.N/` of the last layer (the Detect head) in an Ultralytics export."""
    layers = [
        int(node.name.split("/")[1].split(".")[1])
        for node in model.graph.node
        if node.name.startswith("/model.") and node.name.split("/")[1].split(".")[1].isdigit()
    ]
    if not layers:
        raise ValueError("not an Ultralytics YOLO export: no /model.N/ node names")
    return f"/model.{max(layers)}/"


def float_head_nodes(model: onnx.ModelProto) -> list[str]:
    """The head's decoding nodes, kept in float: everything after its conv branches
    (`cv2.*` boxes, `cv3.*` classes), plus the exporter's nodes after the head."""
    prefix = head_prefix(model)
    names = []
    for node in model.graph.node:
        if node.name.startswith(prefix):
            branch = node.name[len(prefix) :].split("/")[0]
            if not branch.startswith(("cv2.", "cv3.")):
                names.append(node.name)
        elif node.name and not node.name.startswith("/model."):
            names.append(node.name)
    return names


def first_layer_nodes(model: onnx.ModelProto, layers: int) -> list[str]:
    """The nodes of the model's first `layers` layers (`/model.0/` ... ), to keep in float.

    The first layers hold the largest activations in the fewest channels: their integer
    convolutions gain least, while their SiLUs, unfused in int8 (a lookup and a
    requantizing multiply each), cost most. Two float layers ran 4-5 % faster on an
    AMX/VNNI Xeon (model card, "Where the int8 model's time goes").
    """
    prefixes = tuple(f"/model.{i}/" for i in range(layers))
    return [node.name for node in model.graph.node if node.name.startswith(prefixes)]


def calibration_images(data_yaml: Path, split: str, count: int, seed: int = 0) -> list[Path]:
    """A fixed random sample of a split's images (same seed, same sample)."""
    images = load_dataset(data_yaml).images(split)
    random.Random(seed).shuffle(images)
    return images[:count]


def quantize_int8(
    fp32_model: Path,
    out: Path,
    calibration: list[Path],
    method: str = "Percentile",
    float_layers: int = 0,
) -> Path:
    """Write the statically quantised int8 twin of `fp32_model` to `out`.

    `method`: how each activation's range is set from the calibration images. Percentile
    (ONNX Runtime's 99.999th) clips the rare outliers of a ReLU's unbounded outputs, which
    MinMax would stretch the uint8 scale over: on the shipped ReLU model gap recall at
    the threshold kept 0.603 against 0.570 with MinMax. A SiLU model went the other way.
    `float_layers`: how many of the first layers stay float (`first_layer_nodes`).
    With none, the twin takes the camera's bytes (`models/pixel_input.py`); with float
    layers its first convolution is float and the input stays a float tensor.
    """
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ValueError("int8 calibration needs at least one image")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shelfsense-quant-") as tmp:
        prepared, quantized = Path(tmp) / "prepared.onnx", Path(tmp) / "quantized.onnx"
        quant_pre_process(str(fp32_model), str(prepared), skip_symbolic_shape=True)
        graph = onnx.load(str(prepared))
        quantize_static(
            str(prepared),
            str(quantized),
            _LetterboxedImages(fp32_model, calibration),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,  # 7-bit weights (module docstring)
            calibrate_method=getattr(CalibrationMethod, method),
            nodes_to_exclude=float_head_nodes(graph) + first_layer_nodes(graph, float_layers),
            extra_options={"CalibTensorRangeSymmetric": False},
        )
        model = onnx.load(str(quantized))
    _copy_metadata(onnx.load(str(fp32_model)), model)
    if float_layers == 0:
        take_camera_bytes(model)
    onnx.save(model, str(out))  # only a finished twin reaches `out`
    return out


def _copy_metadata(source: onnx.ModelProto, target: onnx.ModelProto) -> None:
    """Keep Ultralytics' names/imgsz metadata: the node reads its classes from there."""
    have = {p.key for p in target.metadata_props}
    for prop in source.metadata_props:
        if prop.key not in have:
            target.metadata_props.add(key=prop.key, value=prop.value)
    target.metadata_props.add(
        key="quantization", value="int8 static QDQ, U8S8, per-channel 7-bit weights"
    )

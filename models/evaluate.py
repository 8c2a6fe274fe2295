"""Accuracy of an ONNX detector as the node runs it, on a YOLO-format dataset.

The node's own `OnnxDetector` (ONNX Runtime, its letterbox, its numpy decoding) does the
inference, so the figures are what a camera gets, not what Ultralytics gets. Two decodings
of each output:

- for AP, every box down to confidence 0.001, multi-label, NMS IoU 0.7, matched greedily
  by confidence at IoU 0.50:0.95 and integrated with COCO's 101-point interpolation:
  the same protocol as Ultralytics' `val`, so the two agree (a test checks it);
- for precision, recall and F1, the node's operating point: its confidence threshold, its
  NMS IoU and one class per box, matched at IoU 0.5. Recall is also split by the size of
  the labelled box in model-input pixels, since small objects are what a detector misses
  first and what a store can fix by mounting the camera closer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edge.detector import OnnxDetector
from edge.image_decode import decode_image
from edge.postprocess import RawDetections, decode_yolo
from edge.settings import DetectorSettings
from edge.tiling import FULL_FRAME, TiledDetector, Window, merge, to_frame
from models.tile_dataset import TileGrid
from models.yolo_dataset import DatasetError, LabelledImage, load_dataset

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
AP_CONFIDENCE = 0.001
AP_NMS_IOU = 0.7
_AP_X = np.linspace(0.0, 1.0, 101)
# Buckets of a labelled box's side, sqrt(w * h) in model-input pixels after the letterbox.
# Finest where detectors fail: under two stride-8 cells, two to three, three to four; then
# up to one stride-32 cell pair, up to three, and the rest.
SIZE_BUCKETS = (
    ("<16px", 0.0, 16.0),
    ("16-24px", 16.0, 24.0),
    ("24-32px", 24.0, 32.0),
    ("32-48px", 32.0, 48.0),
    ("48-96px", 48.0, 96.0),
    (">=96px", 96.0, np.inf),
)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (M, 4) with every box in `b` (N, 4), xyxy: an (M, N) array."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match(truth: LabelledImage, found: RawDetections) -> np.ndarray:
    """(N, 10) booleans: is detection i a true positive at IoU threshold t?

    Detections, best first, each claim the unclaimed same-class truth box they overlap
    most (per threshold), as COCO and Ultralytics do.
    """
    return match_both_ways(truth, found)[0]


def match_both_ways(truth: LabelledImage, found: RawDetections) -> tuple[np.ndarray, np.ndarray]:
    """`match`'s (N found, 10) booleans and (N truth, 10): is truth box j claimed at IoU t?"""
    order = np.argsort(-found.scores, kind="stable")
    boxes, classes = found.boxes[order].astype(np.float64), found.classes[order]
    correct = np.zeros((len(order), len(IOU_THRESHOLDS)), bool)
    claimed = np.zeros((len(truth.classes), len(IOU_THRESHOLDS)), bool)
    if not len(order) or not len(truth.classes):
        return correct[np.argsort(order)], claimed
    iou = box_iou(truth.boxes, boxes) * (truth.classes[:, None] == classes[None, :])
    for j in np.flatnonzero((iou >= IOU_THRESHOLDS[0]).any(axis=0)):
        available = np.where(claimed, 0.0, iou[:, j, None])
        best = available.argmax(axis=0)
        hit = available[best, np.arange(len(IOU_THRESHOLDS))] >= IOU_THRESHOLDS
        correct[j] = hit
        claimed[best, np.arange(len(IOU_THRESHOLDS))] |= hit
    return correct[np.argsort(order)], claimed


def average_precision(correct: np.ndarray, scores: np.ndarray, n_truth: int) -> np.ndarray:
    """AP at each IoU threshold for one class (101-point interpolated, as COCO)."""
    if n_truth == 0 or not len(scores):
        return np.zeros(correct.shape[1])
    order = np.argsort(-scores, kind="stable")
    tp = correct[order].cumsum(axis=0)
    fp = (~correct[order]).cumsum(axis=0)
    recall = tp / n_truth
    precision = tp / (tp + fp)
    aps = []
    for t in range(correct.shape[1]):
        r = np.concatenate(([0.0], recall[:, t], [recall[-1, t]], [1.0]))
        p = np.concatenate(([1.0], precision[:, t], [0.0], [0.0]))
        p = np.flip(np.maximum.accumulate(np.flip(p)))
        y = np.interp(_AP_X, r, p)
        aps.append(float(((y[1:] + y[:-1]) / 2 * np.diff(_AP_X)).sum()))  # trapezoid rule
    return np.asarray(aps)


@dataclass
class _ClassTally:
    """What one class accumulates over the images.

    Each labelled box is kept with its side and whether the operating point found it; the
    truth count and the operating point's hits (each claims one labelled box) derive from
    those.
    """

    correct: list[np.ndarray] = field(default_factory=list)
    scores: list[np.ndarray] = field(default_factory=list)
    op_found: int = 0
    truth_sides: list[np.ndarray] = field(default_factory=list)  # input pixels
    truth_found: list[np.ndarray] = field(default_factory=list)  # at the operating point

    def figures(self) -> dict[str, float]:
        correct = np.concatenate(self.correct) if self.correct else np.zeros((0, 10), bool)
        scores = np.concatenate(self.scores) if self.scores else np.zeros(0)
        sides = np.concatenate(self.truth_sides) if self.truth_sides else np.zeros(0)
        found = np.concatenate(self.truth_found) if self.truth_found else np.zeros(0, bool)
        n_truth, op_tp = len(found), int(found.sum())
        ap = average_precision(correct, scores, n_truth)
        precision = op_tp / self.op_found if self.op_found else 0.0
        recall = op_tp / n_truth if n_truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "ap50": round(float(ap[0]), 4),
            "ap50_95": round(float(ap.mean()), 4),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "instances": n_truth,
            "recall_by_size": recall_by_size(sides, found),
        }


def recall_by_size(sides: np.ndarray, found: np.ndarray) -> dict[str, dict[str, float]]:
    """Operating-point recall of the labelled boxes in each of `SIZE_BUCKETS`, from each
    box's side and whether it was found."""
    buckets = {}
    for name, low, high in SIZE_BUCKETS:
        mine = (sides >= low) & (sides < high)
        n = int(mine.sum())
        recall = float(found[mine].mean()) if n else 0.0
        buckets[name] = {"recall": round(recall, 4), "instances": n}
    return buckets


def evaluate(
    model: Path | None,
    data_yaml: Path,
    split: str = "val",
    *,
    confidence: float | None = None,
    class_confidence: dict[str, float] | None = None,
    iou: float | None = None,
    threads: int = 2,
    tiles: TileGrid | None = None,
) -> dict[str, object]:
    """Per-class AP50, AP50-95 and operating-point P/R/F1, images, ms per image.

    With `tiles`, each photo is cut into the node's tiles (edge/tiling.py), each tile
    detected alone and the boxes merged as the node merges them.
    """
    defaults = DetectorSettings()
    confidence = defaults.confidence if confidence is None else confidence  # None: the model's
    class_confidence = defaults.class_confidence if class_confidence is None else class_confidence
    iou = defaults.iou if iou is None else iou
    dataset = load_dataset(data_yaml)
    detector = OnnxDetector(
        model, threads=threads, confidence=confidence, class_confidence=class_confidence, iou=iou
    )
    if len(detector.names) != len(dataset.names):
        raise DatasetError(f"{data_yaml}: {dataset.names} but the model knows {detector.names}")
    tallies = [_ClassTally() for _ in dataset.names]
    windows = (
        tiles.windows() + ([FULL_FRAME] if tiles.full_frame else []) if tiles else [FULL_FRAME]
    )
    tiled = (
        TiledDetector(
            detector,
            cols=tiles.cols,
            rows=tiles.rows,
            overlap=tiles.overlap,
            full_frame=tiles.full_frame,
        )
        if tiles
        else None
    )
    fit = (tiled or detector).input_w, (tiled or detector).input_h  # as the node's folder source
    elapsed: list[float] = []
    images = dataset.labelled(split)
    for truth in images:
        frame = decode_image(np.fromfile(truth.path, np.uint8), fit)
        if frame is None:
            raise DatasetError(f"{truth.path}: not a readable image")
        everything, operating, input_size, ms = _detect_windows(detector, frame, windows)
        elapsed.append(ms)
        _tally(tallies, truth, everything, operating, input_size)
    result: dict[str, object] = {
        name: tally.figures() for name, tally in zip(dataset.names, tallies, strict=True)
    }
    result.update(
        images=len(images),
        ms_per_image=round(float(np.mean(elapsed)), 2),
        model=str(detector.model_path),
        split=split,
        confidence=detector.confidence,
        class_confidence=class_confidence,
        tiles=f"{tiles.cols}x{tiles.rows}{'+full' if tiles.full_frame else ''}" if tiles else None,
    )
    return result


def _detect_windows(
    detector: OnnxDetector, frame: np.ndarray, windows: list[Window]
) -> tuple[RawDetections, RawDetections, tuple[float, float], float]:
    """Both decodings of each window's output, mapped to the frame and merged; the frame's
    size in model-input pixels at the closest view (a tile's scale, also when the whole
    frame runs beside the tiles); ms of the node's own work."""
    frame_h, frame_w = frame.shape[:2]
    everything, operating, ms = [], [], 0.0
    scale = 0.0
    for window in windows:
        x0, y0, x1, y1 = window.pixels(frame_w, frame_h)
        t0 = time.perf_counter()
        letterbox = detector.preprocess(frame[y0:y1, x0:x1])
        output = detector.infer()
        found = detector.decode(output, letterbox)
        ms += (time.perf_counter() - t0) * 1e3
        all_boxes = decode_yolo(
            output, letterbox, confidence=AP_CONFIDENCE, iou=AP_NMS_IOU, multi_label=True
        )
        exact = Window(x0 / frame_w, y0 / frame_h, x1 / frame_w, y1 / frame_h)
        everything.append(to_frame(all_boxes, exact))
        operating.append(to_frame(found, exact))
        scale = max(scale, letterbox.scale)
    if len(windows) == 1:
        merged_all, merged_op = everything[0], operating[0]
    else:
        merged_all = merge(everything, AP_NMS_IOU)
        merged_op = merge(operating, detector.iou, detector.max_det)
    return merged_all, merged_op, (frame_w * scale, frame_h * scale), ms


def _tally(
    tallies: list[_ClassTally],
    truth: LabelledImage,
    everything: RawDetections,
    operating: RawDetections,
    input_size: tuple[int, int],
) -> None:
    """Add one image; `input_size` is the image's (w, h) inside the model input."""
    correct = match(truth, everything)
    op_claimed = match_both_ways(truth, operating)[1][:, 0]
    wh = (truth.boxes[:, 2:] - truth.boxes[:, :2]) * np.asarray(input_size, np.float64)
    sides = np.sqrt(np.clip(wh, 0, None).prod(axis=1))
    for c, tally in enumerate(tallies):
        truth_mine = truth.classes == c
        tally.truth_sides.append(sides[truth_mine])
        tally.truth_found.append(op_claimed[truth_mine])
        mine = everything.classes == c
        tally.correct.append(correct[mine])
        tally.scores.append(everything.scores[mine])
        tally.op_found += int((operating.classes == c).sum())

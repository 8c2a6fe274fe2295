"""YOLO output decoding and non-maximum suppression in numpy (no torch on the node).

Matches Ultralytics' own post-processing for one image: per-anchor best class, confidence
filter, class-wise NMS, at most `max_det` boxes; then the letterbox is undone so boxes come
out normalised to the original frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_WH = 7680.0
"""Offset between classes in class-wise NMS (as in Ultralytics): boxes of different
classes are moved this far apart, so one NMS pass never lets them suppress each other."""


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the network input: scale, then padding (in pixels)."""

    scale: float
    pad_x: int
    pad_y: int
    frame_w: int
    frame_h: int
    new_w: int
    new_h: int


def letterbox_params(frame_w: int, frame_h: int, input_w: int, input_h: int) -> Letterbox:
    """Keep the aspect ratio, centre the resized frame (Ultralytics LetterBox, auto=False)."""
    scale = min(input_w / frame_w, input_h / frame_h)
    new_w, new_h = round(frame_w * scale), round(frame_h * scale)
    pad_x = round((input_w - new_w) / 2 - 0.1)
    pad_y = round((input_h - new_h) / 2 - 0.1)
    return Letterbox(scale, pad_x, pad_y, frame_w, frame_h, new_w, new_h)


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) centre-size boxes to corner boxes."""
    out = np.empty_like(boxes)
    half_w, half_h = boxes[:, 2] / 2, boxes[:, 3] / 2
    out[:, 0] = boxes[:, 0] - half_w
    out[:, 1] = boxes[:, 1] - half_h
    out[:, 2] = boxes[:, 0] + half_w
    out[:, 3] = boxes[:, 1] + half_h
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, max_det: int = 300) -> np.ndarray:
    """Greedy NMS over xyxy boxes; indices of the kept boxes, best score first."""
    order = np.argsort(-scores, kind="stable")
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    keep: list[int] = []
    while order.size and len(keep) < max_det:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        w = np.clip(np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]), 0, None)
        inter = w * h
        union = areas[best] + areas[rest] - inter
        overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def class_wise_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float, max_det: int = 300
) -> np.ndarray:
    """NMS within each class only: a gap box never suppresses an overlapping messy box."""
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    shifted = boxes + (classes.astype(boxes.dtype) * MAX_WH)[:, None]
    return nms(shifted, scores, iou, max_det)


@dataclass(frozen=True)
class RawDetections:
    """Decoded boxes in frame-normalised xyxy, with scores and class ids (parallel arrays)."""

    boxes: np.ndarray  # (N, 4) float32, 0..1
    scores: np.ndarray  # (N,) float32
    classes: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def _to_frame(boxes_xyxy: np.ndarray, lb: Letterbox) -> np.ndarray:
    """Input-pixel xyxy boxes to frame-normalised xyxy, clipped to the frame."""
    out = np.empty_like(boxes_xyxy)
    out[:, [0, 2]] = (boxes_xyxy[:, [0, 2]] - lb.pad_x) / (lb.scale * lb.frame_w)
    out[:, [1, 3]] = (boxes_xyxy[:, [1, 3]] - lb.pad_y) / (lb.scale * lb.frame_h)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _finish(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, lb: Letterbox
) -> RawDetections:
    norm = _to_frame(boxes, lb)
    # A box entirely in the padding collapses to zero area once clipped: drop it.
    real = (norm[:, 2] > norm[:, 0]) & (norm[:, 3] > norm[:, 1])
    return RawDetections(
        norm[real].astype(np.float32, copy=False),
        scores[real].astype(np.float32, copy=False),
        classes[real].astype(np.int64, copy=False),
    )


def decode_yolo(
    output: np.ndarray,
    lb: Letterbox,
    *,
    confidence: float,
    iou: float,
    max_det: int = 300,
    multi_label: bool = False,
) -> RawDetections:
    """Decode a YOLOv8/11 head output `(1, 4 + nc, N)`: cx, cy, w, h in input pixels, then
    one score per class (already sigmoid-activated in the exported graph).

    The node keeps each anchor's best class. `multi_label` keeps every class above
    `confidence` instead, as Ultralytics' validation does, so mAP is computed alike.
    """
    pred = output[0]
    if pred.ndim != 2 or pred.shape[0] < 5:
        raise ValueError(f"expected YOLO output (1, 4+nc, N), got {output.shape}")
    class_scores = pred[4:]
    if multi_label:
        classes, anchors = np.nonzero(class_scores >= confidence)
        scores = class_scores[classes, anchors]
        boxes = xywh_to_xyxy(pred[:4, anchors].T)
    else:
        # Filter on the best score first: the argmax is then taken on a few candidates only.
        mask = class_scores.max(axis=0) >= confidence
        candidates = class_scores[:, mask]
        classes = candidates.argmax(axis=0)
        scores = candidates[classes, np.arange(candidates.shape[1])]
        boxes = xywh_to_xyxy(pred[:4, mask].T)
    if not len(scores):
        empty = np.zeros((0, 4), np.float32)
        return RawDetections(empty, np.zeros(0, np.float32), np.zeros(0, np.int64))
    keep = class_wise_nms(boxes, scores, classes, iou, max_det)
    return _finish(boxes[keep], scores[keep], classes[keep], lb)


def decode_end2end(
    output: np.ndarray, lb: Letterbox, *, confidence: float, max_det: int = 300
) -> RawDetections:
    """Decode an NMS-free (end-to-end / `nms=True`) export `(1, N, 6)`: x0, y0, x1, y1,
    score, class in input pixels; the graph already suppressed duplicates."""
    pred = output[0]
    if pred.ndim != 2 or pred.shape[1] < 6:
        raise ValueError(f"expected end-to-end output (1, N, 6), got {output.shape}")
    pred = pred[pred[:, 4] >= confidence][:max_det]
    return _finish(pred[:, :4], pred[:, 4], pred[:, 5].astype(np.int64), lb)

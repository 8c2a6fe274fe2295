"""YOLO output decoding in numpy and non-maximum suppression in OpenCV (no torch on the node).

Matches Ultralytics' own post-processing for one image: per-anchor best class, confidence
filter, class-wise NMS, at most `max_det` boxes; then the letterbox is undone so boxes come
out normalised to the original frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

NMS_SCORE_FLOOR = 0.0
"""OpenCV's NMS also drops boxes scoring at or below a threshold (it must be >= 0);
candidates arrive already filtered by confidence, so only a zero score falls to it."""


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


def _centre_to_corners(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) centre-size boxes to corner boxes, computed as Ultralytics does (cx -/+ w/2)."""
    half = boxes[:, 2:] / 2
    return np.concatenate((boxes[:, :2] - half, boxes[:, :2] + half), axis=1)


def _corners_to_top_left(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) corner boxes to the top-left + size boxes OpenCV's NMS takes (a copy)."""
    out = np.array(boxes, dtype=np.float32, order="C")
    out[:, 2:] -= out[:, :2]
    return out


def class_wise_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float, max_det: int = 300
) -> np.ndarray:
    """Greedy NMS within each class over xyxy boxes (a gap box never suppresses an
    overlapping messy box); indices of the kept boxes, best score first.

    OpenCV's (`cv2.dnn.NMSBoxesBatched`, which offsets each class apart): the same greedy
    rule as Ultralytics' (drop a box whose IoU with a better kept one of its class exceeds
    `iou`), in C++. It runs right after inference, where the numpy loop it replaced took
    3x its time alone.
    """
    if boxes.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    keep = cv2.dnn.NMSBoxesBatched(
        _corners_to_top_left(boxes),
        scores.astype(np.float32),
        classes.astype(np.int32),
        NMS_SCORE_FLOOR,
        iou,
    )
    return np.asarray(keep, dtype=np.int64).reshape(-1)[:max_det]  # () when none kept


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
    offset = np.array((lb.pad_x, lb.pad_y, lb.pad_x, lb.pad_y), np.float32)
    size = np.array((lb.frame_w, lb.frame_h, lb.frame_w, lb.frame_h), np.float32) * lb.scale
    out = (boxes_xyxy - offset) / size
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
        boxes = pred[:4, anchors].T
    else:
        # One gather of the anchors whose best class passes; argmax on those few only.
        candidates = pred[:, class_scores.max(axis=0) >= confidence]
        classes = candidates[4:].argmax(axis=0)
        scores = candidates[4:].max(axis=0)
        boxes = candidates[:4].T
    if not len(scores):
        empty = np.zeros((0, 4), np.float32)
        return RawDetections(empty, np.zeros(0, np.float32), np.zeros(0, np.int64))
    corners = _centre_to_corners(boxes)
    keep = class_wise_nms(corners, scores, classes, iou, max_det)
    return _finish(corners[keep], scores[keep], classes[keep], lb)


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

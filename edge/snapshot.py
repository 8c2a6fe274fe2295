"""Snapshots for calibration: a frame that may leave the node, with people blurred.

Images never leave the node unless the gateway asks (`…/snapshot_request`), the gateway
enables snapshots for this camera and the node's own config allows them
(`snapshots.allowed`). What is sent is blurred wherever a person may be: what the motion
gate sees in front of the shelf, OpenCV's HOG people detector's boxes and its Haar
cascade's frontal faces (both bundled with OpenCV: no download). The proposal of a
layout from the same frame travels with it (edge.calibration).
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache

import cv2
import numpy as np

from edge.calibration import carry_assignments, propose_layout
from edge.contract.messages import Snapshot, SnapshotRequest
from edge.layout import Layout
from edge.motion import MotionResult, PersonDetector
from edge.settings import SnapshotSettings

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@lru_cache(maxsize=1)
def _face_cascade() -> cv2.CascadeClassifier | None:
    path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        log.warning("OpenCV's face cascade %s is missing: faces are found by HOG only", path)
        return None
    return cascade


def find_faces(frame_bgr: np.ndarray) -> list[Box]:
    """Normalised boxes of frontal faces (Haar cascade on a grey copy)."""
    cascade = _face_cascade()
    if cascade is None:
        return []
    h, w = frame_bgr.shape[:2]
    grey = cv2.equalizeHist(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY))
    found = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    return [(x / w, y / h, (x + fw) / w, (y + fh) / h) for x, y, fw, fh in found]


def blur_people(
    frame_bgr: np.ndarray,
    motion: MotionResult | None,
    person_detector: PersonDetector | None,
) -> tuple[np.ndarray, int]:
    """A copy of the frame blurred wherever a person may be; returns (image, regions)."""
    h, w = frame_bgr.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    regions = 0
    if motion is not None and motion.in_front.any():
        mask |= cv2.resize(motion.in_front, (w, h), interpolation=cv2.INTER_NEAREST)
        regions += max(1, len(motion.people))
    boxes = list(person_detector.detect(frame_bgr)) if person_detector is not None else []
    boxes += find_faces(frame_bgr)
    for x0, y0, x1, y1 in boxes:
        mask[int(y0 * h) : int(np.ceil(y1 * h)), int(x0 * w) : int(np.ceil(x1 * w))] = 1
    regions += len(boxes)
    if not mask.any():
        return frame_bgr.copy(), 0
    margin = max(3, w // 60)
    mask = cv2.dilate(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    # Pixelate then blur: no shape or face survives, and the shelf around stays sharp.
    small = cv2.resize(frame_bgr, (max(1, w // 24), max(1, h // 24)), cv2.INTER_AREA)
    hidden = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST), (0, 0), 8)
    out = frame_bgr.copy()
    out[mask > 0] = hidden[mask > 0]
    return out, regions


def encode_jpeg(frame_bgr: np.ndarray, settings: SnapshotSettings) -> tuple[bytes, int, int]:
    """JPEG bytes of the frame, shrunk to `max_width`; returns (bytes, width, height)."""
    h, w = frame_bgr.shape[:2]
    if w > settings.max_width:
        scale = settings.max_width / w
        frame_bgr = cv2.resize(frame_bgr, (settings.max_width, round(h * scale)), cv2.INTER_AREA)
        h, w = frame_bgr.shape[:2]
    ok, data = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return data.tobytes(), w, h


def refusal(store: str, camera: str, request: SnapshotRequest, why: str) -> Snapshot:
    return Snapshot(store=store, camera=camera, request_id=request.id, error=why)


def take_snapshot(
    store: str,
    camera: str,
    request: SnapshotRequest,
    frame_bgr: np.ndarray,
    settings: SnapshotSettings,
    *,
    motion: MotionResult | None = None,
    person_detector: PersonDetector | None = None,
    layout: Layout | None = None,
    layout_version: str | None = None,
) -> Snapshot:
    """The answer to a request: the blurred JPEG and the calibration proposal."""
    image, regions = (
        blur_people(frame_bgr, motion, person_detector) if settings.blur_people else (frame_bgr, 0)
    )
    data, w, h = encode_jpeg(image, settings)
    try:
        proposal = carry_assignments(propose_layout(frame_bgr), layout)
    except Exception as error:  # a proposal is a convenience; the snapshot still goes
        log.warning("no layout proposal from this frame: %s", error)
        proposal = None
    return Snapshot(
        store=store,
        camera=camera,
        request_id=request.id,
        jpeg_base64=base64.b64encode(data).decode("ascii"),
        width=w,
        height=h,
        people_blurred=regions,
        layout_version=layout_version,
        proposal=proposal,
    )

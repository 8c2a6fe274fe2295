"""A USB camera (device index) or a network stream (RTSP/HTTP URL) through OpenCV.

Network cameras drop out; on a failed read the capture is released and the next `read()`
reopens it, so the node's backoff decides how often we retry.
"""

from __future__ import annotations

import logging
import re

import cv2
import numpy as np

from edge.settings import OpenCVConfig
from edge.sources.base import CameraUnavailable, as_bgr

log = logging.getLogger(__name__)

_CREDENTIALS = re.compile(r"(//[^:/@]+:)[^@/]*@")


def redact(device: int | str) -> str:
    """The device as text with a URL password hidden, safe for logs and health."""
    return _CREDENTIALS.sub(r"\1***@", str(device))


class OpenCVSource:
    """`cv2.VideoCapture` on a device index or URL, reopened after any failure."""

    def __init__(self, device: int | str = 0, *, size: tuple[int, int] | None = None) -> None:
        self.device = device
        self.size = size
        self._capture: cv2.VideoCapture | None = None
        self.reconnects = 0

    @classmethod
    def from_config(cls, config: OpenCVConfig, *, store: str, camera: str) -> OpenCVSource:
        """The capture the config describes; the device is opened by the first `read()`."""
        return cls(config.device, size=config.size)

    def _open(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.device)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"camera {redact(self.device)}: cannot open")
        if isinstance(self.device, int):
            # Keep only the newest frame so a slow detector never analyses stale images.
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            if self.size:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        log.info("camera %s opened", redact(self.device))
        return capture

    def read(self) -> np.ndarray | None:
        if self._capture is None:
            self._capture = self._open()
            self.reconnects += 1
        ok, frame = self._capture.read()
        if not ok or frame is None:
            self.close()
            raise CameraUnavailable(f"camera {redact(self.device)}: read failed, will reconnect")
        return as_bgr(frame, f"camera {redact(self.device)}")

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

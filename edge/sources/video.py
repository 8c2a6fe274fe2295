"""Replay a recorded video file frame by frame (OpenCV's FFmpeg backend)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from edge.settings import VideoConfig
from edge.sources.base import CameraUnavailable, as_bgr

log = logging.getLogger(__name__)


class VideoSource:
    """Frames of one video file; at the end it starts again (`loop`) or reports None."""

    def __init__(self, path: str | Path, *, loop: bool = True) -> None:
        self.path = Path(path)
        self.loop = loop
        self.finished = False
        self.frames_read = 0
        self._capture: cv2.VideoCapture | None = None

    @classmethod
    def from_config(cls, config: VideoConfig, *, store: str, camera: str) -> VideoSource:
        """The replay the config describes; the file is opened by the first `read()`."""
        return cls(config.path, loop=config.loop)

    def _open(self) -> cv2.VideoCapture:
        if not self.path.is_file():
            raise CameraUnavailable(f"{self.path}: video file does not exist")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"{self.path}: cannot open as a video")
        return capture

    def read(self) -> np.ndarray | None:
        if self.finished:
            return None
        if self._capture is None:
            self._capture = self._open()
            self.frames_read = 0
        ok, frame = self._capture.read()
        if not ok:
            self.close()
            if self.frames_read == 0:
                raise CameraUnavailable(f"{self.path}: no frame could be decoded")
            if not self.loop:
                self.finished = True
                log.info("%s: end of video after %d frames", self.path, self.frames_read)
                return None
            self._capture = self._open()
            self.frames_read = 0
            ok, frame = self._capture.read()
            if not ok:
                self.close()
                raise CameraUnavailable(f"{self.path}: no frame after rewinding")
        self.frames_read += 1
        return as_bgr(frame, str(self.path))

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

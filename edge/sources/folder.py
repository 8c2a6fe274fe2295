"""Replay a folder of image files in name order: try a layout on recorded shelf photos."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from edge.sources.base import CameraUnavailable, FrameError, as_bgr

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class FolderSource:
    """Images matching `pattern` in `path`, sorted by name; the folder is rescanned each pass.

    A file that does not decode raises FrameError (the node counts it) and the next read
    moves on to the following file, so one corrupt photo never stops the replay.
    """

    def __init__(self, path: str | Path, *, loop: bool = True, pattern: str = "*") -> None:
        self.path = Path(path)
        self.loop = loop
        self.pattern = pattern
        self._files: list[Path] = []
        self._next = 0
        self._passes = 0
        self.finished = False

    def _scan(self) -> list[Path]:
        if not self.path.is_dir():
            raise CameraUnavailable(f"{self.path}: folder does not exist")
        files = sorted(
            p
            for p in self.path.glob(self.pattern)
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise CameraUnavailable(f"{self.path}: no image files match {self.pattern!r}")
        return files

    def read(self) -> np.ndarray | None:
        if self.finished:
            return None
        if self._next >= len(self._files):
            if self._passes and not self.loop:
                self.finished = True
                log.info("%s: all %d images read", self.path, len(self._files))
                return None
            self._files = self._scan()
            self._next = 0
            self._passes += 1
        file = self._files[self._next]
        self._next += 1
        frame = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if frame is None:
            raise FrameError(f"{file}: not a readable image")
        return as_bgr(frame, str(file))

    def close(self) -> None:
        """Nothing to release; a later read continues where it stopped."""

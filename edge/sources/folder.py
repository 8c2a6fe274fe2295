"""Replay a folder of image files in name order: try a layout on recorded shelf photos."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from edge.image_decode import decode_image
from edge.settings import FolderConfig
from edge.sources.base import CameraUnavailable, FrameError, as_bgr

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})


class FolderSource:
    """Images matching `pattern` in `path`, sorted by name; the folder is rescanned each pass.

    A file that does not decode raises FrameError (the node counts it) and the next read
    moves on to the following file, so one corrupt photo never stops the replay. Once
    the node calls `fit_to(detector input size)`, JPEGs are decoded at the smallest scale
    that still covers it (`edge.image_decode`), unless `shrink` is off.
    """

    def __init__(
        self, path: str | Path, *, loop: bool = True, pattern: str = "*", shrink: bool = True
    ) -> None:
        self.path = Path(path)
        self.loop = loop
        self.pattern = pattern
        self.shrink = shrink
        self._fit: tuple[int, int] | None = None
        self._files: list[Path] = []
        self._next = 0
        self._passes = 0
        self.finished = False

    @classmethod
    def from_config(cls, config: FolderConfig, *, store: str, camera: str) -> FolderSource:
        """The replay the config describes; the folder is scanned by the first `read()`."""
        return cls(
            config.path,
            loop=config.loop,
            pattern=config.pattern,
            shrink=config.decode_at_model_size,
        )

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
        try:
            frame = decode_image(np.fromfile(file, np.uint8), self._fit)
        except OSError as error:
            raise FrameError(f"{file}: cannot read: {error}") from error
        if frame is None:
            raise FrameError(f"{file}: not a readable image")
        return as_bgr(frame, str(file))

    def fit_to(self, size: tuple[int, int]) -> None:
        """Decode no larger than needed to letterbox into `size` (the detector's input)."""
        self._fit = tuple(size) if self.shrink else None

    def close(self) -> None:
        """Nothing to release; a later read continues where it stopped."""

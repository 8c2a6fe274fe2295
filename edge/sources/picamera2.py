"""A Raspberry Pi camera module through picamera2 (Raspberry Pi OS: apt python3-picamera2).

picamera2 is imported here, lazily, so every other backend runs without it. Its "RGB888"
format is, despite the name, laid out [B, G, R] in memory (Picamera2 manual, appendix on
image formats), exactly what OpenCV and our detector expect; `swap_rb` covers camera
stacks that deliver it the other way round.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from edge.settings import Picamera2Config
from edge.sources.base import CameraUnavailable, FrameError, as_bgr

log = logging.getLogger(__name__)


class Picamera2Source:
    """Still frames from the main stream of a Picamera2 video configuration."""

    def __init__(self, size: tuple[int, int] = (640, 480), *, swap_rb: bool = False) -> None:
        self.size = size
        self.swap_rb = swap_rb
        self._camera: Any = None

    @classmethod
    def from_config(cls, config: Picamera2Config, *, store: str, camera: str) -> Picamera2Source:
        """The camera the config describes; the camera is opened by the first `read()`."""
        return cls(config.size, swap_rb=config.swap_rb)

    def _open(self) -> Any:
        try:
            from picamera2 import Picamera2  # lazy: only Raspberry Pi OS has it
        except ImportError as error:
            raise CameraUnavailable(
                "picamera2 is not installed: on Raspberry Pi OS run "
                "'sudo apt install python3-picamera2' and create the venv with "
                "--system-site-packages"
            ) from error
        try:
            camera = Picamera2()
            config = camera.create_video_configuration(
                main={"size": tuple(self.size), "format": "RGB888"}, buffer_count=2
            )
            camera.configure(config)
            camera.start()
        except Exception as error:  # libcamera raises many kinds; all mean "no camera"
            raise CameraUnavailable(f"picamera2: cannot start the camera: {error}") from error
        log.info("picamera2 started at %dx%d", *self.size)
        return camera

    def read(self) -> np.ndarray | None:
        if self._camera is None:
            self._camera = self._open()
        try:
            frame = self._camera.capture_array("main")
        except Exception as error:
            self.close()
            raise CameraUnavailable(f"picamera2: capture failed: {error}") from error
        if frame is None:
            raise FrameError("picamera2: empty capture")
        frame = as_bgr(np.asarray(frame), "picamera2")
        return frame[..., ::-1].copy() if self.swap_rb else frame

    def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            try:
                camera.stop()
                camera.close()
            except Exception as error:
                log.warning("picamera2: error while closing: %s", error)

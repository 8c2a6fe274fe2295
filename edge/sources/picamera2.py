"""A Raspberry Pi camera module through picamera2 (Raspberry Pi OS: apt python3-picamera2).

picamera2 is imported here, lazily, so every other backend runs without it. We ask for
the main stream in "RGB888", which is, despite the name, laid out [B, G, R] in memory
(the Picamera2 manual's appendix on image formats; picamera2's request.py hands it to PIL
as mode "BGR"): exactly what OpenCV and our detector expect, so frames are passed on
without a conversion. `swap_rb` covers camera stacks that deliver it the other way round.

`Picamera2()` acquires the camera for this process until `close()`: a camera that was
opened but failed to configure or start is closed again at once, and `close()` always
releases it even when stopping fails, or every later reconnect would find the camera
"busy". tests/edge/test_picamera2_source.py checks all this against a fake `picamera2`
(tests/support/fake_picamera2) that behaves as the library does.
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
            camera = Picamera2()  # IndexError: no camera; RuntimeError: busy or broken
        except Exception as error:  # libcamera raises many kinds; all mean "no camera"
            raise CameraUnavailable(
                f"picamera2: cannot open the camera: {_describe(error)}"
            ) from error
        try:
            config = camera.create_video_configuration(
                main={"size": tuple(self.size), "format": "RGB888"}, buffer_count=2
            )
            camera.configure(config)
            camera.start()
        except Exception as error:
            _release(camera)  # else the next Picamera2() finds the camera busy
            raise CameraUnavailable(
                f"picamera2: cannot start the camera at {self.size[0]}x{self.size[1]}: "
                f"{_describe(error)}"
            ) from error
        log.info("picamera2 started at %dx%d", *self.size)
        return camera

    @property
    def sensor(self) -> str | None:
        """The open camera module's model (e.g. "imx708"), for `shelf-node smoke-test`."""
        if self._camera is None:
            return None
        try:
            return str(self._camera.camera_properties["Model"])
        except Exception:  # a diagnostic nicety, never a reason to fail
            return None

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
            _release(camera)


def _release(camera: Any) -> None:
    """Stop and close `camera`; close (which frees the device) is tried even when stop
    fails, and neither failure is raised: the caller is giving the camera up anyway."""
    try:
        camera.stop()
    except Exception as error:
        log.warning("picamera2: error while stopping: %s", _describe(error))
    try:
        camera.close()
    except Exception as error:
        log.warning("picamera2: error while closing: %s", _describe(error))


def _describe(error: BaseException) -> str:
    """The error and its cause: picamera2 wraps libcamera's reason ("Device or resource
    busy") in a generic RuntimeError, and an empty camera list is a bare IndexError."""
    if isinstance(error, IndexError):
        return "no camera found (is the ribbon cable seated? `rpicam-hello --list-cameras`)"
    text = f"{type(error).__name__}: {error}"
    if error.__cause__ is not None:
        text += f" ({error.__cause__})"
    return text

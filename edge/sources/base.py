"""The camera source contract and the factory that picks a backend from the config.

A source has two methods: `read()` returns the next BGR uint8 frame, or None when there is
no frame this time (a finite recording that has ended); `close()` frees the device. A
source never hides a failure and never kills the node: a bad frame raises `FrameError`, a
camera that is gone raises `CameraUnavailable`; the node counts both in health, backs off
and calls `read()` again, and the source reconnects on that call.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from edge.settings import (
    FolderConfig,
    OpenCVConfig,
    Picamera2Config,
    SimulatorConfig,
    SourceConfig,
    VideoConfig,
)


class FrameError(RuntimeError):
    """One frame could not be read or decoded; the next one may be fine."""


class CameraUnavailable(FrameError):
    """The camera or stream is gone (unplugged, network down); the next read reconnects."""


@runtime_checkable
class FrameSource(Protocol):
    """What the node loop needs from a camera."""

    def read(self) -> np.ndarray | None:
        """The next frame as BGR uint8 (H, W, 3); None when there is none (recording ended)."""
        ...

    def close(self) -> None:
        """Release the device; `read()` may reopen it."""
        ...


def as_bgr(frame: np.ndarray, origin: str) -> np.ndarray:
    """Check a decoded frame is an (H, W, 3) uint8 image; grey and BGRA are converted."""
    import cv2

    if frame.dtype != np.uint8 or frame.size == 0:
        raise FrameError(f"{origin}: frame has dtype {frame.dtype} and shape {frame.shape}")
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise FrameError(f"{origin}: frame has shape {frame.shape}, expected (H, W, 3)")
    return frame


def open_source(config: SourceConfig, *, store: str, camera: str) -> FrameSource:
    """Build the backend named by `config.kind`; hardware is not touched until `read()`."""
    if isinstance(config, Picamera2Config):
        from edge.sources.picamera2 import Picamera2Source

        return Picamera2Source(config.size, swap_rb=config.swap_rb)
    if isinstance(config, OpenCVConfig):
        from edge.sources.opencv import OpenCVSource

        return OpenCVSource(config.device, size=config.size)
    if isinstance(config, FolderConfig):
        from edge.sources.folder import FolderSource

        return FolderSource(
            config.path,
            loop=config.loop,
            pattern=config.pattern,
            shrink=config.decode_at_model_size,
        )
    if isinstance(config, VideoConfig):
        from edge.sources.video import VideoSource

        return VideoSource(config.path, loop=config.loop)
    if isinstance(config, SimulatorConfig):
        from edge.sources.simulator import SimulatorSource

        return SimulatorSource.from_config(config, store=store, camera=camera)
    raise TypeError(f"unknown source config {type(config).__name__}")

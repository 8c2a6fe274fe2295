"""The camera source contract every backend keeps, and what it raises.

A source has two methods: `read()` returns the next BGR uint8 frame, or None when there is
no frame this time (a finite recording that has ended); `close()` frees the device. A
source never hides a failure and never kills the node: a bad frame raises `FrameError`, a
camera that is gone raises `CameraUnavailable`; the node counts both in health, backs off
and calls `read()` again, and the source reconnects on that call.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


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

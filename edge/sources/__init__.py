"""Camera sources: one file per backend, all behind the tiny contract in `base.py`."""

from edge.sources.base import (
    CameraUnavailable,
    FrameError,
    FrameSource,
    open_source,
)

__all__ = ["CameraUnavailable", "FrameError", "FrameSource", "open_source"]

"""Decode a photo no larger than the detector needs.

A JPEG can be decoded at 1/2, 1/4 or 1/8 scale inside the DCT (libjpeg's scaled
decoding, OpenCV's `IMREAD_REDUCED_COLOR_*`), which skips most of the work instead of
decoding every pixel and then throwing three quarters away in the letterbox resize. On
a 640 px shelf photo and a 320 px model that halves the decode time, the largest cost
of the node's per-frame work after inference. The scale is the smallest that still
leaves at least as many pixels as the letterbox keeps, so the detector sees the same
detail; other formats (PNG, BMP, ...) are decoded at full size.
"""

from __future__ import annotations

import cv2
import numpy as np

_REDUCED_FLAGS = {
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""Start-of-frame markers (baseline, progressive, ...); C4/C8/CC are other segments."""


def jpeg_size(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, or None if it is not a JPEG
    (or the header is cut short). Reads the markers only, never the image data."""
    buf = data.tobytes() if isinstance(data, np.ndarray) else data
    if buf[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(buf):
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        length = int.from_bytes(buf[i + 2 : i + 4], "big")
        if marker in _SOF_MARKERS:
            if i + 9 > len(buf):
                return None
            height = int.from_bytes(buf[i + 5 : i + 7], "big")
            width = int.from_bytes(buf[i + 7 : i + 9], "big")
            return (width, height) if width and height else None
        i += 2 + length
    return None


def reduction_for(size: tuple[int, int], fit: tuple[int, int]) -> int:
    """The largest DCT scale-down (1, 2, 4 or 8) after which an image of `size` still has
    at least the pixels a letterbox into `fit` keeps (never upsample the detector's view)."""
    width, height = size
    keep = min(fit[0] / width, fit[1] / height, 1.0)
    for factor in (8, 4, 2):
        if -(-width // factor) >= width * keep and -(-height // factor) >= height * keep:
            return factor
    return 1


def decode_image(data: bytes | np.ndarray, fit: tuple[int, int] | None = None) -> np.ndarray | None:
    """BGR uint8 image from encoded bytes, JPEGs at the smallest scale that covers `fit`
    (the detector's input width, height); None when the bytes do not decode."""
    encoded = np.frombuffer(data, np.uint8) if isinstance(data, bytes) else data
    size = jpeg_size(encoded) if fit is not None else None
    factor = reduction_for(size, fit) if size is not None and fit is not None else 1
    flag = _REDUCED_FLAGS.get(factor, cv2.IMREAD_COLOR)
    return cv2.imdecode(encoded, flag)


__all__ = ["decode_image", "jpeg_size", "reduction_for"]

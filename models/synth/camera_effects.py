"""What a real camera adds: perspective, uneven light, blur, sensor noise, JPEG."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PixelBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class CameraPose:
    """A fixed homography from the flat shelf canvas to the camera frame."""

    matrix: np.ndarray

    @classmethod
    def random(
        cls, rng: np.random.Generator, size: tuple[int, int], strength: float = 0.05
    ) -> CameraPose:
        w, h = size
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        jitter = rng.uniform(-strength, strength, (4, 2)) * np.float32([w, h])
        # Pull corners inwards only a little so the frame stays filled with shelf.
        dst = (src + jitter).astype(np.float32)
        return cls(cv2.getPerspectiveTransform(src, dst))

    @classmethod
    def identity(cls) -> CameraPose:
        return cls(np.eye(3, dtype=np.float64))

    def warp(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        return cv2.warpPerspective(image, self.matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)

    def box(self, box: PixelBox, size: tuple[int, int]) -> PixelBox:
        """Axis-aligned bounds of a warped box, clipped to the frame."""
        x0, y0, x1, y1 = box
        pts = np.float32([[[x0, y0]], [[x1, y0]], [[x1, y1]], [[x0, y1]]])
        out = cv2.perspectiveTransform(pts, self.matrix)[:, 0]
        w, h = size
        return (
            float(np.clip(out[:, 0].min(), 0, w)),
            float(np.clip(out[:, 1].min(), 0, h)),
            float(np.clip(out[:, 0].max(), 0, w)),
            float(np.clip(out[:, 1].max(), 0, h)),
        )


@dataclass(frozen=True)
class Lighting:
    """Smooth light falloff and a colour cast, fixed for a camera, varied for training."""

    gain: np.ndarray  # (h, w, 1) float32 multiplier
    cast: np.ndarray  # (3,) float32 per-channel multiplier

    @classmethod
    def random(cls, rng: np.random.Generator, size: tuple[int, int]) -> Lighting:
        w, h = size
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(-0.2, 0.6) * h
        dist = np.sqrt(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2)
        gain = rng.uniform(0.85, 1.2) - rng.uniform(0.2, 0.55) * dist**2
        cast = rng.uniform(0.88, 1.12, 3).astype(np.float32)
        return cls(np.clip(gain, 0.35, 1.4)[..., None].astype(np.float32), cast)

    @property
    def gain3(self) -> np.ndarray:
        """Light falloff times colour cast, per pixel and channel (cached: a camera's light
        is fixed, and one multiply per frame keeps rendering fast)."""
        cached = self.__dict__.get("_gain3")
        if cached is None:
            cached = np.ascontiguousarray(self.gain * self.cast[None, None, :], np.float32)
            object.__setattr__(self, "_gain3", cached)
        return cached


def expose(
    image: np.ndarray,
    lighting: Lighting | None,
    rng: np.random.Generator,
    blur: float,
    noise: float,
    jpeg: int,
) -> np.ndarray:
    """Everything the camera does to the scene, in one float pass for speed: defocus blur,
    uneven light and colour cast, Gaussian sensor noise, then a JPEG round trip."""
    if blur > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if lighting is not None or noise > 0:
        f = image.astype(np.float32)
        if lighting is not None:
            cv2.multiply(f, lighting.gain3, dst=f)
        if noise > 0:
            grain = rng.standard_normal(f.shape, dtype=np.float32)
            f += grain * np.float32(noise)
        image = np.clip(f, 0, 255, out=f).astype(np.uint8)
    if jpeg < 100:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg)])
        if ok:
            image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return image

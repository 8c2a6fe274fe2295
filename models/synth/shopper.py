"""A shopper standing between the camera and the shelf."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Shopper:
    """A silhouette: head, torso and an arm, in clothing colours, at horizontal `x`."""

    x: float  # centre, fraction of the frame width
    width: float  # shoulder width, fraction of the frame width
    top: float  # top of the head, fraction of the frame height
    shirt: tuple[int, int, int]
    skin: tuple[int, int, int]
    hair: tuple[int, int, int]

    @classmethod
    def random(cls, rng: np.random.Generator) -> Shopper:
        def colour() -> tuple[int, int, int]:
            return tuple(int(c) for c in rng.integers(20, 235, 3))  # type: ignore[return-value]

        skin_v = int(rng.integers(90, 225))
        return cls(
            x=float(rng.uniform(0.1, 0.9)),
            width=float(rng.uniform(0.2, 0.42)),
            top=float(rng.uniform(-0.05, 0.35)),
            shirt=colour(),
            skin=(int(skin_v * 0.7), int(skin_v * 0.85), skin_v),
            hair=tuple(int(c) for c in rng.integers(5, 90, 3)),  # type: ignore[arg-type]
        )

    def draw(self, canvas: np.ndarray) -> np.ndarray:
        """Draw onto `canvas`; returns the mask of covered pixels."""
        h, w = canvas.shape[:2]
        mask = np.zeros((h, w), np.uint8)
        cx, sw = int(self.x * w), int(self.width * w)
        head_r = max(6, int(sw * 0.22))
        head_y = int(self.top * h) + head_r
        body_top = head_y + head_r
        cv2.ellipse(mask, (cx, body_top + sw // 3), (sw // 2, sw // 3), 0, 180, 360, 255, -1)
        cv2.rectangle(mask, (cx - sw // 2, body_top + sw // 3), (cx + sw // 2, h), 255, -1)
        canvas[mask > 0] = self.shirt
        arm = np.zeros_like(mask)
        side = 1 if self.x < 0.5 else -1
        shoulder = (cx + side * sw // 2, body_top + sw // 3)
        hand = (shoulder[0] + side * sw // 2, shoulder[1] + sw // 4)
        cv2.line(arm, shoulder, hand, 255, max(4, sw // 6))
        canvas[arm > 0] = self.shirt
        cv2.circle(canvas, hand, max(3, sw // 12), self.skin, -1)
        cv2.circle(arm, hand, max(3, sw // 12), 255, -1)
        cv2.circle(canvas, (cx, head_y), head_r, self.skin, -1)
        cv2.ellipse(
            canvas,
            (cx, head_y - head_r // 3),
            (head_r, int(head_r * 0.8)),
            0,
            180,
            360,
            self.hair,
            -1,
        )
        cv2.circle(mask, (cx, head_y), head_r, 255, -1)
        return np.maximum(mask, arm)

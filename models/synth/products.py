"""Product looks and their sprites: boxes, bottles, cans, jars and pouches with labels.

A look is drawn once per size into a sprite (colour image + mask) and cached, so a shelf
of a few dozen products renders in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

SHAPES = ("box", "bottle", "can", "jar", "pouch")
BRANDS = ("Sunnyfield", "Kirana", "Mellow", "Nordkap", "Brightly", "Tamsa", "Orchid", "Vela")
WORDS = ("RICE", "TEA", "SOAP", "COLA", "MILK", "OATS", "CHIPS", "JUICE", "BEANS", "CAFE")


@dataclass(frozen=True)
class ProductLook:
    """How one product appears on the shelf (its size is relative to the row height)."""

    shape: str
    body: tuple[int, int, int]
    label: tuple[int, int, int]
    accent: tuple[int, int, int]
    text: str
    height: float  # fraction of the row's clear height
    aspect: float  # width / height of one facing


def _colour(rng: np.random.Generator, light: bool | None = None) -> tuple[int, int, int]:
    hue = int(rng.integers(0, 180))
    sat = int(rng.integers(60, 255))
    val = int(rng.integers(170, 255) if light else rng.integers(40, 255))
    if light is False:
        val = int(rng.integers(30, 120))
    bgr = cv2.cvtColor(np.uint8([[[hue, sat, val]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


def random_look(rng: np.random.Generator, text: str | None = None) -> ProductLook:
    """A plausible random product: shape decides its proportions."""
    shape = SHAPES[int(rng.integers(len(SHAPES)))]
    aspect = {
        "box": rng.uniform(0.45, 1.1),
        "bottle": rng.uniform(0.28, 0.42),
        "can": rng.uniform(0.5, 0.7),
        "jar": rng.uniform(0.7, 1.0),
        "pouch": rng.uniform(0.55, 0.85),
    }[shape]
    return ProductLook(
        shape=shape,
        body=_colour(rng),
        label=_colour(rng, light=bool(rng.random() < 0.6)),
        accent=_colour(rng),
        text=text or WORDS[int(rng.integers(len(WORDS)))],
        height=float(rng.uniform(0.55, 0.95)),
        aspect=float(aspect),
    )


def natural_size(look: ProductLook, clear_h: int) -> tuple[float, float]:
    """(width, height) of one facing standing in a row with `clear_h` pixels of headroom."""
    h = clear_h * min(look.height, 0.97)
    return h * look.aspect, h


def _outline(shape: str, w: int, h: int) -> np.ndarray:
    """The product's silhouette as a uint8 mask of shape (h, w)."""
    mask = np.zeros((h, w), np.uint8)
    if shape == "bottle":
        neck_w, neck_h = max(2, w // 3), max(2, h // 4)
        x0 = (w - neck_w) // 2
        cv2.rectangle(mask, (x0, 0), (x0 + neck_w - 1, neck_h), 255, -1)
        cv2.ellipse(mask, (w // 2, neck_h + h // 10), (w // 2, h // 10), 0, 180, 360, 255, -1)
        cv2.rectangle(mask, (0, neck_h + h // 10), (w - 1, h - 1), 255, -1)
    elif shape == "jar":
        cv2.rectangle(mask, (0, h // 8), (w - 1, h - 1), 255, -1)
        cv2.rectangle(mask, (w // 10, 0), (w - 1 - w // 10, h // 8), 255, -1)
    elif shape == "pouch":
        pts = np.array([[w // 8, 0], [w - 1 - w // 8, 0], [w - 1, h - 1], [0, h - 1]], np.int32)
        cv2.fillPoly(mask, [pts], 255)
    else:
        cv2.rectangle(mask, (0, 0), (w - 1, h - 1), 255, -1)
    return mask


def _shade(image: np.ndarray, shape: str) -> np.ndarray:
    """Cylinders darken towards their sides; boxes get a lit top edge."""
    h, w = image.shape[:2]
    if shape in ("can", "bottle", "jar"):
        x = np.linspace(-1.0, 1.0, w, dtype=np.float32)
        profile = (
            0.55
            + 0.45 * np.sqrt(np.clip(1 - x**2, 0, 1))
            + 0.15 * np.exp(-((x + 0.35) ** 2) / 0.02)
        )
        image = np.clip(image.astype(np.float32) * profile[None, :, None], 0, 255).astype(np.uint8)
    else:
        y = np.linspace(1.15, 0.85, h, dtype=np.float32)
        image = np.clip(image.astype(np.float32) * y[:, None, None], 0, 255).astype(np.uint8)
    return image


@lru_cache(maxsize=4096)
def sprite(look: ProductLook, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR image, mask) of one facing of `look`, `w` x `h` pixels."""
    w, h = max(w, 3), max(h, 3)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = look.body
    top = h // 4 if look.shape == "bottle" else (h // 8 if look.shape == "jar" else 0)
    if look.shape in ("bottle", "jar"):
        image[:top] = look.accent  # cap or lid
    band0, band1 = top + int((h - top) * 0.3), top + int((h - top) * 0.75)
    image[band0:band1] = look.label
    stripe = max(1, h // 25)
    image[band0 : band0 + stripe] = look.accent
    if look.shape == "box":
        cv2.circle(image, (w // 2, top + (h - top) // 6), max(1, min(w, h) // 8), look.accent, -1)
    scale = max(0.2, min((band1 - band0) / 40.0, w / (9.0 * max(len(look.text), 1))))
    thickness = 1 if scale < 0.6 else 2
    (tw, th), _ = cv2.getTextSize(look.text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    text_colour = tuple(255 - c for c in look.label)
    origin = ((w - tw) // 2, (band0 + band1 + th) // 2)
    cv2.putText(
        image,
        look.text,
        origin,
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        text_colour,
        thickness,
        cv2.LINE_AA,
    )
    image = _shade(image, look.shape)
    mask = _outline(look.shape, w, h)
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    image[edge > 0] = (image[edge > 0] * 0.55).astype(np.uint8)
    return image, mask


@lru_cache(maxsize=1024)
def side_sprite(look: ProductLook, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(BGR image, mask) of a product turned sideways or back to front: its plain side
    with a nutrition panel and a barcode instead of the printed front."""
    w, h = max(w, 3), max(h, 3)
    image = np.empty((h, w, 3), np.uint8)
    image[:] = tuple(int(c * 0.85) for c in look.body)
    top = h // 4 if look.shape == "bottle" else (h // 8 if look.shape == "jar" else 0)
    if look.shape in ("bottle", "jar"):
        image[:top] = look.accent
    panel = (max(1, w // 6), top + (h - top) // 5, w - max(1, w // 6), top + (h - top) * 3 // 5)
    cv2.rectangle(image, panel[:2], panel[2:], (235, 235, 235), -1)
    for y in range(panel[1] + 3, panel[3] - 1, max(3, h // 20)):
        cv2.line(image, (panel[0] + 2, y), (panel[2] - 2, y), (110, 110, 110), 1)
    bar_y = top + (h - top) * 7 // 10
    cv2.rectangle(
        image, (w // 4, bar_y), (w * 3 // 4, bar_y + max(2, h // 10)), (250, 250, 250), -1
    )
    for x in range(w // 4 + 1, w * 3 // 4, 2):
        cv2.line(image, (x, bar_y + 1), (x, bar_y + max(2, h // 10) - 1), (20, 20, 20), 1)
    image = _shade(image, look.shape)
    mask = _outline(look.shape, w, h)
    return image, mask


def paste(
    canvas: np.ndarray, image: np.ndarray, mask: np.ndarray, x: int, y: int
) -> tuple[int, int, int, int] | None:
    """Draw a sprite with its top-left at (x, y), clipped to the canvas; returns the
    canvas rectangle it was drawn into, or None when it falls outside."""
    h, w = mask.shape
    ch, cw = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, cw), min(y + h, ch)
    if x1 <= x0 or y1 <= y0:
        return None
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x, None] > 0
    np.copyto(canvas[y0:y1, x0:x1], image[y0 - y : y1 - y, x0 - x : x1 - x], where=m)
    return x0, y0, x1, y1

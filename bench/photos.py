"""Real photos of objects on real backgrounds for the quality bench, with masks drawn by
hand: the colour photos of objects that scikit-image ships (so they are on every
machine that installs it: an espresso cup on a wooden table, a motion-blurred clock, a
rocket on its pad at dusk, a motorcycle in a garage), scaled to 320 pixels wide, and
for each the product's outline as ellipses and polygons traced over a 20-pixel grid
(about ±3 px). Its other photos are people and animals, not products."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SIDE = 320


@dataclass(frozen=True)
class Photo:
    name: str
    path: str
    crop: tuple[int, int, int, int] | None  # in the 320-px image: x0, y0, x1, y1
    ellipses: tuple[tuple[float, float, float, float], ...]  # cx, cy, a, b (320-px coords)
    polygons: tuple[tuple[tuple[float, float], ...], ...]
    text: str  # what a person would type with it


def _skimage(name: str) -> str:
    import skimage

    return os.path.join(os.path.dirname(skimage.__file__), "data", name)


def _half(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    return tuple((x / 2, y / 2) for x, y in points)  # traced on the 2x grid


PHOTOS = (
    Photo("coffee", "coffee.png", None, ((148, 125, 106, 82), (155, 58, 63, 48)),
          (((203, 72), (221, 35), (229, 39), (212, 76)),), "a red espresso cup on a saucer"),
    Photo("clock", "clock_motion.png", None, ((175, 127, 60, 48),), (), "a wall clock"),
    Photo("rocket", "rocket.jpg", (110, 40, 210, 192), (),
          (((161, 64), (166, 70), (168, 80), (168, 192), (154, 192), (154, 80), (156, 70)),),
          "a white rocket model"),
    Photo("motorcycle", "motorcycle_left.png", None, (),
          (_half(((80, 175), (130, 140), (200, 135), (300, 150), (380, 140), (400, 100), (440, 80),
                  (460, 85), (480, 110), (490, 140), (470, 200), (500, 235), (550, 255), (585, 300),
                  (580, 360), (530, 390), (470, 370), (445, 320), (400, 320), (330, 330), (290, 360),
                  (220, 340), (160, 335), (110, 290), (105, 240), (120, 215), (90, 210), (80, 190))),),
          "a red motorcycle"),
)


def load(photo: Photo) -> tuple[np.ndarray, np.ndarray]:
    """The photo (H, W, 3) uint8 at 320 px wide (cropped) and its hand-drawn mask."""
    img = Image.open(_skimage(photo.path)).convert("RGB")
    s = SIDE / max(img.size)
    img = img.resize((round(img.size[0] * s), round(img.size[1] * s)), Image.Resampling.LANCZOS)
    mask = Image.new("L", img.size, 0)
    draw = ImageDraw.Draw(mask)
    for cx, cy, a, b in photo.ellipses:
        draw.ellipse([cx - a, cy - b, cx + a, cy + b], fill=255)
    for poly in photo.polygons:
        draw.polygon(list(poly), fill=255)
    rgb, m = np.asarray(img), np.asarray(mask) > 127
    if photo.crop:
        x0, y0, x1, y1 = photo.crop
        rgb, m = rgb[y0:y1, x0:x1], m[y0:y1, x0:x1]
    return np.ascontiguousarray(rgb), m


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()

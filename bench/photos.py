"""Real photos of objects on real backgrounds for the quality bench, with masks drawn by
hand: the photos of objects that scikit-image ships (so they are on every machine that
installs it: an espresso cup on a wooden table, a motion-blurred clock, a rocket on its
pad at dusk, a motorcycle in a garage, the space shuttle model beside the astronaut in
NASA's portrait (public domain), and the camera on a tripod in its CC0 "camera" photo
(greyscale, partly hidden by the hands and face of the man using it)), scaled to 320
pixels wide, and for each the product's outline as ellipses and polygons traced over a
10- or 20-pixel grid (about ±3 px). Its other photos are people, animals, textures and
micrographs, not products."""

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
    Photo("shuttle", "astronaut.png", (215, 0, 310, 185), (),
          (((251, 0), (270, 0), (274, 10), (275, 24), (279, 26), (282, 32), (283, 125),
            (287, 134), (286, 141), (283, 145), (285, 168), (275, 173), (262, 170), (250, 173),
            (232, 174), (231, 160), (237, 150), (234, 142), (222, 140), (222, 135), (231, 128),
            (238, 112), (239, 35), (241, 27), (244, 24), (247, 28), (249, 28), (249, 10)),),
          "a white space shuttle model"),
    Photo("camera", "camera.png", (130, 70, 265, 320), (),
          (((164, 80), (207, 80), (209, 100), (206, 125), (192, 134), (172, 134), (164, 110)),
           ((178, 132), (188, 132), (187, 200), (179, 200)),  # centre column
           ((170, 195), (192, 192), (212, 188), (212, 194), (194, 200), (190, 215), (172, 215)),
           ((171, 212), (178, 214), (152, 320), (143, 320)),  # the three legs
           ((180, 212), (186, 212), (188, 306), (178, 306)),
           ((191, 212), (197, 210), (256, 318), (250, 320))),
          "a black camera on a silver tripod"),
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

"""Cut-outs: a product view as RGBA with clean anti-aliased edges and no background halo.

Three sources of the product's silhouette, best first:

1. an image that already has meaningful alpha keeps it;
2. an offline render (its PNG carries the ``viewgen:model`` chunk) stands on the
   renderer's own studio backdrop, a known vertical gradient, darkened only by the
   soft shadow. A pixel is backdrop exactly when its colour is that row's backdrop
   colour times a darkening factor (to within rounding), so the silhouette is exact,
   including see-through gaps, and the contact shadow is never mistaken for product;
3. any other image (a provider's) uses the segmentation the QA gate uses
   (``imaging.foreground_mask``), worked out at most 512 px wide and refined at full size.

Edges are then matted: in a thin band along the silhouette each pixel is explained
as a mix of the nearby product colour F and the nearby background colour B (both
local means of sure pixels), alpha is the pixel's position between the two, and its
colour is replaced by F (decontamination), so the studio grey never shows as a halo
on white. ``cutout`` returns a ``Cutout``: the RGBA pixels cropped to the product,
where they sat in the source, and how the silhouette was found.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property, lru_cache

import cv2
import numpy as np
from PIL import Image

from viewgen import imaging
from viewgen.errors import InvalidInput

OFFLINE_META_KEY = "viewgen:model"
SEGMENT_MAX_SIDE = 512
#: the 8-connected neighbourhood, for OpenCV's morphology
_SQUARE = np.ones((3, 3), np.uint8)


@dataclass(frozen=True)
class Cutout:
    """The product of one view: ``rgba`` (h, w, 4) uint8, straight alpha, cropped to the
    product; ``box`` (x0, y0, x1, y1) where it sat in a ``source_size`` image;
    ``method`` is ``alpha``, ``backdrop`` (offline, exact) or ``segmented``."""

    rgba: np.ndarray
    box: tuple[int, int, int, int]
    source_size: tuple[int, int]
    method: str

    @property
    def size(self) -> tuple[int, int]:
        return (int(self.rgba.shape[1]), int(self.rgba.shape[0]))

    def image(self) -> Image.Image:
        return Image.fromarray(self.rgba, "RGBA")

    @cached_property
    def premultiplied_array(self) -> np.ndarray:
        """The pixels premultiplied by alpha, (h, w, 4) uint8, for resizing without
        dark fringes (made once per cut-out; read-only)."""
        alpha = np.ascontiguousarray(self.rgba[..., 3])
        rgb = cv2.cvtColor(self.rgba, cv2.COLOR_RGBA2RGB)
        out = cv2.cvtColor(cv2.multiply(rgb, cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB), scale=1 / 255),
                           cv2.COLOR_RGB2RGBA)
        out[..., 3] = alpha
        out.flags.writeable = False
        return out

    @cached_property
    def premultiplied(self) -> Image.Image:
        """The same as a Pillow ``RGBa`` image (treat as read-only)."""
        array = self.premultiplied_array
        return Image.frombuffer("RGBa", self.size, array.tobytes(), "raw", "RGBa", 0, 1)


def cutout(data: bytes) -> Cutout:
    """The product in stored image bytes as a ``Cutout`` (cached by content)."""
    return _cutout(bytes(data))


@lru_cache(maxsize=32)
def _cutout(data: bytes) -> Cutout:
    image = imaging.open_png(data)
    meta = (getattr(image, "text", None) or image.info or {}).get(OFFLINE_META_KEY)
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = np.asarray(image.convert("RGBA"))
        alpha = rgba[..., 3]
        if int(alpha.min()) < 250 and int(alpha.max()) > 0:
            return _crop(rgba.copy(), (0, 0), "alpha")
        rgb = np.ascontiguousarray(rgba[..., :3])
    else:
        rgb = np.ascontiguousarray(np.asarray(image.convert("RGB")))
    if meta is not None:
        found = _offline_backdrop(rgb, margin=_margin(2))
        if found is not None:
            clear, (x0, y0) = found
            h, w = clear.shape
            return _crop(_matte(rgb[y0:y0 + h, x0:x0 + w], ~clear, clear, band=2), (x0, y0), "backdrop",
                         source=rgb)
    band = 3
    prior = _segment(rgb)
    x0, y0, x1, y1 = _grow(imaging.bbox(prior), _margin(band), rgb.shape)
    prior = np.ascontiguousarray(prior[y0:y1, x0:x1])
    solid = _erode(prior, band)
    clear = ~_dilate(prior, band)
    return _crop(_matte(rgb[y0:y1, x0:x1], prior, clear, band=band, solid=solid), (x0, y0), "segmented",
                 source=rgb)


# --------------------------------------------------------------------------- regions
#
# Everything outside the product's bounding box is background, so the masks and the
# matting are worked out only in that box grown by a margin: wider than the matting's
# reach (the band, then the window around each band pixel), so inside the image the
# results are those of working on the whole picture; at the picture's edges both
# repeat the edge pixels.


def _margin(band: int) -> int:
    return 2 * band + 4


def _grow(box: tuple[int, int, int, int] | None, margin: int, shape: tuple[int, ...]
          ) -> tuple[int, int, int, int]:
    if box is None:
        raise InvalidInput("There is no product in this image to cut out.")
    h, w = shape[:2]
    x0, y0, x1, y1 = box
    return max(0, x0 - margin), max(0, y0 - margin), min(w, x1 + margin), min(h, y1 + margin)


def _dilate(mask: np.ndarray, iterations: int) -> np.ndarray:
    """8-connected dilation; outside the array counts as empty."""
    return cv2.dilate(mask.view(np.uint8), _SQUARE, iterations=iterations).view(bool)


def _erode(mask: np.ndarray, iterations: int) -> np.ndarray:
    """8-connected erosion; outside the array counts as empty (edges are eaten)."""
    return cv2.erode(mask.view(np.uint8), _SQUARE, iterations=iterations,
                     borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)


# --------------------------------------------------------------------------- silhouettes


def _offline_backdrop(rgb: np.ndarray, *, margin: int
                      ) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Where the offline renderer's backdrop (or its shadow on it) shows, in the
    product's box grown by ``margin`` (the mask and the box's top-left corner), or None
    when the image is not on that backdrop (resized or edited since it was rendered)."""
    from viewgen.providers.offline.render import background

    h, w = rgb.shape[:2]
    rows = np.ascontiguousarray(
        (np.asarray(background((1, h)))[:, 0, :] * 255.0 + 0.5).astype(np.uint8))  # (h, 3)
    corners = [rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]]
    expect = [rows[0], rows[0], rows[-1], rows[-1]]
    if any(np.abs(c.astype(int) - e.astype(int)).max() > 2 for c, e in zip(corners, expect, strict=True)):
        return None
    untouched = _pack(rgb) == _pack(rows[:, None, :])  # most of the image
    x0, y0, x1, y1 = _grow(_mask_box(~untouched), margin, rgb.shape)
    clear = untouched[y0:y1, x0:x1]
    pix = rgb[y0:y1, x0:x1].astype(np.float32)
    bg = rows[y0:y1, None, :].astype(np.float32)
    k = (pix[..., 0] + pix[..., 1] + pix[..., 2]) / (bg[..., 0] + bg[..., 1] + bg[..., 2])
    resid = np.abs(pix - bg * k[..., None])  # darkening factor k, if this were backdrop
    resid = np.maximum(np.maximum(resid[..., 0], resid[..., 1]), resid[..., 2])
    clear = clear | ((resid <= 1.6) & (k >= 0.5) & (k <= 1.004))
    # specks: shading that happens to cross the backdrop's hue inside the product
    n, labels, stats, _ = cv2.connectedComponentsWithStats(clear.view(np.uint8), connectivity=4)
    if n > 2:
        left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
        right = left + stats[:, cv2.CC_STAT_WIDTH]
        bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
        # touching the box's edge means joined to the backdrop around the product
        edge = (left == 0) | (top == 0) | (right == clear.shape[1]) | (bottom == clear.shape[0])
        keep = (stats[:, cv2.CC_STAT_AREA] >= max(24, int(0.00005 * h * w))) | edge
        keep[0] = False
        clear = keep[labels]
    product = ~clear
    n, labels, stats, _ = cv2.connectedComponentsWithStats(product.view(np.uint8), connectivity=8)
    if n <= 1:
        raise InvalidInput("There is no product in this image to cut out.")
    sizes = stats[:, cv2.CC_STAT_AREA].copy()
    sizes[0] = 0
    keep = sizes >= max(12, int(0.02 * sizes.max()))
    keep[0] = False
    return ~keep[labels], (x0, y0)


def _pack(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (..., w, 3) as one uint32 per pixel (..., w), for fast equality tests."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA).view(np.uint32)[..., 0]


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    return None if w == 0 or h == 0 else (x, y, x + w, y + h)


def _segment(rgb: np.ndarray) -> np.ndarray:
    """The QA gate's foreground mask, computed at most ``SEGMENT_MAX_SIDE`` wide."""
    h, w = rgb.shape[:2]
    scale = min(1.0, SEGMENT_MAX_SIDE / max(h, w))
    if scale < 1.0:
        small = np.asarray(Image.fromarray(rgb).resize(
            (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX))
        mask = imaging.foreground_mask(small)
        up = Image.fromarray(mask.astype(np.uint8) * 255).resize((w, h), Image.Resampling.BILINEAR)
        mask = np.asarray(up) >= 128
    else:
        mask = imaging.foreground_mask(rgb)
    if not mask.any():
        raise InvalidInput("No product could be separated from the background of this image.")
    return mask


# --------------------------------------------------------------------------- matting


def _window_means(rgb: np.ndarray, where: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel: the summed colour of the ``where`` pixels in the
    (2 * radius + 1)² square around it, and how many there were (the image's edge
    pixels repeat beyond it)."""
    size = (2 * radius + 1, 2 * radius + 1)
    weight = where.astype(np.float32)
    total = cv2.boxFilter(rgb.astype(np.float32) * weight[..., None], -1, size, normalize=False,
                          borderType=cv2.BORDER_REPLICATE)
    count = cv2.boxFilter(weight, -1, size, normalize=False, borderType=cv2.BORDER_REPLICATE)
    return total, count


def _matte(rgb: np.ndarray, product: np.ndarray, clear: np.ndarray, *, band: int,
           solid: np.ndarray | None = None) -> np.ndarray:
    """RGBA: alpha 255 on sure product, 0 on ``clear``; in between (the ``band`` pixels
    along the silhouette) alpha from the pixel's position between the local product
    and background colours, and the colour decontaminated to the product's."""
    h, w = rgb.shape[:2]
    if solid is None:
        solid = product & ~_dilate(np.ascontiguousarray(clear), band)
    unknown = ~solid & ~clear
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[..., :3] = rgb
    out[..., 3] = np.where(solid, np.uint8(255), np.uint8(0))
    ys, xs = np.nonzero(unknown)
    if len(ys):
        radius = band + 1
        pix = rgb[ys, xs].astype(np.float32)
        fg_total, fg_count = _window_means(rgb, solid, radius)
        bg_total, bg_count = _window_means(rgb, clear, radius)
        n_fg, n_bg = fg_count[ys, xs], bg_count[ys, xs]
        fg = fg_total[ys, xs] / np.maximum(n_fg, 1e-6)[:, None]
        bg = bg_total[ys, xs] / np.maximum(n_bg, 1e-6)[:, None]
        d = fg - bg
        contrast = (d * d).sum(axis=-1)
        a = np.clip(((pix - bg) * d).sum(axis=-1) / np.maximum(contrast, 1e-6), 0.0, 1.0)
        known = (n_fg > 0) & (n_bg > 0) & (contrast >= 18.0 ** 2)
        hard = product[ys, xs].astype(np.float32)  # no contrast or no reference: keep the silhouette
        alpha = np.where(known, a, hard)
        colour = np.where((n_fg > 0)[:, None] & known[:, None], fg, pix)
        out[ys, xs, 3] = (alpha * 255.0 + 0.5).astype(np.uint8)
        out[ys, xs, :3] = np.clip(colour + 0.5, 0, 255).astype(np.uint8)
    out[..., :3] *= (out[..., 3:] > 0)
    return out


def _crop(rgba: np.ndarray, origin: tuple[int, int], method: str, *, source: np.ndarray | None = None
          ) -> Cutout:
    """The cut-out of ``rgba``, a part of the source image whose top-left corner sat at
    ``origin`` (``source`` is that image, when ``rgba`` is only a part of it)."""
    alpha = rgba[..., 3]
    box = imaging.bbox(alpha > 0)
    if box is None:
        raise InvalidInput("There is no product in this image to cut out.")
    x0, y0, x1, y1 = box
    ox, oy = origin
    full = source if source is not None else rgba
    return Cutout(rgba=np.ascontiguousarray(rgba[y0:y1, x0:x1]), box=(x0 + ox, y0 + oy, x1 + ox, y1 + oy),
                  source_size=(int(full.shape[1]), int(full.shape[0])), method=method)


def cutout_png(data: bytes) -> bytes:
    """The cut-out as a transparent PNG at the product's own size (no re-framing)."""
    out = io.BytesIO()
    cutout(data).image().save(out, format="PNG", compress_level=6)
    return out.getvalue()


__all__ = ["Cutout", "cutout", "cutout_png"]

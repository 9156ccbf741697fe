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

import numpy as np
from PIL import Image
from scipy import ndimage

from viewgen import imaging
from viewgen.errors import InvalidInput

OFFLINE_META_KEY = "viewgen:model"
SEGMENT_MAX_SIDE = 512
_EIGHT = ndimage.generate_binary_structure(2, 2)


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
    def premultiplied(self) -> Image.Image:
        """The pixels as premultiplied ``RGBa``, for resizing without dark fringes (made
        once per cut-out; treat as read-only)."""
        return self.image().convert("RGBa")


def cutout(data: bytes) -> Cutout:
    """The product in stored image bytes as a ``Cutout`` (cached by content)."""
    return _cutout(bytes(data))


@lru_cache(maxsize=32)
def _cutout(data: bytes) -> Cutout:
    image = imaging.open_png(data)
    meta = (getattr(image, "text", None) or image.info or {}).get(OFFLINE_META_KEY)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    rgba = np.asarray(image.convert("RGBA"))
    rgb = np.ascontiguousarray(rgba[..., :3])
    if has_alpha:
        alpha = rgba[..., 3]
        if int(alpha.min()) < 250 and int(alpha.max()) > 0:
            return _crop(rgba.copy(), "alpha")
    if meta is not None:
        clear = _offline_backdrop(rgb)
        if clear is not None:
            return _crop(_matte(rgb, ~clear, clear, band=2), "backdrop")
    prior = _segment(rgb)
    band = 3
    solid = ndimage.binary_erosion(prior, _EIGHT, iterations=band, border_value=0)
    clear = ~ndimage.binary_dilation(prior, _EIGHT, iterations=band)
    return _crop(_matte(rgb, prior, clear, band=band, solid=solid), "segmented")


# --------------------------------------------------------------------------- silhouettes


def _offline_backdrop(rgb: np.ndarray) -> np.ndarray | None:
    """Where the offline renderer's backdrop (or its shadow on it) shows, or None when
    the image is not on that backdrop (resized or edited since it was rendered)."""
    from viewgen.providers.offline.render import background

    h, w = rgb.shape[:2]
    rows = (np.asarray(background((w, h)))[:, 0, :] * 255.0 + 0.5).astype(np.uint8)  # (h, 3)
    corners = [rgb[0, 0], rgb[0, -1], rgb[-1, 0], rgb[-1, -1]]
    expect = [rows[0], rows[0], rows[-1], rows[-1]]
    if any(np.abs(c.astype(int) - e.astype(int)).max() > 2 for c, e in zip(corners, expect, strict=True)):
        return None
    packed = _pack(rgb)
    clear = packed == _pack(rows)[:, None]  # untouched backdrop, most of the image
    ys, xs = np.nonzero(~clear)
    bg = rows.astype(np.float32)[ys]
    pix = rgb[ys, xs].astype(np.float32)
    k = pix.sum(axis=-1) / bg.sum(axis=-1)  # darkening factor if this were backdrop
    resid = np.abs(pix - bg * k[:, None]).max(axis=-1)
    clear[ys, xs] = (resid <= 1.6) & (k >= 0.5) & (k <= 1.004)
    # specks: shading that happens to cross the backdrop's hue inside the product
    labels, n = ndimage.label(clear)
    if n > 1:
        sizes = np.bincount(labels.ravel())
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        keep = sizes >= max(24, int(0.00005 * h * w))
        keep[border] = True
        keep[0] = False
        clear = keep[labels]
    product = ~clear
    labels, n = ndimage.label(product, structure=_EIGHT)
    if n == 0:
        raise InvalidInput("There is no product in this image to cut out.")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = sizes >= max(12, int(0.02 * sizes.max()))
    keep[0] = False
    return ~keep[labels]


def _pack(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 as one uint32 per pixel, for fast equality tests."""
    c = rgb.astype(np.uint32)
    return (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]


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


def _neighbours(rgb: np.ndarray, where: np.ndarray, ys: np.ndarray, xs: np.ndarray, radius: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """For pixels (``ys``, ``xs``): the mean colour of the ``where`` pixels in the
    (2 * radius + 1)² square around each, and how many there were."""
    h, w = where.shape
    d = np.arange(-radius, radius + 1)
    yy = np.clip(ys[:, None, None] + d[None, :, None], 0, h - 1)
    xx = np.clip(xs[:, None, None] + d[None, None, :], 0, w - 1)
    weight = where[yy, xx].astype(np.float32)  # (n, k, k)
    count = weight.sum(axis=(1, 2))
    total = (rgb[yy, xx].astype(np.float32) * weight[..., None]).sum(axis=(1, 2))
    return total / np.maximum(count, 1e-6)[:, None], count


def _matte(rgb: np.ndarray, product: np.ndarray, clear: np.ndarray, *, band: int,
           solid: np.ndarray | None = None) -> np.ndarray:
    """RGBA: alpha 255 on sure product, 0 on ``clear``; in between (the ``band`` pixels
    along the silhouette) alpha from the pixel's position between the local product
    and background colours, and the colour decontaminated to the product's."""
    h, w = rgb.shape[:2]
    if solid is None:
        solid = product & ~ndimage.binary_dilation(clear, _EIGHT, iterations=band)
    unknown = ~solid & ~clear
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[..., :3] = rgb
    out[..., 3] = np.where(solid, np.uint8(255), np.uint8(0))
    ys, xs = np.nonzero(unknown)
    if len(ys):
        radius = band + 1
        pix = rgb[ys, xs].astype(np.float32)
        fg, n_fg = _neighbours(rgb, solid, ys, xs, radius)
        bg, n_bg = _neighbours(rgb, clear, ys, xs, radius)
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


def _crop(rgba: np.ndarray, method: str) -> Cutout:
    alpha = rgba[..., 3]
    box = imaging.bbox(alpha > 0)
    if box is None:
        raise InvalidInput("There is no product in this image to cut out.")
    x0, y0, x1, y1 = box
    return Cutout(rgba=np.ascontiguousarray(rgba[y0:y1, x0:x1]), box=box,
                  source_size=(int(rgba.shape[1]), int(rgba.shape[0])), method=method)


def cutout_png(data: bytes) -> bytes:
    """The cut-out as a transparent PNG at the product's own size (no re-framing)."""
    out = io.BytesIO()
    cutout(data).image().save(out, format="PNG", compress_level=6)
    return out.getvalue()


__all__ = ["Cutout", "cutout", "cutout_png"]

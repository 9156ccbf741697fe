"""The export path as it was before it was made fast (viewgen at commit bcd53eb), kept
verbatim so ``bench/exports.py`` can time it beside the current one in the same run and
check that the current files look the same. Not used by viewgen; do not import it elsewhere.
"""

# ruff: noqa
from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from viewgen import imaging
from viewgen.domain import ALL_VIEWS, ViewType
from viewgen.errors import InvalidInput
from viewgen.export import ExportedImage, srgb_profile
from viewgen.imaging import open_png
from viewgen.presets import MB, STUDIO, STUDIO_HEX, TRANSPARENT, Preset, resolve_presets

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



# ----------------------------------------------------------------- presets (export.py)

def _hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _canvas_size(preset: Preset, product: tuple[int, int]) -> tuple[int, int]:
    if preset.size is not None:
        return preset.size
    fill = preset.fill or 1.0
    w, h = product
    return max(1, round(w / fill)), max(1, round(h / fill))


def _shadow(canvas: tuple[int, int], box: tuple[int, int, int, int]
            ) -> tuple[Image.Image, tuple[int, int]] | None:
    """A soft contact shadow under a product standing in ``box``: an "L" patch of how
    much to darken (0..255) and where it goes: a flat ellipse at the base, blurred,
    kept clear of the canvas edges."""
    W, H = canvas
    x0, _, x1, y1 = box
    width = x1 - x0
    half_h = max(2.0, 0.035 * width)
    blur = max(1.5, 0.012 * max(W, H))
    pad = int(3 * blur + 2)
    margin = max(2, round(0.01 * min(W, H)))
    left, top = max(margin, int(x0 - pad)), max(margin, int(y1 - half_h - pad))
    right, bottom = min(W - margin, int(x1 + pad)), min(H - margin, int(y1 + half_h + pad))
    if right <= left or bottom <= top:
        return None
    patch = Image.new("L", (right - left, bottom - top), 0)
    cx = (x0 + x1) / 2 - left
    cy = y1 - top
    ImageDraw.Draw(patch).ellipse([cx - 0.47 * width, cy - half_h, cx + 0.47 * width, cy + half_h * 0.6],
                                  fill=170)
    patch = patch.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: round(v * 0.7))
    return patch, (left, top)


def frame_cutout(cut: Cutout, preset: Preset, *, view: ViewType | None = None) -> Image.Image:
    """The product placed for ``preset``: scaled (Lanczos, premultiplied) so its box
    fits ``fill`` of the canvas on both axes and centred, never cropped; on the preset's
    background, with the contact shadow under standing views when the preset asks.
    RGBA for a transparent background, else RGB."""
    fill = preset.fill or 1.0
    w, h = cut.size
    W, H = _canvas_size(preset, (w, h))
    scale = min(fill * W / w, fill * H / h)
    nw, nh = max(1, min(W, round(w * scale))), max(1, min(H, round(h * scale)))
    if (nw, nh) != (w, h):  # Lanczos to shrink; bicubic (as sharp, faster) to enlarge
        method = Image.Resampling.LANCZOS if nw < w else Image.Resampling.BICUBIC
        product = cut.premultiplied.resize((nw, nh), method).convert("RGBA")
    else:
        product = cut.image()
    x, y = (W - nw) // 2, (H - nh) // 2
    standing = view in (None, ViewType.FRONT, ViewType.BACK, ViewType.SIDE)
    shadow = _shadow((W, H), (x, y, x + nw, y + nh)) if preset.shadow and standing else None
    if preset.background == TRANSPARENT:
        canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        if shadow is not None:
            patch, at = shadow
            layer = Image.new("RGBA", patch.size, (0, 0, 0, 0))
            layer.putalpha(patch)
            canvas.paste(layer, at)
        canvas.alpha_composite(product, (x, y))
        return canvas
    colour = _hex_rgb(STUDIO_HEX if preset.background == STUDIO else preset.background)
    canvas = Image.new("RGB", (W, H), colour)
    if shadow is not None:
        patch, at = shadow
        canvas.paste(tuple(round(c * 0.62) for c in colour), (*at, at[0] + patch.width, at[1] + patch.height),
                     patch)
    canvas.paste(product, (x, y), product)
    return canvas


def encode(image: Image.Image, preset: Preset) -> bytes:
    """The image in the preset's format with the sRGB profile embedded, lowering the
    quality (JPEG, WebP) or raising the compression (PNG) until it fits
    ``max_bytes``; ``InvalidInput`` when it cannot."""
    icc = srgb_profile()
    if preset.format == "JPEG":
        image = image.convert("RGB")
        attempts = [{"quality": q} for q in range(preset.quality, 49, -6)]
    elif preset.format == "WEBP":
        attempts = [{"quality": q, "method": 4} for q in range(preset.quality, 49, -6)]
    else:
        attempts = [{"compress_level": 1}, {"compress_level": 6}, {"compress_level": 9}]
    size = 0
    for options in attempts:
        out = io.BytesIO()
        image.save(out, format=preset.format, icc_profile=icc, **options)
        size = out.tell()
        if size <= preset.max_bytes:
            return out.getvalue()
    raise InvalidInput(f"The {preset.label} image would be {size / MB:.1f} MB, over that preset's "
                       f"{preset.max_bytes / MB:.0f} MB limit.")


def render_preset(data: bytes, preset: Preset, *, view: ViewType | None = None) -> ExportedImage:
    """One stored view rendered for one preset."""
    if preset.fill is None:  # "original": as generated, re-saved with the profile
        image = open_png(data)
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    else:
        image = frame_cutout(cutout(data), preset, view=view)
    return ExportedImage(encode(image, preset), preset, view, image.size)


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else min(2, os.cpu_count() or 1))


def render_set(images: Mapping[ViewType, bytes], presets: Iterable[str | Preset], *,
               workers: int | None = None) -> list[ExportedImage]:
    """Every view × every preset, in preset-table then view order. Cut-outs are made
    once per view; the work runs on ``workers`` threads (Pillow and numpy release the GIL)."""
    chosen = resolve_presets(presets)
    views = [v for v in ALL_VIEWS if v in images]
    if not views:
        raise InvalidInput("There are no views to export yet.")
    jobs = [(p, v) for p in chosen for v in views]
    with ThreadPoolExecutor(_workers(workers)) as pool:
        if any(p.fill is not None for p in chosen):
            list(pool.map(lambda v: cutout(images[v]), views))
        return list(pool.map(lambda job: render_preset(images[job[1]], job[0], view=job[1]), jobs))



"""Views from a reference photo: the product cut out for the front, a body built from
its silhouette and palette for the others.

``prepare`` separates the product from its background (``viewgen.imaging.
foreground_mask``, then clean-up: specks dropped, small holes filled, the main part
kept), measures its palette (``viewgen.color.palette``) and picks one scale for all
five views so that the largest of width, height and the estimated depth fits with the
renderer's margin. The front is the cleaned product, scaled and centred on the studio
backdrop with a soft contact shadow. The back is the mirrored silhouette filled with
the dominant colour and shaded as a rounded slab (no front details). Side, top and
bottom render a rounded box, or an upright cylinder for tall narrow silhouettes, whose
depth comes from the description's category when there is one (else about 0.4 × the
width), sharing the front's height (side) and width (top, bottom) in pixels, coloured
from the palette. Materials, parts and size are unknown, so the metadata says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from viewgen import imaging
from viewgen.color import nearest_name, palette, rgb_to_lab
from viewgen.domain import ViewType
from viewgen.errors import InvalidInput
from viewgen.providers.offline.model import TEMPLATES, VARIANT_DIMS, parse_description
from viewgen.providers.offline.render import (
    MARGIN,
    RenderedView,
    background,
    body_scene,
    composite,
    contact_shadow,
    render_view,
    shade,
)

ANALYSIS_SIDE = 768
DEFAULT_DEPTH_RATIO = 0.4
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class PhotoProduct:
    """A reference photo, measured and placed: everything the five views need."""

    size: tuple[int, int]
    front_rgb: np.ndarray  # (H, W, 3) float32 0..1 product colours at the output size
    front_alpha: np.ndarray  # (H, W) float32 coverage
    mask: np.ndarray  # (H, W) bool, the front's product pixels
    width_px: int
    height_px: int
    depth_px: int
    shape: str  # "box" | "cylinder"
    colors: tuple[tuple[RGB, float], ...]
    category: str
    seed: int

    @property
    def main_color(self) -> RGB:
        return self.colors[0][0]


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """Drop specks, close one-pixel cracks, fill small holes, keep the main component."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return mask
    mask = ndimage.binary_opening(mask, iterations=1) if mask.sum() > 400 else mask
    mask = ndimage.binary_closing(np.pad(mask, 2), iterations=2)[2:-2, 2:-2]
    labels, n = ndimage.label(mask)
    if n > 1:
        sizes = np.bincount(labels.ravel())[1:]
        mask = labels == (int(np.argmax(sizes)) + 1)
    holes = ndimage.binary_fill_holes(mask) & ~mask
    if holes.any():
        hl, _ = ndimage.label(holes)
        sizes = np.bincount(hl.ravel())[1:]
        small = np.flatnonzero(sizes < 0.004 * mask.sum()) + 1
        mask = mask | np.isin(hl, small)
    return mask


def _depth_ratio(text: str | None) -> tuple[float, str]:
    if text:
        try:
            model = parse_description(text)
        except InvalidInput:
            model = None
        if model is not None and model.category != "product":
            w, _, d = VARIANT_DIMS.get((model.category, model.variant), TEMPLATES[model.category].dims)
            return max(0.05, min(d / max(w, 1e-6), 3.0)), model.category
    return DEFAULT_DEPTH_RATIO, "product"


@lru_cache(maxsize=16)
def prepare(reference: bytes, size: tuple[int, int], text: str | None = None, seed: int = 0
            ) -> PhotoProduct:
    """Cut the product out of the photo and place it for the five views."""
    try:
        rgba = imaging.to_array(reference, max_side=ANALYSIS_SIDE)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput("The reference photo could not be read: it may be damaged.") from exc
    rgb, alpha = rgba[..., :3], rgba[..., 3]
    mask = clean_mask(imaging.foreground_mask(rgb, alpha))
    box = imaging.bbox(mask)
    if box is None or mask.sum() < max(64, 0.002 * mask.size):
        raise InvalidInput("We could not find a product in the reference photo: it looks like an "
                           "empty background. Use a photo with the product clearly in view.")
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    ratio, category = _depth_ratio(text)
    fill = float(mask[y0:y1, x0:x1].mean())
    shape = "cylinder" if h >= 1.25 * w and fill > 0.6 and category in ("product", "bottle", "mug",
                                                                         "tumbler", "vase", "lamp") else "box"
    if shape == "cylinder":
        ratio = 1.0
    W, H = size
    scale = min((1 - 2 * MARGIN) * W / max(w, w * ratio), (1 - 2 * MARGIN) * H / max(h, w * ratio))
    ow, oh = max(1, round(w * scale)), max(1, round(h * scale))
    od = max(1, round(w * ratio * scale))

    # the cut-out, premultiplied so the background does not bleed into the edge
    cov = ndimage.gaussian_filter(mask.astype(np.float32), 0.6)
    cov = np.where(mask, np.maximum(cov, 0.5), np.minimum(cov, 0.49))
    crop = np.concatenate([rgb[y0:y1, x0:x1].astype(np.float32) / 255.0,
                           cov[y0:y1, x0:x1, None]], axis=-1)
    crop[..., :3] *= crop[..., 3:]
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(crop[..., c]), mode="F").resize(
        (ow, oh), Image.Resampling.BILINEAR if scale > 1 else Image.Resampling.BOX), dtype=np.float32)
        for c in range(4)]
    a = np.clip(channels[3], 0.0, 1.0)
    col = np.stack(channels[:3], axis=-1) / np.maximum(a, 1e-4)[..., None]
    front_rgb = np.zeros((H, W, 3), dtype=np.float32)
    front_alpha = np.zeros((H, W), dtype=np.float32)
    px, py = (W - ow) // 2, (H - oh) // 2
    front_rgb[py:py + oh, px:px + ow] = np.clip(col, 0.0, 1.0)
    front_alpha[py:py + oh, px:px + ow] = a
    out_mask = front_alpha >= 0.5

    colors = tuple(palette(rgb[mask], k=4, seed=seed)) or (((128, 128, 128), 1.0),)
    return PhotoProduct(size=size, front_rgb=front_rgb, front_alpha=front_alpha, mask=out_mask,
                        width_px=ow, height_px=oh, depth_px=od, shape=shape,
                        colors=tuple((tuple(int(c) for c in rgb_), float(s)) for rgb_, s in colors),  # type: ignore[misc]
                        category=category, seed=seed)


def _front(p: PhotoProduct) -> RenderedView:
    shadow = contact_shadow(p.size, p.mask, ViewType.FRONT, None)
    image = composite(p.size, p.front_rgb, p.front_alpha, shadow)
    return RenderedView(image=image, mask=p.mask.copy())


def _row_colors(p: PhotoProduct) -> np.ndarray:
    """Per image row, the photo's palette colour that row mostly shows (H, 3) float
    0..1: bands such as a lid or a sole carry over to the back, shading does not."""
    H = p.size[1]
    pal = np.array([c for c, _ in p.colors], dtype=np.float32) / 255.0
    rows = np.zeros((H, 3), dtype=np.float32)
    ys, xs = np.nonzero(p.mask)
    if len(ys) == 0:
        return rows + pal[0]
    lab_pal = rgb_to_lab(pal * 255.0)
    lab_px = rgb_to_lab(p.front_rgb[ys, xs] * 255.0)
    nearest = np.argmin(((lab_px[:, None, :] - lab_pal[None, :, :]) ** 2).sum(-1), axis=1)
    counts = np.zeros((H, len(pal)), dtype=np.float32)
    np.add.at(counts, (ys, nearest), 1.0)
    counts = ndimage.uniform_filter1d(counts, size=max(3, H // 60), axis=0)
    pick = np.argmax(counts, axis=1)
    return pal[pick]


def _back(p: PhotoProduct, *, mirrored: bool = True) -> RenderedView:
    """The mirrored silhouette as a rounded slab, each row in the palette colour that
    row of the front mostly shows (no front details)."""
    mask = p.mask[:, ::-1] if mirrored else p.mask
    alpha = p.front_alpha[:, ::-1] if mirrored else p.front_alpha
    box = imaging.bbox(mask)
    assert box is not None
    x0, y0, x1, y1 = box
    x0, y0, x1, y1 = max(x0 - 2, 0), max(y0 - 2, 0), min(x1 + 2, p.size[0]), min(y1 + 2, p.size[1])
    sub = mask[y0:y1, x0:x1]
    radius = max(2.0, 0.12 * min(p.width_px, p.height_px))
    dist = ndimage.distance_transform_edt(np.pad(sub, 1))[1:-1, 1:-1]
    t = np.clip(dist / radius, 0.0, 1.0)
    height = radius * np.sqrt(np.maximum(1.0 - (1.0 - t) ** 2, 0.0))
    height = ndimage.gaussian_filter(height.astype(np.float32), 2.0)
    gy, gx = np.gradient(height)
    nu, nv, nw = -gx, gy, np.ones_like(gx)  # image rows grow downwards, v grows upwards
    inv = 1.0 / np.sqrt(nu * nu + nv * nv + nw * nw)
    ys, xs = np.nonzero(sub)
    normal = np.stack([nu[ys, xs], nv[ys, xs], nw[ys, xs]]) * inv[ys, xs]
    albedo = _row_colors(p)[ys + y0]
    n = len(ys)
    color = shade(normal.astype(np.float32), albedo, np.full(n, 0.96, np.float32),
                  np.full(n, 0.18, np.float32), np.full(n, 24.0, np.float32),
                  np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros(n, bool))
    colors = np.zeros((p.size[1], p.size[0], 3), dtype=np.float32)
    colors[ys + y0, xs + x0] = color
    # edge pixels just outside take the nearest colour
    ring = ndimage.binary_dilation(mask, iterations=1) & ~mask
    if ring.any():
        _, (iy, ix) = ndimage.distance_transform_edt(~mask[y0:y1, x0:x1], return_indices=True)
        ry, rx = np.nonzero(ring[y0:y1, x0:x1])
        colors[ry + y0, rx + x0] = colors[iy[ry, rx] + y0, ix[ry, rx] + x0]
    shadow = contact_shadow(p.size, mask, ViewType.BACK, None)
    image = composite(p.size, colors, alpha, shadow)
    return RenderedView(image=image, mask=mask.copy())


def _body(p: PhotoProduct, view: ViewType) -> RenderedView:
    """Side, top or bottom of the guessed body. A round product's side is its front
    silhouette (a solid of revolution looks the same from every side); otherwise a
    rounded box, recoloured row by row (side) or with the top / bottom band's colour."""
    if view == ViewType.SIDE and p.shape == "cylinder":
        return _back(p, mirrored=False)
    grey = (200, 200, 200)
    scene = body_scene(float(p.width_px), float(p.height_px), float(p.depth_px), grey,
                       shape=p.shape, material="plastic", seed=p.seed)
    rendered = render_view(scene, view, p.size, scale=1.0)
    rows = _row_colors(p)
    my, mx = np.nonzero(rendered.mask)
    if view == ViewType.SIDE:
        tint = rows[my]
    else:
        ys = np.nonzero(p.mask)[0]
        band = max(1, int(ys.max() - ys.min()) // 7)
        pick = ys[ys <= ys.min() + band] if view == ViewType.TOP else ys[ys >= ys.max() - band]
        uniq, inv = np.unique(np.round(rows[pick] * 255).astype(np.int32), axis=0, return_inverse=True)
        tint = np.broadcast_to(uniq[np.argmax(np.bincount(inv.ravel()))].astype(np.float32) / 255.0,
                               (len(my), 3))
    original = rendered.image.astype(np.float32)
    image = original.copy()
    grey_f = np.array(grey, dtype=np.float32)
    image[my, mx] = np.clip(original[my, mx] / grey_f * tint * 255.0, 0, 255)
    # the anti-aliased pixels just outside: same coverage, new colour
    ring = ndimage.binary_dilation(rendered.mask) & ~rendered.mask
    ry, rx = np.nonzero(ring)
    if len(ry):
        _, (iy, ix) = ndimage.distance_transform_edt(~rendered.mask, return_indices=True)
        sy, sx = iy[ry, rx], ix[ry, rx]
        bg = background(p.size)[ry, rx] * 255.0
        cover = np.clip(np.abs(original[ry, rx] - bg).sum(-1)
                        / np.maximum(np.abs(original[sy, sx] - bg).sum(-1), 1.0), 0.0, 1.0)[:, None]
        image[ry, rx] = original[ry, rx] + (image[sy, sx] - original[sy, sx]) * cover
    return RenderedView(image=np.clip(image + 0.5, 0, 255).astype(np.uint8), mask=rendered.mask,
                        scale=rendered.scale)


def render_reference(reference: bytes, view: ViewType, size: tuple[int, int], *,
                     text: str | None = None, seed: int = 0) -> tuple[RenderedView, dict[str, Any]]:
    """One view of a product known from a photo, and its ``viewgen:model`` metadata."""
    product = prepare(reference, tuple(size), text, seed)  # type: ignore[arg-type]
    if view == ViewType.FRONT:
        rendered = _front(product)
    elif view == ViewType.BACK:
        rendered = _back(product)
    else:
        rendered = _body(product, view)
    return rendered, photo_meta(product, view)


def photo_meta(p: PhotoProduct, view: ViewType) -> dict[str, Any]:
    name = nearest_name(np.array(p.main_color, dtype=np.float64))
    return {
        "category": p.category,
        "materials": [],
        "key_elements": [],
        "dimensions_cm": None,
        "description": f"A product photographed by the user, mostly {name}.",
        "view": view.value,
    }

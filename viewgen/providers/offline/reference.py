"""Views from a reference photo: the product cut out for the front, a 3D body estimated
from its silhouette for the others, and the metadata that says they are estimates.

``prepare`` separates the product from its background (``viewgen.imaging.
segment_product``: the backdrop model on a plain background, OpenCV's GrabCut on a
real scene, whichever measured better there; then clean-up: specks dropped, small
holes filled, the main part kept), measures its palette (``viewgen.color.palette``)
and picks one scale for all five views so that the largest of width, height and the
estimated depth fits with the renderer's margin. Feedback that names the product's
colour ("make it navy", "darker") recolours the photo; the logo is placed on the
front. The front is the cleaned product, scaled and centred on the studio backdrop
with a soft contact shadow. The back is the mirrored silhouette, each row in the
colour that row of the front mostly shows, shaded as a rounded slab (no front
details). Side, top and bottom render ``photo_scene``: a lathe (a stack of frustums,
each row's half width as its radius) for round products (a cup, bottle, vase, a
silhouette that is its own mirror image) or else an extrusion (a stack of slabs, each
row's extent, as deep as the category suggests or about 0.4 × the width, thinner where
the silhouette narrows), coloured row by row from the photo. Every view's metadata
says it was estimated from one photo, how (``estimate``) and how sure (``confidence``
0..1); materials, parts and size are unknown, so the metadata says so too.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from viewgen import imaging
from viewgen.color import illuminant, nearest_name, palette, rgb_to_lab, under_neutral_light
from viewgen.domain import ViewType
from viewgen.errors import InvalidInput
from viewgen.providers.offline.model import TEMPLATES, VARIANT_DIMS, parse_description
from viewgen.providers.offline.render import (
    MARGIN,
    Prim,
    RenderedView,
    Scene,
    _bounds,
    _decode_logo,
    composite,
    contact_shadow,
    render_view,
    shade,
)

ANALYSIS_SIDE = 768
DEFAULT_DEPTH_RATIO = 0.4
ROUND_CATEGORIES = ("mug", "bottle", "tumbler", "vase", "lamp", "candle", "bowl", "glass", "kettle")
#: the studio rig shades a photo colour down by about this much on the lit side
RELIGHT = 1.1
#: the material is unknown: a matte, untextured surface keeps the photo's colour
PHOTO_MATERIAL = "plastic"
#: below this the QA gate should say the other views are a rough guess
LOW_CONFIDENCE = 0.6
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
    segmentation: str = "backdrop"  # "alpha" | "backdrop" | "grabcut"
    symmetry: float = 0.0  # IoU of the silhouette with its mirror image
    applied: tuple[str, ...] = ()  # feedback notes applied to the photo
    unapplied: tuple[str, ...] = ()  # feedback notes a photo cannot take
    light: tuple[float, float, float] = (1.0, 1.0, 1.0)  # the photo's light (color.illuminant)

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
def prepare(reference: bytes, size: tuple[int, int], text: str | None = None, seed: int = 0,
            feedback: tuple[str, ...] = (), logo: bytes | None = None) -> PhotoProduct:
    """Cut the product out of the photo, apply the feedback and the logo, and place it
    for the five views."""
    try:
        rgba = imaging.to_array(reference, max_side=ANALYSIS_SIDE)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput("The reference photo could not be read: it may be damaged.") from exc
    rgb, alpha = rgba[..., :3], rgba[..., 3]
    cut, method = imaging.segment_product(rgb, alpha)
    mask = clean_mask(cut)
    box = imaging.bbox(mask)
    if box is None or mask.sum() < max(64, 0.002 * mask.size):
        raise InvalidInput("We could not find a product in the reference photo: it looks like an "
                           "empty background. Use a photo with the product clearly in view.")
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    ratio, category = _depth_ratio(text)
    fill = float(mask[y0:y1, x0:x1].mean())
    sub = mask[y0:y1, x0:x1]
    symmetry = float((sub & sub[:, ::-1]).sum() / max((sub | sub[:, ::-1]).sum(), 1))
    tall_round = h >= 1.25 * w and fill > 0.6 and category == "product"
    shape = "cylinder" if category in ROUND_CATEGORIES or tall_round else "box"
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
    colors = tuple((tuple(int(c) for c in rgb_), float(s)) for rgb_, s in colors)  # type: ignore[misc]
    applied: list[str] = []
    unapplied: list[str] = []
    for note in feedback:
        change = _color_change(note, colors[0][0])  # type: ignore[arg-type]
        if change is None:
            unapplied.append(note)
            continue
        front_rgb, colors = _recolour(front_rgb, out_mask, colors, change)  # type: ignore[arg-type]
        applied.append(note)
    if logo:
        _place_logo(front_rgb, out_mask, logo)
    # the light the photo was taken under, so the colours are named as a person sees them;
    # not once feedback has recoloured it (the new colour is named as asked)
    light = (1.0, 1.0, 1.0) if applied else illuminant(rgb)
    return PhotoProduct(size=size, front_rgb=front_rgb, front_alpha=front_alpha, mask=out_mask,
                        width_px=ow, height_px=oh, depth_px=od, shape=shape,
                        colors=colors, category=category, seed=seed,  # type: ignore[arg-type]
                        segmentation=method, symmetry=symmetry, applied=tuple(applied),
                        unapplied=tuple(unapplied), light=light)


def _color_change(note: str, main: RGB) -> RGB | None:
    """The colour a feedback note asks the whole product to take ("make it navy",
    "in dark green", "darker"), or None when it asks for something a photo cannot show
    (a part's colour, a new part, another shape)."""
    from viewgen.providers.offline.model import _phrases, shift_lightness

    phrases, _ = _phrases(note)
    if any(p.noun_kind == "part" for p in phrases):
        return None
    for p in phrases:
        picked = p.attrs.rgb() if p.attrs.color else None
        if picked:
            return picked[0]
    words = note.lower().split()
    for word, amount in (("darker", -0.28), ("lighter", 0.3), ("brighter", 0.25), ("paler", 0.3)):
        if word in words:
            return shift_lightness(main, amount)
    return None


def _recolour(front: np.ndarray, mask: np.ndarray, colors: tuple[tuple[RGB, float], ...], target: RGB
              ) -> tuple[np.ndarray, tuple[tuple[RGB, float], ...]]:
    """Move the product's main colour (the pixels near it) to ``target`` in Lab, keeping
    the photo's shading and texture."""
    main = np.array(colors[0][0], dtype=np.float64)
    src, dst = rgb_to_lab(main), rgb_to_lab(np.array(target, dtype=np.float64))
    ys, xs = np.nonzero(mask)
    lab = rgb_to_lab(front[ys, xs].astype(np.float64) * 255.0)
    near = np.sqrt(((lab - src) ** 2).sum(-1))
    weight = np.clip(1.5 - near / 30.0, 0.0, 1.0)[:, None]  # full within ΔE 15, none past 45
    moved = lab + (dst - src) * weight
    out = front.copy()
    from viewgen.color import lab_to_rgb

    out[ys, xs] = (lab_to_rgb(moved) / 255.0).astype(np.float32)
    new = list(colors)
    new[0] = (tuple(int(c) for c in target), colors[0][1])  # type: ignore[assignment]
    return out, tuple(new)  # type: ignore[return-value]


def _place_logo(front: np.ndarray, mask: np.ndarray, logo: bytes) -> None:
    """The logo over the product's middle, a third of its width, on product pixels only."""
    rgba = _decode_logo(logo)
    box = imaging.bbox(mask)
    if rgba is None or box is None:
        return
    x0, y0, x1, y1 = box
    lw = max(4, round((x1 - x0) * 0.33))
    lh = max(2, round(lw * rgba.shape[0] / rgba.shape[1]))
    if lh > (y1 - y0) * 0.4:
        lh = max(2, round((y1 - y0) * 0.4))
        lw = max(2, round(lh * rgba.shape[1] / rgba.shape[0]))
    img = Image.fromarray((rgba * 255 + 0.5).astype(np.uint8), mode="RGBA").resize((lw, lh),
                                                                                   Image.Resampling.LANCZOS)
    patch = np.asarray(img, dtype=np.float32) / 255.0
    px, py = (x0 + x1) // 2 - lw // 2, (y0 + y1) // 2 - lh // 2
    region = front[py:py + lh, px:px + lw]
    a = patch[: region.shape[0], : region.shape[1], 3:4] * mask[py:py + lh, px:px + lw, None]
    region[...] = region * (1 - a) + patch[: region.shape[0], : region.shape[1], :3] * a


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


def photo_scene(p: PhotoProduct) -> Scene:
    """The product estimated in 3D from its front silhouette, in output pixels: a lathe
    for round products, an extrusion otherwise (see the module's docstring)."""
    box = imaging.bbox(p.mask)
    assert box is not None
    x0, y0, x1, y1 = box
    rows = _row_colors(p)
    cx = (x0 + x1) / 2
    n = max(4, min(96, (y1 - y0) // 3))
    edges = np.linspace(y0, y1, n + 1).round().astype(int)
    lefts: list[float] = []
    rights: list[float] = []
    for ya, yb in pairwise(edges):
        cols = np.flatnonzero(p.mask[ya:max(yb, ya + 1)].any(axis=0))
        lefts.append(float(cols[0]) if len(cols) else cx)
        rights.append(float(cols[-1] + 1) if len(cols) else cx)
    prims: list[Prim] = []
    ground = float(y1)
    max_w = max(r - left for left, r in zip(lefts, rights, strict=True)) or 1.0
    for i, (ya, yb) in enumerate(pairwise(edges)):
        if yb <= ya:
            continue
        # the photo's colour already carries its light: undo about what the studio rig adds
        color = tuple(min(255, round(c * 255 * RELIGHT)) for c in rows[min((ya + yb) // 2, len(rows) - 1)])
        half_h = (yb - ya) / 2
        yc = ground - (ya + yb) / 2
        if p.shape == "cylinder":  # lathe: the narrower side of the axis is the body (not a handle)
            def radius(k: int) -> float:
                k = min(max(k, 0), n - 1)
                return max(min(cx - lefts[k], rights[k] - cx), 0.5)
            r_top, r_bottom = (radius(i - 1) + radius(i)) / 2, (radius(i) + radius(i + 1)) / 2
            # each slice reaches a pixel into the one below: no half-covered seam rows
            k = (r_top - r_bottom) / (2 * half_h)
            prims.append(Prim("cyl", (0.0, yc - 0.5, 0.0), color, PHOTO_MATERIAL, axis=1,  # type: ignore[arg-type]
                              radius=max(r_bottom - k, 0.5), radius2=r_top, length=half_h + 0.5,
                              rounding=1e-3, finish="matte"))
        else:  # extrusion: each band as deep as the product, thinner where the silhouette narrows
            width = rights[i] - lefts[i]
            depth = p.depth_px * max(0.35, (width / max_w) ** 0.5)
            prims.append(Prim("box", ((lefts[i] + rights[i]) / 2 - cx, yc - 0.5, 0.0), color,  # type: ignore[arg-type]
                              PHOTO_MATERIAL, half=(width / 2, half_h + 0.5, depth / 2),
                              rounding=1e-3 if 0 < i < n - 1 else min(0.25 * min(width, depth), 2.0),
                              finish="matte"))
    lo, hi = _bounds(prims)
    return Scene(prims=prims, lo=lo, hi=hi, body_color=p.main_color, seed=p.seed)


def _body(p: PhotoProduct, view: ViewType) -> RenderedView:
    """Side, top or bottom of the estimated body, at the front's scale."""
    return render_view(photo_scene(p), view, p.size, scale=1.0)


def confidence(p: PhotoProduct) -> tuple[str, float]:
    """How the hidden sides were estimated, and how sure that is (0..1): a lathe of a
    round product whose silhouette is its own mirror image is a good guess; an
    extrusion's depth is a category's average at best."""
    if p.shape == "cylinder":
        sure = 0.45 + 0.45 * p.symmetry if p.category in ROUND_CATEGORIES else 0.35 + 0.4 * p.symmetry
        return "lathe", round(min(sure, 0.9), 2)
    known_depth = 0.15 if p.category != "product" else 0.0
    return "extrusion", round(0.3 + known_depth + 0.1 * p.symmetry, 2)


def render_reference(reference: bytes, view: ViewType, size: tuple[int, int], *,
                     text: str | None = None, seed: int = 0, feedback: tuple[str, ...] = (),
                     logo: bytes | None = None) -> tuple[RenderedView, dict[str, Any]]:
    """One view of a product known from a photo, and its ``viewgen:model`` metadata
    (the logo shows on the front; feedback that recolours the product applies to all)."""
    product = prepare(reference, tuple(size), text, seed, tuple(feedback), logo)  # type: ignore[arg-type]
    if view == ViewType.FRONT:
        rendered = _front(product)
    elif view == ViewType.BACK:
        rendered = _back(product)
    elif view == ViewType.HERO:  # the estimated body from the three-quarter camera
        from viewgen.providers.offline.camera import HERO, render_at

        rendered = render_at(photo_scene(product), *HERO, product.size)
    else:
        rendered = _body(product, view)
    return rendered, photo_meta(product, view)


def photo_meta(p: PhotoProduct, view: ViewType) -> dict[str, Any]:
    """The ``viewgen:model`` metadata of a photo product's view. ``estimated_from_photo``
    is true for the four views built from the front's silhouette, with ``estimate``
    ("lathe" / "extrusion"), ``confidence`` (0..1; below ``LOW_CONFIDENCE`` the views
    are a rough guess) and ``note`` a sentence for the screen; ``feedback_unapplied``
    lists notes a photo cannot take (a part's colour, a new part)."""
    name = nearest_name(under_neutral_light(p.main_color, p.light))
    method, sure = confidence(p)
    estimated = view != ViewType.FRONT
    note = ("Estimated from one photo" + (" (a rough guess: low confidence)." if sure < LOW_CONFIDENCE
                                          else ".")) if estimated else "The product as photographed."
    return {
        "category": p.category,
        "materials": [],
        "key_elements": [],
        "dimensions_cm": None,
        "description": f"A product photographed by the user, mostly {name}.",
        "view": view.value,
        "source": "photo",
        "estimated_from_photo": estimated,
        "estimate": method if estimated else "photo",
        "confidence": sure if estimated else 1.0,
        "note": note,
        "segmentation": p.segmentation,
        "feedback_applied": list(p.applied),
        "feedback_unapplied": list(p.unapplied),
        "illuminant": [round(g, 4) for g in p.light],
    }

"""Validation and pixel helpers for every uploaded or stored image.

``load_image`` is the one gate an uploaded file passes: it accepts PNG, JPEG and WebP
only, checks size and pixel count *before* decoding (decompression bombs), forces a
full decode so a truncated file fails here rather than later, applies the EXIF
orientation, and rejects fully transparent or tiny images, each with a sentence for
the person who chose the file. ``normalise_png`` turns an accepted image into the PNG
viewgen stores; ``to_array`` reads one back as pixels; ``foreground_mask`` separates a
product from a studio or photo background (alpha when it is meaningful, otherwise a
background model fitted to the border, soft contact shadows treated as background);
``segment_product`` cuts a reference photo out (that, or OpenCV's GrabCut when the
photo's background is a real scene); ``bbox`` measures the product's extent.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFile, ImageOps, UnidentifiedImageError
from scipy import ndimage
from scipy.spatial import ConvexHull

from viewgen.color import rgb_to_lab
from viewgen.errors import InvalidInput

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP")
MIN_SIDE = 32
_READABLE = "PNG, JPEG or WebP"


# --------------------------------------------------------------------------- loading


def sniff_format(data: bytes) -> str | None:
    """The image format named by the file's first bytes (``"PNG"``, ``"GIF"`` ...), or None."""
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:2] == b"BM":
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1"):
            return "HEIC"
        return None
    if head[:4] == b"%PDF":
        return "PDF"
    if head[:4] == b"\x00\x00\x01\x00":
        return "ICO"
    text = head.lstrip().lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "SVG"
    return None


def load_image(data: bytes, *, max_bytes: int, max_pixels: int, what: str = "image") -> Image.Image:
    """Decode an uploaded file into an RGB or RGBA image, or raise ``InvalidInput``.

    The pixel count is checked from the header before any pixel is decoded; the full
    decode then runs with Pillow's own decompression-bomb check turned into an error,
    and without ``LOAD_TRUNCATED_IMAGES`` so a cut-off file is refused.
    """
    if not data:
        raise InvalidInput(f"The {what} is empty (0 bytes). Choose a {_READABLE} file.")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"The {what} is {_megabytes(len(data))}; the limit is {_megabytes(max_bytes)}. "
            "Use a smaller or more compressed file."
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidInput(f"That file is not an image we can read ({_READABLE}). Choose another {what}.")
    if fmt not in ACCEPTED_FORMATS:
        raise InvalidInput(f"{fmt} files are not supported: use a {_READABLE} {what}.")

    too_large = InvalidInput(
        f"The {what} has too many pixels (the limit is {max_pixels / 1e6:.0f} megapixels). "
        "Resize it and try again."
    )
    damaged = InvalidInput(
        f"The {what} file is incomplete or damaged, so it cannot be read. Save or export it again "
        "and retry."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_large from exc
        except UnidentifiedImageError as exc:
            raise InvalidInput(
                f"That file is not an image we can read ({_READABLE}). Choose another {what}."
            ) from exc
        except Exception as exc:  # a malformed header: Pillow raises many kinds
            raise damaged from exc
        width, height = image.size
        if width * height > max_pixels:
            raise InvalidInput(
                f"The {what} is {width:,} × {height:,} pixels; the limit is "
                f"{max_pixels / 1e6:.0f} megapixels. Resize it and try again."
            )
        if width <= 0 or height <= 0:
            raise damaged
        try:
            if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone loosened Pillow globally: check ourselves
                image.verify()
                image = Image.open(io.BytesIO(data), formats=[fmt])
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise too_large from exc
        except Exception as exc:  # OSError("image file is truncated"), SyntaxError, zlib ...
            raise damaged from exc

    with contextlib.suppress(Exception):  # a broken EXIF block is not worth refusing the photo for
        image = ImageOps.exif_transpose(image)
    image = _to_rgb_or_rgba(image)

    if image.mode == "RGBA":
        alpha = np.asarray(image.getchannel("A"))
        if int(alpha.max()) == 0:
            raise InvalidInput(
                f"The {what} is fully transparent, so there is nothing to see. "
                "Choose an image with visible content."
            )
    w, h = image.size
    if min(w, h) < MIN_SIDE:
        raise InvalidInput(
            f"The {what} is only {w} × {h} pixels; use one at least {MIN_SIDE} pixels on each side."
        )
    return image


def _megabytes(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        arr = np.asarray(image, dtype=np.float64)
        top = 65535.0 if arr.max() > 255 else 255.0
        grey = np.clip(arr / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    has_alpha = mode in ("LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info)
    if mode == "RGBa":
        return image.convert("RGBA")
    return image.convert("RGBA" if has_alpha else "RGB")


def normalise_png(image: Image.Image, max_side: int = 2048) -> bytes:
    """The image as the PNG viewgen stores: RGB (RGBA only if some pixel is see-through),
    no metadata, downscaled (Lanczos) so the longer side is at most ``max_side``."""
    image = _to_rgb_or_rgba(image)
    if image.mode == "RGBA" and int(np.asarray(image.getchannel("A")).min()) == 255:
        image = image.convert("RGB")
    w, h = image.size
    if max(w, h) > max_side:
        scale = max_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if image.mode == "RGBA":  # premultiplied, so transparent pixels don't bleed into edges
            image = image.convert("RGBa").resize(size, Image.Resampling.LANCZOS).convert("RGBA")
        else:
            image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def open_png(data: bytes) -> Image.Image:
    """Open stored image bytes (any format Pillow reads) fully decoded, or raise InvalidInput."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        raise InvalidInput("That image could not be read: it may be damaged.") from exc
    return image


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` of stored image bytes, from the header (no decode)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception as exc:
        raise InvalidInput("That image could not be read: it may be damaged.") from exc


def to_array(data: bytes, *, max_side: int | None = None) -> np.ndarray:
    """Stored image bytes → ``(H, W, 4)`` uint8 RGBA (opaque images get alpha 255),
    optionally downscaled (box filter) so the longer side is at most ``max_side``."""
    image = _to_rgb_or_rgba(open_png(data)).convert("RGBA")
    if max_side is not None and max(image.size) > max_side:
        w, h = image.size
        scale = max_side / max(w, h)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = image.convert("RGBa").resize(size, Image.Resampling.BOX).convert("RGBA")
    return np.asarray(image).copy()


# --------------------------------------------------------------------------- foreground


@dataclass(frozen=True)
class _Background:
    lab: np.ndarray  # (H, W, 3) modelled background colour per pixel
    noise: float  # typical ΔE of background pixels around the model


def _background_model(lab: np.ndarray) -> _Background:
    """Fit a smooth background (quadratic in x and y, per Lab channel) to the border.

    Robust: iteratively refitted on the border pixels that agree with the current fit,
    so a product touching the border, or a vertical studio gradient, does not spoil it.
    """
    h, w = lab.shape[:2]
    band = max(1, round(0.02 * min(h, w)))
    border = np.zeros((h, w), dtype=bool)
    border[:band, :] = border[-band:, :] = True
    border[:, :band] = border[:, -band:] = True
    ys, xs = np.nonzero(border)
    if len(ys) > 12_000:
        pick = np.linspace(0, len(ys) - 1, 12_000).astype(np.intp)
        ys, xs = ys[pick], xs[pick]
    samples = lab[ys, xs]

    def design(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        y = yy / max(h - 1, 1) * 2 - 1
        x = xx / max(w - 1, 1) * 2 - 1
        return np.stack([np.ones_like(y), y, y * y, x, x * x, x * y], axis=-1)

    A = design(ys.astype(np.float64), xs.astype(np.float64))
    median = np.median(samples, axis=0)
    resid = np.linalg.norm(samples - median, axis=1)
    inliers = resid <= max(25.0, float(np.percentile(resid, 50)))
    coef = np.zeros((A.shape[1], 3))
    coef[0] = median
    for _ in range(6):
        if inliers.sum() < A.shape[1] * 4:
            break
        coef, *_ = np.linalg.lstsq(A[inliers], samples[inliers], rcond=None)
        resid = np.linalg.norm(samples - A @ coef, axis=1)
        scale = float(np.median(resid[inliers]))
        new = resid <= max(4.0, 3.0 * scale + 2.0)
        if np.array_equal(new, inliers):
            break
        inliers = new
    noise = float(np.median(resid[inliers])) if inliers.any() else 0.0
    gy, gx = np.mgrid[0:h, 0:w]
    model = design(gy.astype(np.float64), gx.astype(np.float64)) @ coef
    return _Background(lab=model, noise=noise)


def _step_edges(lab: np.ndarray, threshold: float, soft: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels on either side of a sharp step: ΔE76 to the next pixel (across or down)
    above ``threshold``, or to the pixel two away above 1.5 × ``threshold`` (a step
    anti-aliased over two pixels). A soft shadow's ramp stays below both.

    Returns ``(steps, hard)``: ``hard`` leaves out moderate steps between two ``soft``
    pixels (within a shadow: a renderer's tight contact shadow can be steep).
    """
    edges = np.zeros(lab.shape[:2], dtype=bool)
    hard = np.zeros(lab.shape[:2], dtype=bool)
    for gap, limit in ((1, threshold), (2, 1.5 * threshold)):
        for axis in (0, 1):
            a = [slice(None), slice(None)]
            b = [slice(None), slice(None)]
            a[axis], b[axis] = slice(gap, None), slice(None, -gap)
            ta, tb = tuple(a), tuple(b)
            delta = np.linalg.norm(lab[ta] - lab[tb], axis=-1)
            step = delta > limit
            jump = delta > 2.5 * limit
            firm = step & (jump | ~(soft[ta] & soft[tb]))
            edges[ta] |= step
            edges[tb] |= step
            hard[ta] |= firm
            hard[tb] |= firm
    return edges, hard


_FOUR = ndimage.generate_binary_structure(2, 1)
_EIGHT = ndimage.generate_binary_structure(2, 2)


def foreground_mask(rgb: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    """A boolean ``(H, W)`` mask of the product in ``rgb`` (``(H, W, 3)`` uint8).

    With a meaningful ``alpha`` (some pixels see-through, some opaque) the mask is the
    opaque part. Otherwise a smooth background (quadratic in x and y, so a studio
    gradient or vignette is fine) is fitted robustly to the border, and background is
    what a flood from the border reaches without crossing a sharp colour step: first
    through pixels close to the model in Lab, then through *shadows* of it (darker by
    at most about 45 L*, no more colourful) — but shadows only outside the convex hull
    of the product's steps, so a white product whose shaded edge meets its own contact
    shadow is not flooded from below. Everything the flood cannot reach is product.
    Steps inside a shadow (a renderer's tight contact shadow is a steep ramp) are let
    through when the region beyond is mostly such a ramp; a shadow cast into a wide
    concavity (under a headphone band) is reached from the background there. Regions
    enclosed by the product that match the background throughout and are walled by
    steps (the gap inside a handle, between a table's legs) go back to the background
    with the shadow seen through them; pixels along a step go to the side whose colour
    they match, and specks are dropped. Known limit: a shaded product edge as dark as
    the contact shadow under it, with no step between them, is given to the shadow.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError("foreground_mask expects an (H, W, 3) RGB array")
    rgb = rgb[..., :3]
    h, w = rgb.shape[:2]
    if alpha is not None:
        a = np.asarray(alpha)
        opaque = a >= 128
        if opaque.any() and (~opaque).any() and (a < 250).mean() > 0.002:
            return _keep_main(opaque)

    raw = lab = rgb_to_lab(rgb).astype(np.float32)
    bg = _background_model(lab)
    if bg.noise > 0.8:  # sensor or JPEG noise: classify a lightly smoothed image
        lab = ndimage.gaussian_filter(lab, sigma=(1.0, 1.0, 0.0))
        bg = _background_model(lab)
    diff = lab - bg.lab.astype(np.float32)
    dL = diff[..., 0]
    dC = np.hypot(diff[..., 1], diff[..., 2])
    dist = np.sqrt(dL * dL + dC * dC)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    chroma_bg = np.hypot(bg.lab[..., 1], bg.lab[..., 2]).astype(np.float32)

    t_bg = max(6.0, 3.0 * bg.noise + 2.0)  # looks like the background
    t_low = max(2.5, 1.5 * bg.noise + 1.0)  # is the background (see-through gaps)
    # brighter than the background model beyond the noise: no shadow, no background
    bglike = (dist <= t_bg) & (dL <= max(2.5, 3.0 * bg.noise + 1.0))
    slack = 4.0 + 2.0 * bg.noise
    # a shadow darkens and, on a coloured background, desaturates in proportion
    fade = -dL / np.maximum(bg.lab[..., 0].astype(np.float32), 1.0)
    shadow = ((dL < 0) & (dL > -45.0) & (dC < slack + 0.3 * -dL + 1.2 * chroma_bg * fade)
              & (chroma <= chroma_bg + slack))
    soft = shadow & ~bglike
    edges, hard_edges = _step_edges(lab, max(4.5, 3.0 * bg.noise + 2.5), soft)

    # walls: steps and pixels that are neither background nor shadow, one-pixel gaps
    # (anti-aliased corners) closed. The flood runs twice: with every step a wall, and
    # with steps inside a shadow let through (a renderer's tight contact shadow is a
    # steep ramp). What only the second flood reaches is a shadow if it is mostly such
    # a ramp, and product (the shaded edge of a white product, smooth inside) if not.
    solid = ~(bglike | shadow)
    walls = _closed(edges | solid)
    hard = _closed(hard_edges | solid)
    strict = _flood(walls, _hulls(_keep_main(walls, min_pixels=8, relative=0.05)), bglike, dist, t_low)
    hull = _hulls(_keep_main(hard, min_pixels=8, relative=0.05))
    outside = _flood(hard, hull, bglike, dist, t_low, inner_walls=walls)
    extra, n_extra = ndimage.label(outside & ~strict, structure=_FOUR)
    if n_extra:
        idx = np.arange(1, n_extra + 1)
        ramp = ndimage.mean(edges.astype(np.float32), extra, idx) >= 0.5
        outside &= ~np.isin(extra, idx[~ramp])
    # a shadow cast into a concavity of the product (under a headphone band) is reached
    # from the background in that concavity
    pockets, n_pockets = ndimage.label(outside & hull, structure=_FOUR)
    if n_pockets:
        sizes = np.bincount(pockets.ravel())[1:]
        big = np.nonzero(sizes >= max(50, 0.01 * hull.sum()))[0] + 1
        if len(big):
            seeds = np.isin(pockets, big)
            outside |= _touching(hull & (shadow | bglike) & ~hard & ~outside, seeds)
    fg = ~outside

    # enclosed regions that are background throughout: see-through gaps
    near_outside = ndimage.binary_dilation(outside, structure=_EIGHT, iterations=2)
    holes, n = ndimage.label(fg & bglike & ~near_outside, structure=_FOUR)
    if n:
        idx = np.arange(1, n + 1)
        sizes = ndimage.sum_labels(np.ones_like(dist), holes, idx)
        median = ndimage.median(dist, holes, idx)
        p90 = ndimage.labeled_comprehension(dist, holes, idx, lambda v: np.percentile(v, 90),
                                            np.float64, 0.0)
        # a gap is walled by the product's steps; a band of a shaded product that
        # happens to cross the background's shade is bordered by smooth product pixels
        ring = ndimage.grey_dilation(holes, size=5) * ((holes == 0) & fg)
        ring_sizes = ndimage.sum_labels(np.ones_like(dist), ring, idx)
        ring_steps = ndimage.sum_labels(edges.astype(np.float32), ring, idx)
        ring_solid = ndimage.sum_labels((edges | (dist > t_bg)).astype(np.float32), ring, idx)
        stepped = ring_steps >= 0.5 * np.maximum(ring_sizes, 1)
        solid = ring_solid >= 0.6 * np.maximum(ring_sizes, 1)
        total = max(float(fg.sum()), 1.0)
        # a big region counts as a gap only when mostly bordered by steps: the face of a
        # white product on a white backdrop is bordered by its smooth shading instead
        gaps = idx[(median <= t_low) & (p90 <= t_bg) & (sizes >= 12)
                   & (stepped | (solid & (sizes < 0.5 * total)))]
        if len(gaps):
            gap = np.isin(holes, gaps)
            # and the shadow on the floor seen through the gap (between a table's legs)
            gap |= _touching(~walls & (shadow | bglike) & fg, gap)
            fg &= ~gap
            outside |= gap

    fg = _refine_steps(raw, fg, outside, edges, edges | bglike, dist <= t_low)
    return _keep_main(fg, min_pixels=max(12, int(0.0004 * h * w)))


def _flood(walls: np.ndarray, hull: np.ndarray, bglike: np.ndarray, dist: np.ndarray, t_low: float,
           inner_walls: np.ndarray | None = None) -> np.ndarray:
    """What the border reaches: first through background-coloured pixels, then on
    through shadows too, but only outside the product's hull, so a shaded product edge
    meeting its own contact shadow is no way in. Inside the hull only pixels that *are*
    the background's colour are crossed (``inner_walls`` may be stricter there)."""
    inner = walls if inner_walls is None else inner_walls
    passable = np.where(hull, ~inner & (dist <= t_low), ~walls)
    outside = _touching(passable & bglike, _border(passable.shape))
    return _touching(passable & ~hull, outside) | outside


def _closed(mask: np.ndarray) -> np.ndarray:
    padded = np.pad(mask, 1, mode="edge")
    return ndimage.binary_closing(padded, structure=_EIGHT)[1:-1, 1:-1]


def _border(shape: tuple[int, ...]) -> np.ndarray:
    border = np.zeros(shape[:2], dtype=bool)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    return border


def _touching(region: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The 4-connected components of ``region`` that contain or touch a seed pixel."""
    labels, _ = ndimage.label(region, structure=_FOUR)
    near = ndimage.binary_dilation(seeds, structure=_FOUR)
    hit = np.unique(labels[near & region])
    return np.isin(labels, hit[hit > 0])


def _hulls(walls: np.ndarray) -> np.ndarray:
    """The union of the convex hulls of each connected group of walls."""
    labels, n = ndimage.label(walls, structure=_EIGHT)
    canvas = Image.new("L", (walls.shape[1], walls.shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    for sl, k in zip(ndimage.find_objects(labels), range(1, n + 1), strict=True):
        part = labels[sl] == k
        rows = np.flatnonzero(part.any(axis=1))
        first = part[rows].argmax(axis=1)
        last = part.shape[1] - 1 - part[rows][:, ::-1].argmax(axis=1)
        ys = np.concatenate([rows, rows]) + sl[0].start
        xs = np.concatenate([first, last]) + sl[1].start
        points = np.unique(np.stack([xs, ys], axis=1), axis=0)
        if len(points) >= 3 and np.ptp(points[:, 0]) > 0 and np.ptp(points[:, 1]) > 0:
            vertices = points[ConvexHull(points).vertices]
            draw.polygon([(int(x), int(y)) for x, y in vertices], fill=255, outline=255)
        else:
            draw.point([(int(x), int(y)) for x, y in points], fill=255)
    return np.asarray(canvas) > 0


def _refine_steps(lab: np.ndarray, fg: np.ndarray, outside: np.ndarray, edges: np.ndarray,
                  doubtful: np.ndarray, is_background: np.ndarray) -> np.ndarray:
    """Hand each doubtful product pixel next to the background to the side it matches.

    Steps are marked on both sides and the walls were closed, so the flood stops a
    pixel or two short of the true silhouette. A pixel there (on a step, or close to
    the background's colour) that *is* the background's colour goes to the background;
    otherwise it is compared with the mean colour of nearby clear background and nearby
    clear product, and goes to the background only if it lies between the two and
    nearer the background: an anti-aliased pixel is split where it is half covered,
    while a shaded product edge darker than both sides stays product.
    """
    band = fg & doubtful & ndimage.binary_dilation(outside, structure=_EIGHT, iterations=4)
    if not band.any():
        return fg
    fg = fg & ~(band & is_background)
    band &= fg
    out_ref = (outside & ~edges).astype(np.float32)
    in_ref = (fg & ~edges).astype(np.float32)
    size = 21
    n_out = ndimage.uniform_filter(out_ref, size)
    n_in = ndimage.uniform_filter(in_ref, size)
    ys, xs = np.nonzero(band & (n_out > 1e-6) & (n_in > 1e-6))
    if len(ys) == 0:
        return fg
    pix = lab[ys, xs]
    mean_out = np.stack([ndimage.uniform_filter(lab[..., c] * out_ref, size)[ys, xs] for c in range(3)], -1)
    mean_in = np.stack([ndimage.uniform_filter(lab[..., c] * in_ref, size)[ys, xs] for c in range(3)], -1)
    mean_out /= n_out[ys, xs, None]
    mean_in /= n_in[ys, xs, None]
    d_out = np.linalg.norm(pix - mean_out, axis=1)
    d_in = np.linalg.norm(pix - mean_in, axis=1)
    contrast = np.linalg.norm(mean_in - mean_out, axis=1)
    to_bg = (d_out < d_in) & (d_out <= 0.5 * contrast)
    fg[ys[to_bg], xs[to_bg]] = False
    return fg


def _keep_main(mask: np.ndarray, *, min_pixels: int = 12, relative: float = 0.02) -> np.ndarray:
    """Drop components smaller than ``min_pixels`` or ``relative`` × the largest."""
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if n == 0:
        return np.zeros(mask.shape, dtype=bool)
    sizes = np.bincount(labels.ravel())[1:]
    keep = np.nonzero((sizes >= min_pixels) & (sizes >= relative * sizes.max()))[0] + 1
    return np.isin(labels, keep)


#: above this border texture (75th percentile of the L* gradient along the frame, per
#: pixel at 160 px) the background is a real scene, not a backdrop
PLAIN_BORDER = 1.0
GRABCUT_SIDE = 320
GRABCUT_ITERATIONS = 5


def border_texture(rgb: np.ndarray) -> float:
    """How busy the photo's border is: near 0 for a studio backdrop or gradient, 3 and
    more for a wooden table or a garage."""
    h, w = rgb.shape[:2]
    s = 160 / max(h, w)
    small = np.asarray(Image.fromarray(np.ascontiguousarray(rgb[..., :3])).resize(
        (max(8, round(w * s)), max(8, round(h * s))), Image.Resampling.BOX), dtype=np.float64)
    lum = ndimage.gaussian_filter(rgb_to_lab(small)[..., 0], 0.7)
    grad = np.hypot(*np.gradient(lum))
    band = max(2, round(0.06 * min(lum.shape)))
    ring = np.zeros(lum.shape, dtype=bool)
    ring[:band] = ring[-band:] = True
    ring[:, :band] = ring[:, -band:] = True
    return float(np.percentile(grad[ring], 75))


def _touches_frame(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def grabcut_mask(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's GrabCut (graph cut over colour models of foreground and background)
    started from a rectangle 4 % inside the frame, worked out at ``GRABCUT_SIDE`` px
    and scaled back to the photo's size."""
    import cv2  # opencv-python-headless, pinned in requirements.txt

    h, w = rgb.shape[:2]
    s = min(1.0, GRABCUT_SIDE / max(h, w))
    sw, sh = max(8, round(w * s)), max(8, round(h * s))
    small = np.asarray(Image.fromarray(np.ascontiguousarray(rgb[..., :3])).resize(
        (sw, sh), Image.Resampling.BOX))
    mask = np.zeros((sh, sw), np.uint8)
    mx, my = max(2, round(sw * 0.04)), max(2, round(sh * 0.04))
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(np.ascontiguousarray(small[..., ::-1]), mask, (mx, my, sw - 2 * mx, sh - 2 * my), bgd, fgd,
                GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
    if (sw, sh) != (w, h):
        fg = np.asarray(Image.fromarray(fg, mode="F").resize((w, h), Image.Resampling.BILINEAR))
    return _keep_main(fg >= 0.5)


def segment_product(rgb: np.ndarray, alpha: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """The product in a reference photo and the method that found it.

    Measured on real photos of objects on real backgrounds (``bench/quality.py``):
    ``foreground_mask`` is the better cut on a plain backdrop, GrabCut on a real scene
    (a table, a garage, a launch pad), where a background model of the border cannot
    hold. So: the alpha channel when it is meaningful; ``foreground_mask`` when the
    border is plain and its cut stays clear of the frame; GrabCut otherwise.
    """
    rgb = np.asarray(rgb)[..., :3]
    mask = foreground_mask(rgb, alpha)
    if alpha is not None:
        a = np.asarray(alpha)
        if (a >= 128).any() and (a < 128).any() and (a < 250).mean() > 0.002:
            return mask, "alpha"
    if mask.any() and not _touches_frame(mask) and border_texture(rgb) < PLAIN_BORDER:
        return mask, "backdrop"
    cut = grabcut_mask(rgb)
    if not cut.any():
        return mask, "backdrop"
    return cut, "grabcut"


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(x0, y0, x1, y1)`` of the mask's true pixels, ``x1``/``y1`` exclusive; None if empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if len(rows) == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


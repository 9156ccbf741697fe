"""The offline feature extractor: measures what the pixels can tell, and says what they can't.

``OfflineExtractor.extract`` finds the product (``viewgen.imaging.foreground_mask``),
measures its palette (hex, nearest product-colour name, share of the product's pixels,
primary / secondary / accent by share) and its proportions. A view built from a photo
carries the photo's light (``illuminant``, per-channel gains) in that chunk: its colours
are named as they would look under neutral light, while each hex stays the measured
pixel colour (the other views, cut from the same photo, are compared with it). Materials, parts and size
are not in the pixels: when the image came from the offline renderer it carries a PNG
text chunk ``viewgen:model`` (JSON: category, materials, key_elements, dimensions_cm,
description, view) and those fields are taken from it; otherwise they stay empty and
are listed in ``not_measured``. The description is one sentence built from what was
measured.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from viewgen import imaging
from viewgen.color import (
    ciede2000,
    nearest_name,
    palette,
    rgb_to_hex,
    rgb_to_lab,
    under_neutral_light,
    usage_for,
)
from viewgen.dimensions import AXES, Dimensions, dimension_gaps
from viewgen.domain import CallUsage, Color, ColorUsage, ExtractedFeatures, ExtractionResult
from viewgen.errors import InvalidInput

log = logging.getLogger(__name__)

META_KEY = "viewgen:model"
MODEL = "pixel-measure-v1"
MAX_COLORS = 5
MIN_SHARE = 0.01
SHADE_DELTA_E = 8.0
ANALYSIS_SIDE = 384
NOT_FROM_PIXELS = ["materials", "keyElements", "estimatedDimensions"]


class OfflineExtractor:
    """Feature extraction by measuring pixels: no key, no network, no cost."""

    name = "offline"

    def extract(self, image: bytes) -> ExtractionResult:
        meta = read_model_meta(image)
        rgba = imaging.to_array(image, max_side=ANALYSIS_SIDE)
        rgb = rgba[..., :3]
        mask = imaging.foreground_mask(rgb, rgba[..., 3])
        box = imaging.bbox(mask)
        if box is None or mask.sum() < max(50, 0.002 * mask.size):
            raise InvalidInput(
                "We could not find a product in this image: it looks like an empty background. "
                "Use a picture with the product clearly in view."
            )
        colors = measure_colors(rgb, mask, light=_light(meta))
        x0, y0, x1, y1 = box
        aspect = (x1 - x0) / max(y1 - y0, 1)

        materials = _strings(meta.get("materials")) if meta else []
        key_elements = _strings(meta.get("key_elements")) if meta else []
        dimensions = _dimensions(meta.get("dimensions_cm")) if meta else None
        category = str(meta.get("category") or "").strip() if meta else ""
        not_measured = [
            name for name, value in (("materials", materials), ("keyElements", key_elements))
            if not value
        ] + dimension_gaps(dimensions)
        features = ExtractedFeatures(
            colors=colors,
            materials=materials,
            keyElements=key_elements,
            estimatedDimensions=dimensions,
            # the renderer's own sentence when it made the image (it knows a watch is gold
            # even where its dark screen covers most of the front); else one from the pixels
            description=_known_description(meta) or describe(
                colors, category=category, material=materials[0] if materials else "",
                aspect=aspect, not_measured=not_measured),
            not_measured=not_measured,
        )
        return ExtractionResult(
            features=features,
            usage=CallUsage(provider="offline", model=MODEL, cost_usd=0.0),
        )


def read_model_meta(image: bytes) -> dict[str, Any] | None:
    """The renderer's ``viewgen:model`` JSON from a PNG text chunk, or None."""
    try:
        with Image.open(io.BytesIO(image)) as img:
            raw = (getattr(img, "text", None) or img.info).get(META_KEY)
    except Exception:
        return None
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        log.warning("ignoring an unreadable %s chunk", META_KEY)
        return None
    return data if isinstance(data, dict) else None


def _light(meta: dict[str, Any] | None) -> tuple[float, float, float] | None:
    """The photo's light from the metadata, if it is three sane gains."""
    gains = (meta or {}).get("illuminant")
    try:
        light = tuple(float(g) for g in gains)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        return None
    if len(light) != 3 or not all(0.2 < g < 5.0 for g in light):
        return None
    return light  # type: ignore[return-value]


def measure_colors(rgb: np.ndarray, mask: np.ndarray, *, limit: int = MAX_COLORS,
                   light: tuple[float, float, float] | None = None) -> list[Color]:
    """The product's palette: at most ``limit`` colours with distinct names, by share.

    The mask is eroded by a pixel first, so edge pixels blended with the background
    don't become a colour of their own. A cluster joins an earlier, larger one (its
    share added) when it lands on the same name, or when it is only a lighter or darker
    shade of it (CIEDE2000 below 8 with lightness weighted half): a white product's
    shaded side is not a "silver" part. With ``light`` (a photo's illuminant gains) a
    colour is named after the light's cast is divided out; its hex stays as measured.
    """
    inner = ndimage.binary_erosion(mask, iterations=1)
    if inner.sum() < 0.5 * mask.sum():  # a thin product: keep its edges
        inner = mask
    kept: list[list] = []  # [name, rgb, lab, share]
    for color, share in palette(rgb[inner], k=limit + 3):
        name = nearest_name(under_neutral_light(color, light))
        lab = rgb_to_lab(np.asarray(color, dtype=np.float64))
        same = next((k for k in kept if k[0] == name), None)
        if same is None and kept:
            shades = ciede2000(np.array([k[2] for k in kept]), lab, kL=2.0)
            if float(shades.min()) < SHADE_DELTA_E:
                same = kept[int(np.argmin(shades))]
        if same is not None:
            same[3] += share
        else:
            kept.append([name, color, lab, share])
    kept.sort(key=lambda k: -k[3])
    out: list[Color] = []
    for name, color, _, share in kept:
        if len(out) >= limit or (out and share < MIN_SHARE):
            break
        out.append(Color(hex=rgb_to_hex(color), name=name, usage=usage_for(len(out), share),
                         share=round(float(share), 4)))
    return out


def describe(colors: list[Color], *, category: str = "", material: str = "", aspect: float = 1.0,
             not_measured: list[str] | None = None) -> str:
    """One sentence from what was measured, e.g. "A navy leather messenger bag with tan accents."."""
    main = [c.name for c in colors if c.usage in (ColorUsage.PRIMARY, ColorUsage.SECONDARY)][:2]
    accents = [c.name for c in colors if c.usage == ColorUsage.ACCENT][:2]
    accent_phrase = f" with {' and '.join(accents)} accents" if accents else ""
    if category:
        noun = " ".join(part for part in (" and ".join(main), material, category) if part)
        return f"{_article(noun)} {noun}{accent_phrase}."
    colour = " and ".join(main) or "an unmeasured colour"
    sentence = f"A product mostly {colour}{accent_phrase}, {_proportions(aspect)}"
    if not_measured:
        sentence += " (materials, parts and size cannot be measured from the pixels alone)"
    return sentence + "."


def _proportions(aspect: float) -> str:
    if 1 / 1.1 <= aspect <= 1.1:
        return "about as wide as tall"
    if aspect > 1:
        return f"about {aspect:.1f} times wider than tall"
    return f"about {1 / aspect:.1f} times taller than wide"


def _article(noun: str) -> str:
    return "An" if noun[:1].lower() in "aeiou" else "A"


def _known_description(meta: dict[str, Any] | None) -> str:
    text = meta.get("description") if meta else None
    return " ".join(text.split())[:500] if isinstance(text, str) else ""


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    out: list[str] = []
    for item in value:
        text = str(item).strip()
        if text and text not in out:
            out.append(text)
    return out


def _dimensions(value: Any) -> Dimensions | None:
    """``{"width": 32, "height": 24, "depth": 12}`` (cm) → ``Dimensions``; a size that is
    missing, not a number, not finite or not positive is left null (not measured)."""
    if not isinstance(value, dict):
        return None
    sizes: dict[str, float] = {}
    for axis in AXES:
        try:
            size = float(value[axis])
        except (KeyError, TypeError, ValueError):
            continue
        if np.isfinite(size) and size > 0:
            sizes[axis] = size
    return Dimensions(unit="cm", **sizes) if sizes else None

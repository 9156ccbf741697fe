"""Cross-view consistency: how well each view agrees with the approved front.

Two pure measurements on images downscaled to 256 px, combined half and half:

* **palette** — the view's product palette against the extracted feature colours
  (hex + share; measured from the front when the features have none). The distance
  is CIEDE2000 (lightness weighted half, ``kL = 2``, since each face is lit
  differently) from each view colour to its nearest feature colour, averaged with the
  view's shares. Only that direction counts: faces of one product legitimately show
  the colours in other proportions (a tan flap in front, a navy back), while a view
  drawn in a colour the product does not have is the drift to catch.
  Mapping: ``score = 100 × (1 − ΔE / 25)`` clipped to 0..100, so ΔE 0 → 100,
  ΔE 5 → 80, ΔE 12.5 → 50 and ΔE ≥ 25 (a different colour) → 0.
* **silhouette** — product extents under the orthographic rules: back shares the
  front's width and height; side shares its height; top and bottom share its width;
  the side's width, the top's height and the bottom's height are all the depth. Each
  rule compares two extents (bounding boxes in pixels, the views being rendered at
  one scale; an image of another size is rescaled by the ratio of longest sides) as
  ``r = smaller / larger``; agreement is 100 when ``1 − r ≤ 4 %``, 0 when it is
  ≥ 35 %, linear between. The silhouette score is the weakest rule (a depth rule
  uses the best-agreeing sibling view, so one bad view doesn't drag the others down).

A view scoring below ``WEAK_SCORE`` gets a short note saying what disagrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from viewgen import imaging
from viewgen.color import ciede2000, hex_to_rgb, lab_to_rgb, nearest_name, palette, rgb_to_lab
from viewgen.domain import ColorUsage, ExtractedFeatures, ViewType

WEAK_SCORE = 70
ANALYSIS_SIDE = 256
PALETTE_ZERO_DELTA_E = 25.0
PALETTE_WEIGHT = 0.5
LIGHTNESS_WEIGHT = 2.0  # kL in CIEDE2000
EXTENT_TOLERANCE = 0.04
EXTENT_ZERO = 0.35
_USAGE_WEIGHT = {ColorUsage.PRIMARY: 0.6, ColorUsage.SECONDARY: 0.25, ColorUsage.ACCENT: 0.15}
_DEPTH_VIEWS = (ViewType.SIDE, ViewType.TOP, ViewType.BOTTOM)


class ViewScore(BaseModel):
    """How well one view agrees with the front, 0..100 (higher is better)."""

    view: ViewType
    score: float = Field(ge=0, le=100)
    palette: float = Field(ge=0, le=100)
    silhouette: float | None = Field(default=None, ge=0, le=100)
    note: str = ""


@dataclass(frozen=True)
class Measure:
    """What the scorer needs from one image."""

    found: bool
    width: float  # product extent in pixels of the image's own size
    height: float
    longest_side: int  # of the original image, to put images of other sizes on one scale
    lab: np.ndarray  # (k, 3) palette colours
    shares: np.ndarray  # (k,) normalised to sum 1


def measure(png: bytes) -> Measure:
    """Mask, extent and palette of the product in one image (analysed at 256 px)."""
    rgba = imaging.to_array(png, max_side=ANALYSIS_SIDE)
    full = max(imaging.image_size(png))
    rgb = rgba[..., :3]
    mask = imaging.foreground_mask(rgb, rgba[..., 3])
    box = imaging.bbox(mask)
    if box is None or mask.sum() < 20:
        return Measure(False, 0.0, 0.0, full, np.zeros((0, 3)), np.zeros(0))
    scale = full / max(rgb.shape[:2])
    x0, y0, x1, y1 = box
    colours = palette(rgb[mask], k=5)
    lab = rgb_to_lab(np.array([c for c, _ in colours], dtype=np.float64))
    shares = np.array([s for _, s in colours], dtype=np.float64)
    return Measure(True, (x1 - x0) * scale, (y1 - y0) * scale, full, lab, shares / shares.sum())


def feature_palette(features: ExtractedFeatures) -> tuple[np.ndarray, np.ndarray] | None:
    """Lab colours and weights of the extracted colours (shares, else weights by usage)."""
    if not features.colors:
        return None
    lab = rgb_to_lab(np.array([hex_to_rgb(c.hex) for c in features.colors], dtype=np.float64))
    if all(c.share for c in features.colors):
        weights = np.array([float(c.share or 0) for c in features.colors])
    else:
        weights = np.array([_USAGE_WEIGHT.get(c.usage, 0.15) for c in features.colors])
    return lab, weights / weights.sum()


def palette_distance(view_lab: np.ndarray, view_shares: np.ndarray, ref_lab: np.ndarray) -> float:
    """Mean CIEDE2000 (``kL = 2``) from each view colour to its nearest reference
    colour, weighted by the view's shares."""
    d = ciede2000(view_lab[:, None, :], ref_lab[None, :, :], kL=LIGHTNESS_WEIGHT)
    return float((d.min(axis=1) * view_shares).sum())


def palette_score(delta_e: float) -> float:
    return float(np.clip(100.0 * (1.0 - delta_e / PALETTE_ZERO_DELTA_E), 0.0, 100.0))


def extent_agreement(a: float, b: float) -> float:
    """100 when two extents agree within 4 %, 0 beyond 35 %, linear between."""
    if a <= 0 or b <= 0:
        return 0.0
    error = 1.0 - min(a, b) / max(a, b)
    return float(np.clip((EXTENT_ZERO - error) / (EXTENT_ZERO - EXTENT_TOLERANCE), 0.0, 1.0) * 100.0)


def _on_front_scale(m: Measure, front: Measure) -> tuple[float, float]:
    factor = front.longest_side / m.longest_side if m.longest_side else 1.0
    return m.width * factor, m.height * factor


def _depth(view: ViewType, width: float, height: float) -> float | None:
    if view == ViewType.SIDE:
        return width
    if view in (ViewType.TOP, ViewType.BOTTOM):
        return height
    return None


def silhouette_rules(view: ViewType, m: Measure, front: Measure,
                     siblings: dict[ViewType, Measure]) -> list[tuple[str, float, float, float]]:
    """``(rule, this extent, reference extent, agreement)`` for each rule that applies."""
    w, h = _on_front_scale(m, front)
    rules: list[tuple[str, float, float, float]] = []
    if view in (ViewType.FRONT, ViewType.BACK):
        rules.append(("width", w, front.width, extent_agreement(w, front.width)))
        rules.append(("height", h, front.height, extent_agreement(h, front.height)))
    elif view == ViewType.SIDE:
        rules.append(("height", h, front.height, extent_agreement(h, front.height)))
    elif view in (ViewType.TOP, ViewType.BOTTOM):
        rules.append(("width", w, front.width, extent_agreement(w, front.width)))
    depth = _depth(view, w, h)
    if depth is not None:
        best: tuple[str, float, float, float] | None = None
        for other, sm in siblings.items():
            if other == view or other not in _DEPTH_VIEWS or not sm.found:
                continue
            sw, sh = _on_front_scale(sm, front)
            other_depth = _depth(other, sw, sh)
            if other_depth is None:
                continue
            agreement = extent_agreement(depth, other_depth)
            if best is None or agreement > best[3]:
                best = (f"depth ({other.value} view)", depth, other_depth, agreement)
        if best is not None:
            rules.append(best)
    return rules


def _score(view: ViewType, m: Measure, front: Measure, reference: tuple[np.ndarray, np.ndarray] | None,
           siblings: dict[ViewType, Measure]) -> ViewScore:
    if not m.found:
        return ViewScore(view=view, score=0.0, palette=0.0, silhouette=0.0 if front.found else None,
                         note="No product could be found in this view.")
    if reference is None:
        reference = (front.lab, front.shares) if front.found else None
    if reference is None:
        pal, delta_e = 100.0, 0.0
    else:
        delta_e = palette_distance(m.lab, m.shares, reference[0])
        pal = palette_score(delta_e)
    rules = silhouette_rules(view, m, front, siblings) if front.found else []
    sil = min(r[3] for r in rules) if rules else None
    score = pal if sil is None else PALETTE_WEIGHT * pal + (1 - PALETTE_WEIGHT) * sil
    notes: list[str] = []
    if score < WEAK_SCORE:
        if pal < WEAK_SCORE and reference is not None:
            notes.append(_palette_note(m, reference, delta_e))
        if sil is not None and sil < WEAK_SCORE:
            notes.append(_silhouette_note(min(rules, key=lambda r: r[3])))
        if not notes:
            notes.append("Colours and proportions are each a little off the front.")
    return ViewScore(view=view, score=round(score, 1), palette=round(pal, 1),
                     silhouette=None if sil is None else round(sil, 1), note=" ".join(notes))


def _palette_note(m: Measure, reference: tuple[np.ndarray, np.ndarray], delta_e: float) -> str:
    mine = nearest_name(lab_to_rgb(m.lab[int(np.argmax(m.shares))]))
    theirs = nearest_name(lab_to_rgb(reference[0][int(np.argmax(reference[1]))]))
    if mine != theirs:
        return (f"Colours differ from the front (ΔE {delta_e:.0f}): this view is mostly {mine} "
                f"where the front is mostly {theirs}.")
    return f"Colours differ from the front (ΔE {delta_e:.0f})."


def _silhouette_note(rule: tuple[str, float, float, float]) -> str:
    name, mine, ref, _ = rule
    off = abs(mine / ref - 1) * 100 if ref else 100.0
    more = "larger" if mine > ref else "smaller"
    if name.startswith("depth"):
        return f"Its depth is {off:.0f}% {more} than in the {name[7:-1]}."
    target = "front's"
    return f"Its {name} is {off:.0f}% {more} than the {target}."


def score_view(view: ViewType, view_png: bytes, front_png: bytes, features: ExtractedFeatures, *,
               siblings: dict[ViewType, bytes] | None = None) -> ViewScore:
    """Score one view against the approved front (see the module docstring)."""
    front = measure(front_png)
    mine = measure(view_png)
    others = {v: measure(png) for v, png in (siblings or {}).items() if v != view and v in _DEPTH_VIEWS}
    return _score(view, mine, front, feature_palette(features), others)


def score_views(front_png: bytes, views: dict[ViewType, bytes],
                features: ExtractedFeatures) -> dict[ViewType, ViewScore]:
    """Score every view against the front, each image analysed once; views are each
    other's siblings for the depth rules."""
    front = measure(front_png)
    measured = {v: measure(png) for v, png in views.items()}
    reference = feature_palette(features)
    return {v: _score(v, m, front, reference, measured) for v, m in measured.items()}

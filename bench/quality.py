"""Quality of the offline provider, measured: does it draw what the words say?

Over 64 descriptions (every category, plain and modified colours, materials, accents,
shape words and counts) and the real photos in ``bench/photos.py``, in one run:

- colour recall: each colour the words name (the body's and every named part's) is
  found in the offline extractor's palette of the front (same name, or the palette
  colour within CIEDE2000 15 of the named colour as it photographs), and in the
  front's pixels (at least 0.3 % of the product within ΔE 20);
- shape error: front width/height against (top width/depth) × (side depth/height),
  scale-free, from the views' masks;
- the existing consistency scorer (``viewgen.consistency.score_views``) on every set of
  five views: mean score and the share of views it flags (all of these products are
  right by construction, so every flag is a false flag);
- feedback: the share of (description, note) pairs whose regenerated front changed;
- reference photos: IoU of the backdrop model, of GrabCut and of the method kept
  (``imaging.segment_product``) against hand-drawn masks, side by side;
- seconds per product (five 384-px views) and per photo product.

Run ``python bench/quality.py``; one table, the headline ratio last.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from photos import PHOTOS, load, png

from viewgen import imaging
from viewgen.color import ciede2000, photographed, rgb_to_lab
from viewgen.consistency import WEAK_SCORE, score_views
from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.providers.offline.model import COLORS, parse_description
from viewgen.providers.offline.reference import clean_mask

SIZE = (384, 384)
PALETTE_DELTA_E = 15.0
PIXEL_DELTA_E = 20.0
PIXEL_SHARE = 0.003

DESCRIPTIONS = [
    # the seed's example and accents
    "Black leather handbag with gold accents", "navy leather messenger bag with a tan strap",
    "white leather tote bag with black trim", "burgundy leather wallet with white stitching",
    "black backpack with a red zip", "olive canvas backpack with brass hardware",
    "cognac leather duffel bag with a silver buckle", "black leather bag with a gold clasp",
    "white ceramic mug with a gold rim", "black steel water bottle with gold accents",
    # colours: multi-word and modified
    "forest green ceramic mug", "sky blue water bottle", "light grey fabric sofa",
    "dark green leather handbag",
    "olive fabric throw pillow", "pale pink ceramic vase", "deep purple velvet chair", "muted teal speaker",
    "bright red suitcase", "navy blue baseball cap", "mustard yellow toaster", "dusty rose candle",
    "lavender cotton t-shirt", "coral ceramic bowl", "teal tumbler with a white lid", "mint green kettle",
    # materials
    "walnut wood table", "oak chair with black metal legs", "brass desk lamp with a cream shade",
    "silver aluminium laptop", "stainless steel kettle", "copper mug", "clear glass vase",
    "black rubber dumbbell", "kraft cardboard box", "white marble vase", "cork board product",
    "rose gold smartwatch with a white band", "gunmetal phone", "tan suede boots",
    # shapes and counts
    "round walnut table", "a three-legged oak stool", "a five-wheeled black office chair",
    "a spherical white speaker", "a cylindrical sage vase", "a square red box", "a tall slim black vase",
    "a flat grey gadget", "a round red leather bag", "a spherical brass lamp", "a round kraft box",
    "an oak table on one leg", "a chair on 3 legs",
    # other categories
    "black camera", "black sunglasses", "white computer mouse", "black computer monitor",
    "red hardcover book", "pink perfume bottle with a gold cap", "black wall clock", "wine glass",
    "white running shoe with red laces", "black over-ear headphones", "charcoal fabric bluetooth speaker",
    "silver watch with a brown leather strap",
]

FEEDBACK = [
    ("navy leather messenger bag with a tan strap", "make the strap red"),
    ("navy leather messenger bag with a tan strap", "make it black"),
    ("white ceramic mug", "add a gold rim"),
    ("white ceramic mug", "taller"),
    ("black backpack", "add a red zip"),
    ("oak table", "make it round"),
    ("red suitcase", "darker"),
    ("black leather handbag", "add gold accents"),
    ("grey fabric sofa", "in navy"),
    ("white running shoe with red laces", "make the laces black"),
    ("black sunglasses", "make the lenses brown"),
    ("black camera", "silver"),
]


def named_colours(text: str) -> list[str]:
    """The colours the words name: the body's (when the text names it) and each
    explicitly coloured part's."""
    model = parse_description(text)
    words = text.lower()
    names = []
    if _spoken(model.color_name, words):
        names.append(model.color_name)
    for part in model.parts:
        if part.explicit and _spoken(part.color_name, words):
            names.append(part.color_name)
    return list(dict.fromkeys(names))


def _spoken(name: str, words: str) -> bool:
    return all(w in words for w in name.split())


def _rgb_of(name: str) -> np.ndarray:
    if name in COLORS:
        return np.array(COLORS[name], dtype=np.float64)
    from viewgen.color import color_rgb

    rgb = color_rgb(name)
    return np.array(rgb if rgb else (128, 128, 128), dtype=np.float64)


def colour_found(name: str, palette_names: list[str], palette_hex: list[str], front: np.ndarray,
                 mask: np.ndarray) -> tuple[bool, bool]:
    target = rgb_to_lab(photographed(_rgb_of(name)))
    in_palette = name in palette_names
    for hex_value in palette_hex:
        rgb = np.array([int(hex_value[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
        in_palette |= float(ciede2000(rgb_to_lab(rgb), target)) <= PALETTE_DELTA_E
    px = rgb_to_lab(front[mask].astype(np.float64))
    share = float((ciede2000(px, target) <= PIXEL_DELTA_E).mean()) if len(px) else 0.0
    return bool(in_palette), share >= PIXEL_SHARE


def shape_error(masks: dict[ViewType, np.ndarray]) -> float:
    def wh(view: ViewType) -> tuple[int, int]:
        x0, y0, x1, y1 = imaging.bbox(masks[view])  # type: ignore[misc]
        return x1 - x0, y1 - y0

    fw, fh = wh(ViewType.FRONT)
    tw, td = wh(ViewType.TOP)
    sd, sh = wh(ViewType.SIDE)
    return abs((fw / fh) / ((tw / td) * (sd / sh)) - 1.0)


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def main() -> None:
    gen, ext = OfflineGenerator(), OfflineExtractor()
    recall_pal = recall_px = total = 0
    misses: list[str] = []
    errors: list[float] = []
    scores: list[float] = []
    flagged = views_scored = 0
    seconds: list[float] = []
    for text in DESCRIPTIONS:
        t0 = time.perf_counter()
        pngs = {v: gen.generate(GenerationRequest(view=v, prompt="", text=text, size=SIZE)).data
                for v in ALL_VIEWS}
        seconds.append(time.perf_counter() - t0)
        images = {v: _decode(d) for v, d in pngs.items()}
        masks = {v: imaging.foreground_mask(im) for v, im in images.items()}
        features = ext.extract(pngs[ViewType.FRONT]).features
        names = [c.name for c in features.colors]
        hexes = [c.hex for c in features.colors]
        for name in named_colours(text):
            total += 1
            pal, pix = colour_found(name, names, hexes, images[ViewType.FRONT], masks[ViewType.FRONT])
            recall_pal += pal
            recall_px += pix
            if not (pal and pix):
                misses.append(f"{name} in '{text}' (palette: {', '.join(names)})")
        errors.append(shape_error(masks))
        result = score_views(pngs[ViewType.FRONT], {v: d for v, d in pngs.items() if v != ViewType.FRONT},
                             features)
        for s in result.values():
            scores.append(s.score)
            flagged += s.score < WEAK_SCORE
            views_scored += 1

    changed = 0
    unchanged: list[str] = []
    for text, note in FEEDBACK:
        a = gen.generate(GenerationRequest(view=ViewType.FRONT, prompt="", text=text, size=(256, 256))).data
        b = gen.generate(GenerationRequest(view=ViewType.FRONT, prompt="", text=text, size=(256, 256),
                                           feedback=(note,))).data
        if _decode(a).tobytes() != _decode(b).tobytes():
            changed += 1
        else:
            unchanged.append(f"'{note}' on '{text}'")

    seg_rows = []
    photo_seconds = []
    photo_recall = photo_total = 0
    for photo in PHOTOS:
        rgb, truth = load(photo)

        def iou(m: np.ndarray, truth: np.ndarray = truth) -> float:
            return float((m & truth).sum() / max((m | truth).sum(), 1))

        backdrop = iou(clean_mask(imaging.foreground_mask(rgb)))
        grab = iou(clean_mask(imaging.grabcut_mask(rgb)))
        kept_mask, how = imaging.segment_product(rgb)
        seg_rows.append((photo.name, backdrop, grab, iou(clean_mask(kept_mask)), how))
        t0 = time.perf_counter()
        data = png(rgb)
        pngs = {v: gen.generate(GenerationRequest(view=v, prompt="", reference=data, text=photo.text,
                                                  size=SIZE)).data for v in ALL_VIEWS}
        photo_seconds.append(time.perf_counter() - t0)
        front = _decode(pngs[ViewType.FRONT])
        fmask = imaging.foreground_mask(front)
        features = ext.extract(pngs[ViewType.FRONT]).features
        for name in named_colours(photo.text):
            photo_total += 1
            pal, _ = colour_found(name, [c.name for c in features.colors], [c.hex for c in features.colors],
                                  front, fmask)
            photo_recall += pal

    rows: list[tuple[str, str]] = []
    rows.append(("descriptions / named colours", f"{len(DESCRIPTIONS)} / {total}"))
    rows.append(("colour recall, extracted palette", f"{recall_pal / total:.1%}"))
    rows.append(("colour recall, front pixels", f"{recall_px / total:.1%}"))
    rows.append(("shape error, median (goal <= 2%)", f"{statistics.median(errors):.2%}"))
    rows.append(("shape error, 90th percentile", f"{float(np.percentile(errors, 90)):.2%}"))
    rows.append(("consistency score, mean", f"{statistics.mean(scores):.1f}"))
    rows.append((f"views flagged (< {WEAK_SCORE}), all false flags", f"{flagged / views_scored:.1%}"))
    rows.append(("feedback notes that changed the front", f"{changed}/{len(FEEDBACK)}"))
    rows.append(("seconds per product (5 views, 384 px)", f"{statistics.mean(seconds):.2f}"))
    for name, backdrop, grab, kept, how in seg_rows:
        rows.append((f"photo {name}: IoU backdrop / grabcut / kept ({how})",
                     f"{backdrop:.3f} / {grab:.3f} / {kept:.3f}"))
    mean_backdrop = statistics.mean(r[1] for r in seg_rows)
    mean_grab = statistics.mean(r[2] for r in seg_rows)
    mean_kept = statistics.mean(r[3] for r in seg_rows)
    rows.append(("photos: mean IoU backdrop / grabcut / kept",
                 f"{mean_backdrop:.3f} / {mean_grab:.3f} / {mean_kept:.3f}"))
    rows.append(("photos: named colour in the palette", f"{photo_recall}/{photo_total}"))
    rows.append(("seconds per photo product (5 views)", f"{statistics.mean(photo_seconds):.2f}"))
    rows.append(("kept / backdrop segmentation IoU", f"{mean_kept / mean_backdrop:.2f}x"))
    rows.append(("HEADLINE colour recall (palette and pixels, goal >= 95%)",
                 f"{min(recall_pal, recall_px) / total:.1%}"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if misses:
        print("\nmissed colours:", *misses, sep="\n  ", file=sys.stderr)
    if unchanged:
        print("\nfeedback that left the front unchanged:", *unchanged, sep="\n  ", file=sys.stderr)


if __name__ == "__main__":
    main()

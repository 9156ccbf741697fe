"""The QA gate: pure checks over product images that say, in words a person can read,
whether an image is fit to show, before anyone looks at it.

Every check measures one thing and returns a ``Check`` (pass/fail, a 0..100 score where
``PASS_SCORE`` is the pass mark, a reason, the measured numbers). The checks come in
three groups, one entry point each, so the workflow calls:

* ``check_front(image, text=..., reference=...)`` before a front is shown for review:
  a product is present, inside the frame, not tiny, and shows the colours the request
  names (colour words read with ``viewgen.color``'s vocabulary) or the main colours
  measured in the reference photo;
* ``check_view(view, image, front=..., features=..., others={...})`` for the back, side,
  top and bottom (the optional three-quarter hero takes part in no orthographic shape
  rule, so only its presence and colour checks apply): scale-free shape agreement (front
  w/h against (top w/d)·(side d/h), back w/h against front w/h, top against bottom),
  mirrored-silhouette overlap of the front and the back, the palette's CIEDE2000
  distance to the extracted feature colours, the share of colours that are in neither
  the features nor the front, and, for views estimated from one photo, whether the view
  carries any of the photo's detail (a plain shaded bar under a textured photo product
  does not);
* ``check_change(old, new, feedback)`` for a retry or a regeneration: did the image change
  at all (``is_unchanged`` is the refund rule: never charge for nothing) and did it
  change the way the feedback asked (a named colour now present, darker, taller ...).

``check_product`` runs every check over a whole product (each image analysed once) and
``verdict`` combines per-view results: a product is "five consistent views" only when
every check of every view passes. Images are PNG/JPEG/WebP bytes or ``(H, W, 3|4)``
uint8 arrays, analysed at about 160 px; results are pydantic models (``model_dump()`` gives
the JSON stored per view and per provider call). Nothing here does I/O or imports
Streamlit.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from scipy import ndimage

from viewgen import imaging
from viewgen.color import (
    NAMED_COLORS,
    ciede2000,
    hex_to_rgb,
    lab_to_rgb,
    nearest_name,
    palette,
    rgb_to_hex,
    rgb_to_lab,
)
from viewgen.domain import OTHER_VIEWS, ExtractedFeatures, ViewType
from viewgen.errors import InvalidInput
from viewgen.scene import without_scene

ANALYSIS_SIDE = 128
PASS_SCORE = 70.0
"""A check passes at this score or above; a view's score is its weakest check's."""

# product in frame
MIN_PRODUCT_PIXELS = 40
PALETTE_SAMPLE = 3_000
COLOUR_SAMPLE = 3_000
MIN_EXTENT = 0.25  # longest product side, as a share of the frame's side: below is "tiny"
TINY_EXTENT = 0.10  # ... scored 0 here
EDGE_BAND = 1  # pixels of the analysed frame counted as "the edge"
CROP_SHARE = 0.03  # product along more than this share of one frame edge is cut off
# colours
LIGHTNESS_WEIGHT = 2.0  # kL in CIEDE2000: faces are lit differently, hue and chroma matter more
NAMED_TOLERANCE = 16.0  # ΔE00 (kL=2) between a named colour and a product pixel showing it
NAMED_MIN_SHARE = 0.004  # of the product's pixels: a small gold clasp counts
REFERENCE_MIN_SHARE = 0.10  # reference-photo colours this common must be in the front
REFERENCE_FOUND_SHARE = 0.02
LOGO_COLOUR_SHARE = 0.15  # a logo colour this common must show on the front ...
LOGO_MIN_SHARE = 0.002  # ... on at least this share of the product
LOGO_PRODUCT_SHARE = 0.2  # unless the product itself is this much of that colour
PALETTE_GOOD, PALETTE_ZERO = 6.0, 22.0  # mean ΔE00 → score 100 .. 0 (pass at ΔE 10.8)
NEW_COLOUR_DELTA_E = 12.0  # a palette colour this far from every known colour is new
NEW_SHARE_GOOD, NEW_SHARE_ZERO = 0.04, 0.24  # share of new colours → 100 .. 0 (pass ≤ 10 %)
COVERAGE_MIN_SHARE = 0.20  # front colours this common must show in some other view
SHOWS_TOLERANCE = 8.0  # ΔE00 (kL=2) within which a pixel "shows" a colour
SWAP_MIN_SHARE = 0.03  # a change removes / adds a colour when its share moves this much
BLEND_DISTANCE = 8.0  # ΔE76 from the segment between two colours: an edge blend of them
STILL_SHOWN = 0.005  # another view still shows a removed colour above this share
SEEN_AROUND = 2  # a colour this many other views show is the product's, not new
# shape
SHAPE_GOOD, SHAPE_ZERO = 0.04, 0.30  # relative ratio error → 100 .. 0 (pass ≤ 11.8 %)
MIRROR_GOOD, MIRROR_ZERO = 0.90, 0.60  # IoU of front and mirrored back → 100 .. 0 (pass ≥ 0.81)
MIRROR_GRID = 64
# detail
DETAIL_MIN_FRONT = 0.5  # median fine-scale L* grain of a front that has surface detail to keep
DETAIL_GOOD, DETAIL_ZERO = 0.15, 0.03  # view texture / front texture → 100 .. 0 (pass ≥ 0.114)
# change
UNCHANGED_PIXEL_DELTA = 6.0  # ΔE76 a pixel must move to count as changed
UNCHANGED_SHARE = 0.002  # fewer changed pixels than this share of the frame: unchanged
UNCHANGED_MEAN = 1.0  # and a mean ΔE76 below this
CHANGE_PIXEL_DELTA = 10.0  # ΔE76 for the "where did it change" map
TARGET_SHARE = 0.25  # share of changed product pixels that must show the asked-for colour
TONE_STEP = 2.0  # L* the product must move for "darker" / "lighter"
SIZE_STEP = 0.03  # relative change for "taller", "wider", "bigger" ...

CheckName = Literal[
    "product_found", "inside_frame", "product_size", "named_colours", "reference_colours",
    "logo", "shape", "mirror", "palette", "new_colours", "agreement", "detail", "coverage", "changed",
    "followed",
]
ImageInput = bytes | np.ndarray


# --------------------------------------------------------------------------- results


class Check(BaseModel):
    """One measurement with its verdict and a sentence for the person at the screen."""

    name: CheckName
    passed: bool
    score: float = Field(ge=0, le=100)
    reason: str
    details: dict[str, Any] = Field(default_factory=dict)


class QAResult(BaseModel):
    """Every check of one view: passed only when all passed; the score is the weakest."""

    view: ViewType
    passed: bool
    score: float = Field(ge=0, le=100)
    checks: list[Check]
    reasons: list[str] = Field(default_factory=list, description="why it failed, for people")
    confidence: Literal["high", "low"] = "high"
    confidence_note: str = ""

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def summary(self) -> str:
        """One line: "Passed all 7 checks." or the failing reasons."""
        if self.passed:
            return f"Passed all {len(self.checks)} checks."
        return " ".join(self.reasons)


class ChangeResult(BaseModel):
    """A retry or regeneration against the image it replaces."""

    view: ViewType | None = None
    unchanged: bool
    changed_share: float = Field(ge=0, le=1, description="share of the frame that changed")
    mean_delta_e: float
    followed: bool | None = Field(description="changed the way the feedback asked; None: nothing measurable")
    passed: bool
    reason: str
    checks: list[Check] = Field(default_factory=list)
    removed_colours: list[dict[str, Any]] = Field(default_factory=list,
                                                  description="colours the change took away")
    added_colours: list[dict[str, Any]] = Field(default_factory=list, description="colours it brought")
    disagreeing: dict[ViewType, str] = Field(
        default_factory=dict, description="views not regenerated that still show a removed colour, and why")

    @property
    def charge(self) -> bool:
        """False for an identical or near-identical image: it is refunded."""
        return not self.unchanged


class ProductQA(BaseModel):
    """The verdict over all five views."""

    passed: bool
    score: float = Field(ge=0, le=100)
    headline: str
    views: dict[ViewType, QAResult]
    checks: list[Check] = Field(default_factory=list, description="product-level checks")
    reasons: list[str] = Field(default_factory=list)

    @property
    def flagged(self) -> list[ViewType]:
        return [v for v, r in self.views.items() if not r.passed]


def _check(name: CheckName, score: float, reason_ok: str, reason_bad: str, **details: Any) -> Check:
    score = float(np.clip(score, 0.0, 100.0))
    passed = score >= PASS_SCORE
    return Check(name=name, passed=passed, score=round(score, 1), reason=reason_ok if passed else reason_bad,
                 details=details)


def _binary(name: CheckName, ok: bool, reason_ok: str, reason_bad: str, **details: Any) -> Check:
    return _check(name, 100.0 if ok else 0.0, reason_ok, reason_bad, **details)


def _ramp(value: float, good: float, zero: float) -> float:
    """100 at ``good``, 0 at ``zero`` (either direction), linear between."""
    if good == zero:
        return 100.0 if value == good else 0.0
    return float(np.clip((value - zero) / (good - zero), 0.0, 1.0) * 100.0)


def _result(view: ViewType, checks: list[Check], *, estimated: bool = False) -> QAResult:
    score = min((c.score for c in checks), default=100.0)
    passed = all(c.passed for c in checks)
    reasons = [c.reason for c in checks if not c.passed]
    note = ""
    if estimated:
        note = ("Estimated from one photo: the sides the photo does not show are a guess, "
                "so this check is less certain.")
    return QAResult(view=view, passed=passed, score=round(score, 1), checks=checks, reasons=reasons,
                    confidence="low" if estimated else "high", confidence_note=note)


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Analysis:
    """What the checks need from one image, measured once (at ``ANALYSIS_SIDE``)."""

    digest: str
    rgb: np.ndarray  # (h, w, 3) uint8, analysed size
    lab: np.ndarray  # (h, w, 3) float32
    mask: np.ndarray  # (h, w) bool product pixels
    box: tuple[int, int, int, int] | None
    palette_lab: np.ndarray  # (k, 3) colours of the product, most common first
    shares: np.ndarray  # (k,) share of product pixels
    texture: float  # mean fine-scale L* texture inside the product (grain, print, part edges)
    grain: float  # its median: surface grain alone (a photo's), not the edges between parts
    sample: np.ndarray  # (n, 3) float64 Lab of up to ``COLOUR_SAMPLE`` product pixels, evenly spread

    @property
    def found(self) -> bool:
        return self.box is not None and int(self.mask.sum()) >= MIN_PRODUCT_PIXELS

    @property
    def width(self) -> float:
        return 0.0 if self.box is None else float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return 0.0 if self.box is None else float(self.box[3] - self.box[1])

    @property
    def aspect(self) -> float:
        """Width over height of the product (scale-free)."""
        return self.width / self.height if self.height else 0.0

    def product_lab(self) -> np.ndarray:
        return self.lab[self.mask]

    def share_near(self, lab: np.ndarray, tolerance: float) -> float:
        """Share of the product's pixels within ``tolerance`` (ΔE00, kL=2) of ``lab``."""
        if len(self.sample) == 0:
            return 0.0
        d = ciede2000(self.sample, np.asarray(lab, dtype=np.float64)[None, :], kL=LIGHTNESS_WEIGHT)
        return float((d <= tolerance).mean())


_CACHE: OrderedDict[str, Analysis] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def _digest(image: ImageInput) -> str:
    if isinstance(image, bytes | bytearray | memoryview):
        return "b" + hashlib.blake2b(bytes(image), digest_size=16).hexdigest()
    arr = np.ascontiguousarray(image)
    return f"a{arr.shape}{arr.dtype}" + hashlib.blake2b(arr.tobytes(), digest_size=16).hexdigest()


def _pixels(image: ImageInput) -> np.ndarray:
    """``(h, w, 4)`` uint8 RGBA about ``ANALYSIS_SIDE`` a side (an opaque image is
    shrunk by a whole factor with a box filter, the fastest way Pillow has)."""
    if isinstance(image, bytes | bytearray | memoryview):
        pil = imaging.open_png(bytes(image))
    else:
        arr = np.asarray(image)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8:
            raise InvalidInput("An image for quality checks must be PNG/JPEG/WebP bytes or an "
                               "(H, W, 3 or 4) uint8 array.")
        pil = Image.fromarray(np.ascontiguousarray(arr), mode="RGBA" if arr.shape[2] == 4 else "RGB")
    if pil.mode not in ("RGB", "RGBA"):
        pil = pil.convert("RGBA" if "A" in pil.getbands() or "transparency" in pil.info else "RGB")
    factor = max(1, round(max(pil.size) / ANALYSIS_SIDE))
    if pil.mode == "RGBA":  # premultiplied, so see-through pixels do not bleed into the edge
        if factor > 1:
            pil = pil.convert("RGBa").reduce(factor).convert("RGBA")
        return np.asarray(pil).copy()
    if factor > 1:
        pil = pil.reduce(factor)
    rgb = np.asarray(pil)
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])


def analyse(image: ImageInput | Analysis) -> Analysis:
    """Measure one image (cached by content, so checking five views measures each once)."""
    if isinstance(image, Analysis):
        return image
    key = _digest(image)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    rgba = _pixels(image)
    rgb = np.ascontiguousarray(rgba[..., :3])
    lab = rgb_to_lab(rgb).astype(np.float32)
    mask = imaging.foreground_mask(rgb, rgba[..., 3])
    box = imaging.bbox(mask)
    if box is None or int(mask.sum()) < MIN_PRODUCT_PIXELS:
        pal_lab, shares, texture, grain = np.zeros((0, 3)), np.zeros(0), 0.0, 0.0
        sample = np.zeros((0, 3))
    else:
        # colours are read away from the outline, where pixels blend with the backdrop
        # (a phone's top is a few pixels tall at this size: keep what there is)
        inner = ndimage.binary_erosion(mask)
        core = inner if inner.sum() >= 0.4 * mask.sum() else mask
        sample = lab[core].astype(np.float64)
        sample = sample[:: max(1, len(sample) // COLOUR_SAMPLE)]
        product = rgb[core]
        colours = palette(product[:: max(1, len(product) // PALETTE_SAMPLE)], k=6)
        pal_lab = rgb_to_lab(np.array([c for c, _ in colours], dtype=np.float64))
        shares = np.array([s for _, s in colours], dtype=np.float64)
        texture, grain = _texture(lab[..., 0], mask)
    result = Analysis(digest=key, rgb=rgb, lab=lab, mask=mask, box=box, palette_lab=pal_lab,
                      shares=shares, texture=texture, grain=grain, sample=sample)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result


def _texture(lightness: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """Mean and median |L* − blurred L*| inside the product, away from its outline: fine
    detail (print, seams, grain, parts) and not smooth shading; the median is the grain
    of the surface alone."""
    inner = ndimage.binary_erosion(mask, iterations=3)
    if inner.sum() < 20:
        inner = mask
    residual = np.abs(lightness - ndimage.gaussian_filter(lightness, 1.0))[inner]
    return float(residual.mean()), float(np.median(residual))


# --------------------------------------------------------------------------- colour words

_SYNONYMS = {"gray": "grey", "golden": "gold", "silvery": "silver", "navy blue": "navy",
             "offwhite": "off-white", "off white": "off-white"}
_MODIFIERS = {"light": 14.0, "pale": 18.0, "bright": 6.0, "dark": -16.0, "deep": -12.0}
# a colour word that names something else in front of these nouns ("olive oil", "wine glass")
_NOT_A_COLOUR = {
    "olive": {"oil"}, "wine": {"glass", "glasses", "rack", "bottle", "opener", "cooler"},
    "orange": {"juice", "juicer", "squeezer"}, "lemon": {"squeezer", "juicer", "zester"},
    "lime": {"squeezer", "juicer"}, "sand": {"timer", "bag", "paper"},
    "cream": {"jar", "dispenser", "whipper"}, "salmon": {"fillet"}, "coffee": set(),
}


@dataclass(frozen=True)
class NamedColour:
    """A colour named in a request: the words as written and the Lab colour they mean."""

    phrase: str
    name: str
    lab: tuple[float, float, float]
    noun: str = ""  # the word after it: what the colour is on ("straps", "lining")

    @property
    def hex(self) -> str:
        return rgb_to_hex(lab_to_rgb(np.array(self.lab)))


def _vocabulary() -> dict[str, str]:
    names = {n.lower(): h for n, h in NAMED_COLORS.items()}
    for alias, name in _SYNONYMS.items():
        if name in names and alias not in names:
            names[alias] = names[name]
    return names


def named_colours(text: str | None) -> list[NamedColour]:
    """The colours a request names, in order, each once ("a light blue mug with a gold
    rim" → light blue, gold), read with ``viewgen.color``'s vocabulary; longest names win
    ("rose gold" over "gold"), and light / pale / bright / dark / deep shift a plain name."""
    if not text:
        return []
    vocab = _vocabulary()
    words = re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())
    longest = max((len(n.split()) for n in vocab), default=1)
    found: list[NamedColour] = []
    seen: set[str] = set()
    i = 0
    while i < len(words):
        match = None
        for n in range(min(longest, len(words) - i), 0, -1):
            phrase = " ".join(words[i:i + n])
            if phrase in vocab:
                match = (phrase, n)
                break
        if match is None:
            i += 1
            continue
        phrase, n = match
        following = words[i + n] if i + n < len(words) else ""
        if following in _NOT_A_COLOUR.get(phrase, set()):
            i += n
            continue
        lab = rgb_to_lab(np.array(hex_to_rgb(vocab[phrase]), dtype=np.float64))
        shown = phrase
        if i > 0 and words[i - 1] in _MODIFIERS and f"{words[i - 1]} {phrase}" not in vocab:
            shift = _MODIFIERS[words[i - 1]]
            lab = lab.copy()
            lab[0] = float(np.clip(lab[0] + shift, 5.0, 97.0))
            shown = f"{words[i - 1]} {phrase}"
        name = _SYNONYMS.get(phrase, phrase)
        if shown not in seen:
            seen.add(shown)
            found.append(NamedColour(phrase=shown, name=name, noun=following,
                                     lab=(float(lab[0]), float(lab[1]), float(lab[2]))))
        i += n
    return found


# parts a front camera does not see, so a colour named for them is not looked for there
HIDDEN_FROM_FRONT = {"lining", "interior", "inside", "underside", "base", "bottom", "back", "backing",
                     "underneath", "insole"}
HIDDEN_FROM_FRONT_OF = {"backpack": {"strap", "straps", "harness"}, "rucksack": {"strap", "straps"}}


def hidden_from_front(colour: NamedColour, text: str) -> bool:
    """True when the request puts this colour on a part the front does not show
    ("red lining", a backpack's "black straps")."""
    if colour.noun in HIDDEN_FROM_FRONT:
        return True
    words = set(re.findall(r"[a-z]+", text.lower()))
    return any(product in words and colour.noun in parts for product, parts in HIDDEN_FROM_FRONT_OF.items())


def _colour_share(analysis: Analysis, lab: np.ndarray, tolerance: float) -> tuple[float, float]:
    """Share of product pixels (a sample) within ``tolerance`` (ΔE00, kL=2) of ``lab``,
    and the smallest distance of any of them to it."""
    if len(analysis.sample) == 0:
        return 0.0, float("inf")
    d = ciede2000(analysis.sample, np.asarray(lab, dtype=np.float64)[None, :], kL=LIGHTNESS_WEIGHT)
    return float((d <= tolerance).mean()), float(d.min())


def _name(lab: np.ndarray) -> str:
    return nearest_name(lab_to_rgb(np.asarray(lab, dtype=np.float64)))


# --------------------------------------------------------------------------- front


def _presence_checks(a: Analysis, *, size: bool = True) -> list[Check]:
    """Found, inside the frame and (``size``: the front) not tiny. The other views share
    the front's scale, so a bottle's top is rightly small and is not judged on size."""
    h, w = a.mask.shape
    if not a.found:
        return [_binary("product_found", False, "", "No product could be found in the image: it looks "
                        "like an empty background.")]
    checks = [_binary("product_found", True, "A product is in the picture.", "")]
    edges = {
        "top": a.mask[:EDGE_BAND, :], "bottom": a.mask[-EDGE_BAND:, :],
        "left": a.mask[:, :EDGE_BAND], "right": a.mask[:, -EDGE_BAND:],
    }
    cut = {side: float(band.any(axis=0 if side in ("top", "bottom") else 1).mean())
           for side, band in edges.items()}
    cropped = [side for side, share in cut.items() if share > CROP_SHARE]
    checks.append(_binary(
        "inside_frame", not cropped, "The whole product is inside the frame.",
        f"The product is cut off at the {_join(cropped)} edge of the picture.",
        edge_share={k: round(v, 3) for k, v in cut.items()}))
    if not size:
        return checks
    extent = max(a.width / w, a.height / h)
    checks.append(_check(
        "product_size", _ramp(extent, MIN_EXTENT + 0.05, TINY_EXTENT),
        f"The product fills {extent:.0%} of the frame.",
        f"The product is tiny: it spans only {extent:.0%} of the frame.",
        extent=round(extent, 3)))
    return checks


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def check_front(image: ImageInput | Analysis, *, text: str | None = None,
                reference: ImageInput | Analysis | None = None,
                logo: ImageInput | Analysis | None = None) -> QAResult:
    """The front against the request: present, inside the frame, not tiny; the colours
    the text names (or the reference photo's main colours) show on the product; the
    logo's own colours show on it (a logo in the product's colours cannot be told apart:
    the check then passes and says so)."""
    a = analyse(image)
    checks = _presence_checks(a)
    if not a.found:
        return _result(ViewType.FRONT, checks)
    colours = named_colours(without_scene(text) if text else text)  # not the tripod's silver
    hidden = [c for c in colours if hidden_from_front(c, text or "")]
    colours = [c for c in colours if c not in hidden]
    if colours:
        missing, found = [], []
        for colour in colours:
            share, closest = _colour_share(a, np.array(colour.lab), NAMED_TOLERANCE)
            (found if share >= NAMED_MIN_SHARE else missing).append((colour, share, closest))
        score = 100.0 * len(found) / len(colours)
        bad = "; ".join(
            f"the request names {c.phrase}, but the product shows none (closest colour ΔE {d:.0f} away)"
            if np.isfinite(d) else f"the request names {c.phrase}, but the product shows none"
            for c, _, d in missing)
        checks.append(_check(
            "named_colours", score if not missing else min(score, PASS_SCORE - 1),
            f"Shows the colours asked for: {_join([c.phrase for c, _, _ in found])}."
            + (f" ({_join([f'{c.phrase} {c.noun}' for c in hidden])}: not visible from the front.)"
               if hidden else ""),
            bad[:1].upper() + bad[1:] + ".",
            colours={c.phrase: round(s, 4) for c, s, _ in found + missing}))
    if reference is not None:
        ref = analyse(reference)
        if ref.found:
            wanted = [(lab, s) for lab, s in zip(ref.palette_lab, ref.shares, strict=True)
                      if s >= REFERENCE_MIN_SHARE]
            missing_ref = []
            for lab, s in wanted:
                share, closest = _colour_share(a, lab, NAMED_TOLERANCE)
                if share < REFERENCE_FOUND_SHARE:
                    missing_ref.append((_name(lab), s, closest))
            score = 100.0 * (1 - len(missing_ref) / max(len(wanted), 1))
            checks.append(_check(
                "reference_colours", score if not missing_ref else min(score, PASS_SCORE - 1),
                "Shows the main colours of the reference photo.",
                "The reference photo is " + _join([f"{s:.0%} {n}" for n, s, _ in missing_ref])
                + ", but the front does not show " + ("it." if len(missing_ref) == 1 else "them."),
                missing=[n for n, _, _ in missing_ref]))
    if logo is not None:
        checks.extend(_logo_check(a, analyse(logo)))
    return _result(ViewType.FRONT, checks)


def _logo_check(front: Analysis, logo: Analysis) -> list[Check]:
    if not logo.found:
        return []
    wanted = [lab for lab, s in zip(logo.palette_lab, logo.shares, strict=True) if s >= LOGO_COLOUR_SHARE]
    # a logo colour that is also a main colour of the product cannot show whether it is there
    own = [lab for lab in wanted if front.share_near(lab, NAMED_TOLERANCE) < LOGO_PRODUCT_SHARE]
    if not own:
        return [_binary("logo", True, "The logo is in the product's own colours, so its presence could not "
                        "be confirmed from the pixels.", "", confirmed=False)]
    missing = [_name(lab) for lab in own if front.share_near(lab, NAMED_TOLERANCE) < LOGO_MIN_SHARE]
    return [_binary("logo", not missing, "The logo's colours show on the front.",
                    f"The logo seems to be missing: its {_join(sorted(set(missing)))} does not show on "
                    "the front.",
                    confirmed=not missing, missing=missing)]


# --------------------------------------------------------------------------- other views


def feature_colours(features: ExtractedFeatures | None) -> np.ndarray:
    """Lab colours of the extracted features (empty when there are none)."""
    if features is None or not features.colors:
        return np.zeros((0, 3))
    return rgb_to_lab(np.array([hex_to_rgb(c.hex) for c in features.colors], dtype=np.float64))


def palette_distance(view_lab: np.ndarray, view_shares: np.ndarray, ref_lab: np.ndarray) -> float:
    """Mean CIEDE2000 (kL=2) from each view colour to its nearest reference colour,
    weighted by the view's shares (only this direction: a face may show fewer colours)."""
    if len(view_lab) == 0 or len(ref_lab) == 0:
        return 0.0
    d = ciede2000(view_lab[:, None, :], ref_lab[None, :, :], kL=LIGHTNESS_WEIGHT)
    weights = view_shares / max(float(view_shares.sum()), 1e-9)
    return float((d.min(axis=1) * weights).sum())


def _known_colours(front: Analysis, features: ExtractedFeatures | None, text: str | None) -> np.ndarray:
    """The colours a view may show: the features', the front's and those the request names."""
    parts = [feature_colours(features), front.palette_lab,
             np.array([c.lab for c in named_colours(text)], dtype=np.float64).reshape(-1, 3)]
    return np.concatenate([p for p in parts if len(p)]) if any(len(p) for p in parts) else np.zeros((0, 3))


def _ratio_error(a: float, b: float) -> float:
    if a <= 0 or b <= 0:
        return 1.0
    return 1.0 - min(a, b) / max(a, b)


@dataclass(frozen=True)
class _Rule:
    views: tuple[ViewType, ...]
    error: float  # 1 − smaller/larger of the two ratios
    slack: float  # the error pixel rounding alone can cause (±1 px on each extent)
    text: str  # what disagrees, for the reason

    @property
    def score(self) -> float:
        return _ramp(max(self.error - self.slack, 0.0), SHAPE_GOOD, SHAPE_ZERO)


def _slack(*analyses: Analysis) -> float:
    return sum(1.0 / max(a.width, 1.0) + 1.0 / max(a.height, 1.0) for a in analyses)


def shape_rules(measured: Mapping[ViewType, Analysis]) -> list[_Rule]:
    """The scale-free orthographic rules among the views present: back w/h = front w/h;
    top w/d = bottom w/d; front w/h = (top or bottom w/d) · (side d/h)."""
    m = {v: a for v, a in measured.items() if a.found}
    front = m.get(ViewType.FRONT)
    rules: list[_Rule] = []
    if front is not None and ViewType.BACK in m:
        back = m[ViewType.BACK]
        rules.append(_Rule((ViewType.BACK,), _ratio_error(back.aspect, front.aspect), _slack(back, front),
                           f"its width-to-height ratio is {back.aspect:.2f} "
                           f"where the front's is {front.aspect:.2f}"))
    if ViewType.TOP in m and ViewType.BOTTOM in m:
        top, bottom = m[ViewType.TOP], m[ViewType.BOTTOM]
        rules.append(_Rule((ViewType.TOP, ViewType.BOTTOM), _ratio_error(top.aspect, bottom.aspect),
                           _slack(top, bottom),
                           f"the top's width-to-depth ratio is {top.aspect:.2f} "
                           f"and the bottom's {bottom.aspect:.2f}"))
    if front is not None and ViewType.SIDE in m:
        side = m[ViewType.SIDE]
        for plan in (ViewType.TOP, ViewType.BOTTOM):
            if plan in m:
                implied = m[plan].aspect * side.aspect  # (w/d)·(d/h) = w/h
                rules.append(_Rule(
                    (ViewType.SIDE, plan), _ratio_error(implied, front.aspect), _slack(side, m[plan], front),
                    f"the side and {plan.value} give the product a width-to-height ratio of {implied:.2f}, "
                    f"the front {front.aspect:.2f}"))
    return rules


def _shape_check(view: ViewType, rules: list[_Rule]) -> Check | None:
    """A view passes when some rule it takes part in holds (a wrong sibling does not drag
    it down); it fails when every rule it is in fails."""
    mine = [r for r in rules if view in r.views]
    if not mine:
        return None
    best = max(mine, key=lambda r: r.score)
    worst = min(mine, key=lambda r: r.score)
    return _check("shape", best.score, "Its proportions agree with the other views.",
                  f"Its proportions disagree with the other views: {worst.text}.",
                  error=round(best.error, 3))


def mirror_overlap(front: Analysis, back: Analysis) -> float:
    """IoU of the front's silhouette and the back's mirrored silhouette, each cropped to
    its own box and resized to one grid (scale-free)."""
    def grid(a: Analysis, flip: bool) -> np.ndarray:
        assert a.box is not None
        x0, y0, x1, y1 = a.box
        crop = a.mask[y0:y1, x0:x1].astype(np.float32)
        if flip:
            crop = crop[:, ::-1]
        img = Image.fromarray(np.ascontiguousarray(crop * 255).astype(np.uint8))
        return np.asarray(img.resize((MIRROR_GRID, MIRROR_GRID), Image.Resampling.BILINEAR)) >= 128

    f, b = grid(front, False), grid(back, True)
    union = (f | b).sum()
    return float((f & b).sum() / union) if union else 0.0


def check_view(view: ViewType, image: ImageInput | Analysis, *, front: ImageInput | Analysis,
               features: ExtractedFeatures | None = None,
               others: Mapping[ViewType, ImageInput | Analysis] | None = None,
               text: str | None = None, estimated: bool = False) -> QAResult:
    """One of back, side, top, bottom against the approved front, the features and the
    other views (``others``: any views already made; the front may be among them).
    ``text``: the request and its feedback (colours it names count as the product's).
    ``estimated``: the view was built from a single photo (lower confidence)."""
    view = ViewType(view)
    if view == ViewType.FRONT:
        raise ValueError("use check_front for the front view")
    measured = {v: analyse(img) for v, img in (others or {}).items() if v not in (view, ViewType.FRONT)}
    measured[ViewType.FRONT] = analyse(front)
    measured[view] = analyse(image)
    return _check_view(view, measured, features, text=text, estimated=estimated)


def _check_view(view: ViewType, measured: Mapping[ViewType, Analysis], features: ExtractedFeatures | None,
                *, text: str | None, estimated: bool) -> QAResult:
    a, front = measured[view], measured[ViewType.FRONT]
    checks = _presence_checks(a, size=False)
    if not a.found or not front.found:
        if a.found:
            checks.append(_binary("shape", False, "", "The approved front has no product to compare with."))
        return _result(view, checks, estimated=estimated)
    shape = _shape_check(view, shape_rules(measured))
    if shape is not None:
        checks.append(shape)
    if view == ViewType.BACK:
        iou = mirror_overlap(front, a)
        checks.append(_check("mirror", _ramp(iou, MIRROR_GOOD, MIRROR_ZERO),
                             f"Its outline mirrors the front's ({iou:.0%} overlap).",
                             f"Its outline does not mirror the front's: only {iou:.0%} overlap.",
                             overlap=round(iou, 3)))
    checks.extend(_colour_checks(view, a, front, features, measured, text))
    if estimated:
        checks.append(_detail_check(a, front))
    return _result(view, checks, estimated=estimated)


def _colour_checks(view: ViewType, a: Analysis, front: Analysis, features: ExtractedFeatures | None,
                   measured: Mapping[ViewType, Analysis], text: str | None) -> list[Check]:
    feats = feature_colours(features)
    reference = feats if len(feats) else front.palette_lab
    delta_e = palette_distance(a.palette_lab, a.shares, reference)
    main = _name(a.palette_lab[0])
    ref_main = _name(reference[0])
    against = "the product's colours" if len(feats) else "the front's colours"
    palette_check = _check(
        "palette", _ramp(delta_e, PALETTE_GOOD, PALETTE_ZERO),
        f"Its colours match {against} (ΔE {delta_e:.1f}).",
        f"Its colours differ from {against} (ΔE {delta_e:.0f}): this view is mostly {main}"
        + (f" where the product is mostly {ref_main}." if main != ref_main else "."),
        delta_e=round(delta_e, 2))
    known = _known_colours(front, features, text)
    d = ciede2000(a.palette_lab[:, None, :], known[None, :, :], kL=LIGHTNESS_WEIGHT).min(axis=1)
    siblings = [measured[v] for v in OTHER_VIEWS if v != view and v in measured and measured[v].found]
    # a part the front cannot see (a phone's camera) shows in several other views: not new
    seen_around = np.array([sum(o.share_near(lab, SHOWS_TOLERANCE) >= STILL_SHOWN for o in siblings)
                            >= SEEN_AROUND for lab in a.palette_lab], dtype=bool)
    new = (d > NEW_COLOUR_DELTA_E) & ~seen_around
    share = float(a.shares[new].sum())
    new_colours = [{"hex": rgb_to_hex(lab_to_rgb(lab)), "name": _name(lab), "share": round(float(s), 3)}
                   for lab, s in zip(a.palette_lab[new], a.shares[new], strict=True)]
    names = _join(sorted({c["name"] for c in new_colours}))
    new_check = _check(
        "new_colours", _ramp(share, NEW_SHARE_GOOD, NEW_SHARE_ZERO),
        "It shows no colours the product does not have." if not new_colours
        else f"Only {share:.0%} of it is in colours the front does not show.",
        f"{share:.0%} of it is {names}, a colour the product does not have.",
        share=round(share, 3), colours=new_colours)
    return [palette_check, new_check]


def _detail_check(a: Analysis, front: Analysis) -> Check:
    """For views estimated from one photo: a view with almost none of the photo's fine
    detail is a plain shape standing in for the product. Only a front with surface grain
    is asked for it (a smooth front has nothing to carry over). Views of described
    products are not: a plain rubber sole under a textured sneaker is honest."""
    if front.grain < DETAIL_MIN_FRONT:
        return _check("detail", 100.0, "The front's surface is smooth, so there is no detail to carry over.",
                      "", texture=round(a.texture, 3), front_grain=round(front.grain, 3))
    ratio = a.texture / front.texture
    return _check(
        "detail", _ramp(ratio, DETAIL_GOOD, DETAIL_ZERO),
        "It carries detail like the front's.",
        "It is a plain shaded shape with none of the front's surface detail: it looks nothing like "
        "the product.",
        texture=round(a.texture, 3), front_texture=round(front.texture, 3), ratio=round(ratio, 3))


# --------------------------------------------------------------------------- product


def _coverage_check(measured: Mapping[ViewType, Analysis]) -> Check | None:
    """Each of the front's main colours shows in at least one other view."""
    front = measured.get(ViewType.FRONT)
    others = [measured[v] for v in OTHER_VIEWS if v in measured and measured[v].found]
    if front is None or not front.found or not others:
        return None
    missing = []
    for lab, share in zip(front.palette_lab, front.shares, strict=True):
        if share < COVERAGE_MIN_SHARE:
            continue
        if all(_colour_share(o, lab, NAMED_TOLERANCE)[0] < 0.01 for o in others):
            missing.append(f"{_name(lab)} ({share:.0%} of the front)")
    return _binary("coverage", not missing, "Each of the front's main colours shows in another view.",
                   "The front's " + _join(missing) + " shows in none of the other views.", missing=missing)


def _with(result: QAResult, check: Check) -> QAResult:
    return _result(result.view, [*result.checks, check], estimated=result.confidence == "low")


def verdict(results: Mapping[ViewType, QAResult], checks: list[Check] | None = None) -> ProductQA:
    """Combine per-view results (and product-level checks) into the product's verdict:
    "Five consistent views." only when all five views are there and every check passed."""
    checks = list(checks or [])
    views = {ViewType(v): r for v, r in results.items()}
    missing = [v for v in (ViewType.FRONT, *OTHER_VIEWS) if v not in views]
    flagged = [v for v, r in views.items() if not r.passed]
    failed_checks = [c for c in checks if not c.passed]
    score = min([r.score for r in views.values()] + [c.score for c in checks], default=0.0)
    passed = not missing and not flagged and not failed_checks
    reasons = [f"{v.label}: {views[v].summary}" for v in flagged] + [c.reason for c in failed_checks]
    if missing:
        reasons.append(f"Not checked yet: {_join([v.value for v in missing])}.")
    if passed:
        low = [v for v, r in views.items() if r.confidence == "low"]
        headline = ("Six consistent views (with the hero)." if ViewType.HERO in views
                    else "Five consistent views.") + (
            " Some are estimated from one photo, so check them by eye." if low else "")
    elif flagged:
        headline = (f"{len(flagged)} of {len(views)} views need attention: "
                    f"{_join([v.value for v in flagged])}.")
    elif failed_checks:
        headline = "The views disagree with each other: " + failed_checks[0].reason
    else:
        headline = f"Not all five views are checked yet ({_join([v.value for v in missing])} missing)."
    return ProductQA(passed=passed, score=round(score, 1), headline=headline, views=views,
                     checks=checks, reasons=reasons)


def check_product(front: ImageInput | Analysis, views: Mapping[ViewType, ImageInput | Analysis],
                  features: ExtractedFeatures | None = None, *, text: str | None = None,
                  reference: ImageInput | Analysis | None = None, estimated: bool = False,
                  changes: Mapping[ViewType, ChangeResult] | None = None) -> ProductQA:
    """Every check over a whole product, each image analysed once. ``changes``: the
    ``check_change`` results of views just regenerated (with ``others``): a view that
    still shows a colour one of them swapped away is flagged as disagreeing."""
    measured = {ViewType(v): analyse(img) for v, img in views.items() if ViewType(v) != ViewType.FRONT}
    measured[ViewType.FRONT] = analyse(front)
    results: dict[ViewType, QAResult] = {
        ViewType.FRONT: check_front(measured[ViewType.FRONT], text=text, reference=reference)}
    for v in (*OTHER_VIEWS, ViewType.HERO):  # the hero: colours only, no orthographic rule
        if v in measured:
            results[v] = _check_view(v, measured, features, text=text, estimated=estimated)
    for change in (changes or {}).values():
        for v, why in change.disagreeing.items():
            if v in results:
                results[v] = _with(results[v], _binary("agreement", False, "", why))
    coverage = _coverage_check(measured)
    return verdict(results, [coverage] if coverage else [])


# --------------------------------------------------------------------------- change


def _same_frame(old: Analysis | _Frame, new: Analysis | _Frame) -> tuple[np.ndarray, np.ndarray] | None:
    if old.lab.shape != new.lab.shape:
        h, w = old.lab.shape[:2]
        nh, nw = new.lab.shape[:2]
        if abs(h / w - nh / nw) > 0.01:
            return None
        img = Image.fromarray(new.rgb).resize((w, h), Image.Resampling.BILINEAR)
        return old.lab, rgb_to_lab(np.asarray(img)).astype(np.float32)
    return old.lab, new.lab


def _difference(old: Analysis | _Frame, new: Analysis | _Frame) -> tuple[np.ndarray | None, float]:
    """Per-pixel ΔE76 map (None: frames of other shapes) and its mean."""
    pair = _same_frame(old, new)
    if pair is None:
        return None, float("inf")
    delta = np.linalg.norm(pair[0] - pair[1], axis=-1)
    return delta, float(delta.mean())


@dataclass(frozen=True)
class _Frame:
    """Just the pixels of an image (no product mask): enough to compare two images."""

    digest: str
    rgb: np.ndarray
    lab: np.ndarray


def _frame(image: ImageInput | Analysis) -> Analysis | _Frame:
    if isinstance(image, Analysis):
        return image
    key = _digest(image)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    rgb = np.ascontiguousarray(_pixels(image)[..., :3])
    return _Frame(digest=key, rgb=rgb, lab=rgb_to_lab(rgb).astype(np.float32))


def is_unchanged(old: ImageInput | Analysis, new: ImageInput | Analysis) -> bool:
    """True when ``new`` is identical or near-identical to ``old`` (re-encoded, a few
    pixels off): such a retry changed nothing and is refunded."""
    if isinstance(old, bytes | bytearray) and isinstance(new, bytes | bytearray) and bytes(old) == bytes(new):
        return True
    a, b = _frame(old), _frame(new)
    if a.digest == b.digest:
        return True
    delta, mean = _difference(a, b)
    if delta is None:
        return False
    return bool(mean < UNCHANGED_MEAN and (delta > UNCHANGED_PIXEL_DELTA).mean() < UNCHANGED_SHARE)


_TONE = {"darker": -1, "dark": -1, "deeper": -1, "lighter": 1, "light": 1, "brighter": 1, "paler": 1}
_SIZE = {
    "taller": ("aspect", -1), "shorter": ("aspect", 1),
    "wider": ("aspect", 1), "broader": ("aspect", 1), "narrower": ("aspect", -1), "slimmer": ("aspect", -1),
    "thinner": ("aspect", -1), "bigger": ("area", 1), "larger": ("area", 1), "smaller": ("area", -1),
}
_PLACES = {"top": (None, 0), "upper": (None, 0), "bottom": (None, 2), "lower": (None, 2),
           "left": (0, None), "right": (2, None), "centre": (1, 1), "center": (1, 1), "middle": (1, 1)}


def check_change(old: ImageInput | Analysis, new: ImageInput | Analysis, feedback: str | None = None, *,
                 view: ViewType | None = None,
                 others: Mapping[ViewType, ImageInput | Analysis] | None = None) -> ChangeResult:
    """A retry or regeneration against the image it replaces: changed at all (else it is
    refunded), and changed the way ``feedback`` asked where that is measurable (a named
    colour now shows where the image changed; darker / lighter; taller / wider / bigger;
    top / left ...). A colour the change swapped for another (red straps now black) is
    listed, and so are the ``others`` (views not regenerated) that still show the old
    colour: they disagree with the new image until they are regenerated too."""
    if is_unchanged(old, new):  # before measuring the product: an unchanged retry is cheap to tell
        same = isinstance(old, bytes | bytearray) and isinstance(new, bytes | bytearray) and old == new
        delta, mean = (None, 0.0) if same else _difference(_frame(old), _frame(new))
        changed_share = float((delta > CHANGE_PIXEL_DELTA).mean()) if delta is not None else 0.0
        reason = ("The new image is the same as the one it replaces: the feedback could not be applied, "
                  "so it is not charged.")
        return ChangeResult(view=view, unchanged=True, changed_share=round(changed_share, 4),
                            mean_delta_e=round(mean, 2), followed=False if feedback else None, passed=False,
                            reason=reason, checks=[_binary("changed", False, "", reason)])
    a, b = analyse(old), analyse(new)
    delta, mean = _difference(a, b)
    changed_map = (delta > CHANGE_PIXEL_DELTA) if delta is not None else np.ones(a.mask.shape, bool)
    changed_share = float(changed_map.mean())
    checks = [_binary("changed", True, f"The image changed ({changed_share:.0%} of it).", "",
                      share=round(changed_share, 4))]
    expectations = _expectations(a, b, changed_map if delta is not None else None, feedback or "")
    checks.extend(expectations)
    followed: bool | None = None if not expectations else all(c.passed for c in expectations)
    if followed is False:
        reason = " ".join(c.reason for c in expectations if not c.passed)
    elif followed:
        reason = " ".join(c.reason for c in expectations)
    else:
        reason = f"The image changed ({changed_share:.0%} of it); the feedback names nothing we can measure."
    removed, added = colour_swaps(a, b)
    stale: dict[ViewType, str] = {}
    if removed and added:
        gone = [r["name"] for r in removed]
        now = _join(sorted({c["name"] for c in added}))
        for v, img in (others or {}).items():
            other = analyse(img)
            if v == view or not other.found:
                continue
            still = [r["name"] for r in removed
                     if other.share_near(np.array(r["lab"]), SHOWS_TOLERANCE) >= STILL_SHOWN]
            if still:
                what = f"the {view.value} view" if view else "the regenerated view"
                stale[ViewType(v)] = (f"It still shows {_join(still)}, which {what} now shows as {now}: "
                                      "regenerate it with the same feedback so the views agree.")
        if stale:
            many = len(stale) > 1
            checks.append(_binary("agreement", False, "", (
                f"The change turned {_join(gone)} into {now}, but the {_join([v.value for v in stale])} "
                f"view{'s' if many else ''} still show{'' if many else 's'} {_join(gone)}."),
                views=[v.value for v in stale]))
    return ChangeResult(view=view, unchanged=False, changed_share=round(changed_share, 4),
                        mean_delta_e=round(mean, 2), followed=followed, passed=followed is not False,
                        reason=reason, checks=checks, removed_colours=removed, added_colours=added,
                        disagreeing=stale)


def colour_swaps(old: Analysis, new: Analysis) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Colours a change took away (their share fell by ``SWAP_MIN_SHARE`` or more, to under
    a quarter) and colours it brought (share rose by as much, to over twice what it was)."""
    if not old.found or not new.found:
        return [], []

    def entry(lab: np.ndarray, before: float, after: float) -> dict[str, Any]:
        return {"name": _name(lab), "hex": rgb_to_hex(lab_to_rgb(lab)),
                "lab": [round(float(x), 2) for x in lab],
                "before": round(before, 3), "after": round(after, 3)}

    removed, added = [], []
    for i, (lab, share) in enumerate(zip(old.palette_lab, old.shares, strict=True)):
        if share < SWAP_MIN_SHARE or _is_blend(i, old):  # an edge between two colours is neither
            continue
        before, after = old.share_near(lab, SHOWS_TOLERANCE), new.share_near(lab, SHOWS_TOLERANCE)
        if before - after >= SWAP_MIN_SHARE and after < before / 4:
            removed.append(entry(lab, before, after))
    for i, (lab, share) in enumerate(zip(new.palette_lab, new.shares, strict=True)):
        if share < SWAP_MIN_SHARE or _is_blend(i, new):
            continue
        before, after = old.share_near(lab, SHOWS_TOLERANCE), new.share_near(lab, SHOWS_TOLERANCE)
        if after - before >= SWAP_MIN_SHARE and after > 2 * before:
            added.append(entry(lab, before, after))
    return _dedupe(removed), _dedupe(added)


def _is_blend(i: int, a: Analysis) -> bool:
    """Palette colour ``i`` lies between two more common palette colours (within ΔE76
    ``BLEND_DISTANCE`` of the segment joining them): the anti-aliased edge between them."""
    lab = a.palette_lab[i]
    bigger = [j for j in range(len(a.shares)) if a.shares[j] > a.shares[i]]
    for m, j in enumerate(bigger):
        for k in bigger[m + 1:]:
            p, q = a.palette_lab[j], a.palette_lab[k]
            t = float(np.clip(np.dot(lab - p, q - p) / max(float(np.dot(q - p, q - p)), 1e-9), 0.15, 0.85))
            if float(np.linalg.norm(lab - (p + t * (q - p)))) <= BLEND_DISTANCE:
                return True
    return False


def _dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per colour: shades of one colour (a strap's lit face and its edge) are
    folded into the most common."""
    kept: list[dict[str, Any]] = []
    for e in sorted(entries, key=lambda e: -(e["before"] + e["after"])):
        if all(float(ciede2000(np.array(e["lab"]), np.array(k["lab"]), kL=LIGHTNESS_WEIGHT)) > NAMED_TOLERANCE
               for k in kept):
            kept.append(e)
    return kept


def features_after_change(features: ExtractedFeatures,
                          change: ChangeResult) -> tuple[ExtractedFeatures, str | None]:
    """The features record with the colours a change swapped replaced (red → black) in
    its colours, key elements and description, and a note for the revision ("colours
    changed: red → black"); the same features and None when nothing in them changed."""
    if not change.removed_colours or not change.added_colours:
        return features, None
    target = max(change.added_colours, key=lambda c: c["after"])
    colours = list(features.colors)
    labs = feature_colours(features)
    notes: list[str] = []
    for gone in change.removed_colours:
        if len(labs):
            d = ciede2000(labs, np.array(gone["lab"])[None, :], kL=LIGHTNESS_WEIGHT)
            i = int(np.argmin(d))
            if float(d[i]) <= NAMED_TOLERANCE and colours[i].name != target["name"]:
                notes.append(f"{colours[i].name} → {target['name']}")
                colours[i] = colours[i].model_copy(update={"hex": target["hex"], "name": target["name"]})
    words = {g["name"] for g in change.removed_colours}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    pattern = re.compile(r"\b(" + alternatives + r")\b", re.IGNORECASE)
    elements = [pattern.sub(target["name"], e) for e in features.keyElements]
    description = pattern.sub(target["name"], features.description)
    for before, after in zip(features.keyElements, elements, strict=True):
        if before != after:
            notes.append(f"{before} → {after}")
    if not notes and description == features.description:
        return features, None
    if not notes:
        notes.append("description")
    where = f" ({change.view.value} regenerated)" if change.view else ""
    updated = features.model_copy(update={"colors": colours, "keyElements": elements,
                                          "description": description})
    return updated, "colours changed: " + "; ".join(notes) + where


def _expectations(a: Analysis, b: Analysis, changed: np.ndarray | None, feedback: str) -> list[Check]:
    text = feedback.lower()
    words = set(re.findall(r"[a-z]+", text))
    checks: list[Check] = []
    if not b.found:
        return [_binary("followed", False, "", "The new image shows no product.")]
    region = (changed & b.mask) if changed is not None else b.mask
    for colour in named_colours(feedback):
        lab = np.array(colour.lab)
        before, _ = _colour_share(a, lab, NAMED_TOLERANCE) if a.found else (0.0, 0.0)
        after, _ = _colour_share(b, lab, NAMED_TOLERANCE)
        if region.sum() >= MIN_PRODUCT_PIXELS:
            d = ciede2000(b.lab[region].astype(np.float64), lab[None, :], kL=LIGHTNESS_WEIGHT)
            in_change = float((d <= NAMED_TOLERANCE).mean())
        else:
            in_change = 0.0
        ok = in_change >= TARGET_SHARE or after - before >= 0.01
        checks.append(_binary(
            "followed", ok,
            f"{colour.phrase.capitalize()} now covers {after:.0%} of the product (was {before:.0%}).",
            f"The feedback asks for {colour.phrase}, but the changed part is not {colour.phrase} "
            f"({after:.0%} of the product is, was {before:.0%}).",
            colour=colour.phrase, before=round(before, 4), after=round(after, 4),
            in_change=round(in_change, 4)))
    tone = [_TONE[w] for w in words if w in _TONE and not named_colours(feedback)]
    if tone and a.found:
        sign = tone[0]
        shift = float(b.product_lab()[:, 0].mean() - a.product_lab()[:, 0].mean())
        word = "lighter" if sign > 0 else "darker"
        checks.append(_binary("followed", shift * sign >= TONE_STEP,
                              f"The product is {word} (L* {shift:+.1f}).",
                              f"The feedback asks for {word}, but the product's lightness moved "
                              f"{shift:+.1f}.",
                              lightness_shift=round(shift, 2)))
    for word in sorted(words & set(_SIZE)):
        if not a.found:
            break
        measure, sign = _SIZE[word]
        if measure == "aspect":
            ratio = b.aspect / a.aspect if a.aspect else 1.0
        else:
            ratio = float(b.mask.sum()) / max(float(a.mask.sum()), 1.0)
        change = ratio - 1.0
        checks.append(_binary("followed", change * sign >= SIZE_STEP,
                              f"The product is {word} ({change:+.0%}).",
                              f"The feedback asks for {word}, but the product's proportions "
                              f"changed {change:+.0%}.",
                              change=round(change, 3)))
        break
    places = [w for w in _PLACES if w in words]
    if places and changed is not None and region.sum() >= MIN_PRODUCT_PIXELS and b.box is not None:
        col, row = _PLACES[places[0]]
        x0, y0, x1, y1 = b.box
        ys, xs = np.nonzero(region)
        cx = int(np.clip((xs.mean() - x0) / max(x1 - x0, 1) * 3, 0, 2))
        cy = int(np.clip((ys.mean() - y0) / max(y1 - y0, 1) * 3, 0, 2))
        ok = (col is None or cx == col) and (row is None or cy == row)
        where = f"{['upper', 'middle', 'lower'][cy]} {['left', 'centre', 'right'][cx]}"
        checks.append(_binary("followed", ok, f"It changed at the {places[0]} of the product, as asked.",
                              f"The feedback points at the {places[0]}, but the change is mostly in the "
                              f"{where} of the product.", where=where))
    return checks

"""Colour science for product images: a table of named product colours, sRGB ↔ CIELAB
(D65) conversion, the CIEDE2000 colour difference (vectorised, checked against the
Sharma–Wu–Dalal test pairs), the nearest colour name of a pixel, and a small
deterministic palette extractor (k-means in Lab on a subsample, clusters closer than
about ΔE 6 merged, ordered by share). Pure functions on numpy arrays; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from viewgen.domain import ColorUsage

RGB = tuple[int, int, int]

# --------------------------------------------------------------------------- vocabulary
#
# One colour vocabulary for the description parser and the feature extractor, taken
# from the XKCD colour survey (Randall Munroe, 2010: 222,500 people named 5 million
# colour swatches; 949 names, public domain) as shipped in matplotlib's
# ``matplotlib.colors.XKCD_COLORS`` (matplotlib is pinned in requirements.txt). The
# survey was picked over the CSS3 names because it holds the names people actually
# type ("forest green", "sky blue", "light grey", "dusty rose", "navy" as a real navy)
# with their modifiers as separate words, and it is ordered by how often each name was
# used, so the extractor can speak in the common names. Names that are insults rather
# than colours ("puke", "ugly pink") are left out. The survey has no names for the
# colours of a few product materials (woods, plated metals, kraft paper); those few are
# listed in ``MATERIAL_TONES`` as material colours, not as a second colour list.

_EXCLUDE = ("puke", "poo", "shit", "vomit", "barf", "booger", "snot", "piss", "diarrh", "ugly",
            "nasty", "sick", "gross", "dirt", "burple", "blurple", "with a hint")

#: colours of materials the survey has no name for (the colour of the material itself)
MATERIAL_TONES: dict[str, str] = {
    "rose gold": "#B76E79", "brass": "#B5A642", "champagne": "#EAD9B8", "chrome": "#D4D6D9",
    "platinum": "#D6D6D2", "aluminium": "#C0C2C6", "aluminum": "#C0C2C6", "titanium": "#8A8A8E",
    "iron": "#52525A", "cognac": "#9A4A2C", "walnut": "#5C4033", "oak": "#C09866",
    "maple": "#D6B68A", "teak": "#A06E3E", "birch": "#E2CEAA", "bamboo": "#D0B276", "ebony": "#2A2422",
    "kraft": "#BE986C", "cork": "#C09668", "marble": "#E8E6E2", "concrete": "#A0A09D",
    "graphite": "#4A4D52", "space grey": "#585A5F", "espresso": "#33241C", "oxblood": "#601A1C",
    "clear": "#E2ECF0", "transparent": "#E2ECF0", "frosted": "#DEE6EA",
    # the survey's "gold", "bronze", "steel", "pine" and "mahogany" are paint colours
    # (a yellow, an ochre, a blue-grey, a green, a near-black red); in product copy they
    # are mostly the materials, which look like these
    "gold": "#D4AF37", "bronze": "#8C6A3E", "steel": "#A2A6AC", "pine": "#DEBE8A",
    "mahogany": "#703020",
}
#: material tones the extractor may name (the others sit too close to a plain name:
#: a black product is "black", not "ebony")
_READABLE_TONES = ("rose gold", "brass", "champagne", "cognac", "walnut")
#: survey names also in the extractor's vocabulary although fewer people used them:
#: the colours product copy names most (metals, neutrals, leathers, fabrics)
_PRODUCT_NAMES = ("gold", "silver", "bronze", "copper", "gunmetal", "steel", "charcoal", "ivory",
                  "camel", "chocolate", "stone", "denim", "emerald", "cobalt", "blush", "terracotta",
                  "coral", "wine", "cream", "sand", "taupe", "khaki", "sage", "mint", "teal", "navy",
                  "burgundy", "off white", "light grey", "dark grey", "slate", "lemon", "mocha",
                  "caramel", "mahogany", "chestnut", "pewter", "moss", "pistachio", "aubergine",
                  "raspberry", "turquoise", "amber", "jade", "bone")
#: survey entries that are modifier words in product copy ("pale sage" is a pale sage)
_NOT_NAMES = ("light", "dark", "pale", "deep", "bright", "muted", "matte", "metallic", "pastel",
              "soft", "vivid", "neon", "dusty", "dull", "faded", "medium")
#: how many of the survey's most used names the extractor speaks in
COMMON_NAMES = 150
#: surfaces photograph between these levels: a black product is never #000000 in a photo
PHOTO_BLACK, PHOTO_WHITE = 18, 236


def _survey() -> list[tuple[str, str]]:
    """The XKCD survey names with their hex, least used first (the survey's order)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("matplotlib")
    data: dict[str, str] | None = None
    if spec is not None and spec.origin:  # read the data module alone: importing matplotlib
        path = Path(spec.origin).with_name("_color_data.py")  # costs a second at start-up
        if path.is_file():
            namespace: dict[str, object] = {}
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
            found = namespace.get("XKCD_COLORS")
            data = found if isinstance(found, dict) else None
    if data is None:
        from matplotlib.colors import XKCD_COLORS as data  # type: ignore[no-redef]
    out = []
    for key, value in data.items():
        name = key.removeprefix("xkcd:").replace("'", "")
        if not any(word in name for word in _EXCLUDE) and name not in _NOT_NAMES:
            out.append((name, value.upper()))
    return out


_SURVEY = _survey()

#: every colour name the parser understands: name -> #RRGGBB (the survey, and the tones)
COLOR_HEX: dict[str, str] = {**dict(_SURVEY), **MATERIAL_TONES}
for _alias, _name in (("gray", "grey"), ("light gray", "light grey"), ("dark gray", "dark grey"),
                      ("off-white", "off white"), ("space gray", "space grey"), ("navy", "navy blue")):
    COLOR_HEX.setdefault(_alias, COLOR_HEX[_name])


#: common survey names left to their longer twin ("brick red" says it better)
_TWINS = ("brick", "greenish", "puce")


def _readable() -> dict[str, str]:
    names = [n for n, _ in _SURVEY[-COMMON_NAMES:] if n not in _TWINS]
    names += [n for n in _PRODUCT_NAMES if n in COLOR_HEX]
    names += [n for n in _READABLE_TONES]
    out: dict[str, str] = {}
    seen: set[str] = set()
    for name in names:
        value = COLOR_HEX[name]
        if name not in out and value not in seen:
            out[name] = value
            seen.add(value)
    return out


#: the names the extractor gives measured colours (the survey's most used names, the
#: product names above and the material tones): name -> #RRGGBB
NAMED_COLORS: dict[str, str] = _readable()

#: words that change a named colour, as said in product copy
MODIFIERS = ("light", "dark", "pale", "deep", "bright", "muted", "matte", "metallic")


def photographed(rgb: Sequence[float] | np.ndarray) -> np.ndarray:
    """How a surface of this colour shows in a product photo: the survey's swatches span
    #000000 to #FFFFFF, a lit surface between ``PHOTO_BLACK`` and ``PHOTO_WHITE``."""
    arr = np.asarray(rgb, dtype=np.float64)
    return PHOTO_BLACK + arr * ((PHOTO_WHITE - PHOTO_BLACK) / 255.0)


def modified(rgb: RGB, modifier: str) -> RGB:
    """A colour with a modifier applied ("light", "pale", "dark", "deep", "bright",
    "muted"; "matte" and "metallic" are finishes and leave the colour as it is)."""
    import colorsys

    h, l, s = colorsys.rgb_to_hls(*(c / 255.0 for c in rgb))  # noqa: E741
    if modifier in ("light", "pale"):
        pale = modifier == "pale"
        l, s = l + (1 - l) * (0.55 if pale else 0.45), s * (0.7 if pale else 0.85)  # noqa: E741
    elif modifier in ("dark", "deep"):
        deep = modifier == "deep"
        l, s = l * (0.55 if deep else 0.6), min(1.0, s * (1.15 if deep else 1.0))  # noqa: E741
    elif modifier == "bright":
        l, s = max(l, 0.45), min(1.0, s * 1.3 + 0.1)  # noqa: E741
    elif modifier == "muted":
        s = s * 0.55
    r, g, b = colorsys.hls_to_rgb(h, min(max(l, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def color_rgb(phrase: str) -> RGB | None:
    """The colour a phrase names: a survey name as it stands ("dark green", "sky blue"),
    else modifiers applied to the name after them ("pale sage"), else None."""
    words = " ".join(phrase.lower().replace("-", " ").split())
    if words in COLOR_HEX:
        return hex_to_rgb(COLOR_HEX[words])
    head, _, rest = words.partition(" ")
    if head in MODIFIERS and rest:
        base = color_rgb(rest)
        return None if base is None else modified(base, head)
    return None


# --------------------------------------------------------------------------- conversions


def hex_to_rgb(value: str) -> RGB:
    """``"#1F2A44"`` (or ``"1f2a44"``, or ``"#abc"``) → ``(31, 42, 68)``."""
    text = value.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if len(text) != 6:
        raise ValueError(f"not a #RRGGBB colour: {value!r}")
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError as exc:
        raise ValueError(f"not a #RRGGBB colour: {value!r}") from exc


def rgb_to_hex(rgb: Sequence[float] | np.ndarray) -> str:
    """``(31, 42, 68)`` → ``"#1F2A44"`` (values rounded and clipped to 0..255)."""
    r, g, b = (int(np.clip(round(float(v)), 0, 255)) for v in list(rgb)[:3])
    return f"#{r:02X}{g:02X}{b:02X}"


# D65 reference white (2° observer), sRGB primaries
_WHITE = np.array([0.95047, 1.0, 1.08883])
_RGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_EPS = 216 / 24389
_KAPPA = 24389 / 27


def rgb_to_lab(rgb: np.ndarray | Sequence[float]) -> np.ndarray:
    """sRGB (0..255, any shape ``(..., 3)``) → CIELAB under D65, as float64 ``(..., 3)``."""
    arr = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(arr <= 0.04045, arr / 12.92, ((arr + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab: np.ndarray | Sequence[float]) -> np.ndarray:
    """CIELAB (D65) → sRGB floats 0..255 (clipped), any shape ``(..., 3)``."""
    arr = np.asarray(lab, dtype=np.float64)
    fy = (arr[..., 0] + 16) / 116
    fx = fy + arr[..., 1] / 500
    fz = fy - arr[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    linear = np.clip(xyz @ _XYZ_TO_RGB.T, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(srgb * 255.0, 0.0, 255.0)


def ciede2000(lab1: np.ndarray | Sequence[float], lab2: np.ndarray | Sequence[float], *,
              kL: float = 1.0, kC: float = 1.0, kH: float = 1.0) -> np.ndarray:
    """CIEDE2000 colour difference between Lab arrays ``(..., 3)`` (broadcasting).

    Implements Sharma, Wu and Dalal (2005) exactly, including the hue-angle cases when
    a chroma is zero; returns a float array of the broadcast shape (a 0-d array for two
    single colours: wrap in ``float()``).
    """
    a = np.asarray(lab1, dtype=np.float64)
    b = np.asarray(lab2, dtype=np.float64)
    L1, a1, b1 = a[..., 0], a[..., 1], a[..., 2]
    L2, a2, b2 = b[..., 0], b[..., 1], b[..., 2]

    C1 = np.hypot(a1, b1)
    C2 = np.hypot(a2, b2)
    C_bar7 = ((C1 + C2) / 2) ** 7
    G = 0.5 * (1 - np.sqrt(C_bar7 / (C_bar7 + 25.0**7)))
    a1p = (1 + G) * a1
    a2p = (1 + G) * a2
    C1p = np.hypot(a1p, b1)
    C2p = np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    zero = (C1p * C2p) == 0

    dLp = L2 - L1
    dCp = C2p - C1p
    dhp = h2p - h1p
    dhp = np.where(dhp > 180, dhp - 360, dhp)
    dhp = np.where(dhp < -180, dhp + 360, dhp)
    dhp = np.where(zero, 0.0, dhp)
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp) / 2)

    Lp_bar = (L1 + L2) / 2
    Cp_bar = (C1p + C2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180,
        h_sum / 2,
        np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
    )
    h_bar = np.where(zero, h_sum, h_bar)

    T = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    Cp_bar7 = Cp_bar**7
    R_C = 2 * np.sqrt(Cp_bar7 / (Cp_bar7 + 25.0**7))
    L50 = (Lp_bar - 50) ** 2
    S_L = 1 + 0.015 * L50 / np.sqrt(20 + L50)
    S_C = 1 + 0.045 * Cp_bar
    S_H = 1 + 0.015 * Cp_bar * T
    R_T = -np.sin(np.radians(2 * d_theta)) * R_C

    tL = dLp / (kL * S_L)
    tC = dCp / (kC * S_C)
    tH = dHp / (kH * S_H)
    return np.sqrt(tL**2 + tC**2 + tH**2 + R_T * tC * tH)


# --------------------------------------------------------------------------- names


@lru_cache(maxsize=1)
def _name_table() -> tuple[tuple[str, ...], np.ndarray]:
    names = tuple(NAMED_COLORS)
    rgb = np.array([hex_to_rgb(NAMED_COLORS[n]) for n in names], dtype=np.float64)
    return names, rgb_to_lab(photographed(rgb))


def nearest_name(rgb: Sequence[float] | np.ndarray | str) -> str:
    """The extractor's name for a measured (photographed) colour: the nearest, by
    CIEDE2000, of ``NAMED_COLORS`` as they photograph."""
    """The product-colour name closest to ``rgb`` (a tuple or ``"#RRGGBB"``) by CIEDE2000."""
    if isinstance(rgb, str):
        rgb = hex_to_rgb(rgb)
    names, labs = _name_table()
    lab = rgb_to_lab(np.asarray(rgb, dtype=np.float64)[:3])
    return names[int(np.argmin(ciede2000(lab[None, :], labs)))]


def illuminant(pixels: np.ndarray, *, top: float = 0.02) -> tuple[float, float, float]:
    """The colour of the light a photo was taken under, as per-channel gains with mean 1
    (``(1, 1, 1)`` for neutral light): the mean of its brightest pixels (the top
    ``top`` share by R+G+B; "bright pixels", Joze et al. 2012), leaving out clipped ones,
    which carry no colour. Highlights and white surfaces reflect the light as it is,
    where the grey-world family takes a warm wooden table for warm light. Dividing a
    measured colour by it gives the colour under neutral light, which is what a person
    names (a white rocket at dusk is grey-white, not walnut)."""
    x = np.asarray(pixels, dtype=np.float64).reshape(-1, 3) / 255.0
    x = x[(x.max(axis=1) < 0.98) & (x.min(axis=1) > 0.02)]
    if len(x) < 64:
        return (1.0, 1.0, 1.0)
    total = x.sum(axis=1)
    e = x[total >= np.quantile(total, 1.0 - top)].mean(axis=0)
    if not np.all(e > 1e-6):
        return (1.0, 1.0, 1.0)
    e = e / e.mean()
    return (float(e[0]), float(e[1]), float(e[2]))


def under_neutral_light(rgb: Sequence[float] | np.ndarray,
                        gains: Sequence[float] | None) -> np.ndarray:
    """``rgb`` with the light's cast (``illuminant``'s gains) divided out (von Kries)."""
    arr = np.asarray(rgb, dtype=np.float64)
    if gains is None:
        return arr
    return np.clip(arr / np.asarray(gains, dtype=np.float64), 0.0, 255.0)


# --------------------------------------------------------------------------- palettes

MERGE_DELTA_E = 6.0
NEUTRAL_CHROMA = 10.0
_SAMPLE = 12_000


def _kmeans(lab: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator,
            iterations: int = 20) -> np.ndarray:
    """Weighted Lloyd's k-means in Lab with k-means++ seeding; returns labels."""
    n = len(lab)
    w = weights.astype(np.float64)
    centres = np.empty((k, 3))
    centres[0] = lab[rng.choice(n, p=w / w.sum())]
    d2 = ((lab - centres[0]) ** 2).sum(1)
    for i in range(1, k):
        p = w * d2
        if p.sum() <= 0:
            centres = centres[:i]
            break
        centres[i] = lab[rng.choice(n, p=p / p.sum())]
        d2 = np.minimum(d2, ((lab - centres[i]) ** 2).sum(1))
    norms = (lab**2).sum(1)[:, None]
    labels = np.zeros(n, dtype=np.intp)
    for it in range(iterations):
        dist = norms - 2 * lab @ centres.T + (centres**2).sum(1)[None, :]
        new = dist.argmin(1)
        if it and np.array_equal(new, labels):
            break
        labels = new
        mass = np.bincount(labels, weights=w, minlength=len(centres))
        for c in range(3):
            sums = np.bincount(labels, weights=w * lab[:, c], minlength=len(centres))
            centres[:, c] = np.where(mass > 0, sums / np.maximum(mass, 1e-12), centres[:, c])
    return labels


def palette(pixels: np.ndarray, k: int = 5, *, merge_delta_e: float = MERGE_DELTA_E,
            seed: int = 0) -> list[tuple[RGB, float]]:
    """The main colours of ``pixels`` (``(N, 3)`` uint8 RGB), most common first.

    Deterministic: a seeded subsample of at most 12 000 pixels is clustered with
    k-means in Lab (more clusters than asked, so a small accent gets its own), then
    clusters whose centres are closer than ``merge_delta_e`` (CIEDE2000), or than their
    own scatter, are merged, closest pair first; a merged cluster is shown as the
    colour of its largest piece (the lit face of a shaded surface, not a muddy mean).
    Each entry is ``(rgb, share)`` where ``share`` is the fraction of all pixels in
    that cluster; at most ``k`` entries, so shares sum to at most 1.
    """
    px = np.asarray(pixels).reshape(-1, 3)
    if len(px) == 0 or k <= 0:
        return []
    rng = np.random.default_rng(seed)
    if len(px) > _SAMPLE:
        px = px[np.sort(rng.choice(len(px), _SAMPLE, replace=False))]
    # identical pixels are common (flat renders): cluster the unique colours, weighted
    colours, counts = np.unique(px.astype(np.uint8), axis=0, return_counts=True)
    lab_unique = rgb_to_lab(colours.astype(np.float64))
    if len(colours) <= k + 3:
        labels_u = np.arange(len(colours))
    else:
        labels_u = _kmeans(lab_unique, counts, min(k + 4, len(colours)), rng)
    clusters: list[_Cluster] = []
    total = float(counts.sum())
    for j in np.unique(labels_u):
        sel = labels_u == j
        w = counts[sel].astype(np.float64)
        centre = (lab_unique[sel] * w[:, None]).sum(0) / w.sum()
        spread = float((ciede2000(lab_unique[sel], centre) * w).sum() / w.sum())
        clusters.append(_Cluster(centre, float(w.sum()), spread, centre))
    clusters = _merge(clusters, merge_delta_e)
    clusters.sort(key=lambda c: (-c.weight, tuple(c.lab)))
    out: list[tuple[RGB, float]] = []
    for cluster in clusters[:k]:
        r, g, b = (int(v) for v in np.rint(lab_to_rgb(cluster.mode)))
        out.append(((r, g, b), cluster.weight / total))
    return out


@dataclass(frozen=True)
class _Cluster:
    lab: np.ndarray  # centre
    weight: float
    spread: float  # mean CIEDE2000 of its pixels to the centre
    mode: np.ndarray  # centre of its heaviest original piece: the colour it is shown as


def _merge(clusters: list[_Cluster], threshold: float) -> list[_Cluster]:
    """Merge the closest pair while it is closer than ``threshold`` (CIEDE2000), or closer
    than its pixels' own scatter (k-means cuts one noisy colour into pieces) but never
    when twice ``threshold`` apart, so a gradient cannot swallow a neighbouring colour."""
    clusters = list(clusters)
    while len(clusters) > 1:
        labs = np.array([c.lab for c in clusters])
        spreads = np.array([c.spread for c in clusters])
        d = ciede2000(labs[:, None, :], labs[None, :, :])
        # the hue of a near-grey is mostly noise: compare near-greys by lightness and chroma
        chroma = np.hypot(labs[:, 1], labs[:, 2])
        flat = np.stack([labs[:, 0], chroma, np.zeros_like(chroma)], axis=-1)
        greys = (chroma[:, None] < NEUTRAL_CHROMA) & (chroma[None, :] < NEUTRAL_CHROMA)
        d = np.where(greys, ciede2000(flat[:, None, :], flat[None, :, :]), d)
        limit = np.clip(1.2 * (spreads[:, None] + spreads[None, :]), threshold, 2 * threshold)
        excess = d - limit
        np.fill_diagonal(excess, np.inf)
        i, j = np.unravel_index(int(np.argmin(excess)), excess.shape)
        if excess[i, j] >= 0:
            break
        a, b = clusters[i], clusters[j]
        weight = a.weight + b.weight
        lab = (a.lab * a.weight + b.lab * b.weight) / weight
        # the union's scatter includes each part's offset from the new centre
        offsets = ciede2000(np.stack([a.lab, b.lab]), lab)
        spread = float(((a.spread + offsets[0]) * a.weight + (b.spread + offsets[1]) * b.weight) / weight)
        clusters = [c for n, c in enumerate(clusters) if n not in (i, j)]
        clusters.append(_Cluster(lab, weight, spread, a.mode if a.weight >= b.weight else b.mode))
    return clusters


def usage_for(rank: int, share: float) -> ColorUsage:
    """Primary for the most common colour; secondary for others covering ≥ 15 %; else accent."""
    if rank == 0:
        return ColorUsage.PRIMARY
    if share >= 0.15:
        return ColorUsage.SECONDARY
    return ColorUsage.ACCENT

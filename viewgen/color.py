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

# Named colours as a designer would say them about a product (not the CSS list: "navy"
# here is a real navy fabric, not #000080). Order does not matter; names are unique.
NAMED_COLORS: dict[str, str] = {
    # neutrals
    "black": "#141414",
    "charcoal": "#36454F",
    "graphite": "#4A4D52",
    "gunmetal": "#2A3439",
    "dark grey": "#5A5A5A",
    "slate": "#6D7B8D",
    "grey": "#8A8A8A",
    "stone": "#A59D94",
    "pewter": "#99A3A4",
    "silver": "#BFC1C2",
    "light grey": "#D5D5D5",
    "off-white": "#F0EEE6",
    "white": "#FAFAFA",
    "ivory": "#FFFBEA",
    "cream": "#F6EBC8",
    "bone": "#E3DAC9",
    "champagne": "#EAD9B8",
    "beige": "#D6C4A8",
    "sand": "#C8B48A",
    "khaki": "#B5A27E",
    "tan": "#D2B48C",
    "camel": "#C19A6B",
    "taupe": "#8E8070",
    "wheat": "#F0D9A8",
    # browns
    "caramel": "#B97A3F",
    "cognac": "#9A4A2C",
    "brown": "#7A4B2A",
    "chestnut": "#954535",
    "walnut": "#5C4033",
    "chocolate": "#4B2E20",
    "espresso": "#33241C",
    "mahogany": "#6B2A1E",
    "mocha": "#6F5343",
    # reds
    "burgundy": "#800020",
    "maroon": "#6A1A1E",
    "wine": "#722F37",
    "red": "#C8102E",
    "crimson": "#DC143C",
    "scarlet": "#F02A0F",
    "brick red": "#A8402E",
    "raspberry": "#B3245C",
    # oranges
    "coral": "#FF7F50",
    "salmon": "#F4907A",
    "peach": "#FFCBA4",
    "orange": "#F57C00",
    "burnt orange": "#CC5500",
    "rust": "#A9431E",
    "terracotta": "#C65D3B",
    "ochre": "#C77B22",
    # yellows and metals
    "amber": "#FFB300",
    "gold": "#D4AF37",
    "mustard": "#D9A404",
    "yellow": "#F5D000",
    "lemon": "#FFF157",
    "butter": "#F8E7A0",
    "brass": "#B5A642",
    "bronze": "#8C6A3E",
    "copper": "#B87333",
    "rose gold": "#B76E79",
    # greens
    "olive": "#707B2E",
    "army green": "#4B5320",
    "moss": "#8A9A5B",
    "sage": "#9CAF88",
    "pistachio": "#A8C98A",
    "lime": "#A3D133",
    "kelly green": "#3FAA2A",
    "green": "#2E8B3E",
    "emerald": "#1F9E60",
    "jade": "#00A86B",
    "forest green": "#2D5A27",
    "bottle green": "#0B5345",
    "mint": "#A8E6CF",
    # blues and cyans
    "teal": "#008080",
    "petrol": "#005F6A",
    "turquoise": "#40E0D0",
    "aqua": "#7FDCE0",
    "sky blue": "#87CEEB",
    "light blue": "#B7D3EA",
    "cornflower": "#6495ED",
    "steel blue": "#4682B4",
    "denim": "#3E5F8A",
    "blue": "#1F5CC4",
    "cobalt": "#0047AB",
    "electric blue": "#2E3CF0",
    "royal blue": "#4169E1",
    "navy": "#1F2A44",
    "midnight blue": "#191970",
    "periwinkle": "#8F99FB",
    # purples and pinks
    "indigo": "#3F2A85",
    "violet": "#7F3FBF",
    "purple": "#6A1B9A",
    "aubergine": "#472C4C",
    "plum": "#6E2D5E",
    "lavender": "#B7A6D9",
    "lilac": "#C8A2C8",
    "mauve": "#A57C95",
    "magenta": "#D6249F",
    "hot pink": "#FF69B4",
    "pink": "#F2A2BF",
    "blush": "#EBC0BA",
    "dusty rose": "#C08081",
}


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
    labs = rgb_to_lab(np.array([hex_to_rgb(NAMED_COLORS[n]) for n in names], dtype=np.float64))
    return names, labs


def nearest_name(rgb: Sequence[float] | np.ndarray | str) -> str:
    """The product-colour name closest to ``rgb`` (a tuple or ``"#RRGGBB"``) by CIEDE2000."""
    if isinstance(rgb, str):
        rgb = hex_to_rgb(rgb)
    names, labs = _name_table()
    lab = rgb_to_lab(np.asarray(rgb, dtype=np.float64)[:3])
    return names[int(np.argmin(ciede2000(lab[None, :], labs)))]


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

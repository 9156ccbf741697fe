"""Shading: from per-pixel geometry to the finished studio image.

A studio rig (key, fill and rim light, Lambert + Blinn-Phong per material through
precomputed lighting tables, environment bands on metal, weave / grain / fibre
textures), the logo decal, screen-space ambient occlusion where parts meet, seams
softened, anti-aliased silhouettes, and the composite over a light warm-grey gradient
with a soft contact or drop shadow (``shade_geometry``). A new material is a row of
``MATERIAL_LOOK``.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from viewgen.color import photographed
from viewgen.domain import ViewType
from viewgen.providers.offline.scene import (
    BG_BOTTOM,
    BG_TOP,
    RGB,
    VIEW_FRAMES,
    RenderedView,
    Scene,
)

if TYPE_CHECKING:
    from viewgen.providers.offline.raycast import Box, _Geometry


# --------------------------------------------------------------------------- materials

#: material -> (diffuse, specular, shininess, environment, texture kind, texture amount)
MATERIAL_LOOK: dict[str, tuple[float, float, float, float, str, float]] = {
    "leather": (0.96, 0.20, 16.0, 0.00, "grain", 0.045),
    "metal": (0.86, 0.85, 60.0, 0.45, "brushed", 0.02),
    "wood": (0.97, 0.14, 22.0, 0.00, "wood", 0.16),
    "plastic": (0.96, 0.32, 42.0, 0.05, "none", 0.0),
    "glass": (0.55, 1.00, 110.0, 0.40, "none", 0.0),
    "fabric": (1.00, 0.025, 6.0, 0.00, "weave", 0.035),
    "ceramic": (0.92, 0.62, 90.0, 0.12, "none", 0.0),
    "rubber": (0.92, 0.07, 10.0, 0.00, "noise", 0.03),
    "cardboard": (1.00, 0.02, 6.0, 0.00, "fibre", 0.06),
    "painted": (0.95, 0.42, 55.0, 0.10, "none", 0.0),
}
_TEXTURES = ("none", "grain", "brushed", "wood", "weave", "noise", "fibre")

#: lights in camera space (u right, v up, w towards the camera), as plain floats so the
#: float32 pixel arrays stay float32
def _unit(x: float, y: float, z: float) -> tuple[float, float, float]:
    n = math.sqrt(x * x + y * y + z * z)
    return (x / n, y / n, z / n)


_KEY = _unit(-0.55, 0.62, 0.56)
_FILL = _unit(0.75, 0.05, 0.66)
_RIM = _unit(0.35, 0.55, -0.76)
_HKEY = _unit(_KEY[0], _KEY[1], _KEY[2] + 1.0)
_HFILL = _unit(_FILL[0], _FILL[1], _FILL[2] + 1.0)
KEY_I, FILL_I, RIM_I, AMBIENT = 0.62, 0.24, 0.55, 0.40


def _look(material: str, finish: str) -> tuple[float, float, float, float, int, float]:
    kd, ks, shin, env, tex, amount = MATERIAL_LOOK.get(material, MATERIAL_LOOK["plastic"])
    if finish == "matte":
        ks, shin, env = ks * 0.3, shin * 0.5, env * 0.35
    elif finish == "glossy":
        ks, shin, env = min(1.0, ks * 1.7 + 0.15), shin * 1.6, min(0.8, env * 1.5 + 0.06)
    elif finish == "satin":
        ks, shin = ks * 0.75, shin * 0.7
    return kd, ks, shin, env, _TEXTURES.index(tex), amount



@lru_cache(maxsize=8)
def background(size: tuple[int, int]) -> np.ndarray:
    """The studio backdrop: a light warm-grey vertical gradient, (H, W, 3) float32 0..1."""
    w, h = size
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    t = t * t * (3 - 2 * t)
    col = BG_TOP[None, :] * (1 - t) + BG_BOTTOM[None, :] * t
    out = np.broadcast_to(col[:, None, :], (h, w, 3)).astype(np.float32)
    out.flags.writeable = False
    return out


@lru_cache(maxsize=8)
def _background_u8(size: tuple[int, int]) -> np.ndarray:
    out = (background(size) * 255.0 + 0.5).astype(np.uint8)
    out.flags.writeable = False
    return out


_TILE = 512


@lru_cache(maxsize=16)
def _noise_tile(cell: tuple[float, float]) -> np.ndarray:
    """A tileable smooth noise texture (_TILE x _TILE, zero mean, about unit variance):
    a random grid with ``cell``-pixel spacing, wrapped and bicubic upsampled."""
    gw, gh = max(2, round(_TILE / cell[0])), max(2, round(_TILE / cell[1]))
    rng = np.random.default_rng(1234 + int(cell[0] * 10) + int(cell[1] * 1000))
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    wrapped = np.pad(grid, 2, mode="wrap")
    img = Image.fromarray(wrapped, mode="F").resize(
        (_TILE, _TILE), Image.Resampling.BICUBIC,
        box=(2.0, 2.0, 2.0 + gw, 2.0 + gh))
    tile = np.asarray(img, dtype=np.float32)
    tile = (tile - tile.mean()) / max(float(tile.std()), 1e-6)
    tile.flags.writeable = False
    return tile


def _tile_index(ys: np.ndarray, xs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flat indices into the noise tiles for pixels (``ys``, ``xs``), at a random offset
    per view."""
    oy, ox = (int(v) for v in rng.integers(0, _TILE, 2))
    return ((ys + oy) & (_TILE - 1)) * _TILE + ((xs + ox) & (_TILE - 1))


def _noise(cell: tuple[float, float], at: np.ndarray) -> np.ndarray:
    return np.take(_noise_tile(cell).ravel(), at)


@dataclass
class Shadow:
    """A soft shadow: darkening 0..1 over ``box`` (x0, y0, x1, y1) of the image."""

    box: Box
    amount: np.ndarray  # (y1 - y0, x1 - x0) float32


def contact_shadow(size: tuple[int, int], mask: np.ndarray, view: ViewType, ground_row: float | None,
                   origin: tuple[int, int] = (0, 0)) -> Shadow | None:
    """A soft shadow for the product whose coverage is ``mask`` (placed at ``origin`` in
    the image): a blurred ellipse and a contact band under it (front, back, side), a
    soft offset drop shadow (top, bottom). Worked out at a quarter of the size."""
    W, H = size
    f = 4
    sw, sh = max(W // f, 1), max(H // f, 1)
    fx, fy = W / sw, H / sh
    ox, oy = origin
    cols = np.flatnonzero(mask.any(axis=0))
    if len(cols) == 0:
        return None
    canvas = Image.new("L", (sw, sh), 0)
    if view in (ViewType.TOP, ViewType.BOTTOM):
        mh, mw = mask.shape
        small = Image.fromarray(mask.astype(np.uint8) * 255).resize(
            (max(1, round(mw / fx)), max(1, round(mh / fy))), Image.Resampling.BOX)
        canvas.paste(small, (round(ox / fx + 0.01 * sw), round(oy / fy + 0.016 * sh)))
        blur = canvas.filter(ImageFilter.GaussianBlur(max(1.0, 0.022 * sw)))
        arr = np.asarray(blur, dtype=np.float32) * np.float32(0.09 / 255.0)
    else:
        rows = np.flatnonzero(mask.any(axis=1))
        gy = ground_row if ground_row is not None else float(rows[-1] + 1 + oy)
        x0, x1 = float(cols[0] + ox), float(cols[-1] + 1 + ox)
        draw = ImageDraw.Draw(canvas)
        cx, half = (x0 + x1) / 2 / fx, (x1 - x0) / 2 / fx * 1.04
        ey = max(1.5, 0.022 * sh)
        draw.ellipse([cx - half, gy / fy - ey, cx + half, gy / fy + ey], fill=150)
        soft = canvas.filter(ImageFilter.GaussianBlur(max(1.0, 0.014 * sw)))
        # contact: columns where the product reaches the ground
        band_lo = int(gy) - oy
        band = mask[max(band_lo - 3, 0):max(band_lo, 1)].any(axis=0)
        line = Image.new("L", (sw, sh), 0)
        touch = np.flatnonzero(band)
        if len(touch):
            ld = ImageDraw.Draw(line)
            for run in np.split(touch, np.flatnonzero(np.diff(touch) > 2) + 1):
                ld.rectangle([(run[0] + ox) / fx, gy / fy - 0.6, (run[-1] + 1 + ox) / fx, gy / fy + 0.6],
                             fill=255)
            line = line.filter(ImageFilter.GaussianBlur(max(0.8, 0.004 * sw)))
        arr = (np.asarray(soft, dtype=np.float32) * np.float32(0.42 / 255.0)
               + np.asarray(line, dtype=np.float32) * np.float32(0.38 / 255.0))
    rows = np.flatnonzero(arr.max(axis=1) > 0.002)
    cols = np.flatnonzero(arr.max(axis=0) > 0.002)
    if len(rows) == 0:
        return None
    bx0, by0, bx1, by1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    box = (round(bx0 * fx), round(by0 * fy), min(round(bx1 * fx), W), min(round(by1 * fy), H))
    img = Image.fromarray(np.clip(arr, 0, 0.45), mode="F").resize(
        (box[2] - box[0], box[3] - box[1]), Image.Resampling.BILINEAR, box=(bx0, by0, bx1, by1))
    return Shadow(box, np.asarray(img, dtype=np.float32))


def composite(size: tuple[int, int], colors: np.ndarray, alpha: np.ndarray, shadow: Shadow | None,
              window: Box | None = None) -> np.ndarray:
    """Product colours (float 0..1, valid where ``alpha`` > 0, covering ``window`` of the
    image or all of it) over the studio backdrop darkened by ``shadow``; uint8 RGB."""
    W, H = size
    out = _background_u8(size).copy()
    if shadow is not None:
        x0, y0, x1, y1 = shadow.box
        region = background(size)[y0:y1, x0:x1] * (1.0 - shadow.amount[..., None])
        out[y0:y1, x0:x1] = (region * 255.0 + 0.5).astype(np.uint8)
    x0, y0, x1, y1 = window or (0, 0, W, H)
    if x1 <= x0 or y1 <= y0:
        return out
    base = out[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255.0)
    a = alpha[..., None]
    mixed = base + (colors - base) * a
    out[y0:y1, x0:x1] = (np.clip(mixed, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return out


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` moved by (dy, dx), zero filled (no wrap-around)."""
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        mask[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


_NEIGHBOURS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (-1, -1), (1, -1), (-1, 1))


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) * (1.0 / (e1 - e0)), 0.0, 1.0)
    return t * t * (3 - 2 * t)


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_RIM_TINT = np.array([0.92, 0.94, 1.0], dtype=np.float32)
_COOL = np.array([-0.05, -0.015, 0.03], dtype=np.float32)


def _terms(nu: np.ndarray, nv: np.ndarray, nw: np.ndarray, kd: np.ndarray | float, ks: np.ndarray | float,
           shin: np.ndarray | float, env: np.ndarray | float, metal: np.ndarray | float
           ) -> tuple[np.ndarray, np.ndarray]:
    """The lighting of a surface with normal (nu, nv, nw) as ``albedo * a + b``."""
    front_flat = AMBIENT * 0.8 + KEY_I * _KEY[2] + FILL_I * _FILL[2]
    key = np.maximum(_KEY[0] * nu + _KEY[1] * nv + _KEY[2] * nw, 0.0)
    fill = np.maximum(_FILL[0] * nu + _FILL[1] * nv + _FILL[2] * nw, 0.0)
    diffuse = AMBIENT * 0.8 + (AMBIENT * 0.2) * nv + KEY_I * key + FILL_I * fill
    diffuse = diffuse * (kd * (1.0 / front_flat))
    # Blinn-Phong lobes, exp(-n (1 - cos)) ~ cos^n near the peak
    hk = np.minimum(_HKEY[0] * nu + _HKEY[1] * nv + _HKEY[2] * nw, 1.0) - 1.0
    hf = np.minimum(_HFILL[0] * nu + _HFILL[1] * nv + _HFILL[2] * nw, 1.0) - 1.0
    spec = (0.9 * np.exp(shin * hk) + 0.35 * np.exp(shin * hf)) * ks
    # the studio seen in reflections: two soft boxes and a bright ceiling
    rx, ry = 2 * nw * nu, 2 * nw * nv
    envmap = (0.22 + 0.95 * np.exp(-(((rx + 0.45) * 5.0) ** 2)) + 0.55 * np.exp(-(((rx - 0.62) * 7.7) ** 2))
              + 0.35 * _smoothstep(0.1, 0.8, ry) - 0.12 * _smoothstep(-0.1, -0.6, ry)) * env
    a = diffuse + metal * (0.85 * envmap + 0.6 * spec)
    b = (envmap + spec) * (1.0 - 0.85 * metal)
    return a.astype(np.float32), b.astype(np.float32)


def _rim_edge(nu: np.ndarray, nv: np.ndarray, nw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rim light (before the albedo's lightness) and how far the surface has turned
    away from the camera (0 facing it .. 1 edge-on)."""
    rim = np.maximum(_RIM[0] * nu + _RIM[1] * nv + _RIM[2] * nw, 0.0)
    return ((RIM_I * 0.55) * rim * rim).astype(np.float32), (1.0 - _smoothstep(0.0, 0.45, nw)).astype(
        np.float32)


def _combine(albedo: np.ndarray, a: np.ndarray, b: np.ndarray, rim: np.ndarray, turned: np.ndarray,
             cool: np.ndarray | None) -> np.ndarray:
    """``albedo * a + b`` plus the rim light, the darker turned-away rim and the cool
    fill; channel planar: ``albedo`` is (3, N), so every step is a contiguous 1-D op."""
    lum = _LUMA[0] * albedo[0] + _LUMA[1] * albedo[1] + _LUMA[2] * albedo[2]
    rim = rim * (1.0 - lum)
    # expose for light products as a photographer would: their shading is compressed
    # towards full brightness, so white reads white (the turned-away rim still shows form)
    light = np.clip((lum - 0.62) * 3.3, 0.0, 1.0)
    a = a + np.maximum(1.0 - a, 0.0) * (0.5 * light)
    f = 1.0 - (0.28 * lum + 0.1) * turned
    out = np.empty_like(albedo)
    for c in range(3):
        ch = np.multiply(albedo[c], a, out=out[c])
        ch += b
        ch += rim * float(_RIM_TINT[c])
        if cool is not None:
            # light neutral surfaces take the cool fill light, so they never melt into the
            # warm backdrop (and stay separable from it by colour, not only by shading)
            ch *= f * (1.0 + float(_COOL[c]) * cool)
        else:
            ch *= f
    return out


def shade(normal: np.ndarray, albedo: np.ndarray, kd: np.ndarray, ks: np.ndarray, shin: np.ndarray,
          env: np.ndarray, ao: np.ndarray, metal: np.ndarray, cool: np.ndarray | None = None
          ) -> np.ndarray:
    """Studio lighting for N pixels: ``normal`` (3, N) camera space, ``albedo`` (N, 3),
    per-pixel material terms, ``ao`` occlusion; ``cool`` (0..1) gives light neutral
    surfaces the cool fill.

    Key, fill and rim light (Lambert), Blinn-Phong lobes for key and fill, a studio
    environment (two soft boxes and a bright ceiling) in reflections, tinted by the
    albedo on metal, and a darker rim where the surface turns away (so light products
    stay visible against the light backdrop).
    """
    nu, nv, nw = normal
    a, b = _terms(nu, nv, nw, kd, ks, shin, env, metal.astype(np.float32))
    rim, turned = _rim_edge(nu, nv, nw)
    return _combine(np.ascontiguousarray(albedo.T), a * ao, b * ao, rim, turned, cool).T


_TABLE = 384  # lighting tables over the visible hemisphere, TABLE x TABLE normals


@lru_cache(maxsize=64)
def _light_table(kd: float, ks: float, shin: float, env: float, metal: bool) -> tuple[np.ndarray, np.ndarray]:
    """``_terms`` for one material over a grid of normals (a matcap), flattened."""
    g = (np.arange(_TABLE, dtype=np.float32) + 0.5) * (2.0 / _TABLE) - 1.0
    nu, nv = np.meshgrid(g, -g)
    nw = np.sqrt(np.maximum(1.0 - nu * nu - nv * nv, 0.0))
    a, b = _terms(nu, nv, nw, kd, ks, shin, env, float(metal))
    a.flags.writeable = b.flags.writeable = False
    return a.ravel(), b.ravel()


@lru_cache(maxsize=1)
def _rim_table() -> tuple[np.ndarray, np.ndarray]:
    g = (np.arange(_TABLE, dtype=np.float32) + 0.5) * (2.0 / _TABLE) - 1.0
    nu, nv = np.meshgrid(g, -g)
    nw = np.sqrt(np.maximum(1.0 - nu * nu - nv * nv, 0.0))
    rim, turned = _rim_edge(nu, nv, nw)
    return rim.ravel(), turned.ravel()


def _shade_fast(normal: np.ndarray, albedo: np.ndarray, material: np.ndarray, tables: list[int],
                a_all: np.ndarray, b_all: np.ndarray, ao: np.ndarray, cool: np.ndarray | None,
                rng: np.random.Generator) -> np.ndarray:
    """``shade`` through per-material lighting tables (matcaps), looked up with a random
    sub-cell offset so the table's steps dither away instead of banding."""
    half = np.float32(_TABLE / 2)
    jitter = rng.random(len(ao), dtype=np.float32)
    iu = ((normal[0] + 1.0) * half + jitter).astype(np.int32)
    iv = ((1.0 - normal[1]) * half + (1.0 - jitter)).astype(np.int32)
    np.clip(iu, 0, _TABLE - 1, out=iu)
    np.clip(iv, 0, _TABLE - 1, out=iv)
    lin = iv * _TABLE + iu
    rim_t, turned_t = _rim_table()
    rim, turned = rim_t[lin], turned_t[lin]
    lin += np.asarray(tables, dtype=np.int32)[material] * np.int32(_TABLE * _TABLE)
    a = a_all[lin]
    b = b_all[lin]
    if not bool((ao == 1.0).all()):
        a *= ao
        b *= ao
    return _combine(albedo, a, b, rim, turned, cool)


def _cool_amount(rgb: np.ndarray) -> np.ndarray:
    """How much of the cool fill a base colour (K, 3, 0..1) takes: light neutrals only."""
    lum = rgb @ _LUMA
    sat = rgb.max(axis=1) - rgb.min(axis=1)
    return (_smoothstep(0.5, 0.78, lum) * np.clip(1.0 - sat / 0.16, 0.0, 1.0)).astype(np.float32)


def _textures(kind: np.ndarray, amount: np.ndarray, ys: np.ndarray, xs: np.ndarray,
              ucm: np.ndarray, vcm: np.ndarray, across_v: np.ndarray, rng: np.random.Generator
              ) -> np.ndarray:
    """A brightness multiplier per pixel from its material's texture: leather grain,
    brushed-metal streaks, wood grain, fabric weave, rubber and cardboard fibre (smooth
    noise from tileable textures, so nothing is generated per view)."""
    n = len(kind)
    mult = np.ones(n, dtype=np.float32)
    present = set(np.flatnonzero(np.bincount(kind, minlength=len(_TEXTURES)))) - {0}
    if not present:
        return mult
    at = _tile_index(ys, xs, rng)
    for k in sorted(present):
        sel = np.flatnonzero(kind == k)
        a = amount[sel]
        name = _TEXTURES[k]
        pix = at[sel]
        fine = _noise((1.0, 1.0), pix)
        if name == "weave":
            x, y = xs[sel].astype(np.float32), ys[sel].astype(np.float32)
            mult[sel] += a * (0.5 * np.sin(x * 2.3) * np.sin(y * 2.3) + 0.45 * fine)
        elif name == "grain":
            mult[sel] += a * (0.7 * _noise((3.2, 3.2), pix) + 0.25 * fine)
        elif name == "noise":
            mult[sel] += a * fine
        elif name == "brushed":
            mult[sel] += a * (_noise((40.0, 1.5), pix) + 0.3 * fine)
        elif name == "fibre":
            mult[sel] += a * (0.6 * _noise((9.0, 2.0), pix) + 0.5 * fine)
        elif name == "wood":
            warp = _noise((90.0, 90.0), pix)
            along_v = across_v[sel]
            u, v = ucm[sel], vcm[sel]
            p = np.where(along_v, v, u)
            q = np.where(along_v, u, v)
            phase = p * 4.2 + 1.6 * warp + 0.35 * np.sin(q * 0.35)
            g = (0.5 + 0.5 * np.sin(phase)) ** 6
            line = (0.5 + 0.5 * np.sin(p * 17.0 + warp * 3.0)) ** 8
            mult[sel] *= 1.0 - a * (0.8 * g + 0.35 * line) + 0.03 * fine
    return mult


def _logo_rgba(logo: bytes | None, color: RGB | None) -> np.ndarray | None:
    """The logo as (h, w, 4) float32 0..1, or a simple emblem in ``color``."""
    if logo:
        return _decode_logo(logo)
    if color is None:
        return None
    return _emblem(tuple(color))  # type: ignore[arg-type]


@lru_cache(maxsize=16)
def _emblem(color: RGB) -> np.ndarray:
    s = 128
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse([6, 6, s - 6, s - 6], outline=(*color, 255), width=12)
    d.polygon([(s * 0.5, s * 0.24), (s * 0.74, s * 0.7), (s * 0.26, s * 0.7)], fill=(*color, 255))
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr.flags.writeable = False
    return arr


@lru_cache(maxsize=16)
def _decode_logo(data: bytes) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgba = img.convert("RGBA")
    except Exception:
        return None
    arr = np.asarray(rgba, dtype=np.float32) / 255.0
    if float(arr[..., 3].min()) > 0.99:  # an opaque logo: drop a flat backdrop colour around it
        corners = np.concatenate([arr[0, :, :3], arr[-1, :, :3], arr[:, 0, :3], arr[:, -1, :3]])
        bgc = np.median(corners, axis=0)
        if float(np.abs(corners - bgc).max()) < 0.08:
            dist = np.abs(arr[..., :3] - bgc).max(axis=-1)
            arr = arr.copy()
            arr[..., 3] = np.clip((dist - 0.06) / 0.1, 0.0, 1.0)
    ys, xs = np.nonzero(arr[..., 3] > 0.05)
    if len(ys) == 0:
        return None
    arr = np.ascontiguousarray(arr[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
    arr.flags.writeable = False
    return arr


def _logo_extent(width: float, logo: np.ndarray) -> tuple[float, float]:
    """A logo's width and height when ``width`` wide, in ``width``'s units (cm or px): a
    tall logo is limited to 1.2 times that width in height instead."""
    ratio = logo.shape[0] / logo.shape[1]
    if ratio > 1.2:
        return width * 1.2 / ratio, width * 1.2
    return width, width * ratio


def _apply_logo(scene: Scene, geo: _Geometry, ys: np.ndarray, xs: np.ndarray, albedo: np.ndarray,
                normal_w: np.ndarray, size: tuple[int, int], scale: float, logo: np.ndarray) -> None:
    """Alpha-composite the logo into the albedo of the surface under the logo anchor
    (pixels ``ys``, ``xs`` of the geometry window, in place)."""
    W, H = size
    if scene.logo_width <= 0:
        return
    wx0, wy0, _, _ = geo.window
    c = VIEW_FRAMES[ViewType.FRONT] @ (np.array(scene.logo_anchor) - scene.center)
    px, py = W / 2 + c[0] * scale, H / 2 - c[1] * scale
    w, h = _logo_extent(scene.logo_width * scale, logo)
    lw, lh = max(2, round(w)), max(2, round(h))
    iy, ix = int(py) - wy0, int(px) - wx0
    if not (0 <= iy < geo.ids.shape[0] and 0 <= ix < geo.ids.shape[1]):
        return
    target = geo.ids[iy, ix]
    if target < 0:
        return
    img = Image.fromarray((logo * 255 + 0.5).astype(np.uint8), mode="RGBA").resize(
        (lw, lh), Image.Resampling.LANCZOS)
    patch = np.asarray(img, dtype=np.float32) / 255.0
    x0, y0 = round(px - lw / 2) - wx0, round(py - lh / 2) - wy0
    inside = (xs >= x0) & (xs < x0 + lw) & (ys >= y0) & (ys < y0 + lh)
    sel = np.flatnonzero(inside)
    if len(sel) == 0:
        return
    sel = sel[(geo.ids[ys[sel], xs[sel]] == target) & (normal_w[sel] > 0.25)]
    pix = patch[ys[sel] - y0, xs[sel] - x0]
    a = pix[:, 3:4]
    albedo[:, sel] = albedo[:, sel] * (1 - a[:, 0]) + pix[:, :3].T * a[:, 0]


def _apply_logo_projected(scene: Scene, geo: _Geometry, frame: np.ndarray, ys: np.ndarray,
                          xs: np.ndarray, albedo: np.ndarray, normal_cam: np.ndarray,
                          size: tuple[int, int], scale: float, logo: np.ndarray) -> None:
    """The logo on a camera that is not the front one (the hero, a spin frame): projected
    along the front camera's axis onto the surface the front view prints it on, as a
    decal would be, so it turns with the product and fades out as that face turns away.
    Needs the ray marcher's depth; in place, like ``_apply_logo``."""
    if scene.logo_width <= 0 or geo.depth is None or len(ys) == 0:
        return
    W, H = size
    wx0, wy0, _, _ = geo.window
    front = VIEW_FRAMES[ViewType.FRONT]
    # each pixel's surface point, in the front camera's axes
    du = (xs + wx0 + 0.5 - W / 2) / scale
    dv = (H / 2 - wy0 - 0.5 - ys) / scale
    dw = geo.depth[ys, xs].astype(np.float64)
    cam = np.stack([du, dv, dw])
    in_front = (front @ frame.T) @ cam  # camera axes -> world offsets -> front axes
    facing = (front[2] @ frame.T) @ normal_cam  # world normal . towards the front camera
    a = front @ (np.array(scene.logo_anchor) - scene.center)
    lw, lh = _logo_extent(scene.logo_width, logo)  # in cm, as on the front
    u = (in_front[0] - (a[0] - lw / 2)) / lw
    v = ((a[1] + lh / 2) - in_front[1]) / lh
    on = np.flatnonzero((u >= 0) & (u < 1) & (v >= 0) & (v < 1) & (facing > 0.25))
    if len(on) == 0:
        return
    ids = geo.ids[ys[on], xs[on]]
    target = np.bincount(ids.astype(np.intp)).argmax()  # the part the front prints it on
    on = on[ids == target]
    # the decal at the front view's resolution at this scale, sampled where each pixel lands
    pw, ph = max(4, round(lw * scale)), max(2, round(lh * scale))
    img = Image.fromarray((logo * 255 + 0.5).astype(np.uint8), mode="RGBA").resize(
        (pw, ph), Image.Resampling.LANCZOS)
    patch = np.asarray(img, dtype=np.float32) / 255.0
    px = np.clip((u[on] * pw).astype(np.intp), 0, pw - 1)
    py = np.clip((v[on] * ph).astype(np.intp), 0, ph - 1)
    pix = patch[py, px]
    alpha = pix[:, 3] * np.clip((facing[on] - 0.25) / 0.25, 0.0, 1.0)  # fades at grazing
    albedo[:, on] = albedo[:, on] * (1 - alpha) + pix[:, :3].T * alpha


_CONCAT: dict[tuple[object, ...], np.ndarray] = {}


def _concat_tables(key: tuple[object, ...], parts: list[np.ndarray], which: int = 0) -> np.ndarray:
    """The tables of a scene's materials end to end (cached: scenes share materials)."""
    k = (key, which)
    out = _CONCAT.get(k)
    if out is None:
        out = np.concatenate(parts)
        out.flags.writeable = False
        if len(_CONCAT) > 64:
            _CONCAT.clear()
        _CONCAT[k] = out
    return out


def _looks(scene: Scene) -> dict[str, np.ndarray]:
    prims = scene.prims
    looks = np.array([_look(p.material, p.finish) for p in prims], dtype=np.float32).reshape(-1, 6)
    # a surface reflects between PHOTO_BLACK and PHOTO_WHITE of the light: never all or none
    albedo = photographed(np.array([p.color for p in prims], dtype=np.float64)).astype(np.float32)
    albedo = albedo.reshape(-1, 3) / 255.0
    glass = np.array([p.material == "glass" for p in prims], dtype=bool)
    albedo[glass] = albedo[glass] * 0.92 + 0.03
    keys = [(float(k[0]), float(k[1]), float(k[2]), float(k[3]), p.material == "metal")
            for k, p in zip(looks, prims, strict=True)]
    distinct = sorted(set(keys))
    tables = [_light_table(*key) for key in distinct]
    return {
        "material": np.array([distinct.index(k) for k in keys], dtype=np.intp),
        "tables": distinct,
        "a_all": _concat_tables(tuple(distinct), [t[0] for t in tables]),
        "b_all": _concat_tables(tuple(distinct), [t[1] for t in tables], which=1),
        "kd": looks[:, 0], "ks": looks[:, 1], "shin": looks[:, 2], "env": looks[:, 3],
        "tex": looks[:, 4].astype(np.int64), "amount": looks[:, 5], "albedo": albedo,
        "albedo_planar": np.ascontiguousarray(albedo.T),
        "cool": _cool_amount(albedo),
        "metal": np.array([p.material == "metal" for p in prims], dtype=bool),
        "glow": np.array([p.glow for p in prims], dtype=bool),
        "glass": glass,
    }


_GLOW_WARM = np.array([0.98, 0.78, 0.5], dtype=np.float32)
_GLOW_HOT = np.array([1.0, 0.98, 0.9], dtype=np.float32)



def shade_geometry(scene: Scene, geo: _Geometry, size: tuple[int, int], scale: float, *,
                   logo: bytes | None = None, decal: bool = False, noise_index: int = 0,
                   drop_shadow: bool = False,
                   ground_row: float | None = None,
                   frame: np.ndarray | None = None) -> RenderedView:
    """Shade and composite one camera's per-pixel geometry (from the analytic caster or
    the ray marcher): materials, textures, the logo (or the scene's emblem colour) on
    the front-facing anchor when ``decal`` (the front camera; for another camera pass its
    ``frame`` and the ray marcher's geometry, and the decal is projected), anti-aliased
    edges and a contact (or, with ``drop_shadow``, an offset drop) shadow whose ground line
    is ``ground_row`` (None: under the product)."""
    W, H = size
    wx0, wy0, wx1, wy1 = geo.window
    shape = (wy1 - wy0, wx1 - wx0)
    ids = geo.ids
    inside = ids >= 0
    flat = np.flatnonzero(inside)
    ys, xs = np.divmod(flat, shape[1])
    idx = ids.ravel()[flat].astype(np.intp)
    look = _looks(scene)
    normal = np.take(geo.normal.reshape(3, -1), flat, axis=1)
    normal *= 1.0 / np.maximum(np.sqrt(normal[0] ** 2 + normal[1] ** 2 + normal[2] ** 2), 1e-6)
    ao = geo.ao.ravel()[flat]
    if geo.depth is not None:
        ao = ao * _screen_ao(geo.depth, inside, scale, float(scene.extent.max())).ravel()[flat]
    albedo = np.take(look["albedo_planar"], idx, axis=1)
    if decal:
        rgba = _logo_rgba(logo, scene.logo_color)
        if rgba is not None and frame is not None:
            _apply_logo_projected(scene, geo, frame, ys, xs, albedo, normal, size, scale, rgba)
        elif rgba is not None:
            _apply_logo(scene, geo, ys, xs, albedo, normal[2], size, scale, rgba)

    rng = np.random.default_rng([scene.seed & 0xFFFFFFFF, noise_index, 7])
    ucm = (xs + np.float32(wx0 + 0.5 - W / 2)) * np.float32(1.0 / scale)
    vcm = (np.float32(H / 2 - wy0 - 0.5) - ys) * np.float32(1.0 / scale)
    across = np.array([(cp.hi[0] - cp.lo[0]) > (cp.hi[1] - cp.lo[1]) for cp in geo.cams])[idx]
    mult = _textures(look["tex"][idx], look["amount"][idx], ys, xs, ucm, vcm, across, rng)
    albedo *= mult
    color = _shade_fast(normal, albedo, look["material"][idx], list(range(len(look["tables"]))),
                        look["a_all"], look["b_all"], ao, look["cool"][idx], rng)
    glass = np.flatnonzero(look["glass"][idx])
    if len(glass):  # glass and screens catch a diagonal sheen from the soft box
        gi = idx[glass]
        lo = np.array([cp.lo[:2] for cp in geo.cams], dtype=np.float32)[gi]
        hi = np.array([cp.hi[:2] for cp in geo.cams], dtype=np.float32)[gi]
        cu = ucm[glass]  # camera u of the pixel
        t = ((cu - lo[:, 0]) / np.maximum(hi[:, 0] - lo[:, 0], 1e-6)
             + (hi[:, 1] - vcm[glass]) / np.maximum(hi[:, 1] - lo[:, 1], 1e-6)) * 0.5
        sheen = 0.13 * np.exp(-(((t - 0.32) * 7.0) ** 2)) + 0.05 * np.clip(1.0 - t, 0.0, 1.0)
        color[:, glass] += sheen * normal[2, glass]
    glow = look["glow"][idx] & (ao < 0.95)
    if glow.any():  # a lit bulb inside an open shade: bright centre, warm towards the wall
        t = np.clip((ao[glow] - 0.25) / 0.37, 0.0, 1.0)
        color[:, glow] = (_GLOW_WARM[:, None] * (0.75 + 0.25 * t) * (1 - t ** 3)
                          + _GLOW_HOT[:, None] * t ** 3)

    # soften the seams between primitives: a 2x2 box filter on the seam pixels
    pos = np.full(shape, -1, dtype=np.int32)
    pos.ravel()[flat] = np.arange(len(flat), dtype=np.int32)
    seam = np.zeros_like(inside)
    seam[:-1, :] |= (ids[:-1, :] != ids[1:, :]) & inside[:-1, :] & inside[1:, :]
    seam[:, :-1] |= (ids[:, :-1] != ids[:, 1:]) & inside[:, :-1] & inside[:, 1:]
    sy, sx = np.nonzero(seam)
    if len(sy):
        sy1, sx1 = np.minimum(sy + 1, shape[0] - 1), np.minimum(sx + 1, shape[1] - 1)
        quad = np.stack([pos[sy, sx], pos[sy1, sx], pos[sy, sx1], pos[sy1, sx1]])
        quad = np.where(quad < 0, quad[0], quad)
        color[:, quad[0]] = color[:, quad].mean(axis=1)
    # anti-aliased silhouette: pixels just outside take a neighbour's colour, partly
    ring = _ring(inside)
    ry, rx = np.nonzero(ring)
    src = _ring_sources(inside, ry, rx)
    cover = geo.cover
    edge = np.flatnonzero(cover.ravel()[flat] < 0.999)

    shadow = contact_shadow(size, inside, ViewType.TOP if drop_shadow else ViewType.FRONT, ground_row,
                            origin=(wx0, wy0))
    image = composite(size, np.zeros((0, 0, 3), np.float32), np.zeros((0, 0), np.float32), shadow,
                      (0, 0, 0, 0))
    out = image.reshape(-1, 3)
    gflat = (ys + wy0) * W + (xs + wx0)
    np.clip(color, 0.0, 1.0, out=color)
    color *= 255.0
    color += 0.5
    u8 = color.astype(np.uint8)
    for c in range(3):
        out[gflat, c] = u8[c]
    # blend the partly covered pixels (inside edge and outer ring) with what is behind
    blend_at = np.concatenate([gflat[edge], (ry + wy0) * W + (rx + wx0)])
    blend_col = np.concatenate([color[:, edge], color[:, pos[src[0], src[1]]]], axis=1).T * (1 / 255.0)
    a = np.concatenate([np.maximum(cover[ys[edge], xs[edge]], 0.5),
                        np.minimum(cover[ry, rx], 0.5)])[:, None]
    behind = _background_shadowed(size, shadow, blend_at)
    out[blend_at] = (np.clip(behind + (blend_col - behind) * a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    mask = np.zeros((H, W), dtype=bool)
    mask[wy0:wy1, wx0:wx1] = inside
    return RenderedView(image=image, mask=mask, scale=scale)


def _screen_ao(depth: np.ndarray, inside: np.ndarray, scale: float, size_cm: float) -> np.ndarray:
    """Mild ambient occlusion where parts meet: a pixel whose neighbourhood (a few
    percent of the product's size) is nearer the camera than it is gets darker.
    Worked out on a quarter-size depth map."""
    h, w = depth.shape
    f = 4
    if min(h, w) < 4 * f or not inside.any():
        return np.ones((h, w), dtype=np.float32)
    far = float(depth[inside].min())
    d = np.where(inside, depth, np.float32(far)).astype(np.float32)
    sw, sh = max(w // f, 1), max(h // f, 1)
    small = np.asarray(Image.fromarray(d, mode="F").resize((sw, sh), Image.Resampling.BOX), dtype=np.float32)
    radius_cm = 0.045 * size_cm
    blurred = ndimage.gaussian_filter(small, sigma=max(radius_cm * scale / f, 0.8), mode="nearest")
    up = np.asarray(Image.fromarray(blurred, mode="F").resize((w, h), Image.Resampling.BILINEAR),
                    dtype=np.float32)
    occ = np.clip((up - d) * np.float32(1.0 / radius_cm) - 0.15, 0.0, 1.0)
    return 1.0 - 0.4 * occ


def _ring(mask: np.ndarray) -> np.ndarray:
    """The pixels 8-adjacent to ``mask`` but not in it."""
    grown = np.zeros_like(mask)
    for dy, dx in _NEIGHBOURS:
        grown |= _shift(mask, dy, dx)
    return grown & ~mask


def _ring_sources(mask: np.ndarray, ry: np.ndarray, rx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each ring pixel, a neighbouring pixel inside ``mask``."""
    h, w = mask.shape
    src_y, src_x = ry.copy(), rx.copy()
    todo = np.ones(len(ry), dtype=bool)
    for dy, dx in _NEIGHBOURS:
        ny, nx = np.clip(ry - dy, 0, h - 1), np.clip(rx - dx, 0, w - 1)
        take = todo & mask[ny, nx]
        src_y[take], src_x[take] = ny[take], nx[take]
        todo &= ~take
    return src_y, src_x


def _background_shadowed(size: tuple[int, int], shadow: Shadow | None, at: np.ndarray) -> np.ndarray:
    """The backdrop (with the shadow) at flat pixel indices ``at``: (n, 3) float32."""
    W, _ = size
    ys, xs = np.divmod(at, W)
    col = background(size)[ys, xs]
    if shadow is not None:
        x0, y0, x1, y1 = shadow.box
        inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        k = np.flatnonzero(inside)
        col[k] *= (1.0 - shadow.amount[ys[k] - y0, xs[k] - x0])[:, None]
    return col

"""The offline renderer: one 3D model per product, five orthographic views of it.

``build_scene`` turns a ``ProductModel`` into a small list of analytic primitives
(rounded boxes, cylinders and frustums, ellipsoids and domes, tori and half tori for
handles and straps), each with a colour and a material, standing on the ground plane
(x right, y up, z towards the viewer of the front). ``render_view`` looks at that one
scene with an orthographic camera per view (front, back = the front mirrored, right
side, top with the front edge at the image bottom, bottom seen from below) at one
scale per product, so the views agree in pixels by construction. Per view every
primitive is intersected analytically, per pixel and only inside its projected box,
with vectorised numpy (depth and normal of the nearest surface, z-buffered), then
shaded with a studio rig (key, fill and rim light, Lambert + Blinn-Phong per material,
environment bands on metal, weave / grain / fibre textures) and composited with
analytic anti-aliased edges over a light warm-grey gradient with a soft contact or drop
shadow. ``render_views`` returns ``RenderedView`` (image and exact coverage mask).
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from viewgen.domain import ALL_VIEWS, ViewType
from viewgen.providers.offline.model import METALLIC, ProductModel

RGB = tuple[int, int, int]
Vec3 = tuple[float, float, float]

MARGIN = 0.12
DEFAULT_SIZE = (1024, 1024)

#: camera frames: rows are the camera's (u right, v up, w towards the camera) in world axes
VIEW_FRAMES: dict[ViewType, np.ndarray] = {
    ViewType.FRONT: np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64),
    ViewType.BACK: np.array([[-1, 0, 0], [0, 1, 0], [0, 0, -1]], dtype=np.float64),
    ViewType.SIDE: np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64),
    ViewType.TOP: np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float64),
    ViewType.BOTTOM: np.array([[-1, 0, 0], [0, 0, -1], [0, -1, 0]], dtype=np.float64),
}
_VIEW_INDEX = {v: i for i, v in enumerate(ALL_VIEWS)}

BG_TOP = np.array([232, 229, 221], dtype=np.float32) / 255.0
BG_BOTTOM = np.array([214, 210, 202], dtype=np.float32) / 255.0


# --------------------------------------------------------------------------- primitives


@dataclass(frozen=True)
class Prim:
    """One analytic primitive in world space (centimetres).

    ``kind``: "box" (rounded box, ``half`` extents, edge radius ``rounding``), "cyl"
    (cylinder or frustum along world ``axis``: ``radius`` at the − end, ``radius2`` at
    the + end, half length ``length``, edge radius ``rounding``, open at the + end with
    wall ``hollow`` when > 0), "ell" (ellipsoid with semi-axes ``half``) or "torus"
    (ring around ``axis``: major ``radius``, tube ``rounding``). ``clip`` keeps the half
    space ``sign * (p[axis] - center[axis] - offset) >= 0`` (ellipsoids; tori through
    their centre, offset 0).
    """

    kind: str
    center: Vec3
    color: RGB
    material: str
    half: Vec3 = (0.0, 0.0, 0.0)
    axis: int = 1
    radius: float = 0.0
    radius2: float = -1.0
    length: float = 0.0
    rounding: float = 0.0
    clip: tuple[int, int, float] | None = None
    hollow: float = 0.0
    tube: bool = False
    part: str = "body"
    finish: str = "default"
    glow: bool = False

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        c = np.array(self.center, dtype=np.float64)
        if self.kind in ("box", "ell"):
            h = np.array(self.half, dtype=np.float64)
        elif self.kind == "cyl":
            rad = max(self.radius, self.radius2 if self.radius2 >= 0 else self.radius)
            h = np.array([rad, rad, rad])
            h[self.axis] = self.length
        else:  # torus
            h = np.full(3, self.radius + self.rounding)
            h[self.axis] = self.rounding
        lo, hi = c - h, c + h
        if self.clip is not None:
            axis, sign, offset = self.clip
            if sign > 0:
                lo[axis] = max(lo[axis], c[axis] + offset)
            else:
                hi[axis] = min(hi[axis], c[axis] + offset)
        return lo, hi


@dataclass
class Scene:
    """One product's primitives, its bounding box and where the logo goes."""

    prims: list[Prim]
    lo: np.ndarray
    hi: np.ndarray
    logo_anchor: Vec3 = (0.0, 0.0, 0.0)
    logo_width: float = 1.0
    body_color: RGB = (128, 128, 128)
    logo_color: RGB | None = None
    seed: int = 0
    key: str = ""

    @property
    def center(self) -> np.ndarray:
        return (self.lo + self.hi) / 2

    @property
    def extent(self) -> np.ndarray:
        return self.hi - self.lo


@dataclass
class RenderedView:
    """One rendered view: the image and the exact product coverage (pixel centres hit)."""

    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    scale: float = 1.0  # pixels per centimetre
    meta: dict[str, object] = field(default_factory=dict)


# --------------------------------------------------------------------------- materials

#: material -> (diffuse, specular, shininess, environment, texture kind, texture amount)
MATERIAL_LOOK: dict[str, tuple[float, float, float, float, str, float]] = {
    "leather": (0.96, 0.20, 16.0, 0.00, "grain", 0.045),
    "metal": (0.42, 0.85, 60.0, 0.60, "brushed", 0.02),
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


# --------------------------------------------------------------------------- scene building


def _rgb(value: Iterable[float]) -> RGB:
    r, g, b = (round(min(max(float(c), 0.0), 255.0)) for c in value)
    return (r, g, b)


def _shade(rgb: RGB, factor: float) -> RGB:
    return _rgb(c * factor for c in rgb)


def _render_material(material: str, color_name: str) -> str:
    """Metal in a non-metallic colour ("cream", "matte black") is painted metal."""
    if material == "metal" and not any(word in METALLIC for word in (color_name, *color_name.split())):
        return "painted"
    return material


class _Builder:
    """Collects primitives; parts look up their colour and material on the model."""

    def __init__(self, model: ProductModel) -> None:
        self.m = model
        self.prims: list[Prim] = []
        self.used: set[str] = set()
        self.logo_anchor: Vec3 = (0.0, model.height / 2, model.depth / 2)
        self.logo_width = 0.3 * model.width

    def look(self, part: str | None) -> tuple[RGB, str, str]:
        if part and part != "body":
            p = self.m.part(part)
            if p is not None:
                self.used.add(part)
                finish = self.m.finish if p.material == self.m.material else "default"
                return p.color, _render_material(p.material, p.color_name), finish
        return self.m.color, _render_material(self.m.material, self.m.color_name), self.m.finish

    def has(self, part: str) -> bool:
        return self.m.has(part)

    def add(self, kind: str, center: Vec3, part: str = "body", *, color: RGB | None = None,
            material: str | None = None, **kw: object) -> None:
        c, mat, finish = self.look(part)
        for key in ("radius", "length", "rounding"):  # odd proportions never make a size negative
            if key in kw:
                kw[key] = max(float(kw[key]), 1e-3)  # type: ignore[arg-type]
        if "half" in kw:
            kw["half"] = tuple(max(float(v), 1e-3) for v in kw["half"])  # type: ignore[attr-defined]
        self.prims.append(Prim(kind=kind, center=tuple(float(v) for v in center),  # type: ignore[arg-type]
                               color=color or c, material=material or mat, part=part,
                               finish=finish, **kw))  # type: ignore[arg-type]

    def box(self, center: Vec3, half: Vec3, rounding: float, part: str = "body", **kw: object) -> None:
        r = min(rounding, *half)
        self.add("box", center, part, half=half, rounding=max(r, 1e-3), **kw)

    def cyl(self, center: Vec3, axis: int, radius: float, length: float, rounding: float = 0.0,
            part: str = "body", **kw: object) -> None:
        r = min(rounding, radius, length)
        self.add("cyl", center, part, axis=axis, radius=radius, length=length,
                 rounding=max(r, 1e-3), **kw)

    def ell(self, center: Vec3, half: Vec3, part: str = "body", **kw: object) -> None:
        self.add("ell", center, part, half=half, **kw)

    def torus(self, center: Vec3, axis: int, radius: float, tube: float, part: str = "body",
              clip: tuple[int, int] | None = None, **kw: object) -> None:
        self.add("torus", center, part, axis=axis, radius=radius, rounding=tube,
                 clip=None if clip is None else (clip[0], clip[1], 0.0), **kw)


def _bag(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    v = m.variant
    if v == "duffel":
        rad = min(h, d) / 2
        b.cyl((0, rad, 0), 0, rad, w / 2, rounding=rad * 0.55)
        b.box((0, 2 * rad - 0.1, 0), (w * 0.36, 0.35, 0.5), 0.3, "zipper") if b.has("zipper") else None
        if b.has("handle"):
            b.torus((0, 2 * rad - 0.6, 0), 2, w * 0.14, 0.9, "handle", clip=(1, 1))
        if b.has("strap"):
            b.torus((0, rad * 1.2, 0), 2, w * 0.5 - 1.0, 0.7, "strap", clip=(1, 1))
        if b.has("pocket"):
            b.box((0, rad * 0.85, rad * 0.93), (w * 0.25, rad * 0.45, 0.6), 0.5, "pocket")
        b.logo_anchor = (0.0, rad * 1.05, rad)
        b.logo_width = 0.22 * w
        return
    bulge = min(d / 2, 3.5) if v != "tote" else min(d / 2, 2.5)
    body_h = h
    b.box((0, body_h / 2, 0), (w / 2, body_h / 2, d / 2), bulge)
    front_z = d / 2 + 0.6
    if v in ("messenger", "") and b.has("flap"):
        b.box((0, body_h * 0.68, front_z - 0.2), (w * 0.495, body_h * 0.335, 0.7), 0.6, "flap")
        front_z += 0.9
        b.logo_anchor = (0.0, body_h * 0.74, front_z)
    else:
        b.logo_anchor = (0.0, body_h * 0.55, front_z)
    b.logo_width = 0.26 * w
    if b.has("buckle"):
        b.box((0, body_h * 0.4, front_z - 0.05), (1.7, 1.3, 0.3), 0.25, "buckle")
    if b.has("pocket"):
        b.box((0, body_h * 0.42, -d / 2 - 0.4), (w * 0.36, body_h * 0.28, 0.7), 0.5, "pocket")
    if b.has("zipper"):
        b.box((0, body_h - 0.15, 0), (w * 0.42, 0.3, 0.45), 0.25, "zipper")
    if b.has("strap"):
        ring = w / 2 - 0.8
        b.torus((0, body_h * 0.72, 0), 2, ring, 0.75, "strap", clip=(1, 1))
    if b.has("handle"):
        if v == "tote":
            for z in (d * 0.3, -d * 0.3):
                b.torus((0, body_h - 0.8, z), 2, w * 0.22, 0.8, "handle", clip=(1, 1))
        else:
            b.torus((0, body_h - 0.6, 0), 2, w * 0.18, 0.75, "handle", clip=(1, 1))


def _backpack(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    arch = w / 2
    body_top = h - arch
    r = min(d / 2, w * 0.22)
    b.box((0, body_top / 2 + 0.5, 0), (w / 2, body_top / 2 + 0.5, d / 2), r)
    b.cyl((0, body_top, 0), 2, arch, d / 2, rounding=r)  # the arched top
    if b.has("zipper"):
        b.torus((0, body_top, d / 2 - 0.3), 2, arch - 2.2, 0.32, "zipper", clip=(1, 1))
        b.box((arch - 2.2, body_top - 1.4, d / 2 + 0.1), (0.45, 1.4, 0.25), 0.2, "zipper")
    if b.has("pocket"):
        ph = h * 0.2
        b.box((0, h * 0.06 + ph, d / 2 + 1.0), (w * 0.37, ph, 2.0), 2.0, "pocket")
        if b.has("zipper"):
            b.box((0, h * 0.06 + 2 * ph - 0.9, d / 2 + 2.9), (w * 0.31, 0.3, 0.25), 0.2, "zipper")
        b.logo_anchor = (0.0, h * 0.06 + ph * 0.8, d / 2 + 3.0)
    else:
        b.logo_anchor = (0.0, h * 0.4, d / 2)
    b.logo_width = 0.22 * w
    if b.has("handle"):
        b.torus((0, h - 0.8, -d * 0.12), 2, 3.0, 0.6, "handle", clip=(1, 1))
    if b.has("strap"):
        for x in (-w * 0.24, w * 0.24):
            b.box((x, body_top * 0.55, -d / 2 - 0.9), (2.4, body_top * 0.42, 0.9), 0.8, "strap")
            b.box((x, body_top * 0.13, -d / 2 - 0.5), (1.6, 1.2, 0.6), 0.4, color=(40, 40, 42),
                  material="plastic")


def _bottle(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    body_top = h * 0.78
    b.cyl((0, body_top / 2, 0), 1, rad, body_top / 2, rounding=min(0.5, rad * 0.15))
    neck_r = rad * 0.68
    b.ell((0, body_top - 0.3, 0), (rad, h * 0.1, rad), clip=(1, 1, 0.0))
    cap_lo = body_top + h * 0.075
    b.cyl((0, (cap_lo + h) / 2, 0), 1, neck_r * 1.02, (h - cap_lo) / 2, rounding=neck_r * 0.25,
          part="cap" if b.has("cap") else "body")
    if b.has("handle"):
        b.torus((0, h - 0.2, 0), 2, neck_r * 0.7, 0.35, "handle", clip=(1, 1))
    b.logo_anchor = (0.0, body_top * 0.5, rad)
    b.logo_width = 0.7 * w


def _mug(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    rad = min(w, d) / 2
    b.cyl((0, h / 2, 0), 1, rad * 0.94, h / 2, rounding=0.35, radius2=rad, hollow=0.45)
    if b.has("handle"):
        hr = h * 0.26
        b.torus((rad - 0.2, h * 0.52, 0), 2, hr, 0.55, "handle", clip=(0, 1))
    b.logo_anchor = (0.0, h * 0.5, rad)
    b.logo_width = 0.55 * 2 * rad


def _tumbler(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    body_h = h * 0.86
    b.cyl((0, body_h / 2, 0), 1, rad * 0.74, body_h / 2, rounding=0.4, radius2=rad)
    lid_top = h * 0.95
    b.cyl((0, (body_h + lid_top) / 2 - 0.2, 0), 1, rad * 1.02, (lid_top - body_h) / 2 + 0.2,
          rounding=0.6, part="lid" if b.has("lid") else "body")
    if b.has("straw"):
        top = h + 1.5
        b.cyl((rad * 0.25, (lid_top + top) / 2, 0), 1, 0.38, (top - lid_top) / 2 + 0.3,
              rounding=0.3, part="straw")
    if b.has("handle"):
        b.torus((rad * 0.9, body_h * 0.5, 0), 2, body_h * 0.25, 0.6, "handle", clip=(0, 1))
    b.logo_anchor = (0.0, body_h * 0.5, rad * 0.87)
    b.logo_width = 0.6 * w


def _box(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    lid_h = h * 0.24 if b.has("lid") else 0.0
    b.box((0, (h - lid_h) / 2 + 0.01, 0), (w / 2 - 0.3, (h - lid_h) / 2, d / 2 - 0.3), 0.35)
    if lid_h:
        b.box((0, h - lid_h / 2, 0), (w / 2, lid_h / 2, d / 2), 0.4, "lid")
    if b.has("ribbon"):
        band = max(1.0, w * 0.06)
        b.box((0, h / 2 + 0.02, 0), (band, h / 2 + 0.03, d / 2 + 0.06), 0.1, "ribbon")
        b.box((0, h / 2 + 0.02, 0), (w / 2 + 0.06, h / 2 + 0.03, band), 0.1, "ribbon")
        bow = w * 0.14
        for sx in (-0.8, 0.8):
            b.ell((sx * bow, h + bow * 0.2, 0), (bow, bow * 0.45, bow * 0.55), "ribbon",
                  clip=(1, 1, -bow * 0.2))
        b.ell((0, h + bow * 0.25, 0), (bow * 0.35, bow * 0.35, bow * 0.35), "ribbon")
        b.logo_anchor = (-w * 0.25, h * 0.4, d / 2)
    else:
        b.logo_anchor = (0.0, (h - lid_h) * 0.5, d / 2)
    b.logo_width = 0.3 * w


def _shoe(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    boot = m.variant == "boot"
    sole_h = min(h * 0.2, max(w * 0.22, h * 0.12))
    sole = "sole" if b.has("sole") else "body"
    heel_r, toe_r = w * 0.42, w * 0.5
    zh, zt = -d / 2 + heel_r, d / 2 - toe_r
    b.cyl((0, sole_h / 2, zh), 1, heel_r, sole_h / 2, rounding=sole_h * 0.3, part=sole)
    b.cyl((0, sole_h / 2, zt), 1, toe_r, sole_h / 2, rounding=sole_h * 0.3, part=sole)
    b.box((0, sole_h / 2, (zh + zt) / 2), (heel_r * 0.97, sole_h / 2, (zt - zh) / 2), sole_h * 0.3, sole)
    up = h - sole_h
    base = sole_h - 0.05 * up
    # the upper: a low toe box in front, a taller quarter behind (a boot: a shaft)
    toe_c, toe_sz = d * 0.17, (w * 0.47, up * 0.5, d * 0.33)
    rear_c = -d * 0.13
    rear_sz = (w * 0.46, up * (0.55 if boot else 0.82), d * 0.37)
    b.ell((0, base, toe_c), toe_sz, clip=(1, 1, 0.0))
    b.ell((0, base, rear_c), rear_sz, clip=(1, 1, 0.0))
    if boot:
        shaft_r = w * 0.45
        b.cyl((0, (base + h) / 2, -d / 2 + shaft_r + 0.3), 1, shaft_r, (h - base) / 2, rounding=shaft_r * 0.3,
              hollow=shaft_r * 0.18)
        collar_y, collar_z = h, -d / 2 + shaft_r + 0.3
    else:
        collar_z = rear_c - d * 0.08
        zz = (collar_z - rear_c) / rear_sz[2]
        collar_y = base + rear_sz[1] * math.sqrt(max(1 - zz * zz, 0.0))
        # the opening: a dark oval sunk into the top of the quarter, a padded collar round it
        b.ell((0, collar_y - 0.1 * up, collar_z), (w * 0.3, 0.16 * up, d * 0.14),
              color=_shade(m.color, 0.28), material="fabric")
        b.torus((0, collar_y - 0.09 * up, collar_z), 1, w * 0.3, w * 0.06, color=_shade(m.color, 0.92))
    # the tongue, and laces across the instep
    tongue_z = collar_z + d * (0.17 if not boot else 0.2)

    def top_at(z: float, x: float = 0.0) -> float:
        best = base
        for c, (ax, ay, az) in ((toe_c, toe_sz), (rear_c, rear_sz)):
            q = 1 - ((z - c) / az) ** 2 - (x / ax) ** 2
            if q > 0:
                best = max(best, base + ay * math.sqrt(q))
        return best

    b.ell((0, top_at(tongue_z) - 0.04 * up, tongue_z), (w * 0.17, 0.09 * up, d * 0.1))
    if b.has("laces"):
        for i in range(5):
            z = tongue_z + d * (0.06 + 0.055 * i)
            y = top_at(z, w * 0.14)
            b.cyl((0, y + 0.015 * up, z), 0, w * 0.035, w * 0.2, rounding=w * 0.03, part="laces")
    b.logo_anchor = (0.0, base + toe_sz[1] * 0.45, d / 2)
    b.logo_width = 0.3 * w


def _chair(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    stool = m.variant == "stool"
    seat_y = h * (1.0 if stool else 0.53)
    seat_t = max(2.5, h * 0.045)
    legs = "legs" if b.has("legs") else "body"
    seat = "seat" if b.has("seat") else "body"
    if stool:
        b.cyl((0, seat_y - seat_t / 2, 0), 1, w / 2, seat_t / 2, rounding=seat_t * 0.4, part=seat)
        leg_r = max(1.2, w * 0.035)
        for k in range(4):
            a = math.pi / 4 + k * math.pi / 2
            b.cyl((w * 0.3 * math.cos(a), (seat_y - seat_t) / 2, w * 0.3 * math.sin(a)), 1, leg_r,
                  (seat_y - seat_t) / 2, rounding=leg_r * 0.5, part=legs)
        b.torus((0, seat_y * 0.3, 0), 1, w * 0.3, leg_r * 0.7, legs)
        b.logo_anchor = (0.0, seat_y - seat_t / 2, w / 2)
        b.logo_width = 0.25 * w
        return
    b.box((0, seat_y - seat_t / 2, 0), (w / 2, seat_t / 2, d / 2), seat_t * 0.4, seat)
    leg_r = max(1.4, w * 0.032)
    inset = leg_r * 1.6
    for x in (-w / 2 + inset, w / 2 - inset):
        for z in (-d / 2 + inset, d / 2 - inset):
            b.cyl((x, (seat_y - seat_t) / 2, z), 1, leg_r, (seat_y - seat_t) / 2 + 0.2,
                  rounding=leg_r * 0.4, part=legs)
    back_z = -d / 2 + inset
    for x in (-w / 2 + inset, w / 2 - inset):
        b.cyl((x, (seat_y + h) / 2 - 1.0, back_z), 1, leg_r * 0.9, (h - seat_y) / 2 + 1.0,
              rounding=leg_r * 0.4, part=legs)
    back = "backrest" if b.has("backrest") else seat
    panel_h = (h - seat_y) * 0.42
    b.box((0, h - panel_h / 2, back_z), (w / 2 - inset * 0.4, panel_h / 2, 1.4), 1.0, back)
    b.logo_anchor = (0.0, h - panel_h / 2, back_z + 1.4)
    b.logo_width = 0.2 * w


def _lamp(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    base = "base" if b.has("base") else "body"
    shade = "shade" if b.has("shade") else "body"
    if m.variant == "desk":
        bx = -w * 0.28
        br = min(d / 2, w * 0.22)
        b.cyl((bx, 1.2, 0), 1, br, 1.2, rounding=0.8, part=base)
        top = h * 0.86
        b.cyl((bx, (2.4 + top) / 2, 0), 1, 0.8, (top - 2.4) / 2, rounding=0.6)
        b.ell((bx, top, 0), (1.5, 1.5, 1.5))
        arm_end = w * 0.2
        b.cyl(((bx + arm_end) / 2, top, 0), 0, 0.7, (arm_end - bx) / 2, rounding=0.6)
        sh = h * 0.3
        b.cyl((arm_end + 1.0, top - sh / 2 + 1.0, 0), 1, min(d / 2, w * 0.26), sh / 2, rounding=0.5,
              radius2=3.0, part=shade, hollow=-0.5, glow=True)
        b.logo_anchor = (bx, 1.8, br)
        b.logo_width = 1.2 * br
        return
    br = w * 0.3
    b.cyl((0, 1.3, 0), 1, br, 1.3, rounding=0.9, part=base)
    shade_lo = h * 0.5
    b.cyl((0, (2.6 + shade_lo + 2) / 2, 0), 1, 0.9, (shade_lo + 2 - 2.6) / 2, rounding=0.5)
    b.cyl((0, (shade_lo + h) / 2, 0), 1, w / 2, (h - shade_lo) / 2, radius2=w * 0.32,
          rounding=0.4, part=shade, hollow=0.5, glow=True)
    b.logo_anchor = (0.0, 1.3, br)
    b.logo_width = 0.8 * br


def _watch(b: _Builder) -> None:
    m = b.m
    w, d = m.width, m.depth
    ring = d / 2
    band_w = w * 0.55
    strap = "strap" if b.has("strap") else "body"
    b.cyl((0, ring, 0), 0, ring, band_w / 2, rounding=0.25, part=strap, hollow=0.35, tube=True)
    cz = ring + 0.1
    if m.variant == "smart":
        b.box((0, ring, cz), (w / 2, w * 0.58, 0.65), 0.6)
        screen = "screen" if b.has("screen") else "face" if b.has("face") else "body"
        b.box((0, ring, cz + 0.55), (w / 2 - 0.35, w * 0.58 - 0.35, 0.12), 0.1, screen)
        b.cyl((w / 2 + 0.1, ring + 0.6, cz), 0, 0.35, 0.25, rounding=0.15)
    else:
        b.cyl((0, ring, cz), 2, w / 2, 0.6, rounding=0.35)
        face = "face" if b.has("face") else "screen" if b.has("screen") else "body"
        b.cyl((0, ring, cz + 0.5), 2, w / 2 * 0.82, 0.15, rounding=0.1, part=face)
        b.box((0, ring + w * 0.12, cz + 0.68), (0.07, w * 0.17, 0.03), 0.02, color=(30, 30, 32),
              material="metal")
        b.box((w * 0.09, ring, cz + 0.7), (w * 0.12, 0.06, 0.03), 0.02, color=(30, 30, 32),
              material="metal")
        b.cyl((w / 2 + 0.15, ring, cz), 0, 0.35, 0.3, rounding=0.15)
    b.logo_anchor = (0.0, ring - w * 0.2, cz + 0.8)
    b.logo_width = 0.25 * w


def _phone(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), min(d / 2, w * 0.12))
    if b.has("screen"):
        b.box((0, h / 2, d / 2 - 0.02), (w / 2 - 0.3, h / 2 - 0.3, 0.06), 0.05, "screen")
    if b.has("lens"):
        cx, cy = w / 2 - w * 0.24, h - w * 0.26  # seen from the back: top left
        b.box((cx, cy, -d / 2 - 0.08), (w * 0.2, w * 0.2, 0.12), 0.1, color=_shade(m.color, 0.85))
        for dx, dy in ((-0.09, 0.09), (-0.09, -0.09), (0.09, 0.0)):
            b.cyl((cx + dx * w, cy + dy * w, -d / 2 - 0.2), 2, w * 0.065, 0.12, rounding=0.05,
                  part="lens")
    if b.has("buttons"):
        b.box((w / 2 + 0.04, h * 0.7, 0), (0.06, h * 0.07, d * 0.18), 0.04, "buttons")
        b.box((-w / 2 - 0.04, h * 0.76, 0), (0.06, h * 0.04, d * 0.18), 0.04, "buttons")
        b.box((-w / 2 - 0.04, h * 0.66, 0), (0.06, h * 0.04, d * 0.18), 0.04, "buttons")
    b.logo_anchor = (0.0, h * 0.55, d / 2 + 0.1)
    b.logo_width = 0.3 * w


def _headphones(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    cup_r = d / 2
    cup_len = 3.0
    cx = w / 2 - cup_len / 2
    cy = cup_r + 0.2
    band_r = w / 2 - 1.3
    band_c = h - band_r - 1.1
    if b.has("headband"):
        b.torus((0, band_c, 0), 2, band_r, 1.1, "headband", clip=(1, 1))
        b.torus((0, band_c, 0), 2, band_r - 1.2, 0.8, color=_shade(m.color, 0.8), material="leather",
                clip=(1, 1))
    for s in (-1, 1):
        yoke_lo = cy + cup_r * 0.55
        b.box((s * band_r, (band_c + yoke_lo) / 2, 0), (0.55, (band_c - yoke_lo) / 2 + 0.3, 0.8), 0.35,
              color=_shade(m.color, 1.0), material="metal" if m.material != "metal" else m.material)
        b.cyl((s * (cx + 0.4), cy, 0), 0, cup_r * 0.92, cup_len / 2 - 0.4, rounding=1.0)
        b.cyl((s * (cx - cup_len / 2 + 0.3), cy, 0), 0, cup_r, 0.9, rounding=0.85,
              part="ear_cups" if b.has("ear_cups") else "body")
    b.logo_anchor = (0.0, band_c + band_r, 0.0)
    b.logo_width = 0.0


def _speaker(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    grille = "grille" if b.has("grille") else "body"
    if m.variant == "smart" or h > w:
        rad = min(w, d) / 2
        b.cyl((0, h / 2, 0), 1, rad, h / 2, rounding=rad * 0.35, part=grille)
        b.cyl((0, h - 0.3, 0), 1, rad * 0.78, 0.45, rounding=0.3, color=_shade(m.color, 0.7),
              material="plastic")
        if b.has("buttons"):
            for dx in (-0.3, 0.0, 0.3):
                b.cyl((dx * rad, h + 0.25, 0), 1, rad * 0.09, 0.15, rounding=0.1, part="buttons")
        b.logo_anchor = (0.0, h * 0.3, rad)
        b.logo_width = 0.5 * rad
        return
    rad = min(h, d) / 2
    b.cyl((0, rad, 0), 0, rad, w / 2, rounding=rad * 0.7, part=grille)
    for s in (-1, 1):
        b.cyl((s * (w / 2 - rad * 0.2), rad, 0), 0, rad * 0.8, rad * 0.2, rounding=rad * 0.15,
              color=_shade(m.color, 0.75), material="rubber")
    if b.has("buttons"):
        for dx in (-0.12, 0.0, 0.12):
            b.cyl((dx * w, 2 * rad - 0.2, 0), 1, rad * 0.13, 0.3, rounding=0.15, part="buttons")
    b.logo_anchor = (0.0, rad * 0.6, rad)
    b.logo_width = 0.16 * w


def _table(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    top_t = max(2.5, h * 0.05)
    b.box((0, h - top_t / 2, 0), (w / 2, top_t / 2, d / 2), top_t * 0.35)
    legs = "legs" if b.has("legs") else "body"
    leg_r = max(1.8, w * 0.022)
    inset = leg_r * 2.5
    for x in (-w / 2 + inset, w / 2 - inset):
        for z in (-d / 2 + inset, d / 2 - inset):
            b.cyl((x, (h - top_t) / 2, z), 1, leg_r, (h - top_t) / 2 + 0.1, rounding=leg_r * 0.4,
                  part=legs)
    b.logo_anchor = (0.0, h - top_t / 2, d / 2)
    b.logo_width = 0.1 * w


def _laptop(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    base_t = 1.5
    b.box((0, base_t / 2, 0), (w / 2, base_t / 2, d / 2), 0.6)
    if b.has("keyboard"):
        b.box((0, base_t, -d * 0.08), (w * 0.42, 0.05, d * 0.24), 0.04, "keyboard")
        b.box((0, base_t, d * 0.3), (w * 0.16, 0.03, d * 0.12), 0.02, color=_shade(m.color, 0.9))
    lid_t = 0.7
    b.box((0, base_t + (h - base_t) / 2, -d / 2 + lid_t / 2), (w / 2, (h - base_t) / 2, lid_t / 2), 0.35)
    if b.has("screen"):
        b.box((0, base_t + (h - base_t) / 2 + 0.3, -d / 2 + lid_t),
              (w / 2 - 0.9, (h - base_t) / 2 - 1.2, 0.04), 0.03, "screen")
    b.logo_anchor = (0.0, base_t + (h - base_t) / 2, -d / 2 + lid_t + 0.05)
    b.logo_width = 0.0


def _vase(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    belly = h * 0.38
    b.ell((0, belly, 0), (rad, belly * 1.05, rad), clip=(1, 1, -belly))
    b.cyl((0, (belly + h) / 2 + 0.1, 0), 1, rad * 0.62, (h - belly) / 2, radius2=rad * 0.5,
          rounding=0.3, hollow=0.5)
    b.torus((0, h - 0.3, 0), 1, rad * 0.5 - 0.1, 0.45)
    b.logo_anchor = (0.0, belly, rad)
    b.logo_width = 0.45 * w


def _generic(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), min(w, h, d) * 0.28)
    b.logo_anchor = (0.0, h / 2, d / 2)
    b.logo_width = 0.3 * w


_BUILDERS = {
    "bag": _bag, "backpack": _backpack, "bottle": _bottle, "mug": _mug, "tumbler": _tumbler,
    "box": _box, "shoe": _shoe, "chair": _chair, "lamp": _lamp, "watch": _watch, "phone": _phone,
    "headphones": _headphones, "speaker": _speaker, "table": _table, "laptop": _laptop,
    "vase": _vase, "product": _generic,
}


def _extras(b: _Builder, lo: np.ndarray, hi: np.ndarray) -> None:
    """Parts the category's builder did not place (added by feedback, or unusual):
    generic placements on the body's box, so every named part shows up somewhere."""
    w, h, d = hi - lo
    cx, cz = (lo[0] + hi[0]) / 2, (lo[2] + hi[2]) / 2
    top, front, back = hi[1], hi[2], lo[2]
    s = max(min(w, h, d), 1.0)
    for part in b.m.parts:
        name = part.name
        if name in b.used:
            continue
        if name in ("strap", "handle", "headband"):
            ring = max(w / 2 - s * 0.1, s * 0.3) if name != "handle" else max(w * 0.2, s * 0.2)
            b.torus((cx, top - ring * 0.25, cz), 2, ring, max(s * 0.05, 0.3), name, clip=(1, 1))
        elif name in ("cap", "lid"):
            b.cyl((cx, top + s * 0.08, cz), 1, min(w, d) * 0.4, s * 0.09, rounding=s * 0.04, part=name)
        elif name in ("legs", "base", "sole"):
            if name == "legs":
                for x in (lo[0] + w * 0.15, hi[0] - w * 0.15):
                    for z in (lo[2] + d * 0.15, hi[2] - d * 0.15):
                        b.cyl((x, lo[1] - s * 0.06, z), 1, s * 0.06, s * 0.06, rounding=s * 0.03,
                              part=name)
            else:
                b.box((cx, lo[1] - s * 0.04, cz), (w / 2 * 1.02, s * 0.04, d / 2 * 1.02), s * 0.03, name)
        elif name == "pocket":
            b.box((cx, lo[1] + h * 0.35, back - s * 0.03), (w * 0.3, h * 0.2, s * 0.04), s * 0.03, name)
        elif name in ("buttons", "lens"):
            for k in range(3):
                b.cyl((cx + (k - 1) * w * 0.12, lo[1] + h * 0.2, front + s * 0.02), 2, s * 0.05,
                      s * 0.03, rounding=s * 0.02, part=name)
        elif name in ("screen", "face", "grille", "keyboard", "flap"):
            b.box((cx, lo[1] + h * 0.55, front + s * 0.01), (w * 0.36, h * 0.3, s * 0.02), s * 0.02, name)
        elif name in ("zipper", "buckle", "ribbon", "laces", "straw", "ear_cups", "shade", "backrest",
                      "seat"):
            b.box((cx, lo[1] + h * 0.75, front + s * 0.02), (w * 0.4, s * 0.03, s * 0.03), s * 0.02,
                  name)
        else:
            b.used.add(name)


def build_scene(model: ProductModel) -> Scene:
    """The product's primitives (one model behind all five views)."""
    b = _Builder(model)
    _BUILDERS.get(model.category, _generic)(b)
    if b.prims:
        lo0, hi0 = _bounds(b.prims)
        _extras(b, lo0, hi0)
    lo, hi = _bounds(b.prims)
    if lo[1] < 0:  # everything stands on the ground
        shift = -lo[1]
        b.prims = [_moved(p, (0.0, shift, 0.0)) for p in b.prims]
        lo, hi = _bounds(b.prims)
        ax, ay, az = b.logo_anchor
        b.logo_anchor = (ax, ay + shift, az)
    digest = hashlib.sha256(repr((model, b.prims)).encode()).hexdigest()[:16]
    return Scene(prims=b.prims, lo=lo, hi=hi, logo_anchor=b.logo_anchor,
                 logo_width=b.logo_width, body_color=model.color,
                 logo_color=model.logo_color if model.logo else None, seed=model.seed, key=digest)


def _at_least(p: Prim, size: float, scale: float) -> Prim:
    """The primitive thickened to at least ``size`` in every direction (about a pixel),
    the same in every view, so a thin part never falls between pixel centres (and a
    flat ellipsoid's rim, sampled half a pixel off its equator, stays within half a
    pixel of its true extent)."""
    from dataclasses import replace

    if p.kind == "ell":
        size = max(size, 0.5 * math.sqrt(max(p.half) / scale))
    if p.kind in ("box", "ell"):
        if min(p.half) >= size:
            return p
        return replace(p, half=tuple(max(h, size) for h in p.half))  # type: ignore[arg-type]
    if p.kind == "cyl":
        r2 = p.radius2 if p.radius2 >= 0 else p.radius
        if min(p.radius, r2, p.length) >= size:
            return p
        return replace(p, radius=max(p.radius, size), radius2=max(r2, size), length=max(p.length, size))
    if p.rounding >= size:
        return p
    return replace(p, rounding=size)


def _moved(p: Prim, by: Vec3) -> Prim:
    from dataclasses import replace

    c = p.center
    return replace(p, center=(c[0] + by[0], c[1] + by[1], c[2] + by[2]))


def _bounds(prims: list[Prim]) -> tuple[np.ndarray, np.ndarray]:
    los, his = zip(*(p.bounds() for p in prims), strict=True)
    return np.min(los, axis=0), np.max(his, axis=0)


def body_scene(width: float, height: float, depth: float, color: RGB, *, shape: str = "box",
               material: str = "plastic", seed: int = 0, accent: RGB | None = None) -> Scene:
    """A one-body scene (used for reference photos): a rounded box or an upright cylinder."""
    prims: list[Prim] = []
    if shape == "cylinder":
        prims.append(Prim("cyl", (0.0, height / 2, 0.0), color, material, axis=1, radius=width / 2,
                          length=height / 2, rounding=max(min(width, height) * 0.06, 1e-3)))
    else:
        r = max(min(width, height, depth) * 0.12, 1e-3)
        prims.append(Prim("box", (0.0, height / 2, 0.0), color, material,
                          half=(width / 2, height / 2, depth / 2), rounding=r))
    if accent is not None:
        prims.append(Prim("box", (0.0, height * 0.5, depth / 2), accent, material,
                          half=(width * 0.3, height * 0.06, 1e-3 + depth * 0.004),
                          rounding=1e-3))
    lo, hi = _bounds(prims)
    return Scene(prims=prims, lo=lo, hi=hi, body_color=color, seed=seed)


# --------------------------------------------------------------------------- intersection


@dataclass
class _Hit:
    hit: np.ndarray
    w: np.ndarray
    nu: np.ndarray
    nv: np.ndarray
    nw: np.ndarray
    sd: np.ndarray
    ao: np.ndarray | float = 1.0


def _sqrt0(x: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(x, 0.0))


def _rrect(a: np.ndarray, b: np.ndarray, ha: float, hb: float, r: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    qa = np.maximum(np.abs(a) - (ha - r), 0.0)
    qb = np.maximum(np.abs(b) - (hb - r), 0.0)
    q = np.sqrt(qa * qa + qb * qb)
    inner = np.minimum(ha - np.abs(a), hb - np.abs(b))
    sd = np.where(q > 0, r - q, inner)
    return qa, qb, q, sd


@dataclass(frozen=True)
class _CamPrim:
    """A primitive in one camera's space: axes permuted, signs folded in."""

    index: int
    kind: str
    c: np.ndarray  # centre (u, v, w)
    half: np.ndarray  # box/ell half extents in camera axes
    axis: int  # camera axis of a cylinder / torus
    r_minus: float  # cylinder radius at the camera-axis − end
    r_plus: float
    length: float
    rounding: float
    clip: tuple[int, int, float] | None
    hollow: float  # > 0: open at the camera-axis + end; < 0: open at the − end
    tube: bool
    lo: np.ndarray
    hi: np.ndarray
    px: float = 0.0  # one pixel in centimetres


def _to_camera(p: Prim, index: int, frame: np.ndarray, center: np.ndarray, px: float = 0.0) -> _CamPrim:
    c = frame @ (np.array(p.center) - center)
    half = np.abs(frame) @ np.array(p.half)
    axis_row = int(np.argmax(np.abs(frame[:, p.axis])))
    sign = frame[axis_row, p.axis]
    r1 = p.radius2 if p.radius2 >= 0 else p.radius
    r_minus, r_plus = (p.radius, r1) if sign > 0 else (r1, p.radius)
    hollow = p.hollow * sign
    clip = None
    if p.clip is not None:
        ax, sg, off = p.clip
        row = int(np.argmax(np.abs(frame[:, ax])))
        f = frame[row, ax]
        clip = (row, int(sg * f), float(off * f))
    lo_w, hi_w = p.bounds()
    a = frame @ (lo_w - center)
    b = frame @ (hi_w - center)
    return _CamPrim(index, p.kind, c, half, axis_row, r_minus, r_plus, p.length, p.rounding, clip,
                    hollow, p.tube, np.minimum(a, b), np.maximum(a, b), px)


def _intersect(p: _CamPrim, du: np.ndarray, dv: np.ndarray) -> _Hit:
    """Nearest surface along −w for the pixels at (du, dv) relative to the centre."""
    zero = np.zeros(np.broadcast_shapes(du.shape, dv.shape), dtype=np.float32)
    du = du + zero
    dv = dv + zero
    if p.kind == "box":
        hu, hv, hw = (float(x) for x in p.half)
        r = min(p.rounding, hu, hv, hw)
        qa, qb, q, sd = _rrect(du, dv, hu, hv, r)
        hit = q < r
        h = _sqrt0(r * r - q * q)
        return _Hit(hit, hw - r + h, np.sign(du) * qa / r, np.sign(dv) * qb / r, h / r, sd)
    if p.kind == "ell":
        return _ellipsoid(p, du, dv)
    if p.kind == "cyl":
        return _cylinder(p, du, dv)
    return _torus(p, du, dv)


def _apply_clip2d(p: _CamPrim, res: _Hit, du: np.ndarray, dv: np.ndarray) -> _Hit:
    if p.clip is None or p.clip[0] == 2:
        return res
    axis, sign, off = p.clip
    coord = du if axis == 0 else dv
    keep = sign * (coord - off)
    res.hit = res.hit & (keep >= 0)
    res.sd = np.minimum(res.sd, keep)
    return res


def _ellipsoid(p: _CamPrim, du: np.ndarray, dv: np.ndarray) -> _Hit:
    au, av, aw = (float(x) for x in p.half)
    x, y = du / au, dv / av
    rr = x * x + y * y
    hit = rr < 1.0
    root = _sqrt0(1.0 - rr)
    wf = aw * root
    nu, nv, nw = du / (au * au), dv / (av * av), wf / (aw * aw)
    inv = 1.0 / np.maximum(np.sqrt(nu * nu + nv * nv + nw * nw), 1e-9)
    res = _Hit(hit, wf, nu * inv, nv * inv, nw * inv, (1.0 - np.sqrt(rr)) * min(au, av))
    if p.clip is not None and p.clip[0] == 2:
        _, sign, off = p.clip
        if sign > 0:
            res.hit = hit & (wf >= off)
        else:
            front_ok = wf <= off
            cut = ~front_ok & (-wf <= off)
            res.hit = hit & (front_ok | cut)
            res.w = np.where(cut, np.float32(off), wf)
            res.nu = np.where(cut, 0.0, res.nu)
            res.nv = np.where(cut, 0.0, res.nv)
            res.nw = np.where(cut, 1.0, res.nw)
        return res
    return _apply_clip2d(p, res, du, dv)


@lru_cache(maxsize=4096)
def _profile_max(r_minus: float, r_plus: float, length: float, rounding: float) -> float:
    """The largest radius of a rounded cylinder / frustum's profile."""
    if abs(r_plus - r_minus) < 1e-9:
        return max(r_minus, r_plus)
    s = np.linspace(-length, length, 513)
    k = (r_plus - r_minus) / (2 * length)
    rs = r_minus + (s + length) * k
    excess = np.maximum(np.abs(s) - (length - rounding), 0.0)
    rho = np.where(excess > 0, rs - rounding + _sqrt0(rounding * rounding - excess * excess), rs)
    return float(rho.max())


def _cylinder(p: _CamPrim, du: np.ndarray, dv: np.ndarray) -> _Hit:
    L, r = p.length, p.rounding
    if p.axis == 2:  # looking along the axis: a disc (or a cone seen from its narrow end)
        near, far = p.r_plus, p.r_minus
        rho = np.sqrt(du * du + dv * dv)
        inv = 1.0 / np.maximum(rho, 1e-6)
        big = _profile_max(p.r_minus, p.r_plus, L, r)  # the silhouette the other views see
        sd = big - rho
        hit = rho < big
        rr = min(r, near)
        q = np.maximum(rho - (near - rr), 0.0)
        h = _sqrt0(rr * rr - q * q)
        w = L - rr + h
        nu, nv, nw = du * inv * q / rr, dv * inv * q / rr, h / rr
        ao: np.ndarray | float = 1.0
        if far > near + 1e-6:  # the cone's side shows around the near cap
            side = rho > near
            t = np.clip((rho - far) / (near - far), 0.0, 1.0)
            slope = (far - near) / (2 * L)
            n_len = math.hypot(1.0, slope)
            w = np.where(side, -L + 2 * L * t, w)
            nu = np.where(side, du * inv / n_len, nu)
            nv = np.where(side, dv * inv / n_len, nv)
            nw = np.where(side, slope / n_len, nw)
        if p.tube:  # open at both ends: see-through
            inner_r = near - abs(p.hollow)
            hit = hit & (rho >= inner_r)
            sd = np.minimum(sd, rho - inner_r)
        elif p.hollow > 0:  # open towards the camera: the inside shows, darker towards the wall
            inner_r = max(near - p.hollow, 1e-6)
            inner = rho < inner_r
            w = np.where(inner, -L + p.hollow, w)
            nu = np.where(inner, 0.0, nu)
            nv = np.where(inner, 0.0, nv)
            nw = np.where(inner, 1.0, nw)
            x = np.clip(rho / inner_r, 0.0, 1.0)
            # the rim's shadow: a crescent on the side the key light comes from
            crescent = np.clip(((du * _KEY[0] + dv * _KEY[1]) / inner_r - 0.15) * 1.4, 0.0, 1.0)
            ao = np.where(inner, (0.62 - 0.3 * x ** 6) * (1.0 - 0.35 * crescent * x), 1.0)
        return _Hit(hit, w, nu, nv, nw, sd, ao)
    # looking across the axis
    s = du if p.axis == 0 else dv
    t = dv if p.axis == 0 else du
    k = (p.r_plus - p.r_minus) / (2 * L)

    def profile(at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        sc = np.clip(at, -L, L)
        rs = p.r_minus + (sc + L) * k
        excess = np.maximum(np.abs(sc) - (L - r), 0.0)
        return np.where(excess > 0, rs - r + _sqrt0(r * r - excess * excess), rs), rs, excess

    rho, rs, excess = profile(s)
    reach = rho
    if abs(k) > 0.5:  # a steep cone: a pixel row sees the widest radius within its height
        half = 0.5 * p.px
        reach = np.maximum(np.maximum(rho, profile(s - half)[0]), profile(s + half)[0])
    hit = (np.abs(s) < L) & (np.abs(t) < reach)
    h = _sqrt0(rho * rho - t * t)
    inv = 1.0 / np.maximum(rho, 1e-6)
    n_len = math.hypot(1.0, k)
    ns = np.where(excess > 0, np.sign(s) * excess / r, -k / n_len)
    nr = np.where(excess > 0, (rho - (rs - r)) / r, 1.0 / n_len)
    nt, nw = nr * t * inv, nr * h * inv
    sd = np.minimum(reach - np.abs(t), L - np.abs(s))
    if p.axis == 0:
        return _Hit(hit, h, ns, nt, nw, sd)
    return _Hit(hit, h, nt, ns, nw, sd)


def _torus(p: _CamPrim, du: np.ndarray, dv: np.ndarray) -> _Hit:
    R, r = p.r_minus, p.rounding
    if p.axis == 2:
        rho = np.sqrt(du * du + dv * dv)
        inv = 1.0 / np.maximum(rho, 1e-6)
        dd = rho - R
        hit = np.abs(dd) < r
        h = _sqrt0(r * r - dd * dd)
        res = _Hit(hit, h, du * inv * dd / r, dv * inv * dd / r, h / r, r - np.abs(dd))
        return _apply_clip2d(p, res, du, dv)
    s = du if p.axis == 0 else dv
    t = dv if p.axis == 0 else du
    e = _sqrt0(r * r - s * s)
    _, _, _, sd = _rrect(s, t, r, R + r, r)
    if p.clip is not None and p.clip[0] == 2 and p.clip[1] < 0:
        inner = np.abs(t) < R - e
        rho = np.where(inner, R - e, R + e)
        hh = _sqrt0(rho * rho - t * t)
        inv = 1.0 / np.maximum(rho, 1e-6)
        hit = (np.abs(s) < r) & (np.abs(t) < R + e)
        w = np.where(inner, -hh, 0.0)
        ns = np.where(inner, s / r, 0.0)
        nt = np.where(inner, -e * t * inv / r, 0.0)
        nw = np.where(inner, e * hh * inv / r, 1.0)
    else:
        rho = R + e
        hh = _sqrt0(rho * rho - t * t)
        inv = 1.0 / np.maximum(rho, 1e-6)
        hit = (np.abs(s) < r) & (np.abs(t) < rho)
        w, ns, nt, nw = hh, s / r, e * t * inv / r, e * hh * inv / r
    res = _Hit(hit, w, ns, nt, nw, sd) if p.axis == 0 else _Hit(hit, w, nt, ns, nw, sd)
    return _apply_clip2d(p, res, du, dv)


# --------------------------------------------------------------------------- rendering


def _as_size(size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        return (size, size)
    w, h = size
    return (int(w), int(h))


def scene_scale(scene: Scene, size: tuple[int, int]) -> float:
    """Pixels per centimetre: the largest dimension fits every view with the margin."""
    w, h = size
    ex, ey, ez = (max(float(v), 1e-6) for v in scene.extent)
    return min((1 - 2 * MARGIN) * w / max(ex, ez), (1 - 2 * MARGIN) * h / max(ey, ez))


Box = tuple[int, int, int, int]


@dataclass
class _Geometry:
    """Per-pixel geometry inside ``window`` (x0, y0, x1, y1) of the image."""

    ids: np.ndarray  # (h, w) int16, -1 = background
    normal: np.ndarray  # (3, h, w) float32, camera space
    cover: np.ndarray  # (h, w) float32 analytic coverage
    ao: np.ndarray  # (h, w) float32
    window: Box
    cams: list[_CamPrim]
    depth: np.ndarray | None = None  # (h, w) float32, -inf = background


def _geometry(scene: Scene, frame: np.ndarray, size: tuple[int, int], scale: float) -> _Geometry:
    """Analytic ray casting for a camera ``frame`` that is a signed permutation of the
    world axes (the five views, and any quarter turn)."""
    W, H = size
    center = scene.center
    cams: list[_CamPrim] = []
    boxes: list[Box | None] = []
    for i, prim in enumerate(scene.prims):
        cp = _to_camera(_at_least(prim, 0.75 / scale, scale), i, frame, center, 1.0 / scale)
        cams.append(cp)
        x0 = max(math.floor(W / 2 + cp.lo[0] * scale) - 1, 0)
        x1 = min(math.ceil(W / 2 + cp.hi[0] * scale) + 2, W)
        y0 = max(math.floor(H / 2 - cp.hi[1] * scale) - 1, 0)
        y1 = min(math.ceil(H / 2 - cp.lo[1] * scale) + 2, H)
        boxes.append((x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None)
    live = [b for b in boxes if b is not None]
    if not live:
        live = [(W // 2, H // 2, W // 2 + 1, H // 2 + 1)]
    wx0 = max(min(b[0] for b in live) - 2, 0)
    wy0 = max(min(b[1] for b in live) - 2, 0)
    wx1 = min(max(b[2] for b in live) + 2, W)
    wy1 = min(max(b[3] for b in live) + 2, H)
    shape = (wy1 - wy0, wx1 - wx0)
    depth = np.full(shape, -np.inf, dtype=np.float32)
    ids = np.full(shape, -1, dtype=np.int16)
    normal = np.zeros((3, *shape), dtype=np.float32)
    cover = np.zeros(shape, dtype=np.float32)
    ao = np.ones(shape, dtype=np.float32)
    s = np.float32(scale)
    for i, (cp, box) in enumerate(zip(cams, boxes, strict=True)):
        if box is None:
            continue
        x0, y0, x1, y1 = box
        du = ((np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - W / 2)) / s
              - np.float32(cp.c[0]))[None, :]
        dv = ((np.float32(H / 2 - 0.5) - np.arange(y0, y1, dtype=np.float32)) / s
              - np.float32(cp.c[1]))[:, None]
        res = _intersect(cp, du, dv)
        sub = (slice(y0 - wy0, y1 - wy0), slice(x0 - wx0, x1 - wx0))
        np.maximum(cover[sub], np.clip(res.sd * s + np.float32(0.5), 0.0, 1.0), out=cover[sub])
        w = res.w + np.float32(cp.c[2])
        better = res.hit & (w > depth[sub])
        if not better.any():
            continue
        np.copyto(depth[sub], w, where=better)
        np.copyto(ids[sub], np.int16(i), where=better)
        for k, comp in enumerate((res.nu, res.nv, res.nw)):
            np.copyto(normal[k][sub], comp, where=better, casting="unsafe")
        np.copyto(ao[sub], res.ao if isinstance(res.ao, np.ndarray) else np.float32(1.0), where=better,
                  casting="unsafe")
    return _Geometry(ids, normal, cover, ao, (wx0, wy0, wx1, wy1), cams, depth)


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
    lw = max(4, round(scene.logo_width * scale))
    lh = max(2, round(lw * logo.shape[0] / logo.shape[1]))
    if lh > lw * 1.2:  # a tall logo: limit its height instead
        lh = round(scene.logo_width * scale * 1.2)
        lw = max(2, round(lh * logo.shape[1] / logo.shape[0]))
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
    albedo = np.array([p.color for p in prims], dtype=np.float32).reshape(-1, 3) / 255.0
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


def render_view(scene: Scene, view: ViewType, size: int | tuple[int, int] = DEFAULT_SIZE,
                logo: bytes | None = None, *, scale: float | None = None) -> RenderedView:
    """Render one view of the scene (the logo only shows on the front)."""
    size = _as_size(size)
    scale = scale if scale is not None else scene_scale(scene, size)
    geo = _geometry(scene, VIEW_FRAMES[view], size, scale)
    ground = None
    if view in (ViewType.FRONT, ViewType.BACK, ViewType.SIDE):
        ground = size[1] / 2 + float(scene.extent[1]) / 2 * scale
    return shade_geometry(scene, geo, size, scale, logo=logo, decal=view == ViewType.FRONT,
                          noise_index=_VIEW_INDEX[view], drop_shadow=view in (ViewType.TOP, ViewType.BOTTOM),
                          ground_row=ground)


def shade_geometry(scene: Scene, geo: _Geometry, size: tuple[int, int], scale: float, *,
                   logo: bytes | None = None, decal: bool = False, noise_index: int = 0,
                   drop_shadow: bool = False,
                   ground_row: float | None = None) -> RenderedView:
    """Shade and composite one camera's per-pixel geometry (from the analytic caster or
    the ray marcher): materials, textures, the logo (or the scene's emblem colour) on
    the front-facing anchor when ``decal``, anti-aliased edges and a contact (or, with
    ``drop_shadow``, an offset drop) shadow whose ground line is ``ground_row`` (None: under the product)."""
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
        if rgba is not None:
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


def render_views(model: ProductModel, size: int | tuple[int, int] = DEFAULT_SIZE,
                 logo: bytes | None = None, views: Iterable[ViewType] = ALL_VIEWS
                 ) -> dict[ViewType, RenderedView]:
    """Render the model's views (all five by default) from one scene at one scale."""
    scene = build_scene(model)
    return {ViewType(v): render_view(scene, ViewType(v), size, logo) for v in views}

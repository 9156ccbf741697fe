"""The product in 3D: primitives, scenes and the builders that make them.

``build_scene`` turns a ``ProductModel`` into a small list of analytic primitives
(rounded boxes, cylinders and frustums, ellipsoids and domes, tori and half tori for
handles and straps), each with a colour and a material, standing on the ground plane
(x right, y up, z towards the viewer of the front): one builder per category, accents
(hardware, trim, stitching, zips, buckles) placed where the front camera sees them.
Also the camera frames of the five views, the studio backdrop colours and the data
types every stage shares (``Prim``, ``Scene``, ``RenderedView``). A new category is a
builder here and a template in ``vocabulary.py``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

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


@dataclass(frozen=True)
class Panel:
    """A front-facing region for accents: centre (cx, cy), half extents (hw, hh) and
    the depth of the product's front surface at (x, y)."""

    cx: float
    cy: float
    hw: float
    hh: float
    z: Callable[[float, float], float]


@dataclass(frozen=True)
class Ring:
    """A horizontal band of a round body: centre, height and radius there; ``axis`` is
    the body's axis (1 = upright; 0 = lying along x; 2 = facing the camera)."""

    x: float
    y: float
    z: float
    radius: float
    axis: int = 1
    mirror: bool = False  # also at -x (both ear cups, both ends of a bar speaker)


def flat(z: float) -> Callable[[float, float], float]:
    return lambda x, y: z


class _Builder:
    """Collects primitives; parts look up their colour and material on the model."""

    def __init__(self, model: ProductModel) -> None:
        self.m = model
        self.prims: list[Prim] = []
        self.used: set[str] = set()
        self.logo_anchor: Vec3 = (0.0, model.height / 2, model.depth / 2)
        self.logo_width = 0.3 * model.width
        self.panel: Panel | None = None  # where accents go on a flat or curved front
        self.rings: dict[str, Ring] = {}  # "top" / "mid" / "low" bands of a round body
        self.feet: list[tuple[float, float, float]] = []  # (x, z, radius) of legs on the ground
        self.front_seen: set[str] = set()  # parts the builder already put in the front's view

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
    v = "duffel" if m.shape == "cylinder" else m.variant
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
        b.panel = Panel(0.0, rad, w * 0.36, rad * 0.55,
                        lambda x, y: math.sqrt(max(rad * rad - (y - rad) ** 2, 0.0)))
        b.logo_anchor = (0.0, rad * 1.05, rad)
        b.logo_width = 0.22 * w
        return
    if m.shape in ("round", "sphere"):  # a round bag: a drum facing the front
        rad = min(w, h) / 2
        b.cyl((0, rad, 0), 2, rad, d / 2, rounding=min(d / 2, 3.0))
        if b.has("handle") or b.has("strap"):
            part = "strap" if b.has("strap") else "handle"
            b.torus((0, rad * 1.6, 0), 2, rad * 0.55, 0.75, part, clip=(1, 1))
        b.panel = Panel(0.0, rad, rad * 0.62, rad * 0.62, flat(d / 2))
        b.logo_anchor = (0.0, rad * 0.9, d / 2)
        b.logo_width = 0.4 * rad
        return
    if m.shape == "cylinder":
        v = "duffel"
    bulge = min(d / 2, 3.5) if v != "tote" else min(d / 2, 2.5)
    body_h = h
    b.box((0, body_h / 2, 0), (w / 2, body_h / 2, d / 2), bulge)
    front_z = d / 2 + 0.6
    inset = bulge * 0.9
    if v in ("messenger", "") and b.has("flap"):
        b.box((0, body_h * 0.68, front_z - 0.2), (w * 0.495, body_h * 0.335, 0.7), 0.6, "flap")
        flap_front, flap_lo = front_z + 0.5, body_h * 0.345
        front_z += 0.9
        b.logo_anchor = (0.0, body_h * 0.74, front_z)
        b.panel = Panel(0.0, body_h / 2, w / 2 - inset, body_h / 2 - inset,
                        lambda x, y: flap_front if y > flap_lo else d / 2)
    else:
        b.logo_anchor = (0.0, body_h * 0.55, front_z)
        b.panel = Panel(0.0, body_h / 2, w / 2 - inset, body_h / 2 - inset, flat(d / 2))
    b.logo_width = 0.26 * w
    if b.has("buckle"):
        b.box((0, body_h * 0.4, front_z - 0.05), (1.7, 1.3, 0.3), 0.25, "buckle")
        b.front_seen.add("buckle")
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
        b.panel = Panel(0.0, h * 0.06 + ph, w * 0.37 - 1.6, ph - 1.6, flat(d / 2 + 3.0))
    else:
        b.logo_anchor = (0.0, h * 0.4, d / 2)
        b.panel = Panel(0.0, body_top * 0.5, w / 2 - r * 0.9, body_top / 2 - r * 0.6, flat(d / 2))
    if b.has("zipper"):
        b.front_seen.add("zipper")
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
    b.rings = {"top": Ring(0.0, cap_lo, 0.0, neck_r * 1.02), "mid": Ring(0.0, body_top * 0.5, 0.0, rad),
               "low": Ring(0.0, body_top * 0.12, 0.0, rad)}
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
    b.rings = {"top": Ring(0.0, h - 0.2, 0.0, rad * 0.985), "mid": Ring(0.0, h * 0.5, 0.0, rad * 0.97),
               "low": Ring(0.0, h * 0.15, 0.0, rad * 0.95)}
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
    b.rings = {"top": Ring(0.0, body_h, 0.0, rad * 1.0), "mid": Ring(0.0, body_h * 0.5, 0.0, rad * 0.87),
               "low": Ring(0.0, body_h * 0.15, 0.0, rad * 0.78)}
    b.logo_anchor = (0.0, body_h * 0.5, rad * 0.87)
    b.logo_width = 0.6 * w


def _box(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    lid_h = h * 0.24 if b.has("lid") else 0.0
    if m.shape in ("round", "cylinder", "sphere"):  # a hat box
        rad = min(w, d) / 2
        b.cyl((0, (h - lid_h) / 2, 0), 1, rad - 0.3, (h - lid_h) / 2, rounding=0.3)
        if lid_h:
            b.cyl((0, h - lid_h / 2, 0), 1, rad, lid_h / 2, rounding=0.4, part="lid")
        b.rings = {"top": Ring(0.0, h - 0.2, 0.0, rad), "mid": Ring(0.0, (h - lid_h) / 2, 0.0, rad - 0.3),
                   "low": Ring(0.0, h * 0.12, 0.0, rad - 0.3)}
        b.logo_anchor = (0.0, (h - lid_h) * 0.5, rad - 0.3)
        b.logo_width = 0.5 * rad
        return
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
    b.panel = Panel(0.0, (h - lid_h) / 2, w / 2 - 0.8, (h - lid_h) / 2 - 0.6, flat(d / 2 - 0.3))
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
    if b.has("trim"):  # a band round the top of the sole
        for zc, rr in ((zt, toe_r), (zh, heel_r)):
            b.torus((0, sole_h, zc), 1, rr * 0.99, max(0.04 * w, 0.25), "trim")
        for sx in (-1, 1):
            b.box((sx * heel_r * 0.97, sole_h, (zh + zt) / 2), (0.3, 0.3, (zt - zh) / 2), 0.2, "trim")
        b.front_seen.add("trim")
    if b.has("stitching"):  # a stitched line round the toe and heel, just above the sole
        for zc, rr in ((zt, toe_r), (zh, heel_r)):
            b.torus((0, sole_h + 0.06 * up, zc), 1, rr * 0.93, max(0.02 * w, 0.12), "stitching")
        b.front_seen.add("stitching")
    if b.has("hardware"):  # eyelets either side of the laces, and a toe plate
        for i in range(5):
            z = tongue_z + d * (0.06 + 0.055 * i)
            for sx in (-1, 1):
                b.cyl((sx * w * 0.22, top_at(z, w * 0.22) + 0.01 * up, z), 1, w * 0.045, 0.12 * up,
                      rounding=w * 0.02, part="hardware")
        b.box((0, sole_h + 0.12 * up, d / 2 - 0.15), (w * 0.2, 0.08 * up, 0.3), 0.2, "hardware")
        b.front_seen.add("hardware")
    b.logo_anchor = (0.0, base + toe_sz[1] * 0.45, d / 2)
    b.logo_width = 0.3 * w


def _chair(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    if m.variant == "office":
        _office_chair(b)
        return
    stool = m.variant == "stool"
    seat_y = h * (1.0 if stool else 0.53)
    seat_t = max(2.5, h * 0.045)
    legs = "legs" if b.has("legs") else "body"
    seat = "seat" if b.has("seat") else "body"
    if stool:
        b.cyl((0, seat_y - seat_t / 2, 0), 1, w / 2, seat_t / 2, rounding=seat_t * 0.4, part=seat)
        leg_r = max(1.2, w * 0.035)
        n = m.legs or 4
        _legs_round(b, n, w * 0.3, seat_y - seat_t, leg_r, legs,
                    start=math.pi / 2 if n % 2 else math.pi / 4)
        if n > 1:
            b.torus((0, seat_y * 0.3, 0), 1, w * 0.3, leg_r * 0.7, legs)
        b.rings = {"top": Ring(0.0, seat_y - seat_t * 0.3, 0.0, w / 2),
                   "low": Ring(0.0, seat_y - seat_t * 0.65, 0.0, w / 2)}
        b.logo_anchor = (0.0, seat_y - seat_t / 2, w / 2)
        b.logo_width = 0.25 * w
        return
    b.box((0, seat_y - seat_t / 2, 0), (w / 2, seat_t / 2, d / 2), seat_t * 0.4, seat)
    leg_r = max(1.4, w * 0.032)
    inset = leg_r * 1.6
    if m.legs and m.legs != 4:
        _legs_round(b, m.legs, min(w, d) / 2 - inset, seat_y - seat_t + 0.2, leg_r, legs,
                    start=math.pi / 2 if m.legs % 2 else math.pi / 4)
    else:
        for x in (-w / 2 + inset, w / 2 - inset):
            for z in (-d / 2 + inset, d / 2 - inset):
                b.cyl((x, (seat_y - seat_t) / 2, z), 1, leg_r, (seat_y - seat_t) / 2 + 0.2,
                      rounding=leg_r * 0.4, part=legs)
                b.feet.append((x, z, leg_r))
    b.panel = Panel(0.0, seat_y - seat_t / 2, w / 2 - seat_t * 0.4, seat_t * 0.38, flat(d / 2))
    back_z = -d / 2 + inset
    for x in (-w / 2 + inset, w / 2 - inset):
        b.cyl((x, (seat_y + h) / 2 - 1.0, back_z), 1, leg_r * 0.9, (h - seat_y) / 2 + 1.0,
              rounding=leg_r * 0.4, part=legs)
    back = "backrest" if b.has("backrest") else seat
    panel_h = (h - seat_y) * 0.42
    b.box((0, h - panel_h / 2, back_z), (w / 2 - inset * 0.4, panel_h / 2, 1.4), 1.0, back)
    b.logo_anchor = (0.0, h - panel_h / 2, back_z + 1.4)
    b.logo_width = 0.2 * w


def _office_chair(b: _Builder) -> None:
    """A swivel chair: caster wheels on a star base, a gas column, seat and backrest."""
    m = b.m
    w, h, d = m.width, m.height, m.depth
    n = m.wheels or 5
    wheel_r = max(2.5, h * 0.028)
    base_y = wheel_r * 2 + 1.0
    arm = min(w, d) / 2 - wheel_r
    base = "base" if b.has("base") else "body"
    wheels = "wheels" if b.has("wheels") else base
    for k in range(n):
        a = math.pi / 2 + 2 * math.pi * k / n
        x, z = arm * math.cos(a), arm * math.sin(a)
        steps = 6  # the arm: a row of short boxes from the hub out to the wheel
        for i in range(steps):
            t = (i + 0.5) / steps
            b.ell((x * t, base_y, z * t), (arm / steps * 0.75 + 1.0, 1.2, arm / steps * 0.75 + 1.0), base)
        b.cyl((x, wheel_r, z), 0, wheel_r, wheel_r * 0.45, rounding=wheel_r * 0.3, part=wheels)
        b.feet.append((x, z, wheel_r))
    seat_y = h * 0.45
    seat_t = max(6.0, h * 0.07)
    b.cyl((0, (base_y + seat_y - seat_t) / 2, 0), 1, 2.2, (seat_y - seat_t - base_y) / 2 + 0.5, rounding=1.0,
          color=(150, 152, 156), material="metal")
    seat = "seat" if b.has("seat") else "body"
    b.box((0, seat_y - seat_t / 2, 0), (w * 0.42, seat_t / 2, d * 0.4), seat_t * 0.45, seat)
    back = "backrest" if b.has("backrest") else seat
    back_lo = seat_y + 3.0
    b.box((0, (back_lo + h) / 2, -d * 0.36), (w * 0.38, (h - back_lo) / 2, 3.0), 2.8, back)
    b.box((0, seat_y + 1.5, -d * 0.38), (3.0, 3.0, 1.2), 0.8, color=(40, 40, 42), material="plastic")
    b.panel = Panel(0.0, (back_lo + h) / 2, w * 0.33, (h - back_lo) / 2 - 3.0, flat(-d * 0.36 + 3.0))
    b.logo_anchor = (0.0, (back_lo + h) / 2, -d * 0.36 + 3.0)
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
        b.rings = {"top": Ring(arm_end + 1.0, top - sh + 1.2, 0.0, min(d / 2, w * 0.26)),
                   "mid": Ring(bx, 1.2, 0.0, br), "low": Ring(bx, 2.6, 0.0, 0.85)}
        b.logo_anchor = (bx, 1.8, br)
        b.logo_width = 1.2 * br
        return
    br = w * 0.3
    b.cyl((0, 1.3, 0), 1, br, 1.3, rounding=0.9, part=base)
    if m.shape == "sphere":  # a globe on a stem
        gr = min(w / 2, h * 0.3)
        b.cyl((0, (2.6 + h - 2 * gr) / 2, 0), 1, 0.9, (h - 2 * gr - 2.6) / 2 + 0.4, rounding=0.5)
        b.ell((0, h - gr, 0), (gr, gr, gr), shade)
        b.rings = {"top": Ring(0.0, h - gr, 0.0, gr), "mid": Ring(0.0, 1.3, 0.0, br)}
        b.logo_anchor = (0.0, 1.3, br)
        b.logo_width = 0.8 * br
        return
    shade_lo = h * 0.5
    b.cyl((0, (2.6 + shade_lo + 2) / 2, 0), 1, 0.9, (shade_lo + 2 - 2.6) / 2, rounding=0.5)
    b.cyl((0, (shade_lo + h) / 2, 0), 1, w / 2, (h - shade_lo) / 2, radius2=w * 0.32,
          rounding=0.4, part=shade, hollow=0.5, glow=True)
    b.rings = {"top": Ring(0.0, shade_lo + 0.25, 0.0, w / 2), "mid": Ring(0.0, 1.3, 0.0, br),
               "low": Ring(0.0, h - 0.25, 0.0, w * 0.32)}
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
        b.panel = Panel(0.0, ring, w / 2 - 0.1, w * 0.58 - 0.1, flat(cz + 0.62))
    else:
        b.cyl((0, ring, cz), 2, w / 2, 0.6, rounding=0.35)
        face = "face" if b.has("face") else "screen" if b.has("screen") else "body"
        b.cyl((0, ring, cz + 0.5), 2, w / 2 * 0.82, 0.15, rounding=0.1, part=face)
        b.box((0, ring + w * 0.12, cz + 0.68), (0.07, w * 0.17, 0.03), 0.02, color=(30, 30, 32),
              material="metal")
        b.box((w * 0.09, ring, cz + 0.7), (w * 0.12, 0.06, 0.03), 0.02, color=(30, 30, 32),
              material="metal")
        b.cyl((w / 2 + 0.15, ring, cz), 0, 0.35, 0.3, rounding=0.15)
        b.rings = {"top": Ring(0.0, ring, cz + 0.55, w / 2 * 0.9, axis=2),
                   "mid": Ring(0.0, ring, cz + 0.2, w / 2 * 1.0, axis=2)}
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
    b.panel = Panel(0.0, h / 2, w / 2 - 0.2, h / 2 - 0.2, flat(d / 2 + 0.04))
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
        if b.has("hardware"):
            b.box((s * band_r, (band_c + yoke_lo) / 2, 0), (0.7, (band_c - yoke_lo) / 2 + 0.3, 0.9), 0.35,
                  "hardware")
            b.front_seen.add("hardware")
        else:
            b.box((s * band_r, (band_c + yoke_lo) / 2, 0), (0.55, (band_c - yoke_lo) / 2 + 0.3, 0.8), 0.35,
                  color=_shade(m.color, 1.0), material="metal" if m.material != "metal" else m.material)
        b.cyl((s * (cx + 0.4), cy, 0), 0, cup_r * 0.92, cup_len / 2 - 0.4, rounding=1.0)
        b.cyl((s * (cx - cup_len / 2 + 0.3), cy, 0), 0, cup_r, 0.9, rounding=0.85,
              part="ear_cups" if b.has("ear_cups") else "body")
    b.rings = {"top": Ring(cx + cup_len / 2 - 0.05, cy, 0.0, cup_r * 0.8, axis=0, mirror=True),
               "low": Ring(cx - cup_len / 2 + 0.3, cy, 0.0, cup_r * 0.98, axis=0, mirror=True)}
    b.logo_anchor = (0.0, band_c + band_r, 0.0)
    b.logo_width = 0.0


def _speaker(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    grille = "grille" if b.has("grille") else "body"
    if m.shape == "sphere":
        rad = min(w, h, d) / 2
        b.ell((0, rad, 0), (rad, rad, rad), grille)
        b.cyl((0, 0.4, 0), 1, rad * 0.45, 0.4, rounding=0.3, color=_shade(m.color, 0.7), material="rubber")
        b.rings = {"mid": Ring(0.0, rad, 0.0, rad)}
        b.logo_anchor = (0.0, rad * 0.6, rad * 0.8)
        b.logo_width = 0.4 * rad
        return
    if m.shape == "square":
        b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), min(w, h, d) * 0.12, grille)
        b.panel = Panel(0.0, h / 2, w / 2 - 0.5, h / 2 - 0.5, flat(d / 2))
        b.logo_anchor = (0.0, h * 0.2, d / 2)
        b.logo_width = 0.25 * w
        return
    if m.variant == "smart" or h > w or m.shape == "cylinder":
        rad = min(w, d) / 2
        b.cyl((0, h / 2, 0), 1, rad, h / 2, rounding=rad * 0.35, part=grille)
        b.cyl((0, h - 0.3, 0), 1, rad * 0.78, 0.45, rounding=0.3, color=_shade(m.color, 0.7),
              material="plastic")
        if b.has("buttons"):
            for dx in (-0.3, 0.0, 0.3):
                b.cyl((dx * rad, h + 0.25, 0), 1, rad * 0.09, 0.15, rounding=0.1, part="buttons")
        b.rings = {"top": Ring(0.0, h - 0.5, 0.0, rad * 0.92), "mid": Ring(0.0, h * 0.12, 0.0, rad * 0.97),
                   "low": Ring(0.0, h * 0.25, 0.0, rad)}
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
    b.rings = {"top": Ring(w / 2 - rad * 0.05, rad, 0.0, rad * 0.75, axis=0, mirror=True),
               "mid": Ring(w / 2 - rad * 0.4, rad, 0.0, rad * 0.95, axis=0, mirror=True)}
    b.panel = Panel(0.0, rad, w * 0.32, rad * 0.5,
                    lambda x, y: math.sqrt(max(rad * rad - (y - rad) ** 2, 0.0)))
    b.logo_anchor = (0.0, rad * 0.6, rad)
    b.logo_width = 0.16 * w


def _table(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    top_t = max(2.5, h * 0.05)
    legs = "legs" if b.has("legs") else "body"
    leg_r = max(1.8, w * 0.022)
    if m.shape in ("round", "cylinder", "sphere") or (m.legs and m.legs != 4):
        rad = min(w, d) / 2
        if m.shape in ("round", "cylinder", "sphere"):
            b.cyl((0, h - top_t / 2, 0), 1, rad, top_t / 2, rounding=top_t * 0.35)
            b.rings = {"top": Ring(0.0, h - top_t / 2, 0.0, rad)}
        else:
            b.box((0, h - top_t / 2, 0), (w / 2, top_t / 2, d / 2), top_t * 0.35)
        n = m.legs or 4
        if n == 1:  # a pedestal and a foot
            b.cyl((0, (h - top_t) / 2, 0), 1, leg_r * 1.8, (h - top_t) / 2 + 0.1, rounding=leg_r * 0.5,
                  part=legs)
            b.cyl((0, 1.2, 0), 1, rad * 0.45, 1.2, rounding=0.8, part=legs)
            b.feet.append((0.0, 0.0, rad * 0.45))
        else:
            _legs_round(b, n, rad - leg_r * 2.5, h - top_t + 0.1, leg_r, legs,
                        start=math.pi / 2 if n % 2 else math.pi / 4)
        if b.rings.get("top") is None:
            b.panel = Panel(0.0, h - top_t / 2, w / 2 - top_t * 0.35, top_t * 0.38, flat(d / 2))
        b.logo_anchor = (0.0, h - top_t / 2, rad)
        b.logo_width = 0.1 * w
        return
    b.box((0, h - top_t / 2, 0), (w / 2, top_t / 2, d / 2), top_t * 0.35)
    inset = leg_r * 2.5
    for x in (-w / 2 + inset, w / 2 - inset):
        for z in (-d / 2 + inset, d / 2 - inset):
            b.cyl((x, (h - top_t) / 2, z), 1, leg_r, (h - top_t) / 2 + 0.1, rounding=leg_r * 0.4,
                  part=legs)
            b.feet.append((x, z, leg_r))
    b.panel = Panel(0.0, h - top_t / 2, w / 2 - top_t * 0.35, top_t * 0.38, flat(d / 2))
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
    b.panel = Panel(0.0, base_t + (h - base_t) / 2 + 0.3, w / 2 - 0.45, (h - base_t) / 2 - 0.75,
                    flat(-d / 2 + lid_t + 0.04))
    b.logo_anchor = (0.0, base_t + (h - base_t) / 2, -d / 2 + lid_t + 0.05)
    b.logo_width = 0.0


def _vase(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    if m.shape in ("cylinder", "square"):
        if m.shape == "cylinder":
            b.cyl((0, h / 2, 0), 1, rad, h / 2, rounding=0.5, hollow=0.6)
        else:
            b.box((0, h / 2, 0), (rad, h / 2, m.depth / 2), 0.6)
        b.rings = {"top": Ring(0.0, h - 0.3, 0.0, rad * 0.99), "mid": Ring(0.0, h * 0.5, 0.0, rad),
                   "low": Ring(0.0, h * 0.15, 0.0, rad)} if m.shape == "cylinder" else {}
        if m.shape == "square":
            b.panel = Panel(0.0, h / 2, rad - 0.6, h / 2 - 0.6, flat(m.depth / 2))
        b.logo_anchor = (0.0, h * 0.45, rad)
        b.logo_width = 0.45 * w
        return
    belly = h * 0.38
    if m.shape == "sphere":
        belly = h * 0.45
        b.ell((0, belly, 0), (rad, belly, rad))
        b.cyl((0, (2 * belly + h) / 2 - 0.5, 0), 1, rad * 0.3, (h - 2 * belly) / 2 + 0.6, rounding=0.3,
              hollow=0.4)
        b.rings = {"mid": Ring(0.0, belly, 0.0, rad), "top": Ring(0.0, h - 0.2, 0.0, rad * 0.3)}
        b.logo_anchor = (0.0, belly, rad)
        b.logo_width = 0.45 * w
        return
    b.ell((0, belly, 0), (rad, belly * 1.05, rad), clip=(1, 1, -belly))
    b.cyl((0, (belly + h) / 2 + 0.1, 0), 1, rad * 0.62, (h - belly) / 2, radius2=rad * 0.5,
          rounding=0.3, hollow=0.5)
    b.torus((0, h - 0.3, 0), 1, rad * 0.5 - 0.1, 0.45, "trim" if b.has("trim") else "body")
    if b.has("trim"):
        b.front_seen.add("trim")
    low_y = belly * 0.3
    b.rings = {"mid": Ring(0.0, belly, 0.0, rad),
               "low": Ring(0.0, low_y, 0.0,
                           rad * math.sqrt(max(1 - ((low_y - belly) / (belly * 1.05)) ** 2, 0.0)))}
    b.logo_anchor = (0.0, belly, rad)
    b.logo_width = 0.45 * w


def _generic(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    if m.shape == "sphere":
        b.ell((0, h / 2, 0), (w / 2, h / 2, d / 2))
        b.rings = {"mid": Ring(0.0, h / 2, 0.0, w / 2), "low": Ring(0.0, h * 0.3, 0.0, w / 2 * 0.92)}
    elif m.shape in ("round", "cylinder"):
        b.cyl((0, h / 2, 0), 1, w / 2, h / 2, rounding=min(w, h) * 0.08)
        b.rings = {"top": Ring(0.0, h - min(w, h) * 0.04, 0.0, w / 2 * 0.99),
                   "mid": Ring(0.0, h / 2, 0.0, w / 2), "low": Ring(0.0, h * 0.15, 0.0, w / 2)}
    else:
        r = min(w, h, d) * (0.08 if m.shape == "square" else 0.28)
        b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), r)
    b.logo_anchor = (0.0, h / 2, d / 2)
    b.logo_width = 0.3 * w


def _legs_round(b: _Builder, n: int, radius: float, top: float, leg_r: float, part: str,
                start: float = math.pi / 2) -> None:
    """``n`` upright legs evenly on a circle (the first towards the front)."""
    for k in range(n):
        a = start + 2 * math.pi * k / n
        x, z = radius * math.cos(a), radius * math.sin(a)
        b.cyl((x, top / 2, z), 1, leg_r, top / 2, rounding=leg_r * 0.4, part=part)
        b.feet.append((x, z, leg_r))


# --- categories from Google's product taxonomy (see model.TEMPLATES for each one's path)


def _sofa(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    seat, back = ("seat" if b.has("seat") else "body"), ("backrest" if b.has("backrest") else "body")
    leg_h, arm_w = min(12.0, h * 0.14), min(20.0, w * 0.1)
    base_top = h * 0.42
    b.box((0, (leg_h + base_top) / 2, 0), (w / 2, (base_top - leg_h) / 2, d / 2), 4.0)  # the frame
    for sx in (-1, 1):  # arms
        b.box((sx * (w / 2 - arm_w / 2), (leg_h + h * 0.68) / 2, 0),
              (arm_w / 2, (h * 0.68 - leg_h) / 2, d / 2),
              min(arm_w / 2, 6.0))
    inner = w - 2 * arm_w
    n = 3 if inner > 150 else 2
    cw = inner / n
    cush_t = h * 0.14
    for i in range(n):  # seat and back cushions
        x = -inner / 2 + cw * (i + 0.5)
        b.box((x, base_top + cush_t / 2, d * 0.08), (cw / 2 - 0.6, cush_t / 2, d * 0.4), cush_t * 0.45, seat)
        b.box((x, (base_top + h) / 2 + cush_t * 0.3, -d / 2 + d * 0.13),
              (cw / 2 - 0.6, (h - base_top) / 2 - cush_t * 0.3,
              d * 0.13), 5.0, back)
    legs = "legs" if b.has("legs") else "body"
    for x in (-w / 2 + 6, w / 2 - 6):
        for z in (-d / 2 + 6, d / 2 - 6):
            b.cyl((x, leg_h / 2, z), 1, 2.2, leg_h / 2, radius2=1.6, rounding=0.5, part=legs)
            b.feet.append((x, z, 2.0))
    b.panel = Panel(0.0, (leg_h + base_top) / 2, inner / 2, (base_top - leg_h) / 2 - 3.0, flat(d / 2))
    b.logo_anchor = (0.0, (leg_h + base_top) / 2, d / 2)
    b.logo_width = 0.1 * w


def _kettle(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    rad = d / 2
    base = "base" if b.has("base") else "body"
    b.cyl((0, 1.0, 0), 1, rad * 1.02, 1.0, rounding=0.6, part=base)
    body_top = h * 0.82
    b.cyl((0, (2.0 + body_top) / 2, 0), 1, rad, (body_top - 2.0) / 2, radius2=rad * 0.78, rounding=1.2)
    lid = "lid" if b.has("lid") else "body"
    b.cyl((0, body_top + 0.6, 0), 1, rad * 0.74, 0.8, rounding=0.6, part=lid)
    b.ell((0, body_top + 1.5, 0), (1.2, 1.0, 1.2), lid)
    spout_len = w / 2 - rad  # the spout reaches out to the left, rising
    b.cyl((-rad - spout_len / 2 + 1.0, body_top * 0.78, 0), 0, 1.1, spout_len / 2 + 1.0, radius2=2.4,
          rounding=0.8)
    if b.has("handle"):  # a D handle on the right
        b.torus((rad * 0.7, body_top * 0.55, 0), 2, body_top * 0.3, 1.1, "handle", clip=(0, 1))
    b.rings = {"top": Ring(0.0, body_top, 0.0, rad * 0.78), "mid": Ring(0.0, body_top * 0.5, 0.0, rad * 0.9),
               "low": Ring(0.0, 2.2, 0.0, rad)}
    b.logo_anchor = (0.0, body_top * 0.45, rad * 0.9)
    b.logo_width = 0.4 * d


def _suitcase(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    wheel_r = 3.2
    lo = wheel_r * 1.6
    b.box((0, (lo + h * 0.86) / 2, 0), (w / 2, (h * 0.86 - lo) / 2, d / 2), min(6.0, d / 3))
    for x in (-w * 0.25, 0.0, w * 0.25):  # moulded ridges down the front
        b.box((x, (lo + h * 0.86) / 2, d / 2 - 0.4), (w * 0.045, (h * 0.86 - lo) / 2 - 5.0, 0.9), 0.8)
    handle = "handle" if b.has("handle") else "body"
    top = h * 0.86
    for x in (-w * 0.3, w * 0.3):  # the trolley handle
        b.cyl((x, (top + h) / 2, -d * 0.36), 1, 0.9, (h - top) / 2, rounding=0.4, part=handle)
    b.box((0, h - 1.0, -d * 0.36), (w * 0.32, 1.0, 1.3), 0.9, handle)
    b.box((0, top + 0.8, 0), (w * 0.14, 0.8, 1.4), 0.7, handle)  # the carry handle
    wheels = "wheels" if b.has("wheels") else "body"
    for x in (-w / 2 + wheel_r + 1, w / 2 - wheel_r - 1):
        for z in (-d / 2 + wheel_r + 1, d / 2 - wheel_r - 1):
            b.cyl((x, wheel_r, z), 0, wheel_r, 1.1, rounding=0.6, part=wheels)
            b.feet.append((x, z, wheel_r))
    b.panel = Panel(0.0, (lo + top) / 2, w / 2 - 4.0, (top - lo) / 2 - 4.0, flat(d / 2 + 0.9))
    b.logo_anchor = (-w * 0.125, top * 0.8, d / 2)
    b.logo_width = 0.14 * w


def _tshirt(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    t = d / 2
    b.box((0, h * 0.42, 0), (w / 2, h * 0.42, t), 1.5)  # the body, laid out flat and hung up
    sl_w, sl_h = w * 0.3, h * 0.24
    for sx in (-1, 1):  # short sleeves out and down from the shoulders
        b.box((sx * (w / 2 + sl_w * 0.38), h * 0.8, 0), (sl_w * 0.55, sl_h / 2, t * 0.9), 1.5)
        b.box((sx * (w / 2 + sl_w * 0.7), h * 0.72, 0), (sl_w * 0.3, sl_h * 0.42, t * 0.85), 1.5)
    b.box((0, h * 0.88, 0), (w * 0.5, h * 0.07, t), 2.0)  # shoulders
    collar = "trim" if b.has("trim") else "body"
    b.torus((0, h * 0.95, t * 0.6), 2, w * 0.13, 1.0, collar, clip=(1, -1),
            color=None if collar == "trim" else _shade(m.color, 0.8))
    b.ell((0, h * 0.93, t * 0.3), (w * 0.12, h * 0.04, t * 0.5), color=_shade(m.color, 0.55))
    if collar == "trim":
        b.front_seen.add("trim")
    b.panel = Panel(0.0, h * 0.45, w * 0.4, h * 0.36, flat(t))
    b.logo_anchor = (0.0, h * 0.62, t)
    b.logo_width = 0.3 * w


def _sunglasses(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    lens = "lens" if b.has("lens") else "body"
    lw = w * 0.4
    y = h / 2 + 0.3
    for sx in (-1, 1):
        cx = sx * w * 0.25
        b.ell((cx, y, d / 2 - 0.3), (lw / 2, h / 2 - 0.1, 0.35), lens)  # lenses
        b.box((cx, y + h / 2 - 0.35, d / 2 - 0.3), (lw / 2 + 0.1, 0.4, 0.4), 0.3)  # brow bar
        b.box((sx * (w / 2 - 0.2), y + h * 0.3, 0.0), (0.25, 0.3, d / 2 - 0.3), 0.2)  # temples
        b.box((sx * (w / 2 - 0.2), y + h * 0.05, -d / 2 + 1.2), (0.25, h * 0.3, 1.0), 0.2)  # ear tips
    b.box((0, y + h * 0.15, d / 2 - 0.3), (w * 0.06, 0.3, 0.35), 0.25)  # bridge
    b.panel = Panel(0.0, y, w * 0.45, h * 0.4, flat(d / 2))
    b.logo_anchor = (w * 0.4, y + h * 0.3, d / 2)
    b.logo_width = 0.0


def _camera(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    body_h = h * 0.78
    b.box((0, body_h / 2, 0), (w / 2, body_h / 2, d * 0.3), 0.8)
    b.box((-w * 0.36, body_h / 2, d * 0.2), (w * 0.14, body_h / 2 - 0.1, d * 0.22), 1.2)  # the grip
    b.box((w * 0.05, body_h + (h - body_h) / 2 - 0.2, -d * 0.05),
          (w * 0.14, (h - body_h) / 2 + 0.2, d * 0.25),
          0.5)  # the viewfinder hump
    lens = "lens" if b.has("lens") else "body"
    lr = min(body_h * 0.42, w * 0.28)
    b.cyl((w * 0.08, body_h * 0.48, d * 0.3 + d * 0.25), 2, lr, d * 0.25, rounding=0.4, color=(36, 36, 38),
          material="plastic")
    b.cyl((w * 0.08, body_h * 0.48, d * 0.3 + d * 0.5 + 0.1), 2, lr * 0.92, 0.15, rounding=0.1,
          color=(90, 90, 94), material="metal")
    b.cyl((w * 0.08, body_h * 0.48, d * 0.3 + d * 0.5 + 0.2), 2, lr * 0.7, 0.12, rounding=0.1, part=lens)
    buttons = "buttons" if b.has("buttons") else "body"
    b.cyl((-w * 0.36, body_h + 0.3, d * 0.15), 1, 0.6, 0.3, rounding=0.2, part=buttons)
    b.cyl((w * 0.34, body_h + 0.25, 0.0), 1, 1.0, 0.25, rounding=0.15, part=buttons)
    b.panel = Panel(w * 0.08, body_h / 2, w * 0.4, body_h / 2 - 0.8, flat(d * 0.3))
    b.logo_anchor = (w * 0.05, body_h + (h - body_h) / 2, d * 0.2)
    b.logo_width = 0.16 * w


def _toaster(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), min(w, h, d) * 0.22)
    for z in (-d * 0.18, d * 0.18):  # the two slots
        b.box((0, h - 0.2, z), (w * 0.36, 0.3, d * 0.07), 0.2, color=(26, 26, 28), material="plastic")
    buttons = "buttons" if b.has("buttons") else "body"
    b.box((w * 0.3, h * 0.62, d / 2 + 0.6), (1.6, 0.7, 0.8), 0.4, buttons)  # lever
    b.cyl((-w * 0.3, h * 0.35, d / 2 + 0.4), 2, 1.4, 0.45, rounding=0.3, part=buttons)  # dial
    b.box((0, 0.4, 0), (w / 2 - 1.0, 0.4, d / 2 - 1.0), 0.3, color=(36, 36, 38), material="plastic")
    b.panel = Panel(0.0, h * 0.5, w / 2 - 3.0, h / 2 - 3.0, flat(d / 2))
    b.logo_anchor = (0.0, h * 0.2, d / 2)
    b.logo_width = 0.2 * w


def _wallet(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), min(d / 2, 1.0))
    b.box((0, h * 0.72, d / 2 - 0.05), (w / 2 - 0.4, h * 0.22, 0.12), 0.1, color=_shade(m.color, 0.85))
    b.panel = Panel(0.0, h / 2, w / 2 - 0.5, h / 2 - 0.5, flat(d / 2))
    b.logo_anchor = (0.0, h * 0.35, d / 2)
    b.logo_width = 0.3 * w


def _hat(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    crown_d = d * 0.68
    cz = -d / 2 + crown_d / 2
    b.ell((0, 0.0, cz), (w / 2, h, crown_d / 2), clip=(1, 1, 0.0))  # the crown
    brim = "brim" if b.has("brim") else "body"
    b.ell((0, 0.5, cz + crown_d * 0.42), (w * 0.42, 0.5, d * 0.42), brim, clip=(2, 1, 0.0))
    b.ell((0, h, cz), (0.9, 0.5, 0.9))  # the button
    for sx in (-1, 1):  # panel seams
        b.box((sx * w * 0.18, h * 0.5, cz + crown_d * 0.4), (0.08, h * 0.35, 0.1), 0.05,
              color=_shade(m.color, 0.75))
    def crown(x: float, y: float) -> float:
        return cz + crown_d / 2 * math.sqrt(max(1 - (x / (w / 2)) ** 2 - (y / h) ** 2, 0.0))

    b.panel = Panel(0.0, h * 0.5, w * 0.25, h * 0.25, crown)
    b.logo_anchor = (0.0, h * 0.5, cz + crown_d / 2 * 0.85)
    b.logo_width = 0.3 * w


def _bowl(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    b.cyl((0, 0.4, 0), 1, rad * 0.42, 0.4, rounding=0.3)  # the foot
    b.cyl((0, (0.8 + h) / 2, 0), 1, rad * 0.55, (h - 0.8) / 2, radius2=rad, rounding=0.5, hollow=0.5)
    b.rings = {"top": Ring(0.0, h - 0.25, 0.0, rad * 0.99), "mid": Ring(0.0, h * 0.6, 0.0, rad * 0.85),
               "low": Ring(0.0, h * 0.3, 0.0, rad * 0.7)}
    b.logo_anchor = (0.0, h * 0.55, rad * 0.82)
    b.logo_width = 0.3 * w


def _glass(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    b.cyl((0, 0.3, 0), 1, rad * 0.85, 0.3, rounding=0.2)  # the foot
    stem_top = h * 0.42
    b.cyl((0, stem_top / 2, 0), 1, 0.45, stem_top / 2, rounding=0.2)
    bowl_h = h - stem_top
    b.ell((0, stem_top + bowl_h * 0.35, 0), (rad, bowl_h * 0.4, rad), clip=(1, -1, 0.0))
    b.cyl((0, stem_top + bowl_h * 0.35 + bowl_h * 0.325, 0), 1, rad, bowl_h * 0.325, radius2=rad * 0.82,
          rounding=0.2, hollow=0.2)
    b.rings = {"top": Ring(0.0, h - 0.15, 0.0, rad * 0.82),
               "mid": Ring(0.0, stem_top + bowl_h * 0.35, 0.0, rad),
               "low": Ring(0.0, 0.4, 0.0, rad * 0.85)}
    b.logo_anchor = (0.0, stem_top + bowl_h * 0.4, rad)
    b.logo_width = 0.5 * w


def _candle(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = w / 2
    top = h * 0.8
    b.cyl((0, top / 2, 0), 1, rad, top / 2, rounding=0.5)
    b.cyl((0, top + 0.6, 0), 1, 0.12, 0.6, color=(30, 28, 26), material="fabric")  # the wick
    b.ell((0, top + 1.9, 0), (0.45, 1.0, 0.45), color=(255, 196, 90), material="plastic")  # the flame
    b.rings = {"top": Ring(0.0, top - 0.3, 0.0, rad), "mid": Ring(0.0, top * 0.5, 0.0, rad),
               "low": Ring(0.0, top * 0.15, 0.0, rad)}
    b.logo_anchor = (0.0, top * 0.45, rad)
    b.logo_width = 0.6 * w


def _monitor(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    panel_h = h * 0.72
    py = h - panel_h / 2
    b.box((0, py, 0), (w / 2, panel_h / 2, 1.2), 0.8)
    screen = "screen" if b.has("screen") else "body"
    b.box((0, py + 0.3, 1.2), (w / 2 - 1.0, panel_h / 2 - 1.6, 0.06), 0.05, screen)
    stand = "base" if b.has("base") else "body"
    b.box((0, (h - panel_h) / 2 + 2.0, -3.0), (2.5, (h - panel_h) / 2 + 2.0, 1.2), 1.0, stand)  # the neck
    b.box((0, 0.5, -1.0), (w * 0.16, 0.5, d / 2 - 1.0), 0.4, stand)  # the foot
    b.panel = Panel(0.0, py, w / 2 - 0.4, panel_h / 2 - 0.4, flat(1.26))
    b.logo_anchor = (0.0, h - panel_h + 0.7, 1.2)
    b.logo_width = 0.06 * w


def _mouse(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.ell((0, 0.2, 0), (w / 2, h - 0.2, d / 2), clip=(1, 1, 0.0))
    buttons = "buttons" if b.has("buttons") else "body"
    b.cyl((0, h - 0.55, d * 0.22), 0, 0.45, 0.35, rounding=0.15, part=buttons)  # the wheel
    def dome(x: float, y: float) -> float:
        return d / 2 * math.sqrt(max(1 - (x / (w / 2)) ** 2 - ((y - 0.2) / (h - 0.2)) ** 2, 0.0))

    b.panel = Panel(0.0, h * 0.45, w * 0.3, h * 0.25, dome)
    b.logo_anchor = (0.0, h * 0.5, -d * 0.3)
    b.logo_width = 0.0


def _dumbbell(b: _Builder) -> None:
    m = b.m
    w, h = m.width, m.height
    rad = h / 2
    handle = "handle" if b.has("handle") else "body"
    b.cyl((0, rad, 0), 0, rad * 0.26, w * 0.3, rounding=0.3, part=handle)
    for sx in (-1, 1):
        b.cyl((sx * w * 0.36, rad, 0), 0, rad, w * 0.13, rounding=rad * 0.25)
        b.cyl((sx * w * 0.23, rad, 0), 0, rad * 0.45, w * 0.02, rounding=0.3, part=handle)
    b.rings = {"top": Ring(w * 0.23, rad, 0.0, rad * 0.8, axis=0, mirror=True),
               "mid": Ring(w * 0.36, rad, 0.0, rad * 1.0, axis=0, mirror=True)}
    b.panel = Panel(0.0, rad, w * 0.2, rad * 0.2, lambda x, y: rad * 0.26)
    b.logo_anchor = (w * 0.36, rad, rad)
    b.logo_width = 0.15 * w


def _book(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    cover_t = 0.25
    for z in (-d / 2 + cover_t / 2, d / 2 - cover_t / 2):  # covers
        b.box((0, h / 2, z), (w / 2, h / 2, cover_t / 2), 0.1)
    b.box((-w / 2 + 0.3, h / 2, 0), (0.3, h / 2, d / 2), 0.25)  # the spine
    b.box((0.15, h / 2, 0), (w / 2 - 0.35, h / 2 - 0.3, d / 2 - cover_t), 0.05, color=(238, 232, 214),
          material="cardboard")  # pages
    b.panel = Panel(0.0, h / 2, w / 2 - 1.0, h / 2 - 1.0, flat(d / 2))
    b.logo_anchor = (0.0, h * 0.62, d / 2)
    b.logo_width = 0.4 * w


def _perfume(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    body_h = h * 0.68
    b.box((0, body_h / 2, 0), (w / 2, body_h / 2, d / 2), 0.6)
    b.box((0, body_h * 0.45, 0), (w / 2 - 0.5, body_h * 0.36, d / 2 - 0.5), 0.4, color=(226, 190, 140),
          material="plastic")  # the scent inside
    b.cyl((0, body_h + 0.5, 0), 1, 0.6, 0.6, rounding=0.2, color=(200, 200, 204), material="metal")
    cap = "cap" if b.has("cap") else "body"
    cap_h = h - body_h - 1.0
    b.box((0, h - cap_h / 2, 0), (w * 0.26, cap_h / 2, d * 0.35), 0.4, cap)
    b.panel = Panel(0.0, body_h / 2, w / 2 - 0.6, body_h / 2 - 0.6, flat(d / 2))
    b.logo_anchor = (0.0, body_h * 0.5, d / 2)
    b.logo_width = 0.5 * w


def _clock(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    rad = min(w, h) / 2
    b.cyl((0, rad, 0), 2, rad, d / 2, rounding=1.0)
    face = "face" if b.has("face") else "body"
    b.cyl((0, rad, d / 2 - 0.2), 2, rad * 0.86, 0.25, rounding=0.1, part=face)
    dark = (30, 30, 32)
    for k in range(12):  # hour marks
        a = 2 * math.pi * k / 12
        b.box((rad * 0.74 * math.sin(a), rad + rad * 0.74 * math.cos(a), d / 2 + 0.1), (0.25, 0.25, 0.08),
              0.05, color=dark, material="plastic")
    b.box((rad * 0.18, rad + rad * 0.1, d / 2 + 0.2), (rad * 0.2, 0.3, 0.06), 0.05, color=dark,
          material="metal")
    b.box((-rad * 0.05, rad + rad * 0.3, d / 2 + 0.28), (0.22, rad * 0.32, 0.06), 0.05, color=dark,
          material="metal")
    b.rings = {"top": Ring(0.0, rad, d / 2 - 0.1, rad * 0.93, axis=2)}
    b.logo_anchor = (0.0, rad * 0.55, d / 2)
    b.logo_width = 0.0


def _pillow(b: _Builder) -> None:
    m = b.m
    w, h, d = m.width, m.height, m.depth
    b.box((0, h / 2, 0), (w / 2, h / 2, d / 2), d / 2 * 0.95)
    b.ell((0, h / 2, 0), (w / 2 - 0.6, h / 2 - 0.6, d / 2 + 1.2))  # the plump middle

    def puff(x: float, y: float) -> float:
        q = 1 - (x / (w / 2 - 0.6)) ** 2 - ((y - h / 2) / (h / 2 - 0.6)) ** 2
        return (d / 2 + 1.2) * math.sqrt(max(q, 0.0))

    b.panel = Panel(0.0, h / 2, w * 0.3, h * 0.3, puff)
    b.logo_anchor = (0.0, h / 2, d / 2 + 1.2)
    b.logo_width = 0.25 * w


_BUILDERS = {
    "bag": _bag, "backpack": _backpack, "bottle": _bottle, "mug": _mug, "tumbler": _tumbler,
    "box": _box, "shoe": _shoe, "chair": _chair, "lamp": _lamp, "watch": _watch, "phone": _phone,
    "headphones": _headphones, "speaker": _speaker, "table": _table, "laptop": _laptop,
    "vase": _vase, "product": _generic, "sofa": _sofa, "kettle": _kettle, "suitcase": _suitcase,
    "tshirt": _tshirt, "sunglasses": _sunglasses, "camera": _camera, "toaster": _toaster, "wallet": _wallet,
    "hat": _hat, "bowl": _bowl, "glass": _glass, "candle": _candle, "monitor": _monitor, "mouse": _mouse,
    "dumbbell": _dumbbell, "book": _book, "perfume": _perfume, "clock": _clock, "pillow": _pillow,
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


ACCENT_PARTS = ("hardware", "trim", "stitching", "zipper", "buckle")


def _accents(b: _Builder, lo: np.ndarray, hi: np.ndarray) -> None:
    """Hardware, trim, stitching, a zip or a buckle the words asked for, where the front
    camera sees them: on the builder's front panel, round the bands of a round body, on
    the feet of legs; else on a panel over the front of the body's box."""
    for name in ACCENT_PARTS:
        part = b.m.part(name)
        if part is None or name in b.front_seen or (name in b.used and not part.explicit):
            continue
        if b.rings and _ring_accent(b, name):
            continue
        if b.feet and name == "hardware":
            _feet_accent(b)
            continue
        panel = b.panel or _default_panel(b, lo, hi)
        _panel_accent(b, name, panel)


def _default_panel(b: _Builder, lo: np.ndarray, hi: np.ndarray) -> Panel:
    body = [p for p in b.prims if p.part == "body"] or b.prims
    blo, bhi = _bounds(body)
    w, h = bhi[0] - blo[0], bhi[1] - blo[1]
    r = min(max((p.rounding for p in body if p.kind == "box"), default=0.0), 0.3 * min(w, h))
    return Panel((blo[0] + bhi[0]) / 2, (blo[1] + bhi[1]) / 2, w / 2 - r * 0.8, h / 2 - r * 0.8,
                 flat(float(bhi[2])))


def _on_panel(b: _Builder, panel: Panel, name: str, x: float, y: float, hx: float, hy: float,
              t: float) -> None:
    """A small raised box on the panel's surface (deep enough to meet a curved front)."""
    zs = [panel.z(xx, yy) for xx in (x - hx, x, x + hx) for yy in (y - hy, y, y + hy)]
    front, back = max(zs) + t, min(zs) - 0.1
    b.box((x, y, (front + back) / 2), (hx, hy, (front - back) / 2), min(hx, hy, t) * 0.6, name)


def _panel_accent(b: _Builder, name: str, p: Panel) -> None:
    s = max(min(p.hw, p.hh), 0.5)
    t = max(0.02 * s, 0.12)
    if name == "hardware":  # a clasp, two fittings near the top corners and a bar along the top
        _on_panel(b, p, name, p.cx, p.cy - 0.1 * p.hh, 0.14 * p.hw, 0.11 * p.hh, 2 * t)
        for sx in (-1, 1):
            _on_panel(b, p, name, p.cx + sx * 0.78 * p.hw, p.cy + 0.74 * p.hh, 0.06 * p.hw, 0.09 * p.hh,
                      1.5 * t)
        _on_panel(b, p, name, p.cx, p.cy + 0.93 * p.hh, 0.86 * p.hw, max(0.03 * p.hh, 0.15), t)
    elif name == "buckle":
        _on_panel(b, p, name, p.cx, p.cy - 0.2 * p.hh, 0.13 * p.hw, 0.1 * p.hh, 2 * t)
    elif name == "trim":  # piping round the front
        k = max(0.05 * s, 0.2)
        _on_panel(b, p, name, p.cx, p.cy + p.hh - k, p.hw, k, t)
        _on_panel(b, p, name, p.cx, p.cy - p.hh + k, p.hw, k, t)
        for sx in (-1, 1):
            _on_panel(b, p, name, p.cx + sx * (p.hw - k), p.cy, k, p.hh, t)
    elif name == "stitching":  # two dashed rows just inside the edges
        k = max(0.022 * s, 0.15)
        for inset in (0.1 * s, 0.16 * s):
            _dashes(b, p, name, p.hw - inset, p.hh - inset, k, t * 0.5)
    elif name == "zipper":  # a track across the upper front and its pull
        k = max(0.03 * p.hh, 0.2)
        y = p.cy + 0.62 * p.hh
        _on_panel(b, p, name, p.cx, y, 0.82 * p.hw, k, t)
        _on_panel(b, p, name, p.cx + 0.7 * p.hw, y - 0.1 * p.hh, 0.035 * p.hw + 0.1, 0.1 * p.hh, 1.5 * t)
    b.used.add(name)


def _dashes(b: _Builder, p: Panel, name: str, hx: float, hy: float, k: float, t: float) -> None:
    dash = max(6 * k, 0.4)
    for horizontal, half, across in ((True, hx, hy), (False, hy, hx)):
        n = max(int(2 * half / (dash * 1.6)), 2)
        for i in range(n):
            along = -half + (i + 0.5) * 2 * half / n
            for sign in (-1, 1):
                if horizontal:
                    _on_panel(b, p, name, p.cx + along, p.cy + sign * across, dash / 2, k, t)
                else:
                    _on_panel(b, p, name, p.cx + sign * across, p.cy + along, k, dash / 2, t)


def _ring_accent(b: _Builder, name: str) -> bool:
    """A band round a round body: a rim at the top (trim), a metal band (hardware), a
    thin line low down (stitching). False when the body has no band for it."""
    where = {"trim": "top", "hardware": "mid", "stitching": "low", "buckle": "mid"}.get(name)
    ring = b.rings.get(where or "")
    if ring is None:
        return False
    r = ring.radius
    tube = max(0.035 * r, 0.18) if name != "stitching" else max(0.02 * r, 0.12)
    if name == "hardware" and ring.axis == 1:
        b.cyl((ring.x, ring.y, ring.z), 1, r + tube * 0.6, max(0.07 * r, 0.3), rounding=tube * 0.5, part=name)
    elif name == "buckle":
        b.box((ring.x, ring.y, ring.z + r + 0.1), (0.3 * r, 0.2 * r, 0.2), 0.1, name)
    else:
        for x in ((ring.x, -ring.x) if ring.mirror else (ring.x,)):
            b.torus((x, ring.y, ring.z), ring.axis, r, tube, name)
    b.used.add(name)
    return True


def _feet_accent(b: _Builder) -> None:
    """Metal caps on the feet of the legs (front legs in the front's view)."""
    for x, z, r in b.feet:
        cap = max(r * 1.5, 0.8)
        b.cyl((x, cap / 2, z), 1, r * 1.12, cap / 2, rounding=r * 0.2, part="hardware")
    b.used.add("hardware")


def build_scene(model: ProductModel) -> Scene:
    """The product's primitives (one model behind all five views)."""
    b = _Builder(model)
    _BUILDERS.get(model.category, _generic)(b)
    if b.prims:
        lo0, hi0 = _bounds(b.prims)
        _accents(b, lo0, hi0)
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

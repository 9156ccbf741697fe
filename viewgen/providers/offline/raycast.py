"""Ray casting: per pixel, the nearest surface of a scene seen by an orthographic camera.

Each primitive is moved into the camera's axes (the five views and any quarter turn
are signed permutations of the world axes) and intersected analytically, per pixel and
only inside its projected box, with vectorised numpy: depth and normal of the nearest
surface, z-buffered, with the analytic coverage used for anti-aliased edges
(``_geometry``). ``camera.py`` ray marches the cameras in between.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from viewgen.providers.offline.scene import (
    MARGIN,
    Prim,
    Scene,
    _at_least,
)
from viewgen.providers.offline.shading import (
    _KEY,
)

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

"""Render the product from any camera: ``render_at`` (azimuth, elevation), ``render_spin``.

The five catalogue views look along the world axes and go through the analytic caster
in ``render.py`` unchanged (``render_at(m, 0, 0)`` is the front, pixel for pixel, and
90 / 180 / 270 are the right side, the back and the left side; elevation 90 is the
top, ``(180, -90)`` the bottom). Any other camera (a three-quarter hero shot,
``render_at(m, HERO[0], HERO[1])``, or a turntable frame) is ray marched: each
primitive's exact or bounded signed distance field is sphere traced along the
orthographic rays that cross its bounding box, the nearest hit per pixel wins, normals
come from the field's gradient, and the result is shaded and composited by the same
``shade_geometry`` as the catalogue views, so materials, textures and shadows match.

Conventions: world x right, y up, z towards the front camera; azimuth turns the camera
about the vertical axis from the front (0) towards the product's right side (90);
elevation raises it (positive looks down on the product).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np

from viewgen.domain import ViewType
from viewgen.providers.offline.model import ProductModel
from viewgen.providers.offline.render import (
    DEFAULT_SIZE,
    MARGIN,
    VIEW_FRAMES,
    Prim,
    RenderedView,
    Scene,
    _as_size,
    _at_least,
    _CamPrim,
    _Geometry,
    _geometry,
    build_scene,
    render_view,
    scene_scale,
    shade_geometry,
)

#: the three-quarter "hero" camera: (azimuth, elevation) in degrees
HERO: tuple[float, float] = (45.0, 20.0)
MAX_STEPS = 128


def camera_frame(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """The camera's axes (rows u right, v up, w towards the camera) in world axes."""
    a, e = math.radians(azimuth_deg), math.radians(elevation_deg)
    sa, ca, se, ce = math.sin(a), math.cos(a), math.sin(e), math.cos(e)
    frame = np.array([[ca, 0.0, -sa],
                      [-sa * se, ce, -ca * se],
                      [sa * ce, se, ca * ce]], dtype=np.float64)
    snapped = np.round(frame)
    if np.abs(frame - snapped).max() < 1e-9:
        frame = snapped + 0.0  # a quarter turn: exact, so the analytic caster takes it
    return frame


def _is_axis_aligned(frame: np.ndarray) -> bool:
    return bool(np.all(np.isin(frame, (-1.0, 0.0, 1.0))))


def _catalogue_view(frame: np.ndarray) -> ViewType | None:
    for view, f in VIEW_FRAMES.items():
        if np.array_equal(frame, f):
            return view
    return None


def _scene(model: ProductModel | Scene) -> Scene:
    return model if isinstance(model, Scene) else build_scene(model)


def fit_scale(scene: Scene, frame: np.ndarray, size: tuple[int, int]) -> float:
    """Pixels per centimetre at which the scene's bounding box, seen through ``frame``,
    fits the image with the renderer's margin (and never larger than the catalogue
    views' scale, so every camera shows the product at the same size or smaller)."""
    W, H = size
    ext = np.abs(frame[:2]) @ scene.extent  # projected width, height of the box
    fit = min((1 - 2 * MARGIN) * W / max(float(ext[0]), 1e-6),
              (1 - 2 * MARGIN) * H / max(float(ext[1]), 1e-6))
    return min(fit, scene_scale(scene, size))


def render_at(model: ProductModel | Scene, azimuth_deg: float, elevation_deg: float = 0.0,
              size: int | tuple[int, int] = DEFAULT_SIZE, *, logo: bytes | None = None,
              scale: float | None = None) -> RenderedView:
    """The product seen from (azimuth, elevation) degrees, orthographic, on the studio
    backdrop. The five catalogue cameras give exactly ``render_view``'s pixels (the logo
    on the front one only); any other camera ray marches, and a logo is projected onto
    the face the front view prints it on, turning with it. ``scale`` (pixels per cm) defaults to one that
    fits this camera (``fit_scale``); pass one scale to keep a sequence steady."""
    size = _as_size(size)
    scene = _scene(model)
    frame = camera_frame(azimuth_deg, elevation_deg)
    view = _catalogue_view(frame)
    meta: dict[str, object] = {"azimuth": float(azimuth_deg), "elevation": float(elevation_deg),
                               "view": view.value if view else None}
    if view is not None:
        out = render_view(scene, view, size, logo, scale=scale)
        out.meta.update(meta)
        return out
    scale = scale if scale is not None else fit_scale(scene, frame, size)
    # a quarter turn that is not a catalogue view (the left side) cannot see the front
    # face, so only an oblique camera prints the logo (or the emblem the front shows)
    oblique = not _is_axis_aligned(frame)
    geo = march_geometry(scene, frame, size, scale) if oblique else _geometry(scene, frame, size, scale)
    digest = hashlib.sha256(f"{azimuth_deg:.4f}/{elevation_deg:.4f}".encode()).digest()
    steep = abs(elevation_deg) >= 60.0
    out = shade_geometry(scene, geo, size, scale, noise_index=5 + int.from_bytes(digest[:3], "big"),
                         drop_shadow=steep, ground_row=None, logo=logo, decal=oblique,
                         frame=frame if oblique else None)
    out.meta.update(meta)
    return out


def spin_azimuths(frames: int) -> list[float]:
    """``frames`` azimuths evenly around the vertical axis, starting at the front and
    turning towards the right side."""
    if frames < 1:
        raise ValueError("a spin needs at least one frame")
    return [360.0 * i / frames for i in range(frames)]


def render_spin(model: ProductModel | Scene, frames: int = 36, size: int | tuple[int, int] = (256, 256),
                *, elevation_deg: float = 0.0, logo: bytes | None = None) -> list[RenderedView]:
    """A turntable: ``frames`` views in order around the vertical axis (frame 0 the
    front, then towards the right side), all at one scale so the product does not
    breathe between frames."""
    size = _as_size(size)
    scene = _scene(model)
    azimuths = spin_azimuths(frames)
    scale = min(fit_scale(scene, camera_frame(a, elevation_deg), size) for a in azimuths)
    return [render_at(scene, a, elevation_deg, size, logo=logo, scale=scale) for a in azimuths]


# --------------------------------------------------------------------------- ray marching


def _length(*parts: np.ndarray) -> np.ndarray:
    return np.sqrt(sum(p * p for p in parts))


def _capped_cone(r: np.ndarray, y: np.ndarray, h: float, r1: float, r2: float) -> np.ndarray:
    """Exact distance to a solid frustum about y: half height ``h``, radius ``r1`` at
    y = -h and ``r2`` at y = +h (Inigo Quilez's capped cone)."""
    k2x, k2y = r2 - r1, 2.0 * h
    cax = r - np.minimum(r, np.where(y < 0, r1, r2))
    cay = np.abs(y) - h
    k2 = max(k2x * k2x + k2y * k2y, 1e-12)
    t = np.clip(((r2 - r) * k2x + (h - y) * k2y) / k2, 0.0, 1.0)
    cbx = r - r2 + k2x * t
    cby = y - h + k2y * t
    s = np.where((cbx < 0) & (cay < 0), -1.0, 1.0)
    return s * np.sqrt(np.minimum(cax * cax + cay * cay, cbx * cbx + cby * cby))


def prim_sdf(p: Prim, q: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Signed distance (cm, negative inside) from points ``q`` (world, relative to the
    primitive's centre) to the primitive: exact for boxes, frustums and tori, a close
    bound for ellipsoids."""
    if p.kind == "box":
        h = p.half
        r = min(p.rounding, *h)
        d = [np.abs(q[i]) - (h[i] - r) for i in range(3)]
        outside = _length(*(np.maximum(x, 0.0) for x in d))
        inside = np.minimum(np.maximum(np.maximum(d[0], d[1]), d[2]), 0.0)
        sd = outside + inside - r
    elif p.kind == "ell":
        h = [max(v, 1e-6) for v in p.half]
        k0 = _length(*(q[i] / h[i] for i in range(3)))
        k1 = _length(*(q[i] / (h[i] * h[i]) for i in range(3)))
        sd = np.where(k1 > 1e-9, k0 * (k0 - 1.0) / np.maximum(k1, 1e-9), -min(h))
    else:
        a = p.axis
        o1, o2 = [i for i in range(3) if i != a]
        along = q[a]
        rad = _length(q[o1], q[o2])
        if p.kind == "torus":
            sd = _length(rad - p.radius, along) - p.rounding
        else:
            r2 = p.radius2 if p.radius2 >= 0 else p.radius
            rr = min(p.rounding, p.length, p.radius, r2)
            sd = _capped_cone(rad, along, p.length - rr, max(p.radius - rr, 0.0), max(r2 - rr, 0.0)) - rr
            if p.tube or p.hollow != 0:
                sd = np.maximum(sd, -_cavity_sdf(p, rad, along))
    if p.clip is not None:
        axis, sign, offset = p.clip
        sd = np.maximum(sd, -(sign * (q[axis] - offset)))
    return sd


def _cavity_sdf(p: Prim, rad: np.ndarray, along: np.ndarray) -> np.ndarray:
    """The open cylinder's hollow: the frustum shrunk by the wall, open through the end
    (or, for a tube, both ends) that the ``hollow`` sign names."""
    L, wall = p.length, abs(p.hollow)
    r1 = p.radius
    r2 = p.radius2 if p.radius2 >= 0 else p.radius
    lo, hi = -L - 1.0, L + 1.0
    if not p.tube:
        if p.hollow > 0:
            lo = -L + wall
        else:
            hi = L - wall
    k = (r2 - r1) / (2 * L) if L > 0 else 0.0
    ra = max(r1 + (lo + L) * k - wall, 1e-4)
    rb = max(r1 + (hi + L) * k - wall, 1e-4)
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    return _capped_cone(rad, along - mid, half, ra, rb)


def _cavity(p: Prim, q: tuple[np.ndarray, np.ndarray, np.ndarray], eps: float) -> np.ndarray:
    """Points on the inside wall or floor of an open cylinder (darkened like the
    analytic caster's interior)."""
    if p.kind != "cyl" or p.tube or p.hollow == 0:
        return np.zeros(q[0].shape, dtype=bool)
    a = p.axis
    o1, o2 = [i for i in range(3) if i != a]
    return _cavity_sdf(p, _length(q[o1], q[o2]), q[a]) > -4 * eps


def _corners(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def march_geometry(scene: Scene, frame: np.ndarray, size: tuple[int, int], scale: float) -> _Geometry:
    """Per-pixel geometry for any orthographic camera ``frame`` by sphere tracing each
    primitive inside its projected bounding box; the same fields as the analytic caster
    (nearest primitive, camera-space normal, coverage, occlusion, depth)."""
    W, H = size
    center = scene.center
    u, v, w = frame
    eps = 0.05 / scale
    reach = float(np.linalg.norm(scene.extent)) + 1.0
    depth = np.full((H, W), -np.inf, dtype=np.float32)
    ids = np.full((H, W), -1, dtype=np.int16)
    normal = np.zeros((3, H, W), dtype=np.float32)
    cover = np.zeros((H, W), dtype=np.float32)
    ao = np.ones((H, W), dtype=np.float32)
    cams: list[_CamPrim] = []
    x_min, y_min, x_max, y_max = W, H, 0, 0
    for index, raw in enumerate(scene.prims):
        prim = _at_least(raw, 0.75 / scale, scale)
        plo, phi = prim.bounds()
        plo, phi = plo - 2 * eps, phi + 2 * eps
        cam = (_corners(plo, phi) - center) @ frame.T
        clo, chi = cam.min(axis=0), cam.max(axis=0)
        cams.append(_CamPrim(index, prim.kind, frame @ (np.array(prim.center) - center), np.zeros(3), 0,
                             0.0, 0.0, 0.0, 0.0, None, 0.0, False, clo, chi, 1.0 / scale))
        x0 = max(math.floor(W / 2 + clo[0] * scale) - 1, 0)
        x1 = min(math.ceil(W / 2 + chi[0] * scale) + 2, W)
        y0 = max(math.floor(H / 2 - chi[1] * scale) - 1, 0)
        y1 = min(math.ceil(H / 2 - clo[1] * scale) + 2, H)
        if x0 >= x1 or y0 >= y1:
            continue
        x_min, y_min, x_max, y_max = min(x_min, x0), min(y_min, y0), max(x_max, x1), max(y_max, y1)
        gy, gx = np.mgrid[y0:y1, x0:x1]
        gy, gx = gy.ravel(), gx.ravel()
        du = (gx + 0.5 - W / 2) / scale
        dv = (H / 2 - 0.5 - gy) / scale
        # ray origins relative to the primitive's centre, direction -w
        rel = center - np.array(prim.center)
        org = [rel[k] + u[k] * du + v[k] * dv + w[k] * reach for k in range(3)]
        # slab test against the primitive's box (relative to its centre)
        t0 = np.zeros_like(du)
        t1 = np.full_like(du, 2 * reach)
        blo, bhi = plo - np.array(prim.center), phi - np.array(prim.center)
        for k in range(3):
            dk = -w[k]
            if abs(dk) < 1e-12:
                outside = (org[k] < blo[k]) | (org[k] > bhi[k])
                t1 = np.where(outside, -1.0, t1)
                continue
            ta, tb = (blo[k] - org[k]) / dk, (bhi[k] - org[k]) / dk
            t0 = np.maximum(t0, np.minimum(ta, tb))
            t1 = np.minimum(t1, np.maximum(ta, tb))
        live = np.flatnonzero(t0 < t1)
        t = t0.copy()
        closest = np.full(du.shape, np.inf)
        hit = np.zeros(du.shape, dtype=bool)
        for _ in range(MAX_STEPS):
            if len(live) == 0:
                break
            tl = t[live]
            pts = tuple(org[k][live] - w[k] * tl for k in range(3))
            d = prim_sdf(prim, pts)  # type: ignore[arg-type]
            closest[live] = np.minimum(closest[live], d)
            done = d < eps
            hit[live[done]] = True
            t[live] = tl + np.maximum(d, eps * 0.5) * 0.9
            keep = ~done & (t[live] <= t1[live])
            live = live[keep]
        hit[live] = True  # still creeping along a wall after MAX_STEPS: a grazing hit
        sel = np.flatnonzero(hit)
        miss_cover = np.clip(0.5 - closest * scale, 0.0, 1.0)
        miss_cover[sel] = 1.0
        np.maximum.at(cover, (gy, gx), miss_cover.astype(np.float32))
        if len(sel) == 0:
            continue
        th = t[sel]
        pts = tuple(org[k][sel] - w[k] * th for k in range(3))
        wdepth = (reach - th).astype(np.float32)
        yy, xx = gy[sel], gx[sel]
        better = wdepth > depth[yy, xx]
        if not better.any():
            continue
        sel, yy, xx, wdepth = sel[better], yy[better], xx[better], wdepth[better]
        pts = tuple(c[better] for c in pts)
        h = 0.5 / scale
        grad = []
        for k in range(3):
            plus = tuple(pts[j] + (h if j == k else 0.0) for j in range(3))
            minus = tuple(pts[j] - (h if j == k else 0.0) for j in range(3))
            grad.append(prim_sdf(prim, plus) - prim_sdf(prim, minus))  # type: ignore[arg-type]
        g = np.stack(grad)
        g /= np.maximum(np.sqrt((g * g).sum(axis=0)), 1e-9)
        cam_n = frame @ g
        depth[yy, xx] = wdepth
        ids[yy, xx] = index
        normal[:, yy, xx] = cam_n.astype(np.float32)
        ao[yy, xx] = np.where(_cavity(prim, pts, eps), 0.62, 1.0)  # type: ignore[arg-type]
    if x_min >= x_max:
        x_min, y_min, x_max, y_max = W // 2, H // 2, W // 2 + 1, H // 2 + 1
    x_min, y_min = max(x_min - 2, 0), max(y_min - 2, 0)
    x_max, y_max = min(x_max + 2, W), min(y_max + 2, H)
    win = (slice(y_min, y_max), slice(x_min, x_max))
    return _Geometry(ids[win].copy(), normal[(slice(None), *win)].copy(), cover[win].copy(), ao[win].copy(),
                     (x_min, y_min, x_max, y_max), cams, depth[win].copy())


__all__: Sequence[str] = ("HERO", "camera_frame", "fit_scale", "march_geometry", "prim_sdf", "render_at",
                          "render_spin", "spin_azimuths")

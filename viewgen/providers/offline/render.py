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

from collections.abc import Iterable

from viewgen.domain import ALL_VIEWS, ViewType
from viewgen.providers.offline.model import ProductModel
from viewgen.providers.offline.raycast import (  # noqa: F401 (re-exported)
    _as_size,
    _CamPrim,
    _Geometry,
    _geometry,
    scene_scale,
)
from viewgen.providers.offline.scene import (  # noqa: F401 (re-exported)
    _VIEW_INDEX,
    DEFAULT_SIZE,
    MARGIN,
    VIEW_FRAMES,
    Panel,
    Prim,
    RenderedView,
    Ring,
    Scene,
    _at_least,
    _bounds,
    body_scene,
    build_scene,
)
from viewgen.providers.offline.shading import (  # noqa: F401 (re-exported)
    MATERIAL_LOOK,
    _decode_logo,
    background,
    composite,
    contact_shadow,
    shade,
    shade_geometry,
)


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


def render_views(model: ProductModel, size: int | tuple[int, int] = DEFAULT_SIZE,
                 logo: bytes | None = None, views: Iterable[ViewType] = ALL_VIEWS
                 ) -> dict[ViewType, RenderedView]:
    """Render the model's views (all five by default) from one scene at one scale."""
    scene = build_scene(model)
    return {ViewType(v): render_view(scene, ViewType(v), size, logo) for v in views}

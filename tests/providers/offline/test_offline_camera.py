"""Rendering the product from any camera: the catalogue cameras give today's pixels,
oblique cameras are ray marched and agree with the analytic caster where both apply,
a spin is in order around the vertical axis, and an asymmetric product looks different
from its two sides."""

from __future__ import annotations

import numpy as np
import pytest

from viewgen import imaging
from viewgen.domain import ALL_VIEWS, ViewType
from viewgen.providers.offline.camera import (
    HERO,
    camera_frame,
    fit_scale,
    march_geometry,
    render_at,
    render_spin,
)
from viewgen.providers.offline.model import parse_description
from viewgen.providers.offline.render import (
    VIEW_FRAMES,
    build_scene,
    render_view,
    scene_scale,
    shade_geometry,
)

SIZE = (160, 128)
CAMERAS = {ViewType.FRONT: (0, 0), ViewType.SIDE: (90, 0), ViewType.BACK: (180, 0),
           ViewType.TOP: (0, 90), ViewType.BOTTOM: (180, -90)}


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _diff_share(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 30).mean())


@pytest.mark.parametrize("text", ["burgundy ceramic mug", "brass desk lamp with a cream shade",
                                  "navy leather messenger bag with a tan strap"])
def test_the_five_catalogue_cameras_give_exactly_the_views(text: str) -> None:
    scene = build_scene(parse_description(text))
    for view in ALL_VIEWS:
        az, el = CAMERAS[view]
        assert np.array_equal(camera_frame(az, el), VIEW_FRAMES[view])
        got = render_at(scene, az, el, SIZE)
        want = render_view(scene, view, SIZE)
        assert np.array_equal(got.image, want.image), view
        assert got.meta["view"] == view.value


def _logo_png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    mark = Image.new("RGBA", (120, 60), (0, 0, 0, 0))
    ImageDraw.Draw(mark).rectangle([8, 8, 111, 51], fill=(20, 200, 40, 255))  # vivid green
    out = io.BytesIO()
    mark.save(out, format="PNG")
    return out.getvalue()


def _green(image: np.ndarray) -> int:
    rgb = image[..., :3].astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((g > r + 40) & (g > b + 40)).sum())  # green, however it is lit


def test_a_logo_turns_with_the_product() -> None:
    """The front camera prints the logo as the front view does; an oblique camera (the
    hero, a spin frame) shows it on the same face, turned; a camera behind does not."""
    model = parse_description("white ceramic mug")
    logo, size = _logo_png(), (256, 256)
    front = render_at(model, 0, 0, size, logo=logo)
    assert np.array_equal(front.image,
                          render_view(build_scene(model), ViewType.FRONT, size, logo).image)
    hero = render_at(model, *HERO, size, logo=logo)
    plain = render_at(model, *HERO, size)
    assert _green(plain.image) == 0
    assert _green(hero.image) > 0.3 * _green(front.image) > 0  # foreshortened, not lost
    behind = render_at(model, 150, 10, size, logo=logo)
    assert np.array_equal(behind.image, render_at(model, 150, 10, size).image)


def test_ray_marching_agrees_with_the_analytic_caster() -> None:
    for text in ("burgundy ceramic mug", "walnut wood chair with black metal legs", "silver watch"):
        scene = build_scene(parse_description(text))
        for view in (ViewType.FRONT, ViewType.SIDE, ViewType.TOP):
            scale = scene_scale(scene, SIZE)
            geo = march_geometry(scene, VIEW_FRAMES[view], SIZE, scale)
            marched = shade_geometry(scene, geo, SIZE, scale)
            exact = render_view(scene, view, SIZE)
            assert _iou(marched.mask, exact.mask) > 0.93, (text, view)


def test_the_hero_camera_sees_front_and_side() -> None:
    model = parse_description("navy leather messenger bag")
    scene = build_scene(model)
    hero = render_at(scene, *HERO, SIZE)
    box = imaging.bbox(hero.mask)
    assert box is not None
    width_cm = (box[2] - box[0]) / hero.scale
    body_w, body_d = model.width, model.depth
    expected = (body_w + body_d) * np.cos(np.radians(45))
    assert abs(width_cm - expected) < 0.12 * expected
    front = render_at(scene, 0, 0, SIZE)
    assert _diff_share(hero.image, front.image) > 0.1


def test_a_spin_has_the_frames_in_order_around_the_vertical_axis() -> None:
    scene = build_scene(parse_description("burgundy ceramic mug"))
    spin = render_spin(scene, frames=36, size=(96, 96))
    assert len(spin) == 36
    assert [f.meta["azimuth"] for f in spin] == [10.0 * i for i in range(36)]
    scale = spin[0].scale
    assert all(f.scale == scale for f in spin)  # the product does not breathe
    # frame 9 is the right side, frame 18 the back, frame 27 the other side
    for k, view in ((0, ViewType.FRONT), (9, ViewType.SIDE), (18, ViewType.BACK)):
        assert np.array_equal(spin[k].mask, render_view(scene, view, (96, 96), scale=scale).mask), k
    # the back's silhouette is the front's mirrored, the two sides mirror each other
    assert _iou(spin[18].mask, spin[0].mask[:, ::-1]) > 0.97
    assert _iou(spin[27].mask, spin[9].mask[:, ::-1]) > 0.97


def test_an_asymmetric_product_differs_between_its_two_sides() -> None:
    model = parse_description("burgundy ceramic mug")  # the handle is on the right
    scene = build_scene(model)
    right, left = render_at(scene, 90, 0, SIZE), render_at(scene, 270, 0, SIZE)
    assert _diff_share(right.image, left.image) > 0.02  # the handle faces one camera only
    # three-quarter views from either side: the handle shows on the right one only
    a, b = render_at(scene, 45, 20, SIZE), render_at(scene, -45, 20, SIZE)
    assert _iou(a.mask, b.mask[:, ::-1]) < 0.95


def test_fit_scale_keeps_oblique_views_inside_the_frame() -> None:
    scene = build_scene(parse_description("oak table"))
    for az in (30, 45, 60, 135):
        view = render_at(scene, az, 25, SIZE)
        assert view.scale <= scene_scale(scene, SIZE)
        assert view.scale == pytest.approx(fit_scale(scene, camera_frame(az, 25), SIZE))
        box = imaging.bbox(view.mask)
        assert box is not None
        assert box[0] > 0 and box[1] > 0 and box[2] < SIZE[0] and box[3] < SIZE[1]


def test_a_spin_needs_frames() -> None:
    with pytest.raises(ValueError):
        render_spin(parse_description("red mug"), frames=0)

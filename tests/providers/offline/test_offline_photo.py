"""Reference photos: a real cut on a real background (GrabCut when the border is a
scene, the backdrop model on a plain one), the logo and the feedback applied, the
hidden sides built from the silhouette (a lathe for round products, an extrusion
otherwise) and every estimated view labelled with how sure it is."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.providers.offline.test_offline_reference import SIZE, iou, synthetic_photo
from viewgen import imaging
from viewgen.color import ciede2000, palette, rgb_to_lab
from viewgen.domain import GenerationRequest, ViewType
from viewgen.providers.offline import OfflineGenerator
from viewgen.providers.offline.camera import render_at
from viewgen.providers.offline.reference import LOW_CONFIDENCE, photo_scene, prepare, render_reference

V = ViewType


def _on_wood(color=(30, 60, 160), seed: int = 0) -> tuple[bytes, np.ndarray]:
    """A round product on a textured table: grain stripes and knots, no backdrop."""
    rng = np.random.default_rng(seed)
    h, w = 240, 320
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    grain = 120 + 35 * np.sin(xx / 6.0 + 3 * np.sin(yy / 23.0)) + rng.normal(0, 12, (h, w))
    img = np.stack([grain * 1.2, grain * 0.8, grain * 0.5], axis=-1)
    d = ((xx - 160) / 70) ** 2 + ((yy - 120) / 80) ** 2
    truth = d <= 1
    shade = (1.05 - 0.3 * d)[..., None]
    img = np.where(truth[..., None], np.array(color, np.float32) * shade + rng.normal(0, 3, (h, w, 3)), img)
    out = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(out, format="PNG")
    return out.getvalue(), truth


def test_a_product_on_a_real_scene_is_cut_out_by_grabcut_and_better_than_the_backdrop_model() -> None:
    data, truth = _on_wood()
    rgb = imaging.to_array(data)[..., :3]
    mask, method = imaging.segment_product(rgb)
    assert method == "grabcut"
    assert iou(mask, truth) > 0.9
    assert iou(mask, truth) > iou(imaging.foreground_mask(rgb), truth)


def test_a_plain_backdrop_keeps_the_backdrop_model() -> None:
    data, truth = synthetic_photo()
    rgb = imaging.to_array(data)[..., :3]
    mask, method = imaging.segment_product(rgb)
    assert method == "backdrop" and iou(mask, truth) > 0.95


def test_round_products_get_a_lathe_and_others_an_extrusion_labelled_as_estimates() -> None:
    photo, _ = synthetic_photo(shape="rect", box=(200, 60, 280, 360))
    _, meta = render_reference(photo, V.SIDE, SIZE, text="a ceramic vase")
    assert (meta["estimated_from_photo"], meta["estimate"]) == (True, "lathe")
    lathe_conf = meta["confidence"]
    bag, _ = synthetic_photo(shape="rect", box=(120, 140, 360, 300))
    _, meta = render_reference(bag, V.TOP, SIZE, text="a leather messenger bag")
    assert (meta["estimated_from_photo"], meta["estimate"]) == (True, "extrusion")
    assert meta["confidence"] < LOW_CONFIDENCE < lathe_conf
    assert "Estimated from one photo" in meta["note"] and "low confidence" in meta["note"]
    _, front = render_reference(bag, V.FRONT, SIZE)
    assert front["estimated_from_photo"] is False and front["confidence"] == 1.0


def test_the_lathe_follows_the_silhouette_profile() -> None:
    # a bottle-like silhouette: narrow neck over a wide body
    photo, _ = synthetic_photo(shape="rect", box=(200, 60, 280, 360))
    arr = np.asarray(Image.open(io.BytesIO(photo)).convert("RGB")).copy()
    arr[60:140, 200:225] = arr[5, 5]
    arr[60:140, 255:280] = arr[5, 5]
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    p = prepare(out.getvalue(), SIZE, "a glass bottle")
    scene = photo_scene(p)
    radii = [max(q.radius, q.radius2) for q in sorted(scene.prims, key=lambda q: q.center[1])]
    assert radii[-1] < 0.5 * radii[0]  # the neck is narrower than the body
    side = render_reference(out.getvalue(), V.SIDE, SIZE, text="a glass bottle")[0]
    front = render_reference(out.getvalue(), V.FRONT, SIZE, text="a glass bottle")[0]
    assert iou(side.mask, front.mask) > 0.85  # a solid of revolution looks the same from the side


def test_the_logo_is_applied_to_the_photo_front() -> None:
    photo, _ = synthetic_photo(color=(200, 200, 200))
    logo = io.BytesIO()
    mark = Image.new("RGBA", (60, 30), (0, 0, 0, 0))
    mark.paste((200, 20, 20, 255), (4, 4, 56, 26))
    mark.save(logo, format="PNG")
    plain = render_reference(photo, V.FRONT, SIZE)[0].image
    marked = render_reference(photo, V.FRONT, SIZE, logo=logo.getvalue())[0].image
    changed = np.abs(plain.astype(int) - marked.astype(int)).max(axis=2) > 40
    assert changed.mean() > 0.01
    assert marked[changed][:, 0].mean() > marked[changed][:, 1].mean() + 80  # red where it went


def test_colour_feedback_recolours_the_photo_and_part_feedback_is_reported_unapplied() -> None:
    photo, _ = synthetic_photo(color=(180, 40, 40))
    navy = rgb_to_lab(np.array([31, 42, 68], dtype=np.float64))
    before = render_reference(photo, V.FRONT, SIZE)[0]
    after, meta = render_reference(photo, V.FRONT, SIZE, feedback=("make it navy",))
    assert meta["feedback_applied"] == ["make it navy"] and meta["feedback_unapplied"] == []
    main = palette(after.image[after.mask], k=3)[0][0]
    assert float(ciede2000(rgb_to_lab(np.array(main, dtype=np.float64)), navy)) < 15
    assert not np.array_equal(before.image, after.image)
    side, _ = render_reference(photo, V.SIDE, SIZE, feedback=("make it navy",))
    side_main = palette(side.image[side.mask], k=3)[0][0]
    assert float(ciede2000(rgb_to_lab(np.array(side_main, dtype=np.float64)), navy)) < 18
    same, meta = render_reference(photo, V.FRONT, SIZE, feedback=("make the strap black",))
    assert meta["feedback_unapplied"] == ["make the strap black"]
    assert np.array_equal(same.image, before.image)


def test_the_generator_passes_logo_and_feedback_and_photo_scenes_render_from_any_camera() -> None:
    photo, _ = synthetic_photo(color=(180, 40, 40))
    gen = OfflineGenerator()
    plain = gen.generate(GenerationRequest(view=V.FRONT, prompt="", reference=photo, size=SIZE))
    darker = gen.generate(GenerationRequest(view=V.FRONT, prompt="", reference=photo, size=SIZE,
                                            feedback=("darker",)))
    assert plain.data != darker.data
    assert darker.meta["feedback_applied"] == ["darker"]
    scene = photo_scene(prepare(photo, SIZE))
    hero = render_at(scene, 45, 20, SIZE)
    assert hero.mask.sum() > 500


@pytest.mark.parametrize("text", [None, "a leather messenger bag"])
def test_estimated_views_keep_the_photo_colour(text: str | None) -> None:
    photo, _ = synthetic_photo(shape="rect", box=(120, 140, 360, 300), color=(40, 90, 180))
    ref = rgb_to_lab(np.array([40, 90, 180], dtype=np.float64))
    for view in (V.SIDE, V.TOP, V.BOTTOM):
        r = render_reference(photo, view, SIZE, text=text)[0]
        main = palette(r.image[r.mask], k=3)[0][0]
        assert float(ciede2000(rgb_to_lab(np.array(main, dtype=np.float64)), ref)) < 12, view

"""The product categories added from Google's product taxonomy: each description is
read as its own category (never a generic box), its five views agree in extents, and
its silhouette differs from every other new category's."""

from __future__ import annotations

import numpy as np
import pytest

from tests.providers.offline.test_offline_render import assert_extents_agree
from viewgen.domain import ViewType
from viewgen.providers.offline.model import TEMPLATES, parse_description
from viewgen.providers.offline.render import build_scene, render_view, render_views

NEW = {
    "a grey fabric sofa": "sofa", "a steel electric kettle": "kettle", "a navy suitcase": "suitcase",
    "a red cotton t-shirt": "tshirt", "black sunglasses": "sunglasses", "a black camera": "camera",
    "a cream toaster": "toaster", "a brown leather wallet": "wallet", "a navy baseball cap": "hat",
    "a sage ceramic bowl": "bowl", "a wine glass": "glass", "an ivory candle": "candle",
    "a black computer monitor": "monitor", "a white computer mouse": "mouse", "a black dumbbell": "dumbbell",
    "a red hardcover book": "book", "a pink perfume bottle": "perfume", "a black wall clock": "clock",
    "a mustard throw pillow": "pillow",
}


def test_at_least_sixteen_new_categories() -> None:
    assert len(set(NEW.values())) >= 16
    assert set(NEW.values()) <= set(TEMPLATES)


@pytest.mark.parametrize(("text", "category"), list(NEW.items()))
def test_each_description_is_its_category_and_its_views_agree(text: str, category: str) -> None:
    model = parse_description(text)
    assert model.category == category
    views = render_views(model, 160)
    assert_extents_agree(views)
    assert all(v.mask.sum() > 60 for v in views.values())


def test_a_black_camera_is_a_camera_and_a_phone_camera_is_a_lens() -> None:
    camera = parse_description("a black camera")
    assert (camera.category, camera.color_name) == ("camera", "black")
    assert camera.has("lens")
    phone = parse_description("a silver phone with a black camera")
    assert phone.category == "phone" and phone.part("lens") is not None
    assert phone.part("lens").color_name == "black"  # type: ignore[union-attr]


def test_the_new_categories_look_different_from_each_other_and_from_a_box() -> None:
    size = (96, 96)
    masks = {}
    for text, category in NEW.items():
        front = render_view(build_scene(parse_description(text)), ViewType.FRONT, size).mask
        top = render_view(build_scene(parse_description(text)), ViewType.TOP, size).mask
        masks[category] = np.concatenate([front, top])
    generic = np.concatenate([
        render_view(build_scene(parse_description("a grey gadget")), v, size).mask
        for v in (ViewType.FRONT, ViewType.TOP)])
    names = list(masks)
    for i, a in enumerate(names):
        iou_box = (masks[a] & generic).sum() / (masks[a] | generic).sum()
        assert iou_box < 0.9, a
        for b in names[i + 1:]:
            iou = (masks[a] & masks[b]).sum() / (masks[a] | masks[b]).sum()
            assert iou < 0.92, (a, b)

"""The offline product model: descriptions parsed into category, colours, materials,
parts and size; feedback notes applied to the model; the cached builder."""

from __future__ import annotations

import numpy as np
import pytest

from viewgen.errors import InvalidInput
from viewgen.providers.offline.model import (
    COLORS,
    apply_feedback,
    build_model,
    parse_description,
)

BAG = "navy leather messenger bag with a tan strap"


@pytest.mark.parametrize(
    ("text", "category", "variant"),
    [
        (BAG, "bag", "messenger"),
        ("canvas tote", "bag", "tote"),
        ("olive canvas backpack", "backpack", ""),
        ("matte black steel water bottle with a bamboo cap", "bottle", ""),
        ("burgundy ceramic mug", "mug", ""),
        ("white running shoe with red laces", "shoe", "sneaker"),
        ("brown leather boots", "shoe", "boot"),
        ("walnut wood chair with black metal legs", "chair", ""),
        ("bar stool", "chair", "stool"),
        ("brass desk lamp with a cream shade", "lamp", "desk"),
        ("gold smartwatch with a teal band", "watch", "smart"),
        ("black over-ear headphones", "headphones", ""),
        ("charcoal fabric bluetooth speaker", "speaker", ""),
        ("red gift box with a gold ribbon", "box", "gift"),
        ("silver laptop", "laptop", ""),
        ("sage ceramic vase", "vase", ""),
        ("pink tumbler with a straw", "tumbler", ""),
        ("graphite smartphone", "phone", ""),
        ("oak coffee table", "table", "coffee"),
    ],
)
def test_categories(text: str, category: str, variant: str) -> None:
    model = parse_description(text)
    assert (model.category, model.variant) == (category, variant)


def test_unknown_products_fall_back_to_a_generic_product() -> None:
    model = parse_description("a teal gizmo")
    assert model.category == "product"
    assert model.color_name == "teal"
    assert model.width > 0 and model.height > 0 and model.depth > 0


def test_nothing_to_read_is_invalid_input() -> None:
    for text in ("", "   ", "1234 !!"):
        with pytest.raises(InvalidInput):
            parse_description(text)


def test_colours_go_to_their_parts() -> None:
    model = parse_description(BAG)
    assert model.color_name == "navy" and model.color == COLORS["navy"]
    strap = model.part("strap")
    assert strap is not None and strap.color_name == "tan" and strap.explicit
    chair = parse_description("walnut wood chair with black metal legs")
    legs = chair.part("legs")
    assert chair.color_name == "walnut" and chair.material == "wood"
    assert legs is not None and legs.color_name == "black" and legs.material == "metal"
    shoe = parse_description("white running shoe with red laces")
    laces = shoe.part("laces")
    assert shoe.color_name == "white" and laces is not None and laces.color_name == "red"


def test_materials_and_finish() -> None:
    bottle = parse_description("matte black steel water bottle with a bamboo cap")
    assert bottle.material == "metal" and bottle.finish == "matte"
    cap = bottle.part("cap")
    assert cap is not None and cap.material == "wood" and cap.color_name == "bamboo"
    assert bottle.materials == ["metal", "wood"]
    assert parse_description("burgundy ceramic mug").material == "ceramic"
    assert parse_description("gold watch").material == "metal"  # metallic colour implies metal


def test_size_words_scale_the_template() -> None:
    plain = parse_description("vase")
    tall = parse_description("tall vase")
    small = parse_description("small vase")
    assert tall.height > plain.height * 1.2
    assert small.width < plain.width and small.height < plain.height
    explicit = parse_description("box 30 x 20 x 10 cm")
    assert (explicit.width, explicit.height, explicit.depth) == pytest.approx((30.5, 19.7, 10.0), rel=0.05)


def test_summary_and_key_elements_name_the_parts() -> None:
    model = parse_description(BAG)
    assert "navy" in model.summary() and "messenger bag" in model.summary()
    elements = model.key_elements(logo_decal=True)
    assert any("tan" in e and "strap" in e for e in elements)
    assert any("logo" in e for e in elements)
    assert not any("logo" in e for e in model.key_elements(logo_decal=False))


# --------------------------------------------------------------------------- feedback


def test_make_the_strap_red_changes_only_the_strap() -> None:
    model = parse_description(BAG)
    changed = apply_feedback(model, "make the strap red")
    strap = changed.part("strap")
    assert strap is not None and strap.color == COLORS["red"]
    assert changed.color == model.color
    assert (changed.width, changed.height, changed.depth) == (model.width, model.height, model.depth)
    for part in model.parts:
        if part.name != "strap":
            assert changed.part(part.name) == part


def test_taller_increases_height_only() -> None:
    model = parse_description(BAG)
    taller = apply_feedback(model, "taller")
    assert taller.height > model.height * 1.1
    assert taller.width == model.width and taller.depth == model.depth
    assert apply_feedback(model, "much taller").height > taller.height


def test_darker_darkens_the_body() -> None:
    model = parse_description("red ceramic mug")
    darker = apply_feedback(model, "darker")
    assert sum(darker.color) < sum(model.color)


def test_no_strap_removes_it() -> None:
    model = parse_description(BAG)
    assert model.has("strap")
    assert not apply_feedback(model, "no strap").has("strap")
    assert apply_feedback(apply_feedback(model, "no strap"), "add a strap").has("strap")


def test_body_colour_change_and_category_change() -> None:
    model = parse_description("burgundy ceramic mug")
    navy = apply_feedback(model, "make it navy")
    assert navy.color_name == "navy" and navy.category == "mug"
    vase = apply_feedback(model, "make it a vase instead")
    assert vase.category == "vase"


def test_build_model_applies_feedback_in_order_and_caches() -> None:
    one = build_model(BAG, ("make the strap red",), 3)
    assert one is build_model(BAG, ("make the strap red",), 3)
    two = build_model(BAG, ("make the strap red", "make the strap black"), 3)
    strap = two.part("strap")
    assert strap is not None and strap.color == COLORS["black"]
    assert build_model(BAG, (), 3).width != build_model(BAG, (), 4).width  # seeds vary proportions


def test_a_colour_on_a_small_part_does_not_repaint_the_product() -> None:
    # the rim's gold is the rim's, not the mug's
    mug = parse_description("a teal ceramic mug with a gold rim")
    assert (mug.category, mug.color_name, mug.material) == ("mug", "teal", "ceramic")
    rim = mug.part("trim")
    assert rim is not None and rim.color_name == "gold" and mug.part_label("trim") == "rim"
    # a colour on a part the renderer does not know still leaves the product alone
    assert parse_description("a teal mug with a gold doodad").color_name == "teal"
    # words after the noun that belong to no other noun still describe the product
    assert parse_description("a mug, teal").color_name == "teal"


def test_a_wooden_product_without_a_colour_is_wood_coloured() -> None:
    for seed in range(4):
        assert parse_description("a wooden table", seed).color_name in ("oak", "walnut")
    assert parse_description("a white wooden table").color_name == "white"


@pytest.mark.parametrize(("text", "name"), [
    ("an olive canvas backpack", "olive"), ("a forest green ceramic mug", "forest green"),
    ("a sky blue water bottle", "sky blue"), ("a light grey chair", "light grey"),
    ("a dark green leather bag", "dark green"), ("a navy blue tote", "navy blue"),
])
def test_multi_word_colours_keep_their_modifier(text: str, name: str) -> None:
    model = parse_description(text)
    assert model.color_name == name
    assert model.color == COLORS[name]
    assert model.color != COLORS[name.split()[-1]] or name == "olive"


def test_modifier_words_change_a_colour_and_are_kept_in_its_name() -> None:
    from viewgen.color import rgb_to_lab

    sage = COLORS["sage"]
    for word, lighter in (("pale", True), ("light", True), ("deep", False), ("dark", False)):
        model = parse_description(f"a {word} sage ceramic vase")
        assert model.color_name == f"{word} sage"
        delta = rgb_to_lab(model.color)[0] - rgb_to_lab(sage)[0]
        assert (delta > 8) if lighter else (delta < -8), word
    muted = parse_description("a muted teal mug").color
    assert np.ptp(muted) < np.ptp(COLORS["teal"])
    matte = parse_description("a matte black steel bottle")
    assert (matte.color_name, matte.finish, matte.material) == ("black", "matte", "metal")
    metallic = parse_description("a metallic red bottle")
    assert metallic.material == "metal" and metallic.color_name == "red"


def test_a_kind_of_product_word_is_not_a_second_colour() -> None:
    assert parse_description("a red ceramic coffee mug").color_name == "red"
    assert parse_description("a black wine glass vase").color_name == "black"


@pytest.mark.parametrize(
    ("text", "category", "color"),
    [
        ("a black camera on a silver tripod", "camera", "black"),
        ("a red mug on a wooden table", "mug", "red"),
        ("red sneakers against a white background", "shoe", "red"),
        ("a green bottle on top of a marble countertop, 25 cm tall", "bottle", "green"),
        ("a white mug next to a black laptop", "mug", "white"),
        ("a white table", "table", "white"),  # the table is the product here
    ],
)
def test_the_scene_is_not_the_product(text: str, category: str, color: str) -> None:
    model = parse_description(text)
    assert (model.category, model.color_name) == (category, color)


def test_a_place_on_the_product_is_kept() -> None:
    model = parse_description("a white mug with a red logo on the front")
    assert model.category == "mug" and model.color_name == "white"
    assert model.logo_color == COLORS["red"]

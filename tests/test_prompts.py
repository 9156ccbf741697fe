"""Prompt builders: what the image model is told for each view."""

from __future__ import annotations

import pytest

from viewgen import prompts
from viewgen.domain import OTHER_VIEWS, Color, ExtractedFeatures, ViewType

FEATURES = ExtractedFeatures(
    colors=[Color(hex="#1F2A44", name="navy", usage="primary"),
            Color(hex="#C8A165", name="tan", usage="secondary")],
    materials=["leather", "brass"],
    keyElements=["tan shoulder strap", "brass buckle"],
    estimatedDimensions={"width": 38, "height": 28, "depth": 12, "unit": "cm"},
    description="A navy leather messenger bag with a tan strap.",
)


def test_front_prompt_asks_for_the_front_only_with_rules() -> None:
    text = prompts.front_prompt("navy leather messenger bag", has_logo=True)
    assert text.startswith("Generate ONLY the front view")
    assert "navy leather messenger bag" in text
    assert "logo" in text.lower() and "front face" in text
    assert "background" in text
    assert "reference photo" not in text


def test_front_prompt_with_reference_and_feedback() -> None:
    text = prompts.front_prompt(None, has_reference=True, feedback=["make the strap red", " "])
    assert "reference photo" in text
    assert "- make the strap red" in text
    assert text.count("\n- ") == 1


@pytest.mark.parametrize("view", OTHER_VIEWS)
def test_other_views_carry_the_features_and_match_the_front(view: ViewType) -> None:
    text = prompts.view_prompt(view, FEATURES, text="messenger bag", has_logo=True)
    assert f"Generate ONLY the {view.value} view" in text
    assert "match the approved front exactly" in text
    for fragment in ("navy #1F2A44 (primary)", "tan #C8A165 (secondary)", "leather, brass",
                     "tan shoulder strap",
                     "Dimensions: about 38 × 28 × 12 cm (width × height × depth)"):
        assert fragment in text
    assert prompts.CAMERAS[view] in text
    assert prompts.HIDDEN_FACES[view] in text


def test_back_view_keeps_the_logo_off() -> None:
    assert "not visible from the back" in prompts.view_prompt(ViewType.BACK, FEATURES,
                                                              has_logo=True)


def test_prompt_for_dispatches_and_refuses_missing_features() -> None:
    assert prompts.prompt_for(ViewType.FRONT, text="mug", features=None).startswith(
        "Generate ONLY the front")
    with pytest.raises(ValueError):
        prompts.prompt_for(ViewType.TOP, text="mug", features=None)
    with pytest.raises(ValueError):
        prompts.view_prompt(ViewType.FRONT, FEATURES)


def test_prompts_are_pure() -> None:
    assert prompts.view_prompt(ViewType.SIDE, FEATURES) == prompts.view_prompt(
        ViewType.SIDE, FEATURES)


@pytest.mark.parametrize(("dims", "line"), [
    ({"width": 11, "height": 8.5, "depth": None, "unit": "in"},
     "- Dimensions: width about 11 in, height about 8.5 in (depth unknown: keep the "
     "front's proportions)"),
    ({"note": "roughly hand-sized"}, "- Dimensions: roughly hand-sized"),
    ("Width: 28cm, Height: 22cm", "- Dimensions: width about 28 cm, height about 22 cm "
     "(depth unknown: keep the front's proportions)"),
])
def test_the_dimensions_line_names_each_axis_or_keeps_the_note(dims, line: str) -> None:
    features = FEATURES.model_copy(update={
        "estimatedDimensions": ExtractedFeatures(estimatedDimensions=dims).estimatedDimensions})
    assert line in prompts.feature_block(features).splitlines()


def test_no_dimensions_means_no_dimensions_line() -> None:
    features = FEATURES.model_copy(update={"estimatedDimensions": None})
    assert "Dimensions" not in prompts.feature_block(features)


def test_the_hero_prompt_is_built_from_the_approved_front_and_its_features() -> None:
    text = prompts.view_prompt(ViewType.HERO, FEATURES, text="messenger bag", has_logo=True,
                               feedback=("make the strap longer",))
    assert text.startswith("Generate ONLY the three-quarter hero view")
    assert "approved front" in text
    assert prompts.CAMERAS[ViewType.HERO] in text and "45 degrees" in text
    assert prompts.feature_block(FEATURES) in text
    assert "show it only where that face is visible" in text  # the front face is in view
    assert "make the strap longer" in text

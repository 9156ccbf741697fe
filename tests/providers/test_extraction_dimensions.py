"""The model's dimensions answer (OpenAI strict schema, Gemini response schema) becomes the
seed's ``{width, height, depth, unit}``: a null size is listed in ``not_measured``, a
negative or infinite one counts as unknown, and all-null means not measured at all."""

from __future__ import annotations

import math

import pytest
from fakes import FEATURES

from viewgen.providers.extraction import EXTRACTION_PROMPT, ProductFeatures, to_features


def _answer(**dims: object) -> ProductFeatures:
    return ProductFeatures.model_validate({**FEATURES, "estimatedDimensions": dims})


def test_a_whole_answer_keeps_every_size() -> None:
    features = to_features(_answer(width=12, height=8.5, depth=4, unit="in"))
    assert features.estimatedDimensions is not None
    assert features.estimatedDimensions.model_dump() == {
        "width": 12, "height": 8.5, "depth": 4, "unit": "in", "note": None}
    assert features.dimensions_text == "12 × 8.5 × 4 in"
    assert features.not_measured == []


@pytest.mark.parametrize(("depth", "why"), [(None, "not judged"), (-3, "negative"),
                                            (math.inf, "infinite")])
def test_a_size_the_model_could_not_give_is_null_and_listed(depth: float | None,
                                                            why: str) -> None:
    features = to_features(_answer(width=30, height=45, depth=depth, unit="cm"))
    assert features.estimatedDimensions is not None, why
    assert features.estimatedDimensions.depth is None
    assert features.not_measured == ["estimatedDimensions.depth"]
    assert features.dimensions_text == "W 30 × H 45 cm (depth not measured)"


def test_no_size_at_all_is_no_dimensions() -> None:
    features = to_features(_answer(width=None, height=None, depth=None, unit="cm"))
    assert features.estimatedDimensions is None
    assert features.not_measured == ["estimatedDimensions"]
    assert features.public_json()["estimatedDimensions"] is None


def test_the_old_text_answer_no_longer_fits_the_schema() -> None:
    with pytest.raises(ValueError):
        ProductFeatures.model_validate({**FEATURES, "estimatedDimensions": "45 x 30 x 15 cm"})
    assert '"cm" or "in"' in EXTRACTION_PROMPT and "width" in EXTRACTION_PROMPT

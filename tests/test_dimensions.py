"""The seed's dimensions record: text people and older models wrote is parsed into
``{width, height, depth, unit}``, unreadable text is kept as a note, sizes are numbers
>= 0 in cm or in, and every screen formats it one way ("28 × 22 × 12 cm")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from viewgen.dimensions import Dimensions, dimension_gaps, format_dimensions, parse_dimensions
from viewgen.domain import ExtractedFeatures


@pytest.mark.parametrize(("text", "expected"), [
    ("Width: 28cm, Height: 22cm", (28, 22, None, "cm")),
    ("28 x 22 x 12 cm", (28, 22, 12, "cm")),
    ("11 in wide", (11, None, None, "in")),
    ("about 32 × 24 × 12 cm (W × H × D)", (32, 24, 12, "cm")),  # our own old format
    ("45 x 30 x 15 cm", (45, 30, 15, "cm")),
    ("28cm x 22cm x 12cm", (28, 22, 12, "cm")),
    ("12 x 8 x 4 inches", (12, 8, 4, "in")),
    ('10" x 6" x 2"', (10, 6, 2, "in")),
    ("H 30 cm, W 20 cm, D 10 cm", (20, 30, 10, "cm")),
    ("W 28 x H 22 cm", (28, 22, None, "cm")),
    ("Height: 40 cm; width 30; depth 12 cm", (30, 40, 12, "cm")),
    ("30 x 20 x 10 cm (L x W x H)", (20, 10, 30, "cm")),  # the order label wins
    ("250 x 120 mm", (25, 12, None, "cm")),
    ("1.2 m tall", (None, 120, None, "cm")),
    ("6 ft tall, 2 ft wide", (24, 72, None, "in")),
    ("Width: 28cm, Height: 10 in", (28, 25.4, None, "cm")),  # one unit per record
])
def test_text_sizes_are_parsed(text: str, expected: tuple) -> None:
    dims = parse_dimensions(text)
    assert dims is not None and dims.note is None
    assert (dims.width, dims.height, dims.depth, dims.unit) == expected


@pytest.mark.parametrize("text", [
    "roughly hand-sized", "approx. 28 x 22 x 12",  # no unit: not guessed
    "Width: 28, it's big", "28 in black leather",
])
def test_text_that_cannot_be_read_is_kept_as_a_note(text: str) -> None:
    dims = parse_dimensions(text)
    assert dims is not None
    assert (dims.width, dims.height, dims.depth, dims.note) == (None, None, None, text)
    assert format_dimensions(dims) == text
    assert dimension_gaps(dims) == ["estimatedDimensions"]


def test_blank_text_is_no_dimensions() -> None:
    assert parse_dimensions("  ") is None and parse_dimensions(None) is None
    assert format_dimensions(None) == ""


def test_format_and_gaps() -> None:
    assert format_dimensions(Dimensions(width=28, height=22, depth=12)) == "28 × 22 × 12 cm"
    assert format_dimensions(Dimensions(width=11.5, height=8, depth=0.25, unit="in")) == (
        "11.5 × 8 × 0.25 in")
    partial = Dimensions(width=28, height=22)
    assert str(partial) == "W 28 × H 22 cm (depth not measured)"
    assert dimension_gaps(partial) == ["estimatedDimensions.depth"]
    assert dimension_gaps(None) == ["estimatedDimensions"]


@pytest.mark.parametrize("bad", [{"width": -1}, {"height": float("nan")},
                                 {"depth": float("inf")}, {"unit": "yd"}, {"width": "big"}])
def test_sizes_are_numbers_at_least_zero_in_cm_or_in(bad: dict) -> None:
    with pytest.raises(ValidationError):
        ExtractedFeatures(estimatedDimensions={"width": 1, "height": 1, "depth": 1,
                                               "unit": "cm", **bad})


def test_the_feature_record_reads_old_text_and_drops_an_all_null_object() -> None:
    old = ExtractedFeatures.model_validate({"estimatedDimensions": "28 x 22 x 12 cm"})
    assert old.public_json()["estimatedDimensions"] == {
        "width": 28.0, "height": 22.0, "depth": 12.0, "unit": "cm", "note": None}
    assert old.dimensions_text == "28 × 22 × 12 cm"
    empty = {"width": None, "height": None, "depth": None, "unit": "in"}
    assert ExtractedFeatures(estimatedDimensions=empty).estimatedDimensions is None
    assert ExtractedFeatures(estimatedDimensions={"unit": "Inches", "width": 3}
                             ).estimatedDimensions.unit == "in"


def test_features_json_in_the_zip_carries_the_dimensions_object() -> None:
    import io
    import json
    import zipfile

    from viewgen import export

    features = ExtractedFeatures(estimatedDimensions="Width: 28cm, Height: 22cm",
                                 not_measured=["estimatedDimensions.depth"])
    data = export.zip_bundle({}, features)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        written = json.loads(archive.read("features.json"))
    assert written["estimatedDimensions"] == {"width": 28.0, "height": 22.0, "depth": None,
                                              "unit": "cm", "note": None}
    assert written["not_measured"] == ["estimatedDimensions.depth"]

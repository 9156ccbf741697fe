"""The features form before the other views (AppTest.from_function): it shows the
extracted features, returns the corrected record on submit (None when unchanged), refuses
a bad hex or size with a message and nothing saved, and never renders user text as
Markdown. ``read_form`` is checked on its own for what the widgets cannot send."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from viewgen.domain import ExtractedFeatures
from viewgen.errors import InvalidInput
from viewgen.ui.features_form import ColourRow, FormValues, read_form

FEATURES = ExtractedFeatures.model_validate({
    "colors": [{"hex": "#1F2A44", "name": "navy", "usage": "primary", "share": 0.7},
               {"hex": "#C8A165", "name": "tan", "usage": "secondary", "share": 0.2}],
    "materials": ["canvas"],
    "keyElements": ["front zip pocket"],
    "estimatedDimensions": {"width": 30, "height": 45, "depth": None, "unit": "cm"},
    "description": "A navy canvas backpack.",
    "not_measured": ["estimatedDimensions.depth"],
})


def _script(features_json):  # runs as its own script: no names from this module
    import streamlit as st

    from viewgen.domain import ExtractedFeatures
    from viewgen.ui.features_form import features_form

    result = features_form(ExtractedFeatures.model_validate(features_json), key="f")
    if result is not None:
        st.session_state["saved"] = result.model_dump(mode="json")


def _app(features: ExtractedFeatures = FEATURES) -> AppTest:
    at = AppTest.from_function(_script, args=(features.model_dump(mode="json"),),
                               default_timeout=30)
    at.run()
    assert not at.exception
    return at


def _submit(at: AppTest) -> None:
    at.button[0].click()
    at.run()
    assert not at.exception


def test_the_form_shows_the_extracted_features() -> None:
    at = _app()
    assert [c.value.upper() for c in at.color_picker] == ["#1F2A44", "#C8A165"]
    assert at.text_input(key="f:name1").value == "navy"
    assert at.selectbox(key="f:usage2").value == "secondary"
    assert at.text_area(key="f:materials").value == "canvas"
    assert at.text_area(key="f:key_elements").value == "front zip pocket"
    assert (at.number_input(key="f:width").value, at.number_input(key="f:height").value,
            at.number_input(key="f:depth").value) == (30, 45, None)
    assert at.selectbox(key="f:unit").value == "cm"
    assert at.text_area(key="f:description").value == "A navy canvas backpack."


def test_submitting_unchanged_features_returns_nothing_to_save() -> None:
    at = _app()
    _submit(at)
    assert "saved" not in at.session_state
    assert any("Nothing changed" in c.value for c in at.caption)


def test_corrections_come_back_as_a_validated_record() -> None:
    at = _app()
    at.text_input(key="f:name1").input("midnight blue")
    at.checkbox(key="f:remove2").check()
    at.text_input(key="f:new_hex").input("e67e22")  # the # is optional
    at.text_area(key="f:materials").input("canvas\nleather\n canvas ")
    at.number_input(key="f:depth").set_value(15)
    at.selectbox(key="f:unit").set_value("in")
    _submit(at)
    saved = ExtractedFeatures.model_validate(at.session_state["saved"])
    assert [(c.hex, c.name, c.usage.value, c.share) for c in saved.colors] == [
        ("#1F2A44", "midnight blue", "primary", 0.7),  # same hex: its measured share stays
        ("#E67E22", saved.colors[1].name, "accent", None),
    ]
    assert saved.colors[1].name and saved.colors[1].name != "#E67E22"  # named from the hex
    assert saved.materials == ["canvas", "leather"]
    assert saved.estimatedDimensions is not None
    assert saved.dimensions_text == "30 × 45 × 15 in"
    assert saved.not_measured == []  # the depth is now known


@pytest.mark.parametrize(("hex_text", "message"), [
    ("#12345", "'#12345' is not a colour"), ("navy", "'navy' is not a colour")])
def test_a_bad_hex_is_refused_and_nothing_is_returned(hex_text: str, message: str) -> None:
    at = _app()
    at.text_input(key="f:new_hex").input(hex_text)
    at.text_area(key="f:description").input("changed too")
    _submit(at)
    assert "saved" not in at.session_state
    assert [e.value for e in at.error] == [
        f"The new colour: {message}; write it as #RRGGBB, e.g. #1F2A44."]


def test_user_text_is_never_rendered_as_markdown() -> None:
    hostile = FEATURES.model_copy(update={
        "description": "![p](http://attacker.example/p.png) <img src=x>",
        "materials": ["**bold** [link](http://attacker.example)"],
        "estimatedDimensions": ExtractedFeatures(
            estimatedDimensions="[size](http://attacker.example/s)").estimatedDimensions,
    })
    at = _app(hostile)
    rendered = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert not any("attacker" in text for text in rendered)
    # the unparsed old size is shown as plain text, the rest as widget values
    assert [t.value for t in at.text] == ["As written before: [size](http://attacker.example/s)"]
    assert at.text_area(key="f:description").value == hostile.description


def test_read_form_refuses_what_the_widgets_cannot_send() -> None:
    values = FormValues(colours=[ColourRow("#1F2A44", "navy", "primary"),
                                 ColourRow("#C8A165", "tan", "secondary")],
                        materials="canvas", key_elements="front zip pocket",
                        width=30, height=45, unit="cm",
                        description="A navy canvas backpack.")
    assert read_form(FEATURES, values) is None
    for change, message in (({"width": -1.0}, "0 or more"), ({"depth": float("nan")},
                            "0 or more"), ({"unit": "yd"}, "cm or in"),
                            ({"materials": "x" * 200}, "characters long"),
                            ({"key_elements": "\n".join(f"part {i}" for i in range(30))},
                             "at most 20")):
        with pytest.raises(InvalidInput, match=message):
            read_form(FEATURES, FormValues(**{**values.__dict__, **change}))
    cleared = read_form(FEATURES, FormValues(**{**values.__dict__, "width": None,
                                                "height": None}))
    assert cleared is not None and cleared.estimatedDimensions is None
    assert cleared.not_measured == ["estimatedDimensions"]

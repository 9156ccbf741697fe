"""The extracted features as a small form the person may correct before the other views.

``features_form`` draws the approved front's features (colours with a hex swatch each,
name and usage; materials and key elements one per line; width, height and depth with
their unit; the description) inside an ``st.form`` and, on the run its button is
pressed, returns the corrected ``ExtractedFeatures``, or ``None`` when nothing changed
or the input is wrong (then the reason is shown above the button and nothing is
returned to save). ``read_form`` is the pure half: form values in, validated features
out, ``InvalidInput`` for a bad hex or size. User text is only ever a widget's value or
``st.text``: never Markdown, never HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import streamlit as st
from pydantic import ValidationError

from viewgen.color import nearest_name
from viewgen.dimensions import AXES, FIELD, Dimensions, dimension_gaps
from viewgen.domain import Color, ColorUsage, ExtractedFeatures
from viewgen.errors import InvalidInput

USAGES = [u.value for u in ColorUsage]
UNITS = ["cm", "in"]
MAX_ITEMS = 20
MAX_ITEM_CHARS = 120
MAX_DESCRIPTION_CHARS = 2000


@dataclass
class ColourRow:
    """One colour row of the form as the widgets return it."""

    hex: str
    name: str
    usage: str = ColorUsage.PRIMARY.value
    remove: bool = False


@dataclass
class FormValues:
    """Everything the form's widgets return, before validation."""

    colours: list[ColourRow] = field(default_factory=list)
    new_colour: ColourRow | None = None
    materials: str = ""
    key_elements: str = ""
    width: float | None = None
    height: float | None = None
    depth: float | None = None
    unit: str = "cm"
    description: str = ""


def _lines(text: str, what: str) -> list[str]:
    items: list[str] = []
    for line in (text or "").splitlines():
        item = " ".join(line.split())
        if not item or item in items:
            continue
        if len(item) > MAX_ITEM_CHARS:
            raise InvalidInput(
                f"A line of {what} is {len(item)} characters long; keep each under "
                f"{MAX_ITEM_CHARS}.")
        items.append(item)
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"List at most {MAX_ITEMS} {what}, one per line.")
    return items


def _colour(row: ColourRow, share: float | None, where: str) -> Color:
    hex_text = row.hex.strip()
    try:
        return Color(hex=hex_text, name=" ".join(row.name.split())[:60] or
                     nearest_name(Color(hex=hex_text, name="x").hex),
                     usage=ColorUsage(row.usage), share=share)
    except (ValidationError, ValueError):
        raise InvalidInput(
            f"{where}: {hex_text!r} is not a colour; write it as #RRGGBB, e.g. #1F2A44."
        ) from None


def read_form(original: ExtractedFeatures, values: FormValues) -> ExtractedFeatures | None:
    """The corrected features, or ``None`` if they equal ``original``.

    Raises ``InvalidInput`` (nothing saved) for a hex that is not #RRGGBB, a negative or
    non-finite size, an unknown unit, or text over the limits.
    """
    colours: list[Color] = []
    for number, (row, before) in enumerate(zip(values.colours, original.colors, strict=False),
                                           start=1):
        if row.remove:
            continue
        colour = _colour(row, None, f"Colour {number}")
        # a measured share belongs to the measured colour only
        share = before.share if colour.hex == before.hex else None
        colours.append(colour.model_copy(update={"share": share}))
    if values.new_colour is not None and values.new_colour.hex.strip():
        colours.append(_colour(values.new_colour, None, "The new colour"))
    if values.unit not in UNITS:
        raise InvalidInput(f"The unit must be cm or in, not {values.unit!r}.")
    sizes = {axis: getattr(values, axis) for axis in AXES}
    try:
        if any(v is not None for v in sizes.values()):
            dims: Dimensions | None = Dimensions(unit=values.unit, **sizes)  # type: ignore[arg-type]
        elif original.estimatedDimensions is not None and original.estimatedDimensions.note:
            dims = original.estimatedDimensions  # a note nobody replaced stays as it was
        else:
            dims = None
    except ValidationError:
        raise InvalidInput("Sizes must be numbers, 0 or more (leave a size empty if "
                           "it is not known).") from None
    description = " ".join((values.description or "").split())
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(f"The description is {len(description):,} characters long; "
                           f"the limit is {MAX_DESCRIPTION_CHARS:,}.")
    materials = _lines(values.materials, "materials")
    elements = _lines(values.key_elements, "key elements")

    filled = {"colors": bool(colours), "materials": bool(materials),
              "keyElements": bool(elements)}
    not_measured = [
        name for name in original.not_measured
        if not filled.get(name, False) and name != FIELD and not name.startswith(f"{FIELD}.")
    ]
    if dims == original.estimatedDimensions:
        not_measured += [n for n in original.not_measured
                         if n == FIELD or n.startswith(f"{FIELD}.")]
    else:
        not_measured += dimension_gaps(dims)
    corrected = ExtractedFeatures(
        colors=colours, materials=materials, keyElements=elements,
        estimatedDimensions=dims, description=description, not_measured=not_measured,
    )
    return None if corrected == original else corrected


def _widget(key: str, name: str) -> str:
    return f"{key}:{name}"


def features_form(features: ExtractedFeatures, *, key: str = "features_form",
                  submit_label: str = "Save corrections") -> ExtractedFeatures | None:
    """Draw the form; on submit return the corrected features (``None``: unchanged or bad).

    ``key`` must be unique on the page (e.g. ``f"features:{approval.id}"``): widget
    values live under it in ``st.session_state``.
    """
    values = FormValues()
    with st.form(key, border=True):
        st.markdown("**Colours**")
        for number, colour in enumerate(features.colors, start=1):
            # the column heads once, over the first row; every widget keeps its own label
            # for screen readers ("Name of colour 2")
            shown: Literal["visible", "collapsed"] = "visible" if number == 1 else "collapsed"
            swatch, name, usage, remove = st.columns([1.1, 3, 2, 1.5],
                                                     vertical_alignment="bottom")
            with swatch:
                hex_value = st.color_picker(
                    "Colour" if number == 1 else f"Colour {number}", value=colour.hex,
                    key=_widget(key, f"hex{number}"), label_visibility=shown)
            with name:
                name_value = st.text_input(
                    "Name" if number == 1 else f"Name of colour {number}", value=colour.name,
                    max_chars=60, key=_widget(key, f"name{number}"), label_visibility=shown)
            with usage:
                usage_value = st.selectbox(
                    "Use" if number == 1 else f"Use of colour {number}", USAGES,
                    index=USAGES.index(colour.usage.value), key=_widget(key, f"usage{number}"),
                    label_visibility=shown)
            with remove:
                if number == 1:
                    st.caption("Remove")
                removed = st.checkbox(f"Remove colour {number}", label_visibility="collapsed",
                                      key=_widget(key, f"remove{number}"))
            values.colours.append(ColourRow(hex_value, name_value, usage_value, removed))
        add_hex, add_name, add_usage = st.columns([2, 3, 2], vertical_alignment="bottom")
        with add_hex:
            new_hex = st.text_input("Add a colour (#RRGGBB)", placeholder="#1F2A44",
                                    max_chars=7, key=_widget(key, "new_hex"))
        with add_name:
            new_name = st.text_input("Its name", max_chars=60, key=_widget(key, "new_name"),
                                     placeholder="named from the hex if empty")
        with add_usage:
            new_usage = st.selectbox("Its use", USAGES, index=USAGES.index("accent"),
                                     key=_widget(key, "new_usage"))
        values.new_colour = ColourRow(new_hex or "", new_name or "", new_usage)

        left, right = st.columns(2)
        with left:
            values.materials = st.text_area(
                "Materials (one per line)", value="\n".join(features.materials),
                key=_widget(key, "materials"))
        with right:
            values.key_elements = st.text_area(
                "Key elements (one per line)", value="\n".join(features.keyElements),
                key=_widget(key, "key_elements"))

        dims = features.estimatedDimensions
        st.markdown("**Dimensions** (leave a size empty if it is not known)")
        if dims is not None and dims.note and len(dims.missing) == len(AXES):
            st.text(f"As written before: {dims.note}")
        columns = st.columns(4)
        for column, axis in zip(columns, AXES, strict=False):
            with column:
                setattr(values, axis, st.number_input(
                    axis.capitalize(), min_value=0.0, step=0.5, format="%.2f",
                    value=getattr(dims, axis) if dims is not None else None,
                    key=_widget(key, axis)))
        with columns[3]:
            values.unit = st.selectbox(
                "Unit", UNITS, index=UNITS.index(dims.unit) if dims is not None else 0,
                key=_widget(key, "unit"))

        values.description = st.text_area(
            "Description", value=features.description, max_chars=MAX_DESCRIPTION_CHARS,
            key=_widget(key, "description"))
        submitted = st.form_submit_button(submit_label, type="primary")
        if not submitted:
            return None
        try:
            corrected = read_form(features, values)
        except InvalidInput as exc:
            st.error(exc.user_message, icon=":material/error:")
            return None
        if corrected is None:
            st.caption("Nothing changed: the features stay as extracted.")
        return corrected


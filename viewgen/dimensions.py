"""A product's estimated size as the seed records it: ``{width, height, depth, unit}``.

``Dimensions`` is the record (numbers >= 0 or null, unit ``cm`` or ``in``, and a
``note`` that keeps text no parser could read, so nothing a row held is lost);
``parse_dimensions`` reads the sizes people and older models wrote as text ("Width:
28cm, Height: 22cm", "28 x 22 x 12 cm", "11 in wide", "250 x 120 mm", "30 x 20 x 10 cm
(L x W x H)"); ``format_dimensions`` writes it the one way every screen and export
shows it ("28 × 22 × 12 cm"); ``dimension_gaps`` names what was not measured, for
``ExtractedFeatures.not_measured``. Width runs left to right in the front view, height
bottom to top, depth front to back.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, field_validator

Unit = Literal["cm", "in"]
AXES: tuple[str, ...] = ("width", "height", "depth")
FIELD = "estimatedDimensions"

# each unit as (record unit, factor to it)
_UNITS: dict[str, tuple[Unit, float]] = {
    "mm": ("cm", 0.1), "millimeter": ("cm", 0.1), "millimetre": ("cm", 0.1),
    "cm": ("cm", 1.0), "centimeter": ("cm", 1.0), "centimetre": ("cm", 1.0),
    "m": ("cm", 100.0), "meter": ("cm", 100.0), "metre": ("cm", 100.0),
    "in": ("in", 1.0), "inch": ("in", 1.0), '"': ("in", 1.0), "″": ("in", 1.0),
    "ft": ("in", 12.0), "foot": ("in", 12.0), "feet": ("in", 12.0), "'": ("in", 12.0),
    "′": ("in", 12.0),
}
_CM_PER_IN = 2.54
_UNIT_NAMES = {"cm": "cm", "in": "in", "inch": "in", "inches": "in", "centimeter": "cm",
               "centimeters": "cm", "centimetre": "cm", "centimetres": "cm"}

_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = (r"(mm|millimet(?:er|re)s?|cm|centimet(?:er|re)s?|met(?:er|re)s?|m|inch(?:es)?|in"
         r"|ft|feet|foot|\"|″|'|′)(?![a-z])")
_LABELS = {
    "width": "width", "wide": "width", "w": "width", "breadth": "width", "across": "width",
    "height": "height", "high": "height", "tall": "height", "h": "height",
    "depth": "depth", "deep": "depth", "d": "depth", "length": "depth", "long": "depth",
    "l": "depth", "thick": "depth", "thickness": "depth",
}
_OPT_UNIT = r"(?:" + _UNIT + r")?"
_BEFORE = re.compile(r"\b(width|breadth|height|depth|length|thickness|w|h|d|l)\b\s*[:=]?\s*"
                     + _NUM + r"\s*" + _OPT_UNIT)
_AFTER = re.compile(_NUM + r"\s*" + _OPT_UNIT + r"\s*\(?\b(wide|across|tall|high|deep|long"
                    r"|thick|width|height|depth|length|w|h|d|l)\b")
_SERIES = re.compile(_NUM + r"\s*" + _OPT_UNIT + r"\s*x\s*" + _NUM + r"\s*" + _OPT_UNIT
                     + r"(?:\s*x\s*" + _NUM + r"\s*" + _OPT_UNIT + r")?")
_ORDER = re.compile(r"\b([whdl])\s*x\s*([whdl])(?:\s*x\s*([whdl]))?\b")


class Dimensions(BaseModel):
    """The estimated real-world size; a null axis was not measured."""

    width: float | None = None
    height: float | None = None
    depth: float | None = None
    unit: Unit = "cm"
    note: str | None = None

    @field_validator("width", "height", "depth")
    @classmethod
    def _size(cls, value: float | None) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"a size must be a number, 0 or more; got {value!r}")
        return round(float(value), 2)

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _UNIT_NAMES.get(value.strip().lower(), value.strip().lower())
        return value

    @field_validator("note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        text = " ".join((value or "").split())[:300]
        return text or None

    @property
    def missing(self) -> list[str]:
        """The axes not measured."""
        return [axis for axis in AXES if getattr(self, axis) is None]

    @property
    def is_empty(self) -> bool:
        return len(self.missing) == len(AXES) and not self.note

    def __str__(self) -> str:
        return format_dimensions(self)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def format_dimensions(dims: Dimensions | None) -> str:
    """``"28 × 22 × 12 cm"``; ``"W 28 × H 22 cm (depth not measured)"``; the note; or ``""``."""
    if dims is None or dims.is_empty:
        return ""
    measured = [(axis, getattr(dims, axis)) for axis in AXES if getattr(dims, axis) is not None]
    if not measured:
        return dims.note or ""
    if len(measured) == len(AXES):
        return " × ".join(_number(v) for _, v in measured) + f" {dims.unit}"
    sizes = " × ".join(f"{axis[0].upper()} {_number(v)}" for axis, v in measured)
    return f"{sizes} {dims.unit} ({' and '.join(dims.missing)} not measured)"


def dimension_gaps(dims: Dimensions | None) -> list[str]:
    """Names for ``not_measured``: the whole field, or each missing axis."""
    if dims is None or not [a for a in AXES if getattr(dims, a) is not None]:
        return [FIELD]
    return [f"{FIELD}.{axis}" for axis in dims.missing]


def _in_unit(value: str, unit_text: str | None, target: Unit | None) -> tuple[float, Unit] | None:
    """``value unit_text`` in the record's unit (``target``, else the unit's own family)."""
    if not unit_text:
        return None
    key = "inch" if unit_text == "inches" else unit_text
    known = _UNITS.get(key) or _UNITS.get(key.rstrip("s"))
    if known is None:
        return None
    base, factor = known
    size = float(value) * factor
    if target is not None and target != base:
        size = size * _CM_PER_IN if base == "in" else size / _CM_PER_IN
        base = target
    return size, base


def parse_dimensions(text: str | None) -> Dimensions | None:
    """Sizes read from free text; ``None`` for blank text; unreadable text kept as a note.

    A size without any unit in the whole text is not guessed: the text becomes the note.
    """
    raw = " ".join((text or "").split())
    if not raw:
        return None
    low = (raw.lower().replace("×", "x").replace("*", "x").replace("“", '"')
           .replace("”", '"').replace("’", "'"))
    found: dict[str, float] = {}
    unit: Unit | None = None

    def put(axis: str, value: str, unit_text: str | None, fallback: str | None) -> None:
        nonlocal unit
        converted = _in_unit(value, unit_text or fallback, unit)
        if converted is None or axis in found:
            return
        found[axis], unit = converted[0], converted[1]

    series = _SERIES.search(low)
    if series:
        a, ua, b, ub, c, uc = series.groups()
        last_unit = uc or ub or ua
        order = ["width", "height", "depth"]
        letters = _ORDER.search(low[series.end():]) or _ORDER.search(low[:series.start()])
        if letters:
            named = [_LABELS[x] for x in letters.groups() if x]
            if len(set(named)) == len(named):
                order = named + [axis for axis in order if axis not in named]
        for axis, value, own in zip(order, (a, b, c), (ua, ub, uc), strict=True):
            if value is not None:
                put(axis, value, own, last_unit)
    # an unlabelled size after a label ("W 28", "Width: 28cm") takes the series' unit
    for match in _BEFORE.finditer(low):
        label, value, unit_text = match.groups()
        put(_LABELS[label], value, unit_text, _next_unit(low, match.end()))
    for match in _AFTER.finditer(low):
        value, unit_text, label = match.groups()
        put(_LABELS[label], value, unit_text, _next_unit(low, match.end()))
    if not found or unit is None:
        return Dimensions(note=raw)
    return Dimensions(unit=unit, **found)


def _next_unit(text: str, start: int) -> str | None:
    """The first unit written after ``start`` (for "W 28 x H 22 cm")."""
    match = re.search(r"\d\s*" + _UNIT, text[start:])
    return match.group(1) if match else None


def upgrade_feature_json(data: dict[str, Any]) -> dict[str, Any]:
    """A stored feature record with its text ``estimatedDimensions`` made the seed's object.

    Only that key and the dimension entries of ``not_measured`` change; a record already
    in the new shape comes back equal, so running this twice changes nothing.
    """
    value = data.get(FIELD)
    if not isinstance(value, str):
        return data
    dims = parse_dimensions(value)
    gaps = [n for n in data.get("not_measured") or []
            if n != FIELD and not str(n).startswith(f"{FIELD}.")]
    if dims is None or dims.is_empty:
        return {**data, FIELD: None, "not_measured": [*gaps, FIELD]}
    return {**data, FIELD: dims.model_dump(mode="json"),
            "not_measured": [*gaps, *dimension_gaps(dims)]}

"""What the model-backed feature extractors share: the prompt, the wire schema, and
the step from a model's answer to ``viewgen.domain.ExtractedFeatures``.

``ProductFeatures`` is the structured-output schema sent to OpenAI (strict JSON
schema) and to Gemini (response schema). Every field is required and an optional
one is ``X | None`` with no default, because OpenAI's strict mode rejects a schema
with optional properties. Hex colours are checked here rather than in the schema: a
model that returns one bad colour loses that colour (logged, and ``colors`` marked
as not measured if none survive), not the whole extraction.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from viewgen.dimensions import AXES, Dimensions, dimension_gaps
from viewgen.domain import Color, ExtractedFeatures

log = logging.getLogger(__name__)

EXTRACTION_SYSTEM = (
    "You are a product designer's assistant. You look at one studio photograph of a "
    "product and describe it precisely so that other views of the same product (back, "
    "side, top, bottom) can be drawn to match it."
)

EXTRACTION_PROMPT = (
    "Describe the product in this image.\n"
    "- colors: the 2 to 6 most visible colours of the product itself (not the background), "
    "each as #RRGGBB hex, a plain colour name, and its usage: primary (the main body), "
    "secondary, or accent (small details, trims, logos).\n"
    "- materials: the materials the product appears to be made of.\n"
    "- keyElements: the distinctive parts and details (handles, straps, buttons, seams, "
    "logo placement ...), each a short phrase.\n"
    "- estimatedDimensions: the likely real-world size as numbers: width (left to right "
    "in this view), height (bottom to top) and depth (front to back), all in one unit, "
    "\"cm\" or \"in\"; null for a size that cannot be judged from the image.\n"
    "- description: two or three sentences a person could draw the product from."
)


class ColorSpec(BaseModel):
    hex: str = Field(description="the colour as #RRGGBB")
    name: str = Field(description="a plain colour name, e.g. 'navy blue'")
    usage: Literal["primary", "secondary", "accent"]


class DimensionsSpec(BaseModel):
    """The product's likely real-world size in one unit; a size that cannot be judged is null."""

    width: float | None = Field(description="left to right in the front view, or null")
    height: float | None = Field(description="bottom to top, or null")
    depth: float | None = Field(description="front to back, or null")
    unit: Literal["cm", "in"]


class ProductFeatures(BaseModel):
    """The structured-output schema both extractors ask for."""

    colors: list[ColorSpec]
    materials: list[str]
    keyElements: list[str]
    estimatedDimensions: DimensionsSpec
    description: str


def to_dimensions(spec: DimensionsSpec | None) -> Dimensions | None:
    """The model's sizes as ``Dimensions``; a negative or infinite size counts as unknown."""
    if spec is None:
        return None
    sizes = {axis: value for axis in AXES
             if (value := getattr(spec, axis)) is not None and math.isfinite(value)
             and value >= 0}
    return Dimensions(unit=spec.unit, **sizes) if sizes else None


def to_features(answer: ProductFeatures) -> ExtractedFeatures:
    """The model's answer as domain features; colours with a bad hex are dropped."""
    colors: list[Color] = []
    dropped: list[str] = []
    for spec in answer.colors:
        try:
            colors.append(Color(hex=spec.hex, name=spec.name.strip() or spec.hex,
                                usage=spec.usage))
        except ValidationError:
            dropped.append(spec.hex)
    if dropped:
        log.warning("dropped %d colour(s) with an invalid hex: %s", len(dropped),
                    ", ".join(repr(d[:16]) for d in dropped))
    not_measured: list[str] = []
    if answer.colors and not colors:
        not_measured.append("colors")
    materials = [m.strip() for m in answer.materials if m.strip()]
    elements = [e.strip() for e in answer.keyElements if e.strip()]
    dimensions = to_dimensions(answer.estimatedDimensions)
    if not answer.colors:
        not_measured.append("colors")
    if not materials:
        not_measured.append("materials")
    if not elements:
        not_measured.append("keyElements")
    not_measured.extend(dimension_gaps(dimensions))
    return ExtractedFeatures(
        colors=colors,
        materials=materials,
        keyElements=elements,
        estimatedDimensions=dimensions,
        description=answer.description.strip(),
        not_measured=not_measured,
    )


def sniff_mime(data: bytes) -> str:
    """The image MIME type from the first bytes (PNG unless it is plainly another)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return "image/png"

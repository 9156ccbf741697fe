"""Prompt builders for the image model: pure functions, one per view type.

The front prompt asks for the front view only and sets the studio and logo rules. Every
other view's prompt (the optional three-quarter hero's too) carries the features
extracted from the approved front (colours with hex and name, materials, key elements,
dimensions with each axis named), names its camera exactly, says what the hidden faces
should look like, and insists on matching the approved front, which the provider sends
as the first image. ``edit_prompt`` asks an image model that can edit (Gemini) to change
only what the newest feedback says in the rejected front, sent as the first image, and
to keep everything else.
"""

from __future__ import annotations

from collections.abc import Sequence

from viewgen.dimensions import AXES, Dimensions
from viewgen.domain import ExtractedFeatures, ViewType

STYLE_RULES = (
    "Studio product photograph: plain light-grey seamless background, soft even lighting, "
    "a soft contact shadow, the whole product in frame and centred, orthographic-looking "
    "camera with no perspective distortion, no text, no watermark, no hands, no props."
)

LOGO_RULES = (
    "A logo image is attached: place it exactly as given (same shapes and colours, not "
    "redrawn, not distorted) as a decal on the front face of the product."
)

CAMERAS: dict[ViewType, str] = {
    ViewType.FRONT: "Camera straight in front of the product at its mid-height, looking at the front face.",
    ViewType.BACK: (
        "Camera directly behind the product (rotated 180 degrees from the front), at the same "
        "height and distance, looking at the back face."
    ),
    ViewType.SIDE: (
        "Camera at the product's right side (rotated 90 degrees from the front), at the same "
        "height and distance, looking at the right side face."
    ),
    ViewType.TOP: (
        "Camera directly above the product looking straight down; the front edge of the "
        "product is at the bottom of the image."
    ),
    ViewType.BOTTOM: (
        "Camera directly below the product looking straight up at its underside; the front "
        "edge of the product is at the bottom of the image."
    ),
    ViewType.HERO: (
        "Three-quarter hero shot: camera in front of the product and turned 45 degrees "
        "towards its right side, raised about 20 degrees above mid-height and looking "
        "slightly down, so the front face, the right side face and a sliver of the top "
        "are all visible."
    ),
}

HIDDEN_FACES: dict[ViewType, str] = {
    ViewType.BACK: (
        "The back face was not visible in the front view: keep the same body, colours and "
        "materials; show back details a real product of this kind has (seams, back panel, "
        "pockets, ports) and no front logo."
    ),
    ViewType.SIDE: (
        "Show the product's depth: its thickness, how handles, straps or caps attach, in the "
        "same colours and materials."
    ),
    ViewType.TOP: "Show the top surface and the outline of the product seen from above.",
    ViewType.BOTTOM: (
        "Show the underside: base, sole, feet or bottom panel, as a real product of this kind "
        "has, in matching colours and materials."
    ),
    ViewType.HERO: (
        "The front face must look exactly like the approved front, seen at an angle; the "
        "side and top show the product's depth in the same colours and materials. This is "
        "the catalogue's hero image: the same product, not a restyled one."
    ),
}


_VIEW_NAMES = {ViewType.HERO: "three-quarter hero"}


def _feedback_lines(feedback: Sequence[str]) -> str:
    notes = [f.strip() for f in feedback if f and f.strip()]
    if not notes:
        return ""
    listed = "\n".join(f"- {n}" for n in notes)
    return f"\nChanges the user asked for (apply all of them, newest last):\n{listed}\n"


def front_prompt(
    text: str | None, *, has_reference: bool = False, has_logo: bool = False,
    feedback: Sequence[str] = (),
) -> str:
    """The prompt for the front view, from a description and/or a reference photo."""
    parts = ["Generate ONLY the front view of this product, as a single image."]
    if text and text.strip():
        parts.append(f"Product: {text.strip()}")
    if has_reference:
        parts.append(
            "A reference photo of the product is attached: reproduce this exact product "
            "(shape, proportions, colours, materials, details) seen from the front, removed "
            "from its original background."
        )
    parts.append(CAMERAS[ViewType.FRONT])
    parts.append(STYLE_RULES)
    if has_logo:
        parts.append(LOGO_RULES)
    return "\n".join(parts) + _feedback_lines(feedback)


def _size(value: float) -> str:
    return f"{value:g}"


def dimensions_text(dims: Dimensions | None) -> str:
    """The size as the image model reads it, axes named so it cannot mix them up.

    ``"about 28 × 22 × 12 cm (width × height × depth)"``; a partial record names what it
    has and says the rest is unknown; a record the migration could not parse gives its
    note as written; nothing known gives ``""``.
    """
    if dims is None or dims.is_empty:
        return ""
    measured = [(axis, getattr(dims, axis)) for axis in AXES if getattr(dims, axis) is not None]
    if not measured:
        return dims.note or ""
    if len(measured) == len(AXES):
        sizes = " × ".join(_size(v) for _, v in measured)
        return f"about {sizes} {dims.unit} (width × height × depth)"
    known = ", ".join(f"{axis} about {_size(v)} {dims.unit}" for axis, v in measured)
    return f"{known} ({' and '.join(dims.missing)} unknown: keep the front's proportions)"


def feature_block(features: ExtractedFeatures) -> str:
    """The approved front's features, stated the same way for every view."""
    lines = ["Features of the approved front view (match them exactly):"]
    if features.colors:
        colours = "; ".join(f"{c.name} {c.hex} ({c.usage.value})" for c in features.colors)
        lines.append(f"- Colours: {colours}")
    if features.materials:
        lines.append(f"- Materials: {', '.join(features.materials)}")
    if features.keyElements:
        lines.append(f"- Key elements: {', '.join(features.keyElements)}")
    size = dimensions_text(features.estimatedDimensions)
    if size:
        lines.append(f"- Dimensions: {size}")
    if features.description:
        lines.append(f"- Description: {features.description}")
    return "\n".join(lines)


def view_prompt(
    view: ViewType, features: ExtractedFeatures, *, text: str | None = None,
    has_logo: bool = False, feedback: Sequence[str] = (),
) -> str:
    """The prompt for one of the other views (the four catalogue views or the optional
    three-quarter hero), anchored to the approved front."""
    if view == ViewType.FRONT:
        raise ValueError("use front_prompt for the front view")
    parts = [
        f"Generate ONLY the {_VIEW_NAMES.get(view, view.value)} view of the product shown in "
        "the first attached image, which is the approved front view.",
        "It is the same physical product: match the approved front exactly in shape, "
        "proportions, size, colours, materials and finish.",
        CAMERAS[view],
        HIDDEN_FACES[view],
        feature_block(features),
    ]
    if text and text.strip():
        parts.append(f"Original description: {text.strip()}")
    parts.append(STYLE_RULES)
    if has_logo:
        if view == ViewType.BACK:
            parts.append("The logo is on the front face only: it is not visible from the back.")
        else:
            parts.append(
                "The attached logo belongs on the front face; show it only where that face "
                "is visible."
            )
    return "\n".join(parts) + _feedback_lines(feedback)


def prompt_for(
    view: ViewType, *, text: str | None, features: ExtractedFeatures | None,
    has_reference: bool = False, has_logo: bool = False, feedback: Sequence[str] = (),
) -> str:
    if view == ViewType.FRONT:
        return front_prompt(text, has_reference=has_reference, has_logo=has_logo,
                            feedback=feedback)
    if features is None:
        raise ValueError("the other views need the approved front's features")
    return view_prompt(view, features, text=text, has_logo=has_logo, feedback=feedback)


def edit_prompt(feedback: Sequence[str], *, text: str | None = None,
                has_logo: bool = False) -> str:
    """The prompt for editing a rejected front: the newest note is the change to make.

    The rejected image is the first attached image; earlier notes are listed so an edit
    does not undo them.
    """
    notes = [f.strip() for f in feedback if f and f.strip()]
    if not notes:
        raise ValueError("an edit needs the feedback that says what to change")
    parts = [
        "Edit the attached product image (the first image). Make this change and only "
        f"this change: {notes[-1]}",
        "Keep everything else exactly as it is in the attached image: the product, its "
        "shape and proportions, colours, materials, details, the camera angle, framing, "
        "background and lighting. Return the whole edited image, the same size.",
    ]
    if text and text.strip():
        parts.append(f"The product, as first described: {text.strip()}")
    if len(notes) > 1:
        earlier = "\n".join(f"- {n}" for n in notes[:-1])
        parts.append(f"Earlier changes, already in the image (keep them):\n{earlier}")
    parts.append(STYLE_RULES)
    if has_logo:
        parts.append(LOGO_RULES + " The logo is the second attached image.")
    return "\n".join(parts)

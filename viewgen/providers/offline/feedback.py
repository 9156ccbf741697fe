"""Applying a person's rejection notes to a ``ProductModel``.

"make the strap red", "taller", "in leather", "no strap", "add a handle", "make it a
backpack": each note changes the model it is given; ``build_model`` applies every note,
oldest first, to the parsed description (cached, so the five views share the work).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from viewgen.providers.offline.parsing import (
    ProductModel,
    _clamp_dims,
    _default_part_look,
    _lexemes,
    _phrases,
    _resolve_part,
    _tokens,
    color_name_of,
    parse_description,
    shift_lightness,
)
from viewgen.providers.offline.vocabulary import (
    CATEGORY_WORDS,
    COLORS,
    FINISH_WORDS,
    METALLIC,
    PartSpec,
)

RGB = tuple[int, int, int]

# --------------------------------------------------------------------------- feedback

_REMOVE = re.compile(
    r"\b(?:no|without|remove|removed|drop|delete|lose|ditch|get rid of|take off|take away|"
    r"skip|omit|don't want|do not want|less)\b(?:\s+(?:the|a|an|any|its|their))?\s+"
    r"([a-z ]+?)(?=$|[,.;]|\band\b|\bbut\b)")
_ADD = re.compile(r"\b(?:add|adding|include|put|give it|attach|with)\b(?:\s+(?:a|an|the|some|two|2))?"
                  r"\s+([a-z ]+?)(?=$|[,.;]|\band\b|\bbut\b)")
_MAKE_CATEGORY = re.compile(r"\b(?:make it|turn it into|change it to|should be|instead)\s+(?:a|an)\s+"
                            r"([a-z ]+)")

_SHIFTS: dict[str, tuple[float, float, float]] = {
    "taller": (1.0, 1.2, 1.0), "higher": (1.0, 1.2, 1.0), "shorter": (1.0, 0.83, 1.0),
    "lower": (1.0, 0.85, 1.0), "wider": (1.2, 1.0, 1.0), "broader": (1.2, 1.0, 1.0),
    "narrower": (0.83, 1.0, 1.0), "slimmer": (0.83, 1.0, 0.9), "thinner": (0.83, 1.0, 0.85),
    "skinnier": (0.8, 1.0, 0.85), "bigger": (1.2, 1.2, 1.2), "larger": (1.2, 1.2, 1.2),
    "smaller": (0.83, 0.83, 0.83), "deeper": (1.0, 1.0, 1.2), "thicker": (1.0, 1.0, 1.2),
    "shallower": (1.0, 1.0, 0.83), "flatter": (1.0, 0.83, 1.0), "longer": (1.2, 1.0, 1.0),
    "chunkier": (1.15, 1.05, 1.15),
}
_INTENSITY = {"much": 1.8, "lot": 1.8, "way": 1.8, "far": 1.8, "bit": 0.5, "slightly": 0.5,
              "little": 0.5, "tad": 0.5, "somewhat": 0.6}


def _scale(factor: float, intensity: float) -> float:
    return 1.0 + (factor - 1.0) * intensity


def apply_feedback(model: ProductModel, feedback: str) -> ProductModel:
    """Change the model as one rejection note asks ("make the strap red", "taller",
    "in leather", "no strap", "remove the logo", "add a handle" ...)."""
    text = (feedback or "").lower().replace("-", " ").strip()
    if not text:
        return model
    words = _tokens(text)
    intensity = 1.0
    for w in words:
        intensity = _INTENSITY.get(w, intensity)

    # category change first, so later colour words apply to the new product
    m = _MAKE_CATEGORY.search(text)
    if m:
        for kinds, value in _lexemes(_tokens(m.group(1))):
            if "category" in kinds:
                category, _variant = CATEGORY_WORDS[value]
                if category != model.category:
                    rebuilt = parse_description(f"{model.color_name} {model.material_word} {value}",
                                                model.seed)
                    model = replace(rebuilt, text=model.text)
                break

    # parts removed / added
    removed: set[str] = set()
    for m in _REMOVE.finditer(text):
        for kinds, _phrase in _lexemes(_tokens(m.group(1))):
            value = kinds.get("part", "")
            if value:
                removed.add(value)
                if value == "logo":
                    model = replace(model, logo=False, logo_color=None)
                elif value != "body":
                    model = model.without_part(value)
                break
    for m in _ADD.finditer(text):
        for kinds, _phrase in _lexemes(_tokens(m.group(1))):
            value = kinds.get("part", "")
            if value and value not in removed:
                if value == "logo":
                    model = replace(model, logo=True)
                elif value != "body" and not model.has(value):
                    look = _default_part_look(value)
                    model = model.with_part(
                        replace(_resolve_part(PartSpec(value, *look), model.color, model.material,
                                      model.color_name),
                                explicit=True))
                break

    # colours, materials and finishes attached to parts or to the body
    phrases, _ = _phrases(text)
    for p in phrases:
        a = p.attrs
        target = p.noun if p.noun_kind == "part" else "body"
        if target in removed:
            continue
        picked = a.rgb() if a.color else None
        if target == "logo":
            if picked:
                model = replace(model, logo=True, logo_color=picked[0])
            continue
        if target == "body":
            changes: dict[str, object] = {}
            if picked:
                changes["color"], changes["color_name"] = picked
                if a.color in METALLIC and not a.material:
                    changes["material"], changes["material_label"] = "metal", ""
            if a.material:
                changes["material"] = a.material
                changes["material_label"] = a.material_label or ""
                if not picked and a.mcolor:
                    changes["color"], changes["color_name"] = COLORS[a.mcolor], a.mcolor
            if a.finish:
                changes["finish"] = a.finish
            if changes:
                model = _follow_body(replace(model, **changes))  # type: ignore[arg-type]
            continue
        part = model.part(target)
        if part is None:
            if not (picked or a.material):
                continue
            look = _default_part_look(target)
            part = _resolve_part(PartSpec(target, *look), model.color, model.material,
                                 model.color_name)
        new = part
        if picked:
            new = replace(new, color=picked[0], color_name=picked[1])
            if a.color in METALLIC and not a.material:
                new = replace(new, material="metal", material_label="")
        if a.material:
            new = replace(new, material=a.material, material_label=a.material_label or "")
            if not picked and a.mcolor:
                new = replace(new, color=COLORS[a.mcolor], color_name=a.mcolor)
        model = model.with_part(replace(new, explicit=True, follows="" if picked else new.follows,
                                        follows_material=new.follows_material and not a.material))

    # finish words alone ("matte", "make it glossy")
    for w in words:
        if w in FINISH_WORDS and not any(p.attrs.finish for p in phrases if p.noun_kind == "part"):
            model = replace(model, finish=FINISH_WORDS[w])

    # lightness shifts
    part_targets = {p.noun for p in phrases if p.noun_kind == "part"}
    for w in words:
        amount = {"darker": -0.28, "lighter": 0.3, "brighter": 0.25, "paler": 0.3}.get(w)
        if amount is None:
            continue
        amount = max(-0.8, min(0.8, amount * intensity))
        if part_targets - {"body"}:
            for name in part_targets:
                part = model.part(name)
                if part is not None:
                    rgb = shift_lightness(part.color, amount)
                    model = model.with_part(replace(part, color=rgb, color_name=color_name_of(rgb)))
        else:
            rgb = shift_lightness(model.color, amount)
            parts = tuple(replace(p, color=shift_lightness(p.color, amount * 0.6))
                          for p in model.parts)
            model = replace(model, color=rgb, color_name=color_name_of(rgb), parts=parts)

    # dimensions
    w, h, d = model.width, model.height, model.depth
    for word in words:
        if word in _SHIFTS:
            fw, fh, fd = (_scale(f, intensity) for f in _SHIFTS[word])
            w, h, d = w * fw, h * fh, d * fd
    w, h, d = _clamp_dims([w, h, d])
    return replace(model, width=w, height=h, depth=d)


def _follow_body(model: ProductModel) -> ProductModel:
    """Parts coloured "like the body" follow a changed body colour and material."""
    parts = []
    for part in model.parts:
        if part.follows:
            fresh = _resolve_part(PartSpec(part.name, part.follows, "self"), model.color,
                                  model.material, model.color_name)
            part = replace(part, color=fresh.color, color_name=fresh.color_name)
        if part.follows_material:
            part = replace(part, material=model.material, material_label=model.material_label)
        parts.append(part)
    return replace(model, parts=tuple(parts))


@lru_cache(maxsize=256)
def build_model(text: str, feedback: tuple[str, ...] = (), seed: int = 0) -> ProductModel:
    """The model for a description after every feedback note (oldest first), cached."""
    model = parse_description(text, seed)
    for note in feedback:
        model = apply_feedback(model, note)
    return model

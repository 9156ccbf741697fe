"""Reading a product description into a ``ProductModel``.

Words are matched longest first against the vocabulary (up to three words: "forest
green", "stainless steel", "office chair"), colour, tone, material, finish and size
words are attached to the noun they describe, the product noun picks the category,
and shape words and counts ("round", "three-legged") shape it. Also the model's data
types (``Part``, ``ProductModel``) and colour helpers shared with the feedback reader.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace

from viewgen.color import MODIFIERS, modified, nearest_name, photographed
from viewgen.errors import InvalidInput
from viewgen.providers.offline.vocabulary import (
    _COUNT,
    ADJUNCT_WORDS,
    BREAK_WORDS,
    CATEGORY_PART_LABELS,
    CATEGORY_WORDS,
    COLORS,
    FINISH_WORDS,
    FOOTPRINT_CATEGORIES,
    IN_WORDS,
    MATERIAL_DEFAULT_COLOR,
    MATERIAL_WORDS,
    METALLIC,
    NATURAL_TONES,
    NUMBER_WORDS,
    PART_LABELS,
    PART_WORDS,
    PLACEMENT_WORDS,
    SHAPE_WORDS,
    SIZE_WORDS,
    TEMPLATES,
    TONE_WORDS,
    VARIANT_DIMS,
    VARIANT_PARTS,
    PartSpec,
)
from viewgen.scene import without_scene

RGB = tuple[int, int, int]

# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Part:
    """One coloured part of the product (a strap, a cap, laces ...)."""

    name: str
    color: RGB
    color_name: str
    material: str
    material_label: str = ""
    where: str = ""
    explicit: bool = False
    follows: str = ""  # "self" | "dark" | "light": coloured from the body until set explicitly
    follows_material: bool = False

    @property
    def material_word(self) -> str:
        return self.material_label or self.material


@dataclass(frozen=True)
class ProductModel:
    """The product as the renderer understands it: one model behind all five views."""

    category: str
    variant: str
    width: float
    height: float
    depth: float
    color: RGB
    color_name: str
    material: str
    material_label: str = ""
    finish: str = "default"
    parts: tuple[Part, ...] = ()
    logo: bool = True
    logo_color: RGB | None = None
    text: str = ""
    seed: int = 0
    shape: str = ""  # "" (the category's own) | "round" | "cylinder" | "sphere" | "square"
    legs: int = 0  # 0: the category's own number
    wheels: int = 0

    # -- parts
    def part(self, name: str) -> Part | None:
        for part in self.parts:
            if part.name == name:
                return part
        return None

    def has(self, name: str) -> bool:
        return self.part(name) is not None

    def with_part(self, part: Part) -> ProductModel:
        parts = [p for p in self.parts if p.name != part.name]
        parts.append(part)
        return replace(self, parts=tuple(parts))

    def without_part(self, name: str) -> ProductModel:
        return replace(self, parts=tuple(p for p in self.parts if p.name != name))

    # -- descriptions
    @property
    def noun(self) -> str:
        if self.category == "bag" and self.variant in ("messenger", "tote", "duffel", "handbag"):
            return {"messenger": "messenger bag", "tote": "tote bag", "duffel": "duffel bag",
                    "handbag": "handbag"}[self.variant]
        if self.category == "watch" and self.variant == "smart":
            return "smartwatch"
        if self.category == "shoe" and self.variant == "boot":
            return "boot"
        if self.category == "lamp" and self.variant == "desk":
            return "desk lamp"
        return TEMPLATES[self.category].noun

    @property
    def materials(self) -> list[str]:
        seen: list[str] = []
        for material in [self.material, *(p.material for p in self.parts)]:
            if material not in seen:
                seen.append(material)
        return seen

    def part_label(self, name: str) -> str:
        return CATEGORY_PART_LABELS.get((self.category, name), PART_LABELS.get(name, name))

    def part_phrase(self, part: Part) -> str:
        words = [part.color_name]
        if part.color_name not in part.material_word:
            words.append(part.material_word)
        words.append(self.part_label(part.name))
        return " ".join(w for w in words if w)

    def body_phrase(self) -> str:
        words = []
        if self.finish in ("matte", "glossy", "satin"):
            words.append(self.finish)
        words.append(self.color_name)
        if self.color_name not in self.material_word:
            words.append(self.material_word)
        return " ".join(words)

    @property
    def material_word(self) -> str:
        return self.material_label or self.material

    def key_elements(self, *, logo_decal: bool = False) -> list[str]:
        elements = [f"{self.body_phrase()} {self.noun} body"]
        elements += [self.part_phrase(p) for p in self.parts]
        if self.logo and (logo_decal or self.logo_color is not None):
            color = color_name_of(self.logo_color) + " " if self.logo_color else ""
            elements.append(f"{color}logo decal on front")
        return elements

    def summary(self) -> str:
        noun = self.noun
        head = f"{self.body_phrase()} {noun}"
        if not noun.endswith("s"):
            head = f"{_article(head)} {head}"
        extras = [self.part_phrase(p) for p in self.parts if p.explicit]
        if extras:
            head += " with " + _join([f"{_article(e)} {e}" if not e.endswith("s") else e
                                      for e in extras])
        return (f"{head[0].upper()}{head[1:]}, about {self.width:.0f} × {self.height:.0f} × "
                f"{self.depth:.0f} cm (W × H × D).")


def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- colours


def _hls(rgb: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(c / 255.0 for c in rgb))


def _from_hls(h: float, l: float, s: float) -> RGB:  # noqa: E741
    r, g, b = colorsys.hls_to_rgb(h, min(max(l, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def shift_lightness(rgb: RGB, amount: float) -> RGB:
    """Move a colour's lightness by ``amount`` (−1..1) towards black or white."""
    h, l, s = _hls(rgb)  # noqa: E741
    l = l + (1.0 - l) * amount if amount > 0 else l * (1.0 + amount)  # noqa: E741
    return _from_hls(h, l, s)


def apply_tone(rgb: RGB, tone: str) -> RGB:
    """A colour with a tone word applied ("pale", "deep", "pastel", "neon" ...)."""
    return modified(rgb, tone if tone in MODIFIERS else TONE_WORDS.get(tone, tone))


def color_name_of(rgb: RGB) -> str:
    """The common colour name of a computed colour (the extractor's vocabulary, so a
    model's words and the measured names agree)."""
    return nearest_name(photographed(rgb))


# --------------------------------------------------------------------------- tokens


@dataclass
class _Attrs:
    color: str | None = None
    tone: str | None = None
    mcolor: str | None = None
    material: str | None = None
    material_label: str | None = None
    finish: str | None = None
    sizes: list[str] | None = None
    where: str | None = None

    def empty(self) -> bool:
        return not (self.color or self.material or self.finish or self.sizes)

    def rgb(self) -> tuple[RGB, str] | None:
        name = self.color or self.mcolor
        if not name:
            return None
        rgb = COLORS[name]
        if self.tone and self.color:
            return apply_tone(rgb, self.tone), f"{self.tone} {name}"
        return rgb, name


_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[,.;&]")


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("/", " ").replace("'s", "")
    return _TOKEN.findall(text)


def _lexemes(tokens: list[str]) -> list[tuple[dict[str, str], str]]:
    """Greedy longest match of 1-3 word phrases: (kinds -> value, phrase)."""
    out: list[tuple[dict[str, str], str]] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            if len(tokens) - i < n:
                continue
            phrase = " ".join(tokens[i:i + n])
            kinds = _kinds(phrase)
            if kinds:
                out.append((kinds, phrase))
                i += n
                break
        else:
            out.append(({"word": tokens[i]}, tokens[i]))
            i += 1
    return out


def _kinds(phrase: str) -> dict[str, str]:
    kinds: dict[str, str] = {}
    if phrase in CATEGORY_WORDS:
        kinds["category"] = phrase
    if phrase in PART_WORDS:
        kinds["part"] = PART_WORDS[phrase]
    if phrase in MATERIAL_WORDS:
        kinds["material"] = phrase
    elif phrase in COLORS:
        kinds["color"] = phrase
    if phrase in FINISH_WORDS:
        kinds["finish"] = FINISH_WORDS[phrase]
    if phrase in TONE_WORDS and not kinds:
        kinds["tone"] = phrase
    if phrase in SIZE_WORDS and not kinds:
        kinds["size"] = phrase
    if phrase in BREAK_WORDS:
        kinds["break"] = phrase
    elif phrase in IN_WORDS:
        kinds["in"] = phrase
    elif phrase in PLACEMENT_WORDS and not kinds:
        kinds["where"] = phrase
    return kinds


@dataclass
class _Phrase:
    noun_kind: str  # "part" | "body"
    noun: str
    attrs: _Attrs
    orphan: bool = False  # words attached to no noun ("... with a gold rim")


def _phrases(text: str) -> tuple[list[_Phrase], list[tuple[str, str]]]:
    """Attach colour/material/finish/size words to the noun they describe.

    Returns the noun phrases and the category nouns seen, each with the clause it was
    in ("0" = before the first "with" or comma).
    """
    phrases: list[_Phrase] = []
    categories: list[tuple[str, str]] = []
    pending = _Attrs()
    last: _Phrase | None = None
    in_mode = False
    clause = 0
    for kinds, phrase in _lexemes(_tokens(text)):
        category = kinds.get("category")
        part = kinds.get("part")
        if category and part and categories:
            category = None  # "chair with a leather seat": the second noun is a part
        if category and categories and clause > 0:
            category = None  # "backpack with a laptop sleeve": not a second product
            if not part:
                continue
        if category:
            categories.append((phrase, str(clause)))
            p = _Phrase("body", "body", pending)
            phrases.append(p)
            last, pending, in_mode = p, _Attrs(), False
        elif part:
            p = _Phrase("body" if part == "body" else "part", part, pending)
            phrases.append(p)
            last, pending, in_mode = p, _Attrs(), False
        elif "color" in kinds:
            value = kinds["color"]
            if pending.color and value in ADJUNCT_WORDS:
                continue  # "a red coffee mug": the second word says what kind of mug
            if pending.color and pending.color != value:
                _flush(phrases, pending, last, in_mode)
                pending = _Attrs()
            pending.color = value
        elif "material" in kinds:
            value = kinds["material"]
            material, implied = MATERIAL_WORDS[value]
            if value in COLORS and value in METALLIC:
                pending.mcolor = value
            elif implied:
                pending.mcolor = implied
            label = _label_for(value, material)
            if label != material or pending.material != material:
                pending.material_label = label
            elif material == "wood" and pending.material_label and "wood" not in pending.material_label:
                pending.material_label += " wood"  # "walnut wood"
            pending.material = material
        elif "finish" in kinds:
            pending.finish = kinds["finish"]
        elif "tone" in kinds:
            pending.tone = kinds["tone"]
        elif "size" in kinds:
            pending.sizes = [*(pending.sizes or []), kinds["size"]]
        elif "where" in kinds:
            pending.where = kinds["where"]
        elif "in" in kinds:
            in_mode = last is not None
        elif "break" in kinds:
            if not pending.empty():  # "make the strap red and ...": words after a noun
                _flush(phrases, pending, last, True)
                pending = _Attrs()
            in_mode, last = False, None
            if kinds["break"] in ("with", ",", ".", ";"):
                clause += 1
    if not pending.empty():
        _flush(phrases, pending, last, True)
    return phrases, categories


def _flush(phrases: list[_Phrase], pending: _Attrs, last: _Phrase | None, in_mode: bool) -> None:
    if in_mode and last is not None:
        _merge(last.attrs, pending)
    else:
        phrases.append(_Phrase("body", "body", pending, orphan=True))


_SINGLE = ("color", "tone", "mcolor", "material", "material_label", "finish", "where")


def _merge(into: _Attrs, extra: _Attrs) -> None:
    for name in _SINGLE:
        value = getattr(extra, name)
        if value is not None:
            setattr(into, name, value)
    if extra.sizes:
        into.sizes = [*(into.sizes or []), *extra.sizes]


def _fill(into: _Attrs, extra: _Attrs) -> None:
    """``_merge`` that only sets what ``into`` does not have yet."""
    if into.color is not None or into.mcolor is not None:
        extra = replace(extra, color=None, tone=None, mcolor=None)
    if into.material is not None:
        extra = replace(extra, material=None, material_label=None)
    _merge(into, replace(extra, **{n: None for n in _SINGLE if getattr(into, n) is not None}))


def _label_for(word: str, material: str) -> str:
    if word in ("metal", "metallic", "wood", "wooden", "plastic", "fabric", "ceramic", "rubber",
                "glass", "leather", "cardboard"):
        return material
    if word == "stainless":
        return "stainless steel"
    return word


# --------------------------------------------------------------------------- parse


def _stable_hash(text: str) -> int:
    h = 2166136261
    for ch in text.encode("utf-8"):
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def _pick_category(categories: list[tuple[str, str]]) -> tuple[str, str]:
    if not categories:
        return "product", ""
    main = [c for c, clause in categories if clause == "0"] or [c for c, _ in categories]
    phrase = main[-1]
    category, variant = CATEGORY_WORDS[phrase]
    for other in main:  # "messenger bag": the variant word comes before the head noun
        cat, var = CATEGORY_WORDS[other]
        if cat == category and var and not variant:
            variant = var
    return category, variant


_DIMS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:x|×|by)\s*(\d+(?:\.\d+)?)\s*(?:(?:x|×|by)\s*(\d+(?:\.\d+)?))?\s*(cm|mm|in|inch|inches)?")
_ONE_DIM = re.compile(r"(\d+(?:\.\d+)?)\s*(cm|mm|in|inch|inches)\s+(tall|high|wide|deep|long)")


def _explicit_dims(text: str, dims: list[float]) -> list[float]:
    low = text.lower()
    unit = {"cm": 1.0, "mm": 0.1, "in": 2.54, "inch": 2.54, "inches": 2.54, None: 1.0}
    m = _DIMS.search(low)
    if m and m.group(3):
        f = unit[m.group(4)]
        return [float(m.group(1)) * f, float(m.group(2)) * f, float(m.group(3)) * f]
    for value, u, axis in _ONE_DIM.findall(low):
        v = float(value) * unit[u]
        index = {"tall": 1, "high": 1, "wide": 0, "deep": 2, "long": 0}[axis]
        if 0.5 <= v <= 400:
            scale = v / dims[index]
            dims = [d * scale for d in dims] if index == 1 else dims
            dims[index] = v
    return dims


def _resolve_part(spec: PartSpec, body: RGB, body_material: str, body_name: str = "") -> Part:
    body_name = body_name or color_name_of(body)
    if spec.color == "self":
        rgb, cname = body, body_name
    elif spec.color == "dark":
        rgb = shift_lightness(body, -0.22)
        cname = body_name if body_name.startswith("dark") or body_name == "black" else f"dark {body_name}"
    elif spec.color == "light":
        rgb = shift_lightness(body, 0.25)
        cname = f"light {body_name}"
    else:
        rgb, cname = COLORS[spec.color], spec.color
    material = body_material if spec.material == "self" else spec.material
    follows = spec.color if spec.color in ("self", "dark", "light") else ""
    return Part(spec.name, rgb, cname, material, follows=follows,
                follows_material=spec.material == "self")


def _clamp_dims(dims: list[float]) -> tuple[float, float, float]:
    w, h, d = (min(max(v, 0.3), 500.0) for v in dims)
    return (round(w, 2), round(h, 2), round(d, 2))


def parse_description(text: str, seed: int = 0) -> ProductModel:
    """Read a product description into a ``ProductModel`` (unknown products fall back
    to a generic rounded product). Raises ``InvalidInput`` when there is nothing to read."""
    if text is None or not re.search(r"[A-Za-z]", text):
        raise InvalidInput("Describe the product in words (for example \"navy leather "
                           "messenger bag with a tan strap\").")
    text = text.strip()[:2000]
    words = without_scene(text, also=CATEGORY_WORDS)  # "a red mug on a wooden table": a mug
    phrases, categories = _phrases(words)
    category, variant = _pick_category(categories)
    shape, legs, wheels = shape_words(words)
    if wheels and category == "chair" and variant in ("", "office"):
        variant = "office"
    template = TEMPLATES[category]

    # words on the product noun win; words attached to no noun (an unknown part such as
    # "with a gold rim") only fill in what the product's own words left open
    body_attrs = _Attrs()
    for p in phrases:
        if p.noun_kind == "body" and not p.orphan:
            _merge(body_attrs, p.attrs)
    for p in phrases:
        if p.noun_kind == "body" and p.orphan:
            _fill(body_attrs, p.attrs)

    material = body_attrs.material or template.material
    material_label = body_attrs.material_label or ""
    if body_attrs.rgb() is not None and body_attrs.color:
        body_rgb, body_cname = body_attrs.rgb()  # type: ignore[misc]
        if not body_attrs.material and body_attrs.color in METALLIC:
            material = "metal"
    elif body_attrs.mcolor:
        body_rgb, body_cname = COLORS[body_attrs.mcolor], body_attrs.mcolor
    elif body_attrs.material in NATURAL_TONES:  # "a wooden table": wood-coloured, not white
        tones = NATURAL_TONES[body_attrs.material]
        body_cname = tones[(seed + _stable_hash(text)) % len(tones)]
        body_rgb = COLORS[body_cname]
    elif body_attrs.material and body_attrs.material != template.material:
        body_cname = MATERIAL_DEFAULT_COLOR.get(material, template.palette[0])
        body_rgb = COLORS[body_cname]
    else:
        body_cname = template.palette[(seed + _stable_hash(text)) % len(template.palette)]
        body_rgb = COLORS[body_cname]

    dims = list(VARIANT_DIMS.get((category, variant), template.dims))
    for word in body_attrs.sizes or []:
        f = SIZE_WORDS[word]
        if word == "long" and category == "shoe":
            f = (1.0, 1.0, 1.15)
        dims = [d * k for d, k in zip(dims, f, strict=True)]
    dims = _shaped_dims(dims, shape, category)
    dims = _explicit_dims(words, dims)
    # the seed nudges proportions a little, so two seeds give two takes on one product
    jitter = ((seed * 2654435761) % 1000) / 1000.0 - 0.5
    keep_round = shape in ("round", "cylinder", "sphere") or (
        shape == "square" and category in FOOTPRINT_CATEGORIES)
    dims = [dims[0] * (1 + 0.04 * jitter), dims[1] * (1 - 0.03 * jitter),
            dims[2] * (1 + 0.04 * jitter if keep_round else 1.0)]

    specs = {s.name: s for s in VARIANT_PARTS.get((category, variant), template.parts)}
    parts: dict[str, Part] = {name: _resolve_part(s, body_rgb, material, body_cname)
                              for name, s in specs.items()}

    logo_color: RGB | None = None
    for p in phrases:
        if p.noun_kind != "part":
            continue
        a = p.attrs
        if p.noun == "logo":
            picked = a.rgb()
            logo_color = picked[0] if picked else COLORS["white"]
            continue
        base = parts.get(p.noun) or _resolve_part(PartSpec(p.noun, *_default_part_look(p.noun)),
                                                  body_rgb, material, body_cname)
        picked = a.rgb()
        rgb, cname = picked if picked else (base.color, base.color_name)
        part_material = a.material or (
            "metal" if a.color in METALLIC and not a.material else base.material)
        if a.material and not picked:
            cname = MATERIAL_DEFAULT_COLOR.get(a.material, cname)
            rgb = COLORS[cname]
        parts[p.noun] = Part(p.noun, rgb, cname, part_material, a.material_label or "",
                             a.where or base.where, explicit=True)

    finish = body_attrs.finish or "default"
    return ProductModel(
        category=category, variant=variant, width=_clamp_dims(dims)[0],
        height=_clamp_dims(dims)[1], depth=_clamp_dims(dims)[2], color=body_rgb,
        color_name=body_cname, material=material, material_label=material_label,
        finish=finish, parts=tuple(parts.values()), logo=True, logo_color=logo_color,
        text=text, seed=seed, shape=shape, legs=legs, wheels=wheels,
    )


def shape_words(text: str) -> tuple[str, int, int]:
    """The body shape and the leg and wheel counts the words give ("a round table",
    "a five-wheeled office chair", "a three-legged stool", "on four legs")."""
    low = text.lower()
    head = re.split(r"\bwith\b|,|;", low, maxsplit=1)[0]  # the product's own words
    shape = ""
    for token in re.findall(r"[a-z]+", head):
        shape = SHAPE_WORDS.get(token, shape)
    legs = wheels = 0
    for number, noun in _COUNT.findall(low):
        n = int(number) if number.isdigit() else NUMBER_WORDS[number]
        if noun.startswith("leg"):
            legs = min(max(n, 1), 8)
        else:
            wheels = min(max(n, 3), 8)
    return shape, legs, wheels


def _shaped_dims(dims: list[float], shape: str, category: str) -> list[float]:
    """Proportions a shape word implies: round and square footprints are as deep as
    wide, a round or square face as tall as wide, a sphere all three."""
    w, h, d = dims
    if shape == "sphere":
        s = (w * h * d) ** (1 / 3)
        return [s, s, s]
    if shape in ("round", "square", "cylinder"):
        if category in FOOTPRINT_CATEGORIES or shape == "cylinder":
            m = max(w, d) if category == "table" else (w + d) / 2
            return [m, h, m]
        m = (w + h) / 2
        return [m, m, d]
    return dims


def _default_part_look(name: str) -> tuple[str, str]:
    return {
        "zipper": ("silver", "metal"), "buckle": ("silver", "metal"), "laces": ("white", "fabric"),
        "screen": ("black", "glass"), "lens": ("black", "glass"), "sole": ("white", "rubber"),
        "legs": ("self", "self"), "cap": ("black", "plastic"), "lid": ("self", "self"),
        "buttons": ("dark", "self"), "grille": ("dark", "fabric"), "ear_cups": ("dark", "leather"),
        "face": ("white", "glass"), "shade": ("cream", "fabric"), "ribbon": ("red", "fabric"),
        "straw": ("white", "plastic"), "keyboard": ("black", "plastic"),
        "hardware": ("gold", "metal"), "trim": ("dark", "self"), "stitching": ("light", "self"),
    }.get(name, ("self", "self"))

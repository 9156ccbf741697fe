"""The offline renderer's product model: a description parsed into category, colours,
materials, parts and dimensions, and rejection feedback applied to it.

Everything here is pure and deterministic. ``parse_description`` reads a product
description ("navy leather messenger bag with a tan strap") into a frozen
``ProductModel``: one of the known categories (or a generic rounded product), the
main colour and material, the parts with their own colours and materials ("tan strap",
"with a gold cap"), and dimensions in centimetres adjusted by words such as "tall",
"slim" or "mini". ``apply_feedback`` turns a reviewer's note ("make the strap red",
"taller", "no strap", "in leather") into a changed model, and ``build_model`` caches
the parse of (text, feedback, seed) so the five views of one product share one model.
"""

from __future__ import annotations

from viewgen.providers.offline.feedback import (  # noqa: F401 (re-exported)
    _ADD,
    _INTENSITY,
    _MAKE_CATEGORY,
    _REMOVE,
    _SHIFTS,
    _follow_body,
    _scale,
    apply_feedback,
    build_model,
)
from viewgen.providers.offline.parsing import (  # noqa: F401 (re-exported)
    _DIMS,
    _ONE_DIM,
    _SINGLE,
    _TOKEN,
    Part,
    ProductModel,
    _article,
    _Attrs,
    _clamp_dims,
    _default_part_look,
    _explicit_dims,
    _fill,
    _flush,
    _from_hls,
    _hls,
    _join,
    _kinds,
    _label_for,
    _lexemes,
    _merge,
    _Phrase,
    _phrases,
    _pick_category,
    _resolve_part,
    _shaped_dims,
    _stable_hash,
    _tokens,
    apply_tone,
    color_name_of,
    parse_description,
    shape_words,
    shift_lightness,
)
from viewgen.providers.offline.vocabulary import (  # noqa: F401 (re-exported)
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
    MATERIALS,
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
    Template,
)

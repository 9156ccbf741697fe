"""OfflineExtractor: palette measured from pixels, renderer metadata when present, and
(when the offline renderer is importable) agreement with the renderer's own masks."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw, PngImagePlugin

from viewgen.domain import ColorUsage, ExtractionResult, ViewType
from viewgen.errors import InvalidInput
from viewgen.providers import FeatureExtractor
from viewgen.providers.offline.extract import META_KEY, OfflineExtractor, describe, read_model_meta

NAVY, TAN, GOLD = (31, 42, 68), (210, 180, 140), (212, 175, 55)


def bag_png(size: int = 512, *, meta: dict | None = None, body=NAVY, flap=TAN, buckle=GOLD,
            mode: str = "RGB") -> bytes:
    """A flat 'messenger bag' on a light studio backdrop: body, flap, a small buckle."""
    s = size * 2
    image = Image.new(mode, (s, s), (244, 244, 242) if mode == "RGB" else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    x0, y0, x1, y1 = 0.2 * s, 0.3 * s, 0.8 * s, 0.72 * s
    draw.rounded_rectangle([x0, y0, x1, y1], radius=0.03 * s, fill=body)
    draw.rectangle([x0, y0, x1, y0 + 0.3 * (y1 - y0)], fill=flap)
    draw.rectangle([0.47 * s, 0.4 * s, 0.53 * s, 0.45 * s], fill=buckle)
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    info = None
    if meta is not None:
        info = PngImagePlugin.PngInfo()
        info.add_text(META_KEY, json.dumps(meta))
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


META = {
    "category": "messenger bag",
    "materials": ["leather", "brass"],
    "key_elements": ["front flap", "brass buckle", "shoulder strap"],
    "dimensions_cm": {"width": 32, "height": 24, "depth": 12},
    "description": "A navy leather messenger bag.",
    "view": "front",
}


def test_is_a_feature_extractor() -> None:
    extractor = OfflineExtractor()
    assert extractor.name == "offline"
    assert isinstance(extractor, FeatureExtractor)


def test_measures_the_palette_without_metadata() -> None:
    result = OfflineExtractor().extract(bag_png())
    assert isinstance(result, ExtractionResult)
    assert result.usage.provider == "offline"
    assert result.usage.model == "pixel-measure-v1"
    assert result.usage.cost_usd == 0.0
    features = result.features
    names = [c.name for c in features.colors]
    assert names[:2] == ["navy", "tan"]
    assert "gold" in names
    assert len(names) == len(set(names)) <= 5
    usages = {c.name: c.usage for c in features.colors}
    assert usages["navy"] == ColorUsage.PRIMARY
    assert usages["tan"] == ColorUsage.SECONDARY
    assert usages["gold"] == ColorUsage.ACCENT
    shares = [c.share for c in features.colors]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] == pytest.approx(0.69, abs=0.05)
    assert 0.97 <= sum(shares) <= 1.0 + 1e-6
    assert all(c.hex.startswith("#") and len(c.hex) == 7 for c in features.colors)
    assert features.materials == [] and features.keyElements == []
    assert features.estimatedDimensions is None
    assert features.not_measured == ["materials", "keyElements", "estimatedDimensions"]
    assert features.description == (
        "A product mostly navy and tan with gold accents, about 1.4 times wider than tall "
        "(materials, parts and size cannot be measured from the pixels alone)."
    )


def test_uses_the_renderers_metadata_when_present() -> None:
    png = bag_png(meta=META)
    assert read_model_meta(png) == META
    features = OfflineExtractor().extract(png).features
    assert features.materials == ["leather", "brass"]
    assert features.keyElements == ["front flap", "brass buckle", "shoulder strap"]
    assert features.estimatedDimensions is not None
    assert features.estimatedDimensions.model_dump() == {
        "width": 32, "height": 24, "depth": 12, "unit": "cm", "note": None}
    assert features.dimensions_text == "32 × 24 × 12 cm"
    assert features.not_measured == []
    # the renderer knows what it drew: its sentence is the description
    assert features.description == "A navy leather messenger bag."
    # without one, the sentence is built from the measured colours and the metadata
    no_sentence = {k: v for k, v in META.items() if k != "description"}
    assert OfflineExtractor().extract(bag_png(meta=no_sentence)).features.description == (
        "A navy and tan leather messenger bag with gold accents.")


def test_partial_or_broken_metadata() -> None:
    partial = {"category": "tote", "materials": ["canvas"], "dimensions_cm": {"width": "x"}}
    features = OfflineExtractor().extract(bag_png(meta=partial)).features
    assert features.materials == ["canvas"]
    assert features.not_measured == ["keyElements", "estimatedDimensions"]
    assert features.description.startswith("A navy and tan canvas tote")
    info = PngImagePlugin.PngInfo()
    info.add_text(META_KEY, "{not json")
    out = io.BytesIO()
    Image.open(io.BytesIO(bag_png())).save(out, format="PNG", pnginfo=info)
    assert read_model_meta(out.getvalue()) is None
    assert OfflineExtractor().extract(out.getvalue()).features.not_measured
    # a size the metadata lacks is null and listed; the others are kept
    two_sizes = {**partial, "dimensions_cm": {"width": 32, "height": 24, "depth": -1}}
    features = OfflineExtractor().extract(bag_png(meta=two_sizes)).features
    assert features.dimensions_text == "W 32 × H 24 cm (depth not measured)"
    assert features.not_measured == ["keyElements", "estimatedDimensions.depth"]


def test_transparent_cutout_uses_alpha() -> None:
    features = OfflineExtractor().extract(bag_png(mode="RGBA")).features
    assert [c.name for c in features.colors][:2] == ["navy", "tan"]


def test_an_empty_image_is_invalid_input() -> None:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (240, 240, 240)).save(out, format="PNG")
    with pytest.raises(InvalidInput, match="could not find a product"):
        OfflineExtractor().extract(out.getvalue())
    with pytest.raises(InvalidInput):
        OfflineExtractor().extract(b"garbage")


def test_describe_wording() -> None:
    from viewgen.domain import Color

    colors = [Color(hex="#FFFBEA", name="ivory", usage=ColorUsage.PRIMARY, share=0.9)]
    assert describe(colors, category="mug", material="ceramic") == "An ivory ceramic mug."
    assert describe(colors, aspect=0.5) == "A product mostly ivory, about 2.0 times taller than wide."
    assert describe(colors, aspect=1.05) == "A product mostly ivory, about as wide as tall."


# --------------------------------------------------------------------------- the real renderer


def _renderer():
    from viewgen.providers.offline.model import parse_description
    from viewgen.providers.offline.render import render_views

    return parse_description, render_views


def _png(image) -> bytes:
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


RENDERED = [
    # (description, acceptable names of the primary colour, names that must be listed)
    ("a navy leather messenger bag with a tan flap", {"tan", "camel"}, {"navy"}),
    ("a red ceramic coffee mug", {"red", "crimson", "scarlet", "brick red"}, set()),
    ("a white sneaker with a black sole", {"white", "off-white"}, {"black"}),
    ("an oak wood chair", {"camel", "tan", "caramel"}, set()),
    ("black over-ear headphones", {"black"}, set()),
]


@pytest.mark.parametrize("text", [
    "a navy leather messenger bag with a tan flap",  # a handle over a two-tone body
    "a white sneaker with a black sole",  # white on a light backdrop
    "black over-ear headphones",  # a shadow cast into a concavity
])
def test_masks_match_the_renderers_masks(text: str) -> None:
    parse_description, render_views = _renderer()
    from viewgen import imaging

    views = render_views(parse_description(text), 512)
    for view, rendered in views.items():
        rgba = imaging.to_array(_png(rendered.image))
        mask = imaging.foreground_mask(rgba[..., :3], None)
        truth = np.asarray(rendered.mask).astype(bool)
        union = (mask | truth).sum()
        assert (mask & truth).sum() / union >= 0.95, (text, view)


@pytest.mark.parametrize(("text", "primary", "listed"), RENDERED)
def test_rendered_products_score_consistent_and_name_their_colour(text: str, primary: set[str],
                                                                 listed: set[str]) -> None:
    parse_description, render_views = _renderer()
    from viewgen.consistency import score_views

    views = {v: _png(r.image) for v, r in render_views(parse_description(text), 512).items()}
    features = OfflineExtractor().extract(views[ViewType.FRONT]).features
    assert features.colors[0].name in primary, features.colors
    assert listed <= {c.name for c in features.colors}, features.colors
    scores = score_views(views[ViewType.FRONT], {v: p for v, p in views.items() if v != ViewType.FRONT},
                         features)
    for view, result in scores.items():
        assert result.score >= 85, (text, view, result)


def test_reads_the_offline_generators_metadata() -> None:
    from viewgen.domain import GenerationRequest
    from viewgen.providers.offline import OfflineGenerator

    text = "a red ceramic coffee mug"
    image = OfflineGenerator().generate(GenerationRequest(view=ViewType.FRONT, prompt=text, text=text))
    features = OfflineExtractor().extract(image.data).features
    assert features.colors[0].name in {"red", "crimson", "scarlet", "brick red"}
    assert "ceramic" in features.materials
    assert features.keyElements
    dims = features.estimatedDimensions
    assert dims is not None and dims.unit == "cm" and dims.missing == []
    assert features.dimensions_text.endswith(" cm") and features.dimensions_text.count("×") == 2
    assert features.not_measured == []
    assert features.description.startswith("A red ceramic mug")

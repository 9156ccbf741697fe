"""viewgen.consistency: palette and silhouette agreement of the views with the front."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from viewgen import consistency
from viewgen.color import ciede2000, rgb_to_hex, rgb_to_lab
from viewgen.consistency import (
    WEAK_SCORE,
    ViewScore,
    extent_agreement,
    palette_score,
    score_view,
    score_views,
)
from viewgen.domain import Color, ColorUsage, ExtractedFeatures, ViewType

BACKDROP = (244, 244, 242)
NAVY, TAN, RED = (31, 42, 68), (210, 180, 140), (200, 30, 40)


def render(width: float, height: float, body, accent=None, *, size: int = 256,
           backdrop=BACKDROP) -> bytes:
    """One orthographic view of a box: ``width`` × ``height`` as fractions of the frame,
    an accent band across the top quarter, a soft contact shadow, anti-aliased."""
    s = size * 2
    image = Image.new("RGB", (s, s), backdrop)
    shadow = Image.new("L", (s, s), 0)
    x0, y0 = s / 2 - width * s / 2, s / 2 - height * s / 2
    x1, y1 = s / 2 + width * s / 2, s / 2 + height * s / 2
    ImageDraw.Draw(shadow).ellipse([x0 - 0.05 * s, y1 - 0.03 * s, x1 + 0.05 * s, y1 + 0.03 * s], fill=80)
    shadow = shadow.filter(ImageFilter.GaussianBlur(0.02 * s))
    image = Image.composite(Image.new("RGB", (s, s), (150, 150, 150)), image, shadow)
    draw = ImageDraw.Draw(image)
    draw.rectangle([x0, y0, x1, y1], fill=tuple(body))
    if accent is not None:
        draw.rectangle([x0, y0, x1, y0 + (y1 - y0) * 0.25], fill=tuple(accent))
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def product_views(w: float = 0.5, h: float = 0.4, d: float = 0.25, body=NAVY, accent=TAN,
                  size: int = 256) -> dict[ViewType, bytes]:
    return {
        ViewType.FRONT: render(w, h, body, accent, size=size),
        ViewType.BACK: render(w, h, body, accent, size=size),
        ViewType.SIDE: render(d, h, body, accent, size=size),
        ViewType.TOP: render(w, d, body, size=size),
        ViewType.BOTTOM: render(w, d, body, size=size),
    }


def features_for(body=NAVY, accent=TAN, *, shares=(0.75, 0.25)) -> ExtractedFeatures:
    return ExtractedFeatures(colors=[
        Color(hex=rgb_to_hex(body), name="body", usage=ColorUsage.PRIMARY, share=shares[0]),
        Color(hex=rgb_to_hex(accent), name="accent", usage=ColorUsage.SECONDARY, share=shares[1]),
    ])


def others(views: dict[ViewType, bytes]) -> dict[ViewType, bytes]:
    return {v: png for v, png in views.items() if v != ViewType.FRONT}


def test_identical_product_views_score_high() -> None:
    views = product_views()
    scores = score_views(views[ViewType.FRONT], others(views), features_for())
    assert set(scores) == {ViewType.BACK, ViewType.SIDE, ViewType.TOP, ViewType.BOTTOM}
    for view, result in scores.items():
        assert isinstance(result, ViewScore)
        assert result.view == view
        assert result.score >= 90, result
        assert result.silhouette is not None and result.silhouette >= 95
        assert result.note == ""


def test_a_recoloured_view_scores_low_on_palette() -> None:
    views = product_views()
    views[ViewType.BACK] = render(0.5, 0.4, RED, TAN)
    result = score_views(views[ViewType.FRONT], others(views), features_for())[ViewType.BACK]
    assert result.palette < 30
    assert result.silhouette >= 95
    assert result.score < WEAK_SCORE
    assert "red" in result.note and "navy" in result.note


def test_a_squashed_view_scores_low_on_silhouette() -> None:
    views = product_views()
    views[ViewType.SIDE] = render(0.25, 0.2, NAVY, TAN)  # half the front's height
    result = score_views(views[ViewType.FRONT], others(views), features_for())[ViewType.SIDE]
    assert result.palette >= 90
    assert result.silhouette < 20
    assert result.score < WEAK_SCORE
    assert "height" in result.note


def test_depth_must_agree_between_side_top_and_bottom() -> None:
    views = product_views()
    views[ViewType.BOTTOM] = render(0.5, 0.4, NAVY)  # depth 0.4 where side and top say 0.25
    scores = score_views(views[ViewType.FRONT], others(views), features_for())
    assert scores[ViewType.BOTTOM].silhouette < 30
    assert "depth" in scores[ViewType.BOTTOM].note
    # the good ones still agree with each other
    assert scores[ViewType.SIDE].silhouette >= 95
    assert scores[ViewType.TOP].silhouette >= 95


def test_score_view_alone_and_with_siblings() -> None:
    views = product_views()
    alone = score_view(ViewType.TOP, views[ViewType.TOP], views[ViewType.FRONT], features_for())
    assert alone.score >= 90
    wrong_depth = render(0.5, 0.45, NAVY)
    with_siblings = score_view(ViewType.TOP, wrong_depth, views[ViewType.FRONT], features_for(),
                               siblings=others(views))
    assert with_siblings.silhouette < 30


def test_views_of_another_size_are_put_on_the_front_scale() -> None:
    big = product_views(size=256)
    small = product_views(size=128)
    scores = score_views(big[ViewType.FRONT], others(small), features_for())
    assert all(s.score >= 90 for s in scores.values()), scores


def test_features_without_shares_or_colours() -> None:
    views = product_views()
    by_usage = ExtractedFeatures(colors=[
        Color(hex=rgb_to_hex(NAVY), name="navy", usage=ColorUsage.PRIMARY),
        Color(hex=rgb_to_hex(TAN), name="tan", usage=ColorUsage.ACCENT),
    ])
    assert score_views(views[ViewType.FRONT], others(views), by_usage)[ViewType.BACK].score >= 90
    # no colours at all: the palette is compared with the front's own
    scores = score_views(views[ViewType.FRONT], others(views), ExtractedFeatures())
    assert scores[ViewType.BACK].palette >= 95
    views[ViewType.BACK] = render(0.5, 0.4, RED, TAN)
    assert score_views(views[ViewType.FRONT], others(views), ExtractedFeatures())[ViewType.BACK].palette < 40


def test_a_view_with_no_product_scores_zero() -> None:
    views = product_views()
    blank = io.BytesIO()
    Image.new("RGB", (256, 256), BACKDROP).save(blank, format="PNG")
    result = score_views(views[ViewType.FRONT], {ViewType.BACK: blank.getvalue()}, features_for())
    assert result[ViewType.BACK].score == 0
    assert "No product" in result[ViewType.BACK].note


def test_mappings_are_documented_and_monotonic() -> None:
    assert palette_score(0) == 100
    assert palette_score(12.5) == pytest.approx(50)
    assert palette_score(25) == 0 and palette_score(60) == 0
    assert extent_agreement(100, 100) == 100
    assert extent_agreement(100, 97) == 100
    assert extent_agreement(100, 50) == 0
    assert extent_agreement(100, 80) < extent_agreement(100, 90) < 100
    assert consistency.WEAK_SCORE == 70


colour = st.tuples(*(st.integers(0, 255),) * 3)


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(
    w=st.floats(0.2, 0.7), h=st.floats(0.2, 0.7), d=st.floats(0.15, 0.6),
    body=colour, accent=colour,
)
def test_views_of_one_product_agree(w: float, h: float, d: float, body, accent) -> None:
    """Property: views drawn from one product (one size, one palette) score ≥ 85."""
    labs = rgb_to_lab(np.array([body, accent, BACKDROP], dtype=float))
    assume(float(ciede2000(labs[0], labs[2])) > 15 and float(ciede2000(labs[1], labs[2])) > 15)
    assume(float(ciede2000(labs[0], labs[1])) > 10)
    views = product_views(w, h, d, body, accent)
    scores = score_views(views[ViewType.FRONT], others(views), features_for(body, accent))
    for result in scores.values():
        assert result.score >= 85, result

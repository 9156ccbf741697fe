"""Cross-view consistency: how well each view agrees with the approved front, scored by
the QA gate's own checks (``viewgen.quality``) so the per-view score, the product's
verdict and the gate can never disagree.

A view's ``score`` is its weakest check's score (0..100): shape agreement that is
scale-free (front w/h against (top w/d)·(side d/h), back w/h against front w/h, top
against bottom), the mirrored-silhouette overlap of front and back, the palette's
CIEDE2000 distance to the extracted feature colours, the share of colours the product
does not have, and (for views estimated from one photo) whether the view carries any of
the photo's detail. A check passes at ``WEAK_SCORE`` (``quality.PASS_SCORE``), so a view is weak
exactly when one of its checks failed, and its ``note`` then gives the reasons. The
``palette`` and ``silhouette`` fields keep the older two-number summary: the palette
check's score, and the weaker of the shape and mirror checks (None when no rule applies).
``score_product`` is the product's verdict from the same checks: "Five consistent
views." only when all of them passed. The optional three-quarter hero is scored by its colour
checks only (palette distance and new colours against the features): an oblique view
has no place in the orthographic shape equations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from viewgen import quality
from viewgen.domain import ExtractedFeatures, ViewType
from viewgen.quality import ProductQA, QAResult, palette_distance

WEAK_SCORE = quality.PASS_SCORE

__all__ = ["WEAK_SCORE", "ViewScore", "palette_distance", "score_product", "score_view", "score_views"]


class ViewScore(BaseModel):
    """How well one view agrees with the front, 0..100 (higher is better)."""

    view: ViewType
    score: float = Field(ge=0, le=100)
    palette: float = Field(ge=0, le=100)
    silhouette: float | None = Field(default=None, ge=0, le=100)
    note: str = ""
    passed: bool = True
    checks: list[dict[str, Any]] = Field(default_factory=list, description="the QA checks behind the score")

    @classmethod
    def from_result(cls, result: QAResult) -> ViewScore:
        palette = result.check("palette")
        shape = [c.score for c in result.checks if c.name in ("shape", "mirror")]
        return cls(view=result.view, score=result.score,
                   palette=palette.score if palette is not None else (100.0 if result.passed else 0.0),
                   silhouette=min(shape) if shape else None, note=" ".join(result.reasons),
                   passed=result.passed, checks=[c.model_dump(mode="json") for c in result.checks])


def score_view(view: ViewType, view_png: bytes, front_png: bytes, features: ExtractedFeatures, *,
               siblings: dict[ViewType, bytes] | None = None, text: str | None = None) -> ViewScore:
    """Score one view against the approved front (and its ``siblings``, for the shape
    rules that need side, top or bottom)."""
    result = quality.check_view(view, view_png, front=front_png, features=features, others=siblings or {},
                                text=text)
    return ViewScore.from_result(result)


def score_views(front_png: bytes, views: Mapping[ViewType, bytes], features: ExtractedFeatures, *,
                text: str | None = None) -> dict[ViewType, ViewScore]:
    """Score every view against the front and each other, each image analysed once."""
    product = quality.check_product(front_png, views, features, text=text)
    return {v: ViewScore.from_result(r) for v, r in product.views.items() if v != ViewType.FRONT}


def score_product(front_png: bytes, views: Mapping[ViewType, bytes], features: ExtractedFeatures, *,
                  text: str | None = None, reference: bytes | None = None,
                  estimated: bool = False) -> ProductQA:
    """The product's verdict from the same checks (see ``quality.check_product``)."""
    return quality.check_product(front_png, views, features, text=text, reference=reference,
                                 estimated=estimated)

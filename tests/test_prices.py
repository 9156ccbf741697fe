"""Prices and the price of the next action: the seed's defaults (a product 3 with its
four other views, a retry 2, a regenerated view 1), zero prices, and the quote every
surface (page, CLI --json, API) shows before its button."""

from __future__ import annotations

import pytest

from viewgen.credits import Prices, Quote
from viewgen.domain import (
    ALL_VIEWS,
    STORED_VIEWS,
    Approval,
    ExtractedFeatures,
    InputType,
    Status,
    ViewImage,
    ViewType,
)
from viewgen.errors import InvalidInput
from viewgen.settings import Settings

SEED = Prices.from_settings(Settings())


def _approval(status: Status, *, views: tuple[ViewType, ...] = (), rejections: int = 0,
              approved: bool = False) -> Approval:
    return Approval(
        id="a1", user_id="u1", project_id="p1", input_type=InputType.TEXT, status=status,
        views={v: ViewImage(view=v, key=f"u1/a1/{v.value}-1.png" if v in views else None)
               for v in STORED_VIEWS},
        rejection_count=rejections,
        extracted_features=ExtractedFeatures() if approved else None,
    )


def test_the_seeds_prices_are_the_defaults() -> None:
    assert Prices.from_settings(Settings()) == Prices(front=3, retry=2, view=0, regenerate=1,
                                                      hero=1)
    assert SEED.whole_product() == 3  # the optional hero is not part of the product
    assert SEED.as_json() == {"front": 3, "retry": 2, "view": 0, "regenerate": 1,
                              "hero": 1, "product": 3}


def test_a_view_costs_the_first_time_price_until_it_has_an_image() -> None:
    prices = Prices(front=3, retry=2, view=1, regenerate=5)
    half = _approval(Status.APPROVED, views=(ViewType.FRONT, ViewType.BACK), approved=True)
    assert prices.for_view(half, ViewType.SIDE) == 1
    assert prices.for_view(half, ViewType.BACK) == 5  # an image exists: a regeneration
    with pytest.raises(InvalidInput):
        prices.for_view(half, ViewType.FRONT)
    quote = prices.quote_views(half)
    assert quote == Quote("views", 3, (ViewType.SIDE, ViewType.TOP, ViewType.BOTTOM))
    assert prices.quote_views(half, [ViewType.BACK, ViewType.TOP]).credits == 6


@pytest.mark.parametrize(("approval", "expected"), [
    (None, Quote("front", 3)),
    (_approval(Status.INPUT), Quote("front", 3)),
    # rejecting in review leads to a retry at the retry price
    (_approval(Status.REVISION_REQUESTED, rejections=1), Quote("retry", 2)),
    # a front that failed before any rejection is charged as a front again
    (_approval(Status.FAILED), Quote("retry", 3)),
    (_approval(Status.FAILED, rejections=2), Quote("retry", 2)),
    # approving is free; the four views that follow are included in the product
    (_approval(Status.FRONT_REVIEW, views=(ViewType.FRONT,)),
     Quote("views", 0, (ViewType.BACK, ViewType.SIDE, ViewType.TOP, ViewType.BOTTOM))),
    (_approval(Status.APPROVED, views=(ViewType.FRONT, ViewType.BACK, ViewType.SIDE),
               approved=True),
     Quote("views", 0, (ViewType.TOP, ViewType.BOTTOM))),
    (_approval(Status.COMPLETE, views=ALL_VIEWS, approved=True), Quote("regenerate", 1)),
    (_approval(Status.VIEWS_GENERATING, approved=True), Quote("none", 0)),
])
def test_the_next_quote_follows_the_state(approval: Approval | None, expected: Quote) -> None:
    assert SEED.next_quote(approval) == expected


def test_quotes_read_the_same_everywhere() -> None:
    assert SEED.quote_front().text() == "3 credits"
    assert SEED.quote_regenerate(1).text() == "1 credit"
    assert SEED.quote_regenerate(3).as_json() == {"action": "regenerate", "credits": 3,
                                                  "views": []}
    free = SEED.next_quote(_approval(Status.FRONT_REVIEW, views=(ViewType.FRONT,)))
    assert free.free and free.text() == "free"
    assert free.as_json()["views"] == ["back", "side", "top", "bottom"]


def test_prices_refuse_negative_and_fractional_credits() -> None:
    assert Prices(front=0, retry=0, view=0, regenerate=0).whole_product() == 0
    for bad in ({"front": -1}, {"view": 0.5}, {"regenerate": True}):
        with pytest.raises(InvalidInput, match="whole number of credits"):
            Prices(**{"front": 3, "retry": 2, "view": 0, "regenerate": 1, **bad})


def test_the_hero_costs_its_own_price_once_then_the_regenerate_price() -> None:
    prices = Prices(front=3, retry=2, view=0, regenerate=5, hero=2)
    done = _approval(Status.COMPLETE, views=ALL_VIEWS, approved=True)
    assert done.missing_views == []  # complete without a hero
    assert prices.for_view(done, ViewType.HERO) == 2
    assert prices.quote_views(done, [ViewType.HERO]).credits == 2
    with_hero = _approval(Status.COMPLETE, views=(*ALL_VIEWS, ViewType.HERO), approved=True)
    assert prices.for_view(with_hero, ViewType.HERO) == 5
    assert prices.whole_product() == 3  # the hero is an add-on, never in the product's price
    with pytest.raises(InvalidInput, match="hero price"):
        Prices(front=3, retry=2, view=0, hero=-1)

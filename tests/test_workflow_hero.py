"""The optional three-quarter hero view (issue 11, item 5) through the real workflow on
the embedded defaults (offline provider, local blobs): asked for on approval or added
later, charged once at the hero price, stored, written as a revision, QA'd by its
colours, refunded when it fails; a product without a hero stays exactly as before."""

from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from tests.test_workflow import FlakyGenerator
from viewgen.domain import ALL_VIEWS, OTHER_VIEWS, Status, User, ViewType
from viewgen.errors import InvalidInput, ProviderUnavailable
from viewgen.workflow import Studio

HERO = ViewType.HERO


def _settled(studio: Studio, member: User, approval_id: str):
    """The product once its views workflow has ended (polled with a deadline)."""
    for _ in range(400):
        approval = studio.get(member, approval_id)
        if approval.status != Status.VIEWS_GENERATING:
            return approval
        threading.Event().wait(0.05)
    raise AssertionError("the views workflow did not end")


def _hero_reservations(studio: Studio, member: User, approval_id: str) -> list[tuple[int, str]]:
    with studio.repo.tx(member) as tx:
        from viewgen import credits

        return [(e.delta, e.state.value) for e in credits.entries(tx, member.id)
                if e.approval_id == approval_id and e.reason == "hero view"]


def test_a_product_without_a_hero_is_complete_and_unchanged(studio: Studio, member: User) -> None:
    final = studio.generate_multi_view(member, text="navy leather messenger bag")
    assert final.status == Status.COMPLETE
    assert not final.has_hero and final.key(HERO) is None
    assert final.missing_views == []
    assert set(studio.view_images(member, final)) == set(ALL_VIEWS)
    [revision] = studio.revisions(member, final.id)
    assert set(revision.image_data) == {v.value for v in ALL_VIEWS}
    assert revision.changes_made["regenerated"] == [v.value for v in ALL_VIEWS]
    assert "added" not in revision.changes_made
    assert set(final.consistency) == {v.value for v in OTHER_VIEWS}


def test_hero_asked_for_on_approval_is_charged_once_stored_and_in_the_revision(
        studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="red leather handbag with a brass buckle")
    studio.approve(member, approval.id)
    before = studio.balance(member)

    batch = studio.start_views(member, approval.id, hero=True)
    assert set(batch.views) == {*OTHER_VIEWS, HERO}
    final = batch.wait()
    assert final.status == Status.COMPLETE and final.has_hero
    assert studio.balance(member) == before - 4 * studio.prices.view - studio.prices.hero
    assert _hero_reservations(studio, member, final.id) == [(-studio.prices.hero, "committed")]

    hero_png = studio.view_images(member, final)[HERO]
    assert Image.open(io.BytesIO(hero_png)).size == (studio.settings.image_size,) * 2
    assert hero_png != studio.view_images(member, final)[ViewType.FRONT]
    assert "three-quarter hero" in (final.prompt(HERO) or "")

    [revision] = studio.revisions(member, final.id)
    assert revision.image_data["hero"]["key"] == final.key(HERO)
    assert revision.changes_made["regenerated"] == [*(v.value for v in ALL_VIEWS), "hero"]
    assert revision.changes_made["added"] == ["hero"]

    studio.wait_for_analysis(final.id)
    scored = studio.get(member, final.id)
    hero_checks = {c["name"] for c in scored.consistency["hero"]["checks"]}
    assert {"palette", "new_colours"} <= hero_checks
    assert "shape" not in hero_checks and "mirror" not in hero_checks  # not orthographic
    assert "hero" in scored.qa["product"]["views"]


def test_hero_added_later_to_a_finished_product_then_regenerated(
        studio: Studio, member: User) -> None:
    final = studio.generate_multi_view(member, text="teal plastic bluetooth speaker")
    keys = {v: final.key(v) for v in ALL_VIEWS}
    before = studio.balance(member)

    added = studio.add_hero(member, final.id).wait()
    assert added.status == Status.COMPLETE and added.has_hero
    assert {v: added.key(v) for v in ALL_VIEWS} == keys  # the five views are untouched
    assert studio.balance(member) == before - studio.prices.hero
    revisions = studio.revisions(member, final.id)
    assert [r.revision_number for r in revisions] == [1, 2]
    assert revisions[-1].changes_made["regenerated"] == ["hero"]
    assert revisions[-1].changes_made["added"] == ["hero"]
    assert revisions[-1].changes_made["preserved"] == [v.value for v in ALL_VIEWS]
    assert revisions[-1].image_data["hero"]["key"] == added.key(HERO)

    with pytest.raises(InvalidInput, match="hero view already"):
        studio.start_views(member, final.id, hero=True)

    old_hero = added.key(HERO)
    revision = studio.regenerate(member, final.id, ["hero"], "make it darker")
    assert revision.revision_number == 3
    assert revision.changes_made["regenerated"] == ["hero"]
    assert "added" not in revision.changes_made
    assert studio.balance(member) == before - studio.prices.hero - studio.prices.regenerate
    replaced = [h for h in studio.history(member, final.id) if h.view_type == HERO]
    assert [(h.image_key, h.user_feedback) for h in replaced] == [(old_hero, "make it darker")]


def test_a_failing_hero_is_refunded_and_the_product_stays_complete(
        studio: Studio, member: User) -> None:
    real = studio.generator
    studio.generator = FlakyGenerator(real, fail_views={HERO},
                                      error=ProviderUnavailable("The image service is busy."))
    try:
        approval = studio.start_front(member, text="burgundy ceramic mug")
        studio.approve(member, approval.id)
        before = studio.balance(member)
        outcomes = {o.view: o for o in studio.start_views(member, approval.id, hero=True)}
        assert not outcomes[HERO].ok and "busy" in (outcomes[HERO].error or "")
        final = _settled(studio, member, approval.id)
    finally:
        studio.generator = real
    assert final.status == Status.COMPLETE and not final.has_hero
    assert "busy" in final.view_errors["hero"]
    assert studio.balance(member) == before - 4 * studio.prices.view  # the hero refunded
    assert _hero_reservations(studio, member, final.id) == [(-studio.prices.hero, "refunded")]
    [revision] = studio.revisions(member, final.id)
    assert "hero" not in revision.image_data

    retried = studio.add_hero(member, final.id).wait()  # added later, now it works
    assert retried.has_hero and "hero" not in retried.view_errors
    assert studio.balance(member) == before - 4 * studio.prices.view - studio.prices.hero


def test_hero_needs_an_approved_front(studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="white running shoe")
    before = studio.balance(member)
    with pytest.raises(InvalidInput, match="Approve the front"):
        studio.add_hero(member, approval.id)
    assert studio.balance(member) == before

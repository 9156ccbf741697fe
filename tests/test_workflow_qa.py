"""The QA gate inside the workflows: a failing image is drawn again automatically and
those calls are recorded but never charged; a retry after a rejection whose image did
not change is refunded with a sentence; a flagged view can be tried again for free; and
the product's verdict is stored with the reasons."""

from __future__ import annotations

import io

from PIL import Image

from viewgen import credits
from viewgen.domain import Status, User, ViewType
from viewgen.workflow import Studio


def _blank_png(size: int = 256) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (236, 236, 236)).save(out, "PNG")
    return out.getvalue()


class _FirstFrontBlank:
    """The real offline renderer, except that its first front is an empty studio."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.fronts = inner, inner.name, 0

    def generate(self, request):
        result = self.inner.generate(request)
        if request.view == ViewType.FRONT:
            self.fronts += 1
            if self.fronts == 1:
                result.data = _blank_png(request.size[0])
        return result


class _IgnoresFeedback:
    """A provider that draws the same picture whatever the feedback says."""

    def __init__(self, inner) -> None:
        self.inner, self.name = inner, inner.name

    def generate(self, request):
        from dataclasses import replace

        return self.inner.generate(replace(request, feedback=()))


def _balance(studio: Studio, user: User) -> int:
    with studio.repo.tx(user) as tx:
        return credits.balance(tx, user.id)


def test_a_failing_front_is_drawn_again_free_and_recorded(studio: Studio, member: User) -> None:
    studio.generator = _FirstFrontBlank(studio.generator)
    before = _balance(studio, member)
    approval = studio.start_front(member, text="a red ceramic mug")
    assert approval.status == Status.FRONT_REVIEW
    assert _balance(studio, member) == before - studio.prices.front  # charged once
    with studio.repo.tx(member) as tx:
        calls = [c for c in tx.list_calls(approval.id) if c["view_type"] == "front"]
    assert len(calls) == 2
    auto, kept = calls
    assert auto["charged"] is False and auto["qa_ok"] is False and auto["qa_reasons"]
    assert kept["charged"] is True and kept["qa_ok"] is True
    assert approval.qa["front"]["passed"] is True


def test_an_unchanged_retry_is_refunded_and_says_why(studio: Studio, member: User) -> None:
    studio.generator = _IgnoresFeedback(studio.generator)
    approval = studio.start_front(member, text="a navy leather backpack", seed=11)
    before = _balance(studio, member)
    retried = studio.reject_and_retry(member, approval.id, "make the strap red")
    assert retried.status == Status.FRONT_REVIEW
    assert _balance(studio, member) == before  # the retry price was refunded
    change = retried.qa["front_change"]
    assert change["unchanged"] is True
    assert "not charged" in change["reason"]


def test_the_product_verdict_is_stored_and_a_flagged_view_retries_free(
        studio: Studio, member: User) -> None:
    done = studio.generate_multi_view(member, text="a teal ceramic mug")
    assert done.status == Status.COMPLETE
    product = studio.get(member, done.id).qa["product"]
    assert set(product) >= {"passed", "headline", "reasons"}
    if product["passed"]:
        assert product["headline"] == "Five consistent views."
    # a view the gate passed cannot be redrawn for free
    import pytest

    from viewgen.errors import InvalidInput

    with pytest.raises(InvalidInput, match="flagged"):
        studio.retry_flagged_view(member, done.id, ViewType.BACK)
    # one the gate flagged can, and costs nothing
    with studio.repo.tx(member, write=True) as tx:
        tx.merge_json(done.id, "qa", {"back": {**done.qa["back"], "passed": False}})
    before = _balance(studio, member)
    final = studio.retry_flagged_view(member, done.id, ViewType.BACK).wait()
    assert final.status == Status.COMPLETE
    assert final.key(ViewType.BACK) != done.key(ViewType.BACK)
    assert _balance(studio, member) == before


class _FrontsBlankUntil:
    """The real offline renderer, except that its first ``blank`` fronts are an empty
    studio (the QA gate flags them all); a front drawn while ``hold`` is set waits."""

    def __init__(self, inner, blank: int) -> None:
        import threading

        self.inner, self.name, self.blank, self.fronts = inner, inner.name, blank, 0
        self.hold: threading.Event | None = None

    def generate(self, request):
        result = self.inner.generate(request)
        if request.view == ViewType.FRONT:
            self.fronts += 1
            if self.hold is not None:
                assert self.hold.wait(30), "the test never released the held front"
            if self.fronts <= self.blank:
                result.data = _blank_png(request.size[0])
        return result


def _front_calls(studio: Studio, user: User, approval_id: str) -> list[dict]:
    with studio.repo.tx(user) as tx:
        return [c for c in tx.list_calls(approval_id) if c["view_type"] == "front"]


def test_a_front_still_flagged_after_its_retries_can_be_tried_again_free(
        studio: Studio, member: User) -> None:
    tries = 1 + studio.settings.qa_retries
    studio.generator = _FrontsBlankUntil(studio.generator, blank=tries)
    before = _balance(studio, member)
    flagged = studio.start_front(member, text="a red ceramic mug")
    assert flagged.status == Status.FRONT_REVIEW
    assert flagged.qa["front"]["passed"] is False and flagged.qa["front"]["reasons"]
    assert _balance(studio, member) == before - studio.prices.front
    assert len(_front_calls(studio, member, flagged.id)) == tries

    fresh = studio.retry_flagged_front(member, flagged.id)
    assert fresh.status == Status.FRONT_REVIEW
    assert fresh.key(ViewType.FRONT) != flagged.key(ViewType.FRONT)
    assert fresh.qa["front"]["passed"] is True
    assert fresh.seed != flagged.seed  # drawn afresh, not the same picture again
    assert _balance(studio, member) == before - studio.prices.front  # not charged
    calls = _front_calls(studio, member, flagged.id)
    assert len(calls) == tries + 1
    assert calls[-1]["charged"] is False and calls[-1]["outcome"] == "ok"
    assert calls[-1]["qa_ok"] is True
    # the flagged front stays in the history, as replaced (not as a rejection)
    history = [h for h in studio.history(member, flagged.id) if h.view_type == ViewType.FRONT]
    assert [(h.image_key, h.reason) for h in history] == [
        (flagged.key(ViewType.FRONT), "replaced")]
    # and the new front, which passed, can be approved as usual
    assert studio.approve(member, flagged.id).status == Status.APPROVED


def test_a_free_front_try_is_refused_unless_the_front_is_flagged_and_in_review(
        studio: Studio, member: User) -> None:
    import pytest

    from viewgen.errors import IllegalTransition, InvalidInput

    passed = studio.start_front(member, text="a teal ceramic mug")
    assert passed.qa["front"]["passed"] is True
    before = _balance(studio, member)
    with pytest.raises(IllegalTransition, match="waiting for your review"):
        studio.retry_front(member, passed.id)  # a paid new front needs a rejection first
    with pytest.raises(InvalidInput, match="flagged"):
        studio.retry_flagged_front(member, passed.id)
    with studio.repo.tx(member, write=True) as tx:  # flagged, but rejected meanwhile
        tx.merge_json(passed.id, "qa", {"front": {**passed.qa["front"], "passed": False}})
    studio.reject(member, passed.id, "make it taller")
    with pytest.raises(IllegalTransition, match="rejected"):
        studio.retry_flagged_front(member, passed.id)
    assert studio.get(member, passed.id).status == Status.REVISION_REQUESTED
    assert _balance(studio, member) == before
    assert len(_front_calls(studio, member, passed.id)) == 1


def test_a_second_click_while_the_free_try_runs_starts_nothing_more(
        studio: Studio, member: User) -> None:
    import threading

    from viewgen import durable

    tries = 1 + studio.settings.qa_retries
    generator = _FrontsBlankUntil(studio.generator, blank=tries)
    studio.generator = generator
    flagged = studio.start_front(member, text="a yellow plastic bucket")
    assert flagged.qa["front"]["passed"] is False
    generator.hold = threading.Event()
    first = studio.retry_flagged_front(member, flagged.id, wait=False)
    second = studio.retry_flagged_front(member, flagged.id, wait=False)
    assert first.status == second.status == Status.FRONT_GENERATING
    assert first.workflow_id == second.workflow_id
    generator.hold.set()
    durable.wait(first.workflow_id, studio.settings.queue_poll_s, timeout=60)
    done = studio.get(member, flagged.id)
    assert done.status == Status.FRONT_REVIEW
    assert len(_front_calls(studio, member, flagged.id)) == tries + 1  # one free draw
    assert generator.fronts == tries + 1

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

"""The stepped workflow on the embedded defaults (offline provider, local blobs),
on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from viewgen import credits
from viewgen.auth import create_account
from viewgen.domain import ALL_VIEWS, OTHER_VIEWS, GenerationRequest, Status, User, ViewType
from viewgen.errors import (
    IllegalTransition,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
    SafetyBlocked,
)
from viewgen.store import SYSTEM
from viewgen.store import schema as t
from viewgen.workflow import Studio


class FlakyGenerator:
    """The real offline generator, with failures injected for chosen views."""

    name = "offline"

    def __init__(self, inner, fail_views=(), error=None) -> None:
        self.inner = inner
        self.fail_views = set(fail_views)
        self.error = error or ProviderUnavailable("The image service is busy; try again.")
        self.calls: list[ViewType] = []
        self.lock = threading.Lock()

    def generate(self, request: GenerationRequest):
        with self.lock:
            self.calls.append(request.view)
        if request.view in self.fail_views:
            raise self.error
        return self.inner.generate(request)


def _balance(studio: Studio, user: User) -> int:
    return studio.balance(user)


def _count(studio: Studio, table) -> int:
    with studio.repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _blob_files(studio: Studio) -> list[Path]:
    root = Path(studio.blobs.root)
    return [p for p in root.rglob("*") if p.is_file()]


def _png(size=(200, 160), color=(30, 60, 160, 255), mode="RGBA") -> bytes:
    img = Image.new(mode, (600, 600), (235, 235, 235, 255) if mode == "RGBA" else (235, 235, 235))
    inner = Image.new(mode, size, color if mode == "RGBA" else color[:3])
    img.paste(inner, ((600 - size[0]) // 2, (600 - size[1]) // 2))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_happy_path_text_to_five_views(studio: Studio, member: User) -> None:
    start = _balance(studio, member)
    approval = studio.start_front(member, text="navy leather messenger bag with a tan strap")
    assert approval.status == Status.FRONT_REVIEW
    assert approval.key(ViewType.FRONT)
    assert _balance(studio, member) == start - studio.prices.front

    approval = studio.approve(member, approval.id)
    assert approval.status == Status.APPROVED
    features = approval.extracted_features
    assert features is not None and features.colors
    assert any(c.name == "navy" for c in features.colors)

    batch = studio.start_views(member, approval.id)
    landed = [outcome for outcome in batch]
    assert sorted(o.view.value for o in landed) == sorted(v.value for v in OTHER_VIEWS)
    assert all(o.ok for o in landed)
    final = batch.wait()
    assert final.status == Status.COMPLETE
    assert all(final.key(v) for v in ALL_VIEWS)
    assert _balance(studio, member) == start - studio.prices.front - 4 * studio.prices.view

    revisions = studio.revisions(member, final.id)
    assert [r.revision_number for r in revisions] == [1]
    assert revisions[0].changes_made["regenerated"] == [v.value for v in ALL_VIEWS]
    assert set(revisions[0].image_data) == {v.value for v in ALL_VIEWS}

    with studio.repo.tx(member) as tx:
        calls = tx.list_calls(final.id)
    assert len(calls) == 6  # front, features, four views
    assert {c["outcome"] for c in calls} == {"ok"}

    studio.wait_for_analysis(final.id)
    final = studio.get(member, final.id)
    assert set(final.consistency) == {v.value for v in OTHER_VIEWS}
    assert all(s["score"] >= 70 for s in final.consistency.values())

    images = studio.view_images(member, final)
    sizes = {Image.open(io.BytesIO(b)).size for b in images.values()}
    assert sizes == {(studio.settings.image_size,) * 2}


def test_reject_then_approve(studio: Studio, member: User) -> None:
    start = _balance(studio, member)
    first = studio.start_front(member, text="white running shoe with red laces")
    first_key = first.key(ViewType.FRONT)
    first_png = studio.image_bytes(member, first_key)

    rejected = studio.reject(member, first.id, "make the laces blue")
    assert rejected.status == Status.REVISION_REQUESTED
    assert rejected.rejection_count == 1
    history = studio.history(member, first.id)
    assert [(h.view_type, h.image_key, h.user_feedback) for h in history] == [
        (ViewType.FRONT, first_key, "make the laces blue")
    ]
    assert studio.blobs.exists(first_key)  # the rejected image stays visible

    retried = studio.retry_front(member, first.id)
    assert retried.status == Status.FRONT_REVIEW
    assert retried.key(ViewType.FRONT) != first_key
    assert studio.image_bytes(member, retried.key(ViewType.FRONT)) != first_png
    assert _balance(studio, member) == start - studio.prices.front - studio.prices.retry

    approved = studio.approve(member, first.id)
    assert approved.status == Status.APPROVED
    final = studio.run_views(member, first.id)
    assert final.status == Status.COMPLETE
    rev = studio.revisions(member, first.id)[0]
    assert rev.changes_made["modifications"] == "make the laces blue"


def test_one_view_fails_the_others_land_and_it_can_be_retried_alone(
    studio: Studio, member: User
) -> None:
    real = studio.generator
    studio.generator = FlakyGenerator(real, fail_views={ViewType.SIDE})
    approval = studio.start_front(member, text="burgundy ceramic mug")
    studio.approve(member, approval.id)
    before = _balance(studio, member)

    outcomes = {o.view: o for o in studio.start_views(member, approval.id)}
    assert not outcomes[ViewType.SIDE].ok
    assert "busy" in outcomes[ViewType.SIDE].error
    assert all(outcomes[v].ok for v in (ViewType.BACK, ViewType.TOP, ViewType.BOTTOM))

    after_batch = studio.get(member, approval.id)
    for _ in range(100):  # the batch finishes in the background; poll with a deadline
        after_batch = studio.get(member, approval.id)
        if after_batch.status != Status.VIEWS_GENERATING:
            break
        threading.Event().wait(0.05)
    assert after_batch.status == Status.APPROVED
    assert after_batch.missing_views == [ViewType.SIDE]
    assert "side" in after_batch.view_errors
    assert _balance(studio, member) == before - 3 * studio.prices.view  # side refunded
    assert studio.revisions(member, approval.id) == []

    studio.generator = real
    final = studio.retry_view(member, approval.id, ViewType.SIDE).wait()
    assert final.status == Status.COMPLETE
    assert final.view_errors == {}
    assert _balance(studio, member) == before - 4 * studio.prices.view
    assert [r.revision_number for r in studio.revisions(member, approval.id)] == [1]


def test_front_failure_refunds_and_can_be_retried(studio: Studio, member: User) -> None:
    real = studio.generator
    studio.generator = FlakyGenerator(
        real, fail_views={ViewType.FRONT},
        error=SafetyBlocked("The image was blocked for safety (dangerous content)."),
    )
    start = _balance(studio, member)
    with pytest.raises(SafetyBlocked, match="blocked for safety"):
        studio.start_front(member, text="a lamp")
    assert _balance(studio, member) == start
    [approval] = studio.repo.list_approvals(member)
    assert approval.status == Status.FAILED
    assert "blocked for safety" in approval.error
    with studio.repo.tx(member) as tx:
        [call] = tx.list_calls(approval.id)
    assert call["outcome"] == "SafetyBlocked"
    assert _blob_files(studio) == []

    studio.generator = real
    retried = studio.retry_front(member, approval.id)
    assert retried.status == Status.FRONT_REVIEW
    assert _balance(studio, member) == start - studio.prices.front


def test_regenerate_writes_numbered_revision(studio: Studio, member: User) -> None:
    approval = studio.generate_multi_view(member, text="teal plastic bluetooth speaker")
    assert approval.status == Status.COMPLETE
    old_back = approval.key(ViewType.BACK)
    before = _balance(studio, member)

    revision = studio.regenerate(member, approval.id, [ViewType.BACK, ViewType.TOP], "darker")
    assert revision.revision_number == 2
    assert revision.changes_made["regenerated"] == ["back", "top"]
    assert revision.changes_made["preserved"] == ["front", "side", "bottom"]
    assert revision.changes_made["modifications"] == "darker"
    assert _balance(studio, member) == before - 2 * studio.prices.regenerate

    after = studio.get(member, approval.id)
    assert after.status == Status.COMPLETE
    assert after.key(ViewType.BACK) != old_back
    assert studio.blobs.exists(old_back)
    replaced = [h for h in studio.history(member, approval.id) if h.view_type == ViewType.BACK]
    assert replaced and replaced[0].image_key == old_back and replaced[0].user_feedback == "darker"
    with pytest.raises(InvalidInput, match="front"):
        studio.regenerate(member, approval.id, [ViewType.FRONT], "taller")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Describe the product"), ("   \n\t", "Describe the product"),
     ("x" * 5000, "limit is 2,000")],
)
def test_bad_text_writes_nothing(studio: Studio, member: User, text: str, message: str) -> None:
    start = _balance(studio, member)
    with pytest.raises(InvalidInput, match=message):
        studio.start_front(member, text=text)
    assert _count(studio, t.product_view_approvals) == 0
    assert _count(studio, t.projects) == 0
    assert _balance(studio, member) == start


def _truncated_png() -> bytes:
    data = _png()
    return data[: len(data) // 2]


def _transparent_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (300, 300), (0, 0, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


def _bomb_png() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (12000, 12000), 0).save(buf, "PNG")  # 144 Mpx, tiny file
    return buf.getvalue()


@pytest.mark.parametrize(
    "payload",
    [b"this is a text file, not an image", _truncated_png(), _transparent_png(), _bomb_png()],
    ids=["not-an-image", "truncated", "transparent", "decompression-bomb"],
)
def test_bad_images_write_nothing(studio: Studio, member: User, payload: bytes) -> None:
    start = _balance(studio, member)
    with pytest.raises(InvalidInput):
        studio.start_front(member, text="bag", image=payload)
    with pytest.raises(InvalidInput):
        studio.start_front(member, text="bag", logo=payload)
    assert _count(studio, t.product_view_approvals) == 0
    assert _blob_files(studio) == []
    assert _balance(studio, member) == start


def test_image_over_size_limit(studio: Studio, member: User) -> None:
    studio.settings.max_upload_mb = 1
    noisy = Image.effect_noise((1500, 1500), 100).convert("RGB")
    buf = io.BytesIO()
    noisy.save(buf, "PNG")
    assert len(buf.getvalue()) > 1024 * 1024
    with pytest.raises(InvalidInput):
        studio.start_front(member, image=buf.getvalue())
    assert _count(studio, t.product_view_approvals) == 0


def test_reference_photo_flow(studio: Studio, member: User) -> None:
    approval = studio.generate_multi_view(member, image=_png(color=(180, 40, 40, 255)))
    assert approval.status == Status.COMPLETE
    assert approval.input_type.value == "image"
    assert approval.reference_key and studio.blobs.exists(approval.reference_key)
    names = [c.name for c in approval.extracted_features.colors]
    assert any(n in names for n in ("red", "crimson", "brick red", "rust", "burgundy", "maroon")), names


def test_illegal_steps_are_refused(studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="black leather wallet box")
    with pytest.raises(InvalidInput, match="Approve the front"):
        studio.start_views(member, approval.id)
    studio.approve(member, approval.id)
    with pytest.raises(IllegalTransition, match="approve"):
        studio.approve(member, approval.id)
    with pytest.raises(IllegalTransition):
        studio.reject(member, approval.id, "too late")
    with pytest.raises(InvalidInput, match="feedback"):
        studio.reject(member, approval.id, "   ")


def test_someone_elses_product_is_not_found(
    studio: Studio, member: User, other_member: User, admin: User
) -> None:
    approval = studio.generate_multi_view(member, text="gold smartwatch")
    front_key = approval.key(ViewType.FRONT)
    with pytest.raises(NotFound):
        studio.regenerate(other_member, approval.id, [ViewType.BACK], "make it red")
    with pytest.raises(NotFound):
        studio.get(other_member, approval.id)
    with pytest.raises(NotFound):
        studio.image_bytes(other_member, front_key)
    with pytest.raises(NotFound):
        studio.approve(other_member, approval.id)
    assert studio.repo.list_approvals(other_member) == []
    assert studio.get(admin, approval.id).id == approval.id  # admins see all
    assert studio.image_bytes(admin, front_key)


def test_not_enough_credits_writes_nothing(studio: Studio, settings) -> None:
    poor = create_account(studio.repo, settings, "poor@example.com", password_hash=None,
                          credits_granted=2)
    with pytest.raises(InsufficientCredits, match="needs 3 credits and you have 2"):
        studio.start_front(poor, text="red backpack", logo=_png())
    assert _count(studio, t.product_view_approvals) == 0
    assert _count(studio, t.projects) == 0
    assert _blob_files(studio) == []
    assert studio.balance(poor) == 2


def test_views_need_credits_for_all_four(studio: Studio, settings) -> None:
    studio.prices = credits.Prices(front=3, retry=2, view=1, regenerate=1)  # priced views
    user = create_account(studio.repo, settings, "four@example.com", password_hash=None,
                          credits_granted=studio.prices.front + 3)
    approval = studio.start_front(user, text="olive canvas backpack")
    studio.approve(user, approval.id)
    with pytest.raises(InsufficientCredits, match="4 view"):
        studio.start_views(user, approval.id)
    assert studio.get(user, approval.id).status == Status.APPROVED
    assert studio.balance(user) == 3


def test_concurrent_fronts_never_overdraw(studio: Studio, settings) -> None:
    user = create_account(studio.repo, settings, "race@example.com", password_hash=None,
                          credits_granted=3 * studio.prices.front + 1)
    studio.settings.image_size = 128
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        try:
            studio.start_front(user, text=f"box number {i}")
            outcome = "ok"
        except InsufficientCredits:
            outcome = "short"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count("ok") == 3
    assert results.count("short") == 5
    assert studio.balance(user) == 1
    with studio.repo.tx(SYSTEM) as tx:
        assert credits.balance(tx, user.id) >= 0


def test_reconcile_fails_and_refunds_stuck_rows(studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="walnut chair")
    studio.approve(member, approval.id)
    before = _balance(studio, member)
    with studio.repo.tx(member, write=True) as tx:
        reservation = credits.reserve(tx, member.id, 1, "back view", approval.id)
        # a row stuck the way a pre-durable session left it: no workflow drives it
        tx.transition(approval.id, Status.APPROVED, Status.VIEWS_GENERATING, workflow_id=None)
    assert _balance(studio, member) == before - 1
    assert studio.reconcile() == []  # not old enough yet
    with studio.repo.engine.begin() as conn:
        conn.execute(
            update(t.product_view_approvals)
            .where(t.product_view_approvals.c.id == approval.id)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=2))
        )
    assert studio.reconcile() == [approval.id]
    recovered = studio.get(member, approval.id)
    assert recovered.status == Status.FAILED
    assert "interrupted" in recovered.error
    assert _balance(studio, member) == before
    with studio.repo.tx(member) as tx:
        assert credits.open_reservations(tx, approval.id) == []
    assert reservation
    final = studio.run_views(member, approval.id)  # the views can be retried from failed
    assert final.status == Status.COMPLETE


def test_reconcile_fails_at_once_when_the_workflow_is_gone(studio: Studio, member: User) -> None:
    """No 900 s wait when the workflow that owned the row has ended without settling it."""
    approval = studio.start_front(member, text="walnut chair")
    studio.approve(member, approval.id)
    before = _balance(studio, member)
    with studio.repo.tx(member, write=True) as tx:
        credits.reserve(tx, member.id, 1, "back view", approval.id)
        # still names the finished approval workflow: nothing will ever settle this row
        tx.transition(approval.id, Status.APPROVED, Status.VIEWS_GENERATING)
    assert studio.reconcile() == [approval.id]
    assert studio.get(member, approval.id).status == Status.FAILED
    assert _balance(studio, member) == before


def test_same_seed_same_bytes(studio: Studio, member: User) -> None:
    a = studio.start_front(member, text="charcoal fabric speaker", seed=7)
    b = studio.start_front(member, text="charcoal fabric speaker", seed=7)
    assert studio.image_bytes(member, a.key(ViewType.FRONT)) == studio.image_bytes(
        member, b.key(ViewType.FRONT)
    )


def test_updated_at_moves_on_every_change(studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="cream ceramic vase")
    approved = studio.approve(member, approval.id)
    assert approved.updated_at > approval.updated_at
    assert approved.approved_at is not None

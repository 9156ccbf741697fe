"""The whole workflow (front, approve, four views) through the real google-genai and
openai SDKs, pointed at the loopback servers, with credits refunded on every failure."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import (
    GeminiServer,
    OpenAIServer,
    Recorded,
    Reply,
    gemini_finish,
    gemini_images,
    gemini_parts,
    gemini_prompt_blocked,
    gemini_quota,
    openai_length,
    openai_refusal,
    product_png,
)
from PIL import Image
from providers_helpers import provider_settings_for

from viewgen import credits
from viewgen.auth import create_account
from viewgen.compose import build_studio
from viewgen.domain import OTHER_VIEWS, LedgerState, Status, User, ViewType
from viewgen.errors import QuotaExhausted, Refused, SafetyBlocked, Truncated
from viewgen.providers.gemini import GeminiGenerator
from viewgen.providers.openai_vision import OpenAIExtractor
from viewgen.settings import Settings
from viewgen.workflow import Studio

START = 50


@pytest.fixture
def flow_settings(tmp_path: Path, gemini_server: GeminiServer,
                  openai_server: OpenAIServer) -> Settings:
    # priced views (1 credit each), so the ledger shows each view's reserve/commit/refund;
    # the loopback server draws the same block for every request, which the QA gate would
    # send back for more attempts: these tests count the wire calls, so no QA retries
    return provider_settings_for(tmp_path, gemini_server, openai_server,
                                 starting_credits=START, price_view=1, qa_retries=0)


@pytest.fixture
def studio(flow_settings: Settings) -> Iterator[Studio]:
    studio = build_studio(flow_settings)
    yield studio
    studio.close(drain_s=10)
    studio.repo.engine.dispose()


@pytest.fixture
def user(studio: Studio, flow_settings: Settings) -> User:
    return create_account(studio.repo, flow_settings, "maker@example.com", password_hash=None,
                          display_name="Maker")


def _ledger_states(studio: Studio, user: User) -> dict[str, int]:
    with studio.repo.tx(user) as tx:
        entries = credits.entries(tx, user.id)
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.state.value] = counts.get(entry.state.value, 0) + 1
    return counts


def _calls(studio: Studio, user: User, approval_id: str) -> list[dict]:
    with studio.repo.tx(user) as tx:
        return tx.list_calls(approval_id)


def _fail_view(view: ViewType, reply: Reply):
    """A scripted answer that fails only the request drawing ``view``."""
    marker = {ViewType.BACK: "directly behind", ViewType.SIDE: "right side",
              ViewType.TOP: "directly above", ViewType.BOTTOM: "directly below"}[view]

    def answer(request: Recorded) -> Reply:
        prompt = gemini_parts(request)[0].get("text", "")
        return reply if marker in prompt else Reply()

    return answer


def test_the_studio_uses_the_real_adapters(studio: Studio) -> None:
    assert isinstance(studio.generator, GeminiGenerator)
    assert isinstance(studio.extractor, OpenAIExtractor)


def test_front_approve_and_four_views_through_both_sdks(
    studio: Studio, user: User, gemini_server: GeminiServer, openai_server: OpenAIServer
) -> None:
    approval = studio.start_front(user, text="A navy canvas backpack with tan leather trims")
    assert approval.status == Status.FRONT_REVIEW
    front_png = studio.image_bytes(user, approval.key(ViewType.FRONT) or "")
    with Image.open(io.BytesIO(front_png)) as image:
        assert (image.format, image.size) == ("PNG", (1024, 1024))

    approved = studio.approve(user, approval.id)
    assert approved.status == Status.APPROVED
    features = approved.extracted_features
    assert features is not None and features.colors[0].hex == "#1F3A93"

    done = studio.run_views(user, approval.id)
    assert done.status == Status.COMPLETE
    assert done.missing_views == []
    assert studio.balance(user) == START - studio.prices.whole_product()
    assert _ledger_states(studio, user) == {"granted": 1, "committed": 5}

    posts = gemini_server.posts()
    assert len(posts) == 5
    assert gemini_images(posts[0]) == []  # a text-only front
    for post in posts[1:]:  # every other view is anchored on the stored front
        assert gemini_images(post)[0] == front_png
        assert "#1F3A93" in gemini_parts(post)[0]["text"]
    (extraction,) = openai_server.posts()
    assert extraction.json["model"] == "gpt-4o-mini"

    calls = _calls(studio, user, approval.id)
    kinds = sorted((c["kind"], c["provider"], c["outcome"]) for c in calls)
    assert kinds == [("features", "openai", "ok")] + [("image", "gemini", "ok")] * 5
    images = [c for c in calls if c["kind"] == "image"]
    assert all(c["model"] == "gemini-2.5-flash-image" and c["images"] == 1 for c in images)
    assert all(c["cost_usd"] == pytest.approx(0.0395, abs=1e-3) for c in images)
    assert all(c["input_tokens"] == 1548 and c["attempts"] == 1 for c in images)
    (features_call,) = [c for c in calls if c["kind"] == "features"]
    assert features_call["input_tokens"] == 25512 and features_call["cost_usd"] > 0


def test_a_safety_block_on_the_front_refunds_and_says_why(
    studio: Studio, user: User, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_finish("IMAGE_SAFETY"))
    with pytest.raises(SafetyBlocked, match="IMAGE_SAFETY"):
        studio.start_front(user, text="A backpack")
    assert studio.balance(user) == START
    assert _ledger_states(studio, user) == {"granted": 1, "refunded": 1}
    approval = studio.get(user, _only_approval_id(studio, user))
    assert approval.status == Status.FAILED
    assert "IMAGE_SAFETY" in (approval.error or "")


def test_a_blocked_prompt_then_a_retry_charges_once(
    studio: Studio, user: User, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_prompt_blocked("PROHIBITED_CONTENT"))
    with pytest.raises(SafetyBlocked) as caught:
        studio.start_front(user, text="A backpack")
    assert studio.balance(user) == START
    approval_id = _only_approval_id(studio, user)
    calls = _calls(studio, user, approval_id)
    assert [(c["outcome"], c["images"]) for c in calls] == [("SafetyBlocked", 0)]
    assert "PROHIBITED_CONTENT" in calls[0]["error"]
    assert str(caught.value) == calls[0]["error"]

    retried = studio.retry_front(user, approval_id)
    assert retried.status == Status.FRONT_REVIEW
    assert studio.balance(user) == START - 3


def test_quota_exhausted_on_the_front_refunds_and_records_the_attempts(
    studio: Studio, user: User, gemini_server: GeminiServer
) -> None:
    gemini_server.push(*[gemini_quota("0.01s")] * 3)
    with pytest.raises(QuotaExhausted):
        studio.start_front(user, text="A backpack")
    assert studio.balance(user) == START
    (call,) = _calls(studio, user, _only_approval_id(studio, user))
    assert (call["outcome"], call["attempts"]) == ("QuotaExhausted", 3)


def test_a_failed_view_is_refunded_and_retried_alone(
    studio: Studio, user: User, gemini_server: GeminiServer
) -> None:
    approval = studio.start_front(user, text="A backpack")
    studio.approve(user, approval.id)
    gemini_server.push(*[_fail_view(ViewType.BACK, gemini_finish("IMAGE_SAFETY"))] * 4)
    partial = studio.run_views(user, approval.id)
    assert partial.status == Status.APPROVED
    assert partial.missing_views == [ViewType.BACK]
    assert "IMAGE_SAFETY" in partial.view_errors["back"]
    assert studio.balance(user) == START - 3 - 3
    assert _ledger_states(studio, user)["refunded"] == 1

    done = studio.retry_view(user, approval.id, ViewType.BACK).wait()
    assert done.status == Status.COMPLETE
    assert studio.balance(user) == START - studio.prices.whole_product()
    assert LedgerState.RESERVED.value not in _ledger_states(studio, user)


def test_every_view_failing_refunds_all_four(studio: Studio, user: User,
                                             gemini_server: GeminiServer) -> None:
    approval = studio.start_front(user, text="A backpack")
    studio.approve(user, approval.id)
    gemini_server.push(*[gemini_finish("NO_IMAGE")] * 4)
    partial = studio.run_views(user, approval.id)
    assert sorted(partial.missing_views) == sorted(OTHER_VIEWS)
    assert studio.balance(user) == START - 3
    assert _ledger_states(studio, user) == {"granted": 1, "committed": 1, "refunded": 4}


@pytest.mark.parametrize(("reply", "error"), [(openai_refusal(), Refused),
                                              (openai_length(), Truncated)])
def test_a_failed_extraction_keeps_the_front_for_review_and_charges_nothing_more(
    studio: Studio, user: User, openai_server: OpenAIServer, reply: Reply, error: type
) -> None:
    approval = studio.start_front(user, text="A backpack")
    openai_server.push(reply)
    with pytest.raises(error):
        studio.approve(user, approval.id)
    current = studio.get(user, approval.id)
    assert current.status == Status.FRONT_REVIEW
    assert current.extracted_features is None
    assert studio.balance(user) == START - 3
    assert LedgerState.RESERVED.value not in _ledger_states(studio, user)
    failed = [c for c in _calls(studio, user, approval.id) if c["kind"] == "features"]
    assert [c["outcome"] for c in failed] == [error.__name__]

    assert studio.approve(user, approval.id).status == Status.APPROVED


def test_gemini_can_extract_the_features_too(tmp_path: Path, gemini_server: GeminiServer) -> None:
    settings = provider_settings_for(tmp_path, gemini_server, None, feature_provider="gemini",
                                     starting_credits=START)
    studio = build_studio(settings)
    try:
        user = create_account(studio.repo, settings, "g@example.com", password_hash=None)
        approval = studio.start_front(user, text="A backpack")
        studio.approve(user, approval.id)
        assert studio.run_views(user, approval.id).status == Status.COMPLETE
        models = [r.path.split("/")[-1] for r in gemini_server.posts()]
        assert models.count("gemini-2.5-flash:generateContent") == 1
        # one charged image per view; any the QA gate drew again are recorded, uncharged
        images = [c for c in _calls(studio, user, approval.id) if c["kind"] == "image"]
        assert models.count("gemini-2.5-flash-image:generateContent") == len(images)
        assert sorted(c["view_type"] for c in images if c["charged"]) == sorted(
            v.value for v in ViewType if v != ViewType.HERO)
        assert studio.balance(user) == START - 3  # the product's price, views included
    finally:
        studio.close()
        studio.repo.engine.dispose()


def _only_approval_id(studio: Studio, user: User) -> str:
    from sqlalchemy import select

    from viewgen.store import schema as t

    with studio.repo.engine.connect() as conn:
        (approval_id,) = conn.execute(
            select(t.product_view_approvals.c.id).where(
                t.product_view_approvals.c.user_id == user.id)
        ).scalars().all()
    return approval_id


def test_a_reference_photo_and_logo_reach_gemini_in_order(
    studio: Studio, user: User, gemini_server: GeminiServer
) -> None:
    photo = product_png((640, 480), (150, 40, 40), fmt="JPEG")
    logo = product_png((96, 96), (250, 200, 0))
    approval = studio.start_front(user, image=photo, logo=logo)
    studio.approve(user, approval.id)
    studio.run_views(user, approval.id)
    stored_reference = studio.image_bytes(user, approval.reference_key or "")
    stored_logo = studio.image_bytes(user, approval.logo_key or "")
    front = studio.image_bytes(user, approval.key(ViewType.FRONT) or "")
    first, *views = gemini_server.posts()
    assert gemini_images(first) == [stored_reference, stored_logo]
    assert all(gemini_images(post) == [front, stored_logo] for post in views)

"""The Generate page's input and review steps as a new user met them: a file that is not
an image, a description over the limit, and approving without the credits for what
follows (issue 12, items 14-16)."""

from __future__ import annotations

import io

from PIL import Image
from ui_helpers import no_exceptions, settled, signed_in, texts

from viewgen import credits
from viewgen.auth import create_account
from viewgen.domain import Status
from viewgen.ui import state
from viewgen.ui.state import Step

DESCRIPTION = "navy leather messenger bag with a tan strap"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 96), (30, 60, 120)).save(out, format="PNG")
    return out.getvalue()


def _uploader(at, label: str):
    return next(u for u in at.get("file_uploader") if u.label == label)


def _approvals(repo, user) -> list:
    return repo.list_approvals(user, user_id=user.id, limit=10, offset=0)


def test_a_text_file_named_png_is_a_message_not_a_crash(app, app_member, app_repo,
                                                        app_settings) -> None:
    signed_in(app, app_member)
    for label, what in (("Reference photo (optional)", "reference photo"),
                        ("Logo (optional)", "logo")):
        _uploader(app, label).upload("photo.png", b"just some notes, not pixels\n" * 40,
                                     "image/png")
        app.run()
        no_exceptions(app)
        assert f"That file is not an image we can read (PNG, JPEG or WebP). Choose another " \
               f"{what}." in texts(app, "error")
        assert not app.image  # nothing previewed
    app.text_area(key=state.W_GEN_TEXT).input(DESCRIPTION)
    app.button(key="generate_front").click().run()
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.INPUT
    assert not _approvals(app_repo, app_member)
    with app_repo.tx(app_member) as tx:
        assert credits.balance(tx, app_member.id) == app_settings.starting_credits


def test_a_real_image_is_previewed(app, app_member) -> None:
    signed_in(app, app_member)
    _uploader(app, "Logo (optional)").upload("logo.png", _png(), "image/png")
    app.run()
    no_exceptions(app)
    assert not texts(app, "error")
    assert app.image


def test_a_description_over_the_limit_stays_and_says_why(app, app_member, app_repo,
                                                         app_settings) -> None:
    limit = app_settings.max_text_chars
    long_text = ("A navy leather messenger bag with a tan strap. " * 60)[: limit + 345]
    signed_in(app, app_member)
    box = app.text_area(key=state.W_GEN_TEXT)
    assert box.proto.max_chars == 0  # a longer paste is kept by the browser, not dropped
    box.input(long_text).run()
    no_exceptions(app)
    assert app.text_area(key=state.W_GEN_TEXT).value == long_text
    assert any(f"the limit is {limit:,}" in w and "Shorten it by 345 characters" in w
               for w in texts(app, "warning"))

    app.button(key="generate_front").click().run()
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.INPUT
    assert app.text_area(key=state.W_GEN_TEXT).value == long_text
    assert any("Shorten it" in e for e in texts(app, "error"))
    assert not _approvals(app_repo, app_member)

    app.text_area(key=state.W_GEN_TEXT).input(DESCRIPTION).run()
    assert not any("the limit is" in w for w in texts(app, "warning"))
    assert f"{len(DESCRIPTION)}/{limit:,} characters" in texts(app, "caption")


def test_approve_says_when_the_views_are_not_affordable_and_offers_start_over(
        app, app_repo, app_settings, app_admin, monkeypatch) -> None:
    # the seed's prices include the views; an operator may charge for them
    monkeypatch.setenv("VIEWGEN_PRICE_VIEW", "1")
    front, views = app_settings.price_front, 4 * 1
    short = create_account(app_repo, app_settings, "short@example.com", password_hash=None,
                           credits_granted=front + views - 1)
    signed_in(app, short)
    app.text_area(key=state.W_GEN_TEXT).input(DESCRIPTION)
    settled(app.button(key="generate_front").click().run())
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.REVIEW
    assert app.button(key="approve").disabled
    assert any(f"cost {views} credits; you have {views - 1} credit" in w
               for w in texts(app, "warning"))
    (approval,) = _approvals(app_repo, short)
    assert approval.status == Status.FRONT_REVIEW

    app.button(key="start_over_short").click().run()
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.INPUT
    assert app.text_area(key=state.W_GEN_TEXT).value == ""


def test_approve_is_open_with_enough_credits(app, app_member) -> None:
    signed_in(app, app_member)
    app.text_area(key=state.W_GEN_TEXT).input(DESCRIPTION)
    settled(app.button(key="generate_front").click().run())
    assert not app.button(key="approve").disabled
    assert not any("Approving starts" in w for w in texts(app, "warning"))

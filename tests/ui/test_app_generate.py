"""The Generate page's five steps in AppTest: the happy path, reject-then-approve, a
failed view retried alone, insufficient credits, and errors that keep the inputs."""

from __future__ import annotations

import pytest
from ui_helpers import no_exceptions, settled, signed_in, texts

from viewgen import credits
from viewgen.auth import create_account
from viewgen.domain import ALL_VIEWS, Status, ViewType
from viewgen.errors import ProviderUnavailable
from viewgen.ui import state
from viewgen.ui.state import Step

DESCRIPTION = "navy leather messenger bag with a tan strap"


def _step(at) -> Step:
    return at.session_state[state.GEN_STEP]


def _approval(at):
    from viewgen.ui.services import services

    return services().studio.get(at.session_state[state.USER],
                                 at.session_state[state.GEN_APPROVAL])


def _balance(at) -> int:
    return int(at.sidebar.metric[0].value.replace(",", ""))


def _generate_front(at, text: str = DESCRIPTION):
    at.text_area(key=state.W_GEN_TEXT).input(text)
    return settled(at.button(key="generate_front").click().run())


def _approve_and_generate_views(at):
    """Approve (features are extracted and shown), then generate the other views."""
    settled(at.button(key="approve").click().run())
    no_exceptions(at)
    assert _step(at) == Step.VIEWS
    assert "#### Check the features" in texts(at, "markdown")  # correctable before the views
    return settled(at.button(key="generate_missing").click().run())


def test_happy_path_through_all_five_steps(app, app_member, app_settings) -> None:
    signed_in(app, app_member)
    no_exceptions(app)
    assert _step(app) == Step.INPUT
    assert "Generate the front view · 3 credits" in [b.label for b in app.button]
    assert any("3 credits" in m and "in all" in m for m in texts(app, "markdown"))

    _generate_front(app)
    no_exceptions(app)
    assert _step(app) == Step.REVIEW
    assert "Review the front view" in texts(app, "subheader")
    assert _balance(app) == app_settings.starting_credits - 3
    assert app.image  # the front view, large

    _approve_and_generate_views(app)
    no_exceptions(app)
    assert _step(app) == Step.DONE
    assert [t.label for t in app.tabs] == [v.label for v in ALL_VIEWS]
    approval = _approval(app)
    assert approval.status == Status.COMPLETE
    assert all(approval.key(v) for v in ALL_VIEWS)
    assert _balance(app) == app_settings.starting_credits - 3  # views included
    assert "Extracted features" in texts(app, "markdown")[-40:] or any(
        "Extracted features" in m for m in texts(app, "markdown"))
    assert any(m.label == "Back" for m in app.main.metric)  # consistency scores
    downloads = app.get("download_button")
    assert len(downloads) >= 2  # ZIP and contact sheet (and the turntable)

    app.button(key="start_new").click().run()
    assert _step(app) == Step.INPUT
    assert app.text_area(key=state.W_GEN_TEXT).value == ""


def test_reject_with_feedback_then_approve(app, app_member, app_settings) -> None:
    signed_in(app, app_member)
    _generate_front(app)
    first_front = _approval(app).key(ViewType.FRONT)

    app.button(key="reject").click().run()  # feedback is required
    assert _step(app) == Step.REVIEW
    assert texts(app, "error") == ["The feedback is empty: write a few words first."]

    app.text_area(key=state.W_GEN_FEEDBACK).input("make the strap red")
    settled(app.button(key="reject").click().run())
    no_exceptions(app)
    assert _step(app) == Step.REVIEW
    approval = _approval(app)
    assert approval.rejection_count == 1
    assert approval.key(ViewType.FRONT) not in (None, first_front)
    assert [e.label for e in app.main.expander] == ["Rejected versions (1)"]
    assert "“make the strap red”" in texts(app, "markdown")
    assert app.text_area(key=state.W_GEN_FEEDBACK).value == ""  # ready for the next review
    assert _balance(app) == app_settings.starting_credits - 3 - 2

    _approve_and_generate_views(app)
    no_exceptions(app)
    assert _step(app) == Step.DONE
    assert _balance(app) == app_settings.starting_credits - 3 - 2


def test_insufficient_credits_shows_why_and_keeps_the_input(app, app_repo,
                                                            app_settings, app_admin) -> None:
    poor = create_account(app_repo, app_settings, "poor@example.com", password_hash=None,
                          credits_granted=2)
    signed_in(app, poor)
    assert any("Ask an admin" in w for w in texts(app, "warning"))
    _generate_front(app)
    no_exceptions(app)
    assert _step(app) == Step.INPUT
    assert texts(app, "error") == [
        "This needs 3 credits and you have 2. Ask an admin for more credits."]
    assert app.text_area(key=state.W_GEN_TEXT).value == DESCRIPTION
    with app_repo.tx(poor) as tx:
        assert credits.balance(tx, poor.id) == 2


def test_an_empty_input_is_refused_without_charging(app, app_member, app_settings) -> None:
    signed_in(app, app_member)
    app.button(key="generate_front").click().run()
    assert texts(app, "error") == ["Describe the product or upload a reference photo to start."]
    assert _step(app) == Step.INPUT
    assert _balance(app) == app_settings.starting_credits


class _FailingViews:
    """Wraps the real generator; the chosen views fail until ``heal()``."""

    name = "offline"

    def __init__(self, inner, views) -> None:
        self.inner, self.views = inner, set(views)

    def heal(self) -> None:
        self.views.clear()

    def generate(self, request):
        if request.view in self.views:
            raise ProviderUnavailable("The image service is busy; try again.")
        return self.inner.generate(request)


@pytest.fixture
def flaky(app, app_member):
    from viewgen.ui.services import services

    signed_in(app, app_member)  # builds the services for this test's data dir
    studio = services().studio
    real = studio.generator
    studio.generator = _FailingViews(real, {ViewType.TOP})
    yield studio.generator
    studio.generator = real


def test_a_failed_view_shows_why_and_can_be_retried_alone(app, flaky, app_settings) -> None:
    _generate_front(app)
    _approve_and_generate_views(app)
    no_exceptions(app)
    assert _step(app) == Step.VIEWS
    assert "The image service is busy; try again." in texts(app, "caption")
    assert "Retry · free" in [b.label for b in app.button]  # a first image of a view
    assert _balance(app) == app_settings.starting_credits - 3

    flaky.heal()
    settled(app.button(key="retry_top").click().run())
    no_exceptions(app)
    assert _step(app) == Step.DONE
    assert _balance(app) == app_settings.starting_credits - 3


def test_a_reload_finds_the_product_and_its_progress_again(app, app_member, app_settings) -> None:
    """A reload is a new session: the product's id in the address brings it back."""
    from streamlit.testing.v1 import AppTest
    from ui_helpers import ROOT, TIMEOUT

    signed_in(app, app_member)
    app.text_area(key=state.W_GEN_TEXT).input(DESCRIPTION)
    app.button(key="generate_front").click().run()  # returns at once: the front is queued
    product = app.query_params["product"]
    assert product == app.session_state[state.GEN_APPROVAL]

    reloaded = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    reloaded.query_params["product"] = product
    settled(signed_in(reloaded, app_member))
    no_exceptions(reloaded)
    assert _step(reloaded) == Step.REVIEW
    assert "Review the front view" in texts(reloaded, "subheader")

"""The QA gate on the Generate page in AppTest: a front the gate still flags after its
automatic retries is shown with the reason and "Try again, free", which draws a new
front without charging; views estimated from one photo say so."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from ui_helpers import no_exceptions, settled, signed_in, texts

from viewgen.domain import Status, ViewType
from viewgen.ui import state
from viewgen.ui.state import Step


def _blank_png(size: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (236, 236, 236)).save(out, "PNG")
    return out.getvalue()


class _FrontsBlankUntil:
    """The real offline renderer, except that its first ``blank`` fronts are an empty
    studio, which the QA gate flags."""

    def __init__(self, inner, blank: int) -> None:
        self.inner, self.name, self.blank, self.fronts = inner, inner.name, blank, 0

    def generate(self, request):
        result = self.inner.generate(request)
        if request.view == ViewType.FRONT:
            self.fronts += 1
            if self.fronts <= self.blank:
                result.data = _blank_png(request.size[0])
        return result


@pytest.fixture
def studio_of(app, app_member):
    from viewgen.ui.services import services

    signed_in(app, app_member)  # builds the services for this test's data dir
    studio = services().studio
    real = studio.generator
    yield studio
    studio.generator = real


def _approval(at):
    from viewgen.ui.services import services

    return services().studio.get(at.session_state[state.USER],
                                 at.session_state[state.GEN_APPROVAL])


def _balance(at) -> int:
    return int(at.sidebar.metric[0].value.replace(",", ""))


def test_a_flagged_front_offers_a_free_try_that_draws_a_new_front(app, studio_of) -> None:
    studio_of.generator = _FrontsBlankUntil(studio_of.generator,
                                            blank=1 + studio_of.settings.qa_retries)
    app.text_area(key=state.W_GEN_TEXT).input("a red ceramic mug")
    settled(app.button(key="generate_front").click().run())
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.REVIEW
    flagged = _approval(app)
    reasons = flagged.qa["front"]["reasons"]
    assert reasons and set(reasons) <= set(texts(app, "text"))  # the reason, shown
    free = [b for b in app.button if b.label == "Try again, free"]
    assert len(free) == 1
    balance = _balance(app)

    settled(free[0].click().run())
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.REVIEW
    fresh = _approval(app)
    assert fresh.status == Status.FRONT_REVIEW
    assert fresh.key(ViewType.FRONT) != flagged.key(ViewType.FRONT)
    assert fresh.qa["front"]["passed"] is True
    assert _balance(app) == balance  # not charged
    assert not [b for b in app.button if b.label == "Try again, free"]
    assert [e.label for e in app.main.expander] == ["Earlier versions (1)"]
    assert "Flagged by the quality check; tried again, free." in texts(app, "markdown")


def _photo() -> bytes:
    """A teal cup-like shape, shaded, on a noisy light table: a product photo."""
    import numpy as np

    rng = np.random.default_rng(3)
    h, w = 400, 480
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.repeat((226.0 + 10 * yy / h + rng.normal(0, 2.5, (h, w)))[..., None], 3, -1)
    inside = (np.abs(xx - 240) < 80) & (np.abs(yy - 210) < 120)
    shade = 1.1 - 0.3 * np.abs(xx - 240) / 80
    cup = np.array([20, 130, 140], np.float32)[None, None, :] * shade[..., None]
    img = np.where(inside[..., None], cup, img)
    out = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def _open_product(app, user, approval_id: str, page: str):
    from streamlit.testing.v1 import AppTest
    from ui_helpers import ROOT, TIMEOUT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if page == "generate":
        at.query_params["product"] = approval_id
    signed_in(at, user)
    if page == "history":
        at.session_state[state.HIST_SELECTED] = approval_id
        at.switch_page("pages/history.py").run()
    else:
        at.switch_page("pages/generate.py").run()
    no_exceptions(at)
    return at


def _estimated_captions(at) -> list[str]:
    return [c for c in texts(at, "caption") if "Estimated from one photo" in c]


def test_views_built_from_one_photo_are_labelled_estimated(app, studio_of, app_member) -> None:
    photo = studio_of.generate_multi_view(app_member, image=_photo())
    assert photo.status == Status.COMPLETE
    words = studio_of.generate_multi_view(app_member, text="a teal ceramic mug")
    assert studio_of.estimated_views(app_member, photo) == frozenset(
        v for v in ViewType if v != ViewType.FRONT and photo.key(v))
    assert studio_of.estimated_views(app_member, words) == frozenset()

    studio_of.wait_for_analysis(photo.id)
    done = _open_product(app, app_member, photo.id, "generate")
    assert done.session_state[state.GEN_STEP] == Step.DONE
    assert len(_estimated_captions(done)) == 4  # back, side, top, bottom; not the front
    assert [s.value for s in done.success] == [
        "Your product is ready: five consistent views. Some are estimated from one photo, "
        "so check them by eye."]
    history = _open_product(app, app_member, photo.id, "history")
    assert len(_estimated_captions(history)) == 4

    plain = _open_product(app, app_member, words.id, "generate")
    assert plain.session_state[state.GEN_STEP] == Step.DONE
    assert _estimated_captions(plain) == []

"""The optional three-quarter hero view in AppTest: the features step's priced checkbox
(the button's price follows it), the hero's tab and ZIP on Done, and "Add hero view" on
a finished product in Generate's Done step and in History."""

from __future__ import annotations

from ui_helpers import no_exceptions, settled, signed_in, texts

from viewgen.domain import ALL_VIEWS
from viewgen.ui import state
from viewgen.ui.state import Step

HERO_BOX = "w_gen_hero"


def _studio():
    from viewgen.ui.services import services

    return services().studio


def _approval(at):
    return _studio().get(at.session_state[state.USER], at.session_state[state.GEN_APPROVAL])


def _balance(at) -> int:
    return int(at.sidebar.metric[0].value.replace(",", ""))


def _to_features_step(at) -> None:
    at.text_area(key=state.W_GEN_TEXT).input("red leather handbag with a brass buckle")
    settled(at.button(key="generate_front").click().run())
    settled(at.button(key="approve").click().run())
    no_exceptions(at)
    assert at.session_state[state.GEN_STEP] == Step.VIEWS


def test_the_hero_checkbox_prices_and_adds_a_sixth_view(app, app_member, app_settings) -> None:
    signed_in(app, app_member)
    _to_features_step(app)
    box = app.checkbox(key=HERO_BOX)
    assert box.label == "Add a three-quarter hero view · 1 credit" and not box.value
    assert app.button(key="generate_missing").label == "Generate the other views · free"

    box.check().run()
    assert app.button(key="generate_missing").label == "Generate the other views · 1 credit"
    before = _balance(app)
    settled(app.button(key="generate_missing").click().run())
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.DONE
    assert [t.label for t in app.tabs] == [*(v.label for v in ALL_VIEWS), "Hero"]
    assert _balance(app) == before - 1
    approval = _approval(app)
    assert approval.has_hero
    assert "Download ZIP · 6 PNGs + features.json" in [d.label for d in app.get("download_button")]
    assert "add_hero" not in [b.key for b in app.button]  # it has one already


def test_without_the_box_the_product_is_five_views_and_done_offers_the_hero(
        app, app_member) -> None:
    signed_in(app, app_member)
    _to_features_step(app)
    settled(app.button(key="generate_missing").click().run())
    no_exceptions(app)
    assert [t.label for t in app.tabs] == [v.label for v in ALL_VIEWS]
    assert not _approval(app).has_hero
    assert "Download ZIP · 5 PNGs + features.json" in [d.label for d in app.get("download_button")]
    before = _balance(app)

    assert app.button(key="add_hero").label == "Add hero view · 1 credit"
    settled(app.button(key="add_hero").click().run())
    settled(app)  # the page polls the running hero, then reruns into Done
    no_exceptions(app)
    assert app.session_state[state.GEN_STEP] == Step.DONE
    assert [t.label for t in app.tabs][-1] == "Hero"
    assert _balance(app) == before - 1
    revisions = _studio().revisions(app.session_state[state.USER], _approval(app).id)
    assert revisions[-1].changes_made["added"] == ["hero"]


def test_history_adds_the_hero_to_a_finished_product(app, app_member) -> None:
    studio = _studio()
    made = studio.generate_multi_view(app_member, text="green ceramic mug")
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    if f"open_{made.id}" in [b.key for b in app.button]:  # the newest is open already
        app.button(key=f"open_{made.id}").click().run()
    no_exceptions(app)
    before = studio.balance(app_member)
    assert app.button(key="hist_add_hero").label == "Add hero view · 1 credit"
    app.button(key="hist_add_hero").click().run()
    no_exceptions(app)
    assert "Revision 2 saved: added the hero view." in " ".join(texts(app, "success"))
    assert studio.balance(app_member) == before - 1
    assert studio.get(app_member, made.id).has_hero
    assert "hist_add_hero" not in [b.key for b in app.button]
    app.session_state[state.W_HIST_TAB] = "Regenerate"
    app.run()
    no_exceptions(app)
    pills = app.button_group(key=state.W_HIST_VIEWS)
    assert [o.content for o in pills.proto.options][-1] == "Hero"  # it can be regenerated

"""The History page in AppTest: my products newest first, the timeline with rejected
versions and their feedback, regenerating chosen views (a new revision, priced), and
comparing two revisions."""

from __future__ import annotations

import pytest
from ui_helpers import no_exceptions, signed_in, texts

from viewgen.domain import ViewType
from viewgen.ui import state


@pytest.fixture
def made(app_settings, app_member):
    """Two products by the member: an older complete one (rejected once) and a newer
    one waiting for review."""
    from viewgen.ui.services import services

    studio = services().studio
    first = studio.start_front(app_member, text="green ceramic mug")
    studio.reject(app_member, first.id, "make the handle bigger")
    studio.retry_front(app_member, first.id)
    studio.approve(app_member, first.id)
    studio.run_views(app_member, first.id)
    second = studio.start_front(app_member, text="red wireless headphones")
    return studio, first, second


def test_history_lists_my_products_and_regenerates_views(app, app_member, made) -> None:
    studio, first, _ = made
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    no_exceptions(app)
    titles = [m for m in texts(app, "markdown") if m.startswith("**") and "**" in m[2:]]
    assert titles[:2] == ["**red wireless headphones**", "**green ceramic mug**"]
    # newest is open: it is not finished, so History offers to continue it
    assert "Continue in Generate" in [b.label for b in app.button]

    app.button(key=f"open_{first.id}").click().run()
    no_exceptions(app)
    assert "green ceramic mug" in texts(app, "subheader")
    assert [t.label for t in app.tabs] == ["Views", "Timeline", "Compare", "Regenerate",
                                            "Download"]
    _open_tab(app, "Timeline")
    assert "“make the handle bigger”" in texts(app, "markdown")  # the rejected front
    _open_tab(app, "Compare")
    assert any("Only one revision so far" in i for i in texts(app, "info"))

    before = studio.balance(app_member)
    _open_tab(app, "Regenerate")
    app.button_group(key=state.W_HIST_VIEWS).set_value(["top", "side"]).run()
    assert any("2 views × 1 credit = **2 credits**" in c for c in texts(app, "caption"))
    app.text_area(key=state.W_HIST_FEEDBACK).input("make it dark red")
    app.button(key="regenerate").click().run()
    no_exceptions(app)
    assert "Revision 2 saved: regenerated " in " ".join(texts(app, "success"))
    assert studio.balance(app_member) == before - 2
    revisions = studio.revisions(app_member, first.id)
    assert [r.revision_number for r in revisions] == [1, 2]
    assert sorted(revisions[-1].changes_made["regenerated"]) == ["side", "top"]
    assert revisions[-1].changes_made["modifications"] == "make it dark red"

    # compare: the two revisions of the top view side by side
    _open_tab(app, "Compare")
    assert app.segmented_control(key=state.W_HIST_COMPARE_VIEW).value in (ViewType.TOP,
                                                                         ViewType.SIDE)
    captions = [c for c in texts(app, "caption") if "revision" in c]
    assert captions or app.image
    _open_tab(app, "Timeline")
    assert "**Revision 2** · " in " ".join(texts(app, "markdown"))
    assert "Feedback: “make it dark red”" in texts(app, "markdown")
    _open_tab(app, "Download")
    assert [b.key for b in app.get("download_button")] == ["hist_dl_zip", "hist_dl_sheet",
                                                           "hist_exp_download_set"]


def _open_tab(at, label: str):
    """Click a tab of the open product (the page keeps the open tab in session state)."""
    at.session_state[state.W_HIST_TAB] = label
    at.run()
    no_exceptions(at)
    return at


def _regenerate(at, views: list[str], feedback: str) -> None:
    _open_tab(at, "Regenerate")
    at.button_group(key=state.W_HIST_VIEWS).set_value(views).run()
    at.text_area(key=state.W_HIST_FEEDBACK).input(feedback)
    at.button(key="regenerate").click().run()
    no_exceptions(at)


def test_after_a_new_revision_compare_and_download_show_the_newest(app, app_member,
                                                                   made) -> None:
    _, first, _ = made
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    app.button(key=f"open_{first.id}").click().run()
    _open_tab(app, "Download")
    assert app.selectbox(key=state.W_HIST_DOWNLOAD).value == 1

    _regenerate(app, ["back"], "darker glaze")
    assert "Revision 2 saved" in " ".join(texts(app, "success"))
    _open_tab(app, "Download")
    assert app.selectbox(key=state.W_HIST_DOWNLOAD).value == 2
    assert app.get("download_button")[0].label == "ZIP of revision 2"
    _open_tab(app, "Compare")
    assert (app.selectbox(key=state.W_HIST_COMPARE_A).value,
            app.selectbox(key=state.W_HIST_COMPARE_B).value) == (1, 2)
    app.selectbox(key=state.W_HIST_COMPARE_A).set_value(2).run()  # look around

    _regenerate(app, ["side"], "show the handle")
    assert "Revision 3 saved" in " ".join(texts(app, "success"))
    _open_tab(app, "Compare")
    assert (app.selectbox(key=state.W_HIST_COMPARE_A).value,
            app.selectbox(key=state.W_HIST_COMPARE_B).value) == (2, 3)
    assert app.segmented_control(key=state.W_HIST_COMPARE_VIEW).value == ViewType.SIDE
    _open_tab(app, "Download")
    assert app.selectbox(key=state.W_HIST_DOWNLOAD).value == 3


def test_clicking_in_compare_right_after_a_regeneration_stays_in_compare(app, app_member,
                                                                         made) -> None:
    _, first, _ = made
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    app.button(key=f"open_{first.id}").click().run()
    _regenerate(app, ["top"], "flatter lid")
    assert texts(app, "success")  # the banner above the tabs, shown once
    _open_tab(app, "Compare")
    app.segmented_control(key=state.W_HIST_COMPARE_VIEW).set_value(ViewType.BACK).run()
    no_exceptions(app)
    assert not texts(app, "success")  # the banner has gone: the layout above changed
    assert app.session_state[state.W_HIST_TAB] == "Compare"
    assert app.segmented_control(key=state.W_HIST_COMPARE_VIEW).value == ViewType.BACK
    assert "View" in [s.label for s in app.get("button_group")]
    assert [t.label for t in app.tabs] == ["Views", "Timeline", "Compare", "Regenerate",
                                            "Download"]


def test_history_regenerate_refuses_without_credits(app, app_member, made, app_repo) -> None:
    studio, first, _ = made
    from viewgen import credits

    with app_repo.tx(app_member, write=True) as tx:  # spend everything that is left
        left = credits.balance(tx, app_member.id)
        credits.commit(tx, credits.reserve(tx, app_member.id, left, "test", None))
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    app.button(key=f"open_{first.id}").click().run()
    _open_tab(app, "Regenerate")
    app.button_group(key=state.W_HIST_VIEWS).set_value(["back"]).run()
    app.button(key="regenerate").click().run()
    no_exceptions(app)
    assert texts(app, "error") == [
        "1 view costs 1 credit and you have 0. Ask an admin for more credits."]
    assert [r.revision_number for r in studio.revisions(app_member, first.id)] == [1]


def test_features_that_could_not_be_measured_read_as_words(app, app_member, made,
                                                           app_repo) -> None:
    from sqlalchemy import select, update

    from viewgen.store import SYSTEM
    from viewgen.store import schema as t

    _, first, _ = made
    a = t.product_view_approvals
    with app_repo.tx(SYSTEM, write=True) as tx:
        features = tx.conn.execute(select(a.c.extracted_features)
                                   .where(a.c.id == first.id)).scalar_one()
        features["not_measured"] = ["keyElements", "estimatedDimensions"]
        tx.conn.execute(update(a).where(a.c.id == first.id).values(extracted_features=features))
    signed_in(app, app_member)
    app.switch_page("pages/history.py").run()
    app.button(key=f"open_{first.id}").click().run()
    no_exceptions(app)
    captions = " ".join(texts(app, "caption"))
    assert "Could not be measured from the image: key elements, dimensions" in captions
    assert "keyElements" not in captions and "estimatedDimensions" not in captions

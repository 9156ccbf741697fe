"""The Admin page in AppTest: members are refused (by navigation and by running the
page on its own), and an admin sees metrics, charts and tables from seeded data, and
can grant credits."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest
from ui_helpers import ROOT, TIMEOUT, no_exceptions, signed_in, texts

from viewgen import analytics, credits
from viewgen.demo import DEMO_DOMAIN, seed
from viewgen.ui import state

REFUSAL = "The Admin page is for admins only."


def _admin_data_shown(at) -> bool:
    return bool(at.main.metric or at.dataframe or at.get("vega_lite_chart"))


def test_a_member_cannot_reach_admin(app, app_member) -> None:
    signed_in(app, app_member)
    app.switch_page("pages/admin.py").run()
    no_exceptions(app)
    assert any(e.startswith(REFUSAL) for e in texts(app, "error"))
    assert not _admin_data_shown(app)


@pytest.mark.parametrize("who", [None, "member"])
def test_the_admin_page_run_on_its_own_guards_itself(app_settings, app_member, who) -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "admin.py"), default_timeout=TIMEOUT)
    if who:
        at.session_state[state.USER] = app_member
    at.run()
    no_exceptions(at)
    if who is None:
        assert "Sign in to continue." in texts(at, "info")
    else:
        assert any(e.startswith(REFUSAL) for e in texts(at, "error"))
    assert not _admin_data_shown(at)


@pytest.fixture
def seeded(app_repo, app_settings, app_admin):
    from viewgen.blobs import build_blob_store

    return seed(app_repo, app_settings, approvals=300, users=6, days=30, seed=11,
                blobs=build_blob_store(app_settings))


TABS = {  # tab -> whether its rows have images
    "Approvals": True,
    "Revision history": True,
    "Revisions": True,
    "Credit ledger": False,
    "Provider calls": False,
}


def test_admin_sees_metrics_charts_and_tables_from_seeded_data(app, app_admin, seeded) -> None:
    signed_in(app, app_admin)
    app.switch_page("pages/admin.py").run()
    no_exceptions(app)
    metrics = {m.label: m.value for m in app.main.metric}
    assert metrics["Products"] == "300"
    assert int(metrics["Credits spent"].replace(",", "")) > 300
    assert len(app.get("vega_lite_chart")) >= 4

    for label, images in TABS.items():
        app.query_params[state.W_ADMIN_TAB] = label
        app.run()
        no_exceptions(app)
        frame = app.dataframe[0].value
        assert 0 < len(frame) <= 50, label
        assert "user" in frame.columns
        assert any(DEMO_DOMAIN in str(u) for u in frame["user"])
        if images:
            thumbs = frame["image"].dropna()
            assert len(thumbs) and thumbs.str.startswith("data:image/webp;base64,").all(), label
        assert any(c.startswith("Rows 1–") for c in texts(app, "caption")), label

    app.query_params[state.W_ADMIN_TAB] = "Approvals"
    app.run()
    app.multiselect(key=state.W_ADMIN_STATUS).select("failed").run()
    statuses = set(app.dataframe[0].value["status"])
    assert statuses == {"failed"}
    app.number_input(key=state.W_ADMIN_PAGE + "approvals").set_value(2).run()
    no_exceptions(app)


def test_admin_grants_credits(app, app_admin, app_member, app_repo) -> None:
    signed_in(app, app_admin)
    app.switch_page("pages/admin.py").run()
    app.query_params[state.W_ADMIN_TAB] = "Users & credits"
    app.run()
    assert set(app.dataframe[0].value["email"]) == {"ada@example.com", "max@example.com"}
    app.selectbox(key=state.W_GRANT_USER).select(app_member.id)
    app.number_input(key=state.W_GRANT_AMOUNT).set_value(25)
    app.text_input(key=state.W_GRANT_REASON).input("workshop")
    app.button(key="grant_submit").click().run()
    no_exceptions(app)
    assert "Granted 25 credits to max@example.com; their balance is now 75." in texts(
        app, "success")
    with app_repo.tx(app_admin) as tx:
        assert credits.balance(tx, app_member.id) == 75


def test_the_grant_form_shows_the_new_balance_after_a_grant(app, app_admin, app_member) -> None:
    signed_in(app, app_admin)
    app.switch_page("pages/admin.py").run()
    app.query_params[state.W_ADMIN_TAB] = "Users & credits"
    app.run()
    box = app.selectbox(key=state.W_GRANT_USER)
    box.select(app_member.id)
    app.number_input(key=state.W_GRANT_AMOUNT).set_value(25)
    app.button(key="grant_submit").click().run()
    no_exceptions(app)
    box = app.selectbox(key=state.W_GRANT_USER)
    assert box.value == app_member.id  # still the person just granted to
    # labels that never change (a label with the balance went stale in the browser)
    assert box.options == ["ada@example.com", "max@example.com"]
    assert "Balance now: **75 credits**" in texts(app, "caption")
    frame = app.dataframe[0].value
    assert int(frame.loc[frame["email"] == "max@example.com", "balance"].iloc[0]) == 75


def test_latency_per_day_shows_points_with_one_day_of_data(app, app_admin, app_repo,
                                                           app_settings) -> None:
    import json
    from datetime import UTC, datetime

    seed(app_repo, app_settings, approvals=12, users=2, days=1, seed=5,
         now=datetime.now(UTC).replace(hour=23, minute=59))
    signed_in(app, app_admin)
    app.switch_page("pages/admin.py").run()
    no_exceptions(app)
    assert len(analytics.latency_per_day(app_repo, app_admin)["day"].unique()) == 1
    specs = [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]
    lines = [s for s in specs if s["mark"]["type"] == "line"]
    assert len(lines) == 1  # mean provider latency per day
    assert lines[0]["mark"]["point"] is True  # one day is one point; a bare line is empty

"""The Admin page's queue panel in AppTest: an enqueue-only app replica (no executor
runs its work) shows the waiting front on its queue and itself as an executor; a
cancelled workflow is listed as failed and Retry puts it back on its queue."""

from __future__ import annotations

import pytest
from ui_helpers import no_exceptions, signed_in, texts

from viewgen import durable
from viewgen.ui import state


@pytest.fixture
def replica(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIEWGEN_WORKER", "off")  # this app only enqueues


def test_queue_panel_shows_waiting_work_and_retries_a_cancelled_workflow(
        replica, app, app_admin, app_member) -> None:
    from viewgen.ui.services import services

    signed_in(app, app_admin)
    studio = services().studio
    approval = studio.start_front(app_member, text="a red enamel kettle", wait=False)
    assert studio.busy(approval) == "front"  # queued; nobody runs it here

    app.switch_page("pages/admin.py")
    app.query_params[state.W_ADMIN_TAB] = "Queues"
    app.run()
    no_exceptions(app)
    queues = app.dataframe[0].value
    image = queues[queues["queue"].str.startswith("viewgen-image-offline")]
    assert int(image["queued"].iloc[0]) == 1
    assert int(image["concurrency"].iloc[0]) == studio.settings.provider_concurrency
    executors = app.dataframe[1].value
    assert list(executors["kind"]) == ["off"] and bool(executors["alive"].iloc[0])

    durable.DBOS.cancel_workflow(approval.workflow_id)
    app.run()
    assert any("CANCELLED" in t and approval.workflow_id in t for t in texts(app, "text"))
    app.button(key=f"retry_wf_{approval.workflow_id}").click().run()
    no_exceptions(app)
    assert durable.status(approval.workflow_id) == "ENQUEUED"


def test_members_cannot_read_the_queues(app, app_member) -> None:
    from viewgen.errors import PermissionDenied
    from viewgen.ui.services import services

    signed_in(app, app_member)
    with pytest.raises(PermissionDenied):
        services().studio.queue_overview(app_member)

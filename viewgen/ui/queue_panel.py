"""The Admin page's queue panel: what the durable executors are doing right now.

Queue depth and running work per queue with its limits (global concurrency, per-worker
concurrency, rate limit and what started in the last minute), every executor seen with
its last heartbeat (and who took over a dead one), batches per user, and the workflows
that failed, each with a Retry button that resumes it from its last completed step.
Layout only: the numbers come from ``Studio.queue_overview``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from viewgen.domain import User
from viewgen.ui import components
from viewgen.ui.services import Services


def _retry(services: Services, user: User, workflow_id: str) -> None:
    _, error = components.attempt(services.studio.retry_workflow, user, workflow_id)
    if error:
        st.session_state["queue_panel_error"] = error


@st.fragment(run_every=5.0)
def queue_panel(services: Services, user: User) -> None:
    overview, error = components.attempt(services.studio.queue_overview, user)
    if overview is None:
        st.error(error)
        return
    if message := st.session_state.pop("queue_panel_error", None):
        st.error(message)
    queues = pd.DataFrame(overview["queues"])
    waiting = int(queues["queued"].sum()) if not queues.empty else 0
    running = int(queues["running"].sum()) if not queues.empty else 0
    workers = overview["workers"]
    alive = sum(1 for w in workers if w["alive"])
    a, b, c = st.columns(3)
    a.metric("Waiting", f"{waiting:,}")
    b.metric("Running", f"{running:,}")
    c.metric("Live executors", f"{alive} of {len(workers)}")
    st.markdown("##### Queues")
    if queues.empty:
        st.caption("No queue has been used yet.")
    else:
        st.dataframe(queues, hide_index=True, width="stretch")
    st.markdown("##### Executors")
    if workers:
        frame = pd.DataFrame(workers)[["id", "kind", "host", "pid", "started_at",
                                       "heartbeat_at", "alive", "recovered_by"]]
        st.dataframe(frame, hide_index=True, width="stretch")
    else:
        st.caption("No executor has reported yet.")
    st.markdown("##### Batches per user")
    if overview["batches_per_user"]:
        st.dataframe(pd.DataFrame(overview["batches_per_user"]), hide_index=True,
                     width="stretch")
    else:
        st.caption("No batches yet.")
    st.markdown("##### Failed workflows")
    failed = overview["failed"]
    if not failed:
        st.caption("None: every workflow ended normally (a failed provider call is "
                   "recorded on its product and refunded, not here).")
        return
    for row in failed:
        left, right = st.columns([5, 1])
        left.text(f"{row['name']} · {row['status']} · {row['workflow_id']}\n{row['error']}")
        if row["status"] == "CANCELLED":  # an ERROR cannot be resumed (durable.retry)
            right.button("Retry", key=f"retry_wf_{row['workflow_id']}", on_click=_retry,
                         args=(services, user, row["workflow_id"]), icon=":material/refresh:")

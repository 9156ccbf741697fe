"""Batch: many products from one CSV, run in the background, reviewed in a grid.

Upload a CSV (and a ZIP of the images it names); every row is checked before anything
is spent and the errors are shown in one table; the price is shown before starting.
Started, the batch runs as durable workflows (closing the page never stops it); the
table below polls its rows from the database. Rows that asked for review land in the
review grid: approve or reject each front with one click. Pause, resume, cancel
(refunds what has not run), retry failed rows, and download everything as one ZIP.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from viewgen import ViewType
from viewgen.ui import components, guard, state

user, svc = guard.require_user("Batch", page="pages/batch.py")
studio, settings = svc.studio, svc.settings
price = studio.prices.whole_product()
PROGRESS_S = 2.0
STATUS_TEXT = {"queued": "queued", "generating": "generating…", "review": "waiting for review",
               "complete": "complete", "failed": "failed", "cancelled": "cancelled",
               "skipped": "skipped"}


# ---------------------------------------------------------------------- actions


def check_batch() -> None:
    from viewgen.batch_input import BatchLimits, plan_batch

    state.drop(state.BATCH_ERROR, state.BATCH_PLAN, state.BATCH_NOTICE)
    csv_file = st.session_state.get("batch_csv")
    zip_file = st.session_state.get("batch_zip")
    if csv_file is None:
        state.put(state.BATCH_ERROR, "Choose a CSV file first.")
        return
    plan, error = components.attempt(
        plan_batch, csv_file.getvalue(), images_zip=zip_file.getvalue() if zip_file else None,
        limits=BatchLimits.from_settings(settings), normalise=False)
    if error:
        state.put(state.BATCH_ERROR, error)
        return
    state.put(state.BATCH_PLAN, plan)
    state.put(state.BATCH_PLAN_NAME, csv_file.name.rsplit(".", 1)[0])


def start_batch(skip_bad: bool) -> None:
    plan = state.get(state.BATCH_PLAN)
    if plan is None:
        return
    if skip_bad:
        plan = plan.without_bad_rows()
    batch_id, error = components.attempt(studio.start_batch, user, plan,
                                         name=state.get(state.BATCH_PLAN_NAME, ""),
                                         skip_invalid=skip_bad)
    if error:
        state.put(state.BATCH_ERROR, error)
        return
    state.drop(state.BATCH_PLAN, state.BATCH_ERROR)
    state.put(state.BATCH_SELECTED, batch_id)
    n = len(plan.rows)
    state.put(state.BATCH_NOTICE, f"Started: {n} {'product' if n == 1 else 'products'} "
                                  f"for {price * n} credits.")


def control(fn, batch_id: str, done: str) -> None:
    result, error = components.attempt(fn, user, batch_id)
    if error:
        state.put(state.BATCH_ERROR, error)
    else:
        extra = f" ({result} {'row' if result == 1 else 'rows'})" if isinstance(result, int) \
            else ""
        state.put(state.BATCH_NOTICE, done + extra + ".")
        state.drop(state.BATCH_ERROR)


def show_error(error: str | None) -> None:
    if error:
        state.put(state.BATCH_ERROR, error)
    else:
        state.drop(state.BATCH_ERROR)


def approve_row(batch_id: str, row: int) -> None:
    show_error(components.attempt(studio.approve_batch_row, user, batch_id, row)[1])


def reject_row(approval_id: str, row: int) -> None:
    feedback = st.session_state.get(f"feedback_{row}", "")
    show_error(components.attempt(studio.reject_and_retry, user, approval_id, feedback,
                                  wait=False)[1])


# ---------------------------------------------------------------------- drawing


def draw_new_batch() -> None:
    with st.container(border=True):
        st.subheader("New batch")
        st.caption("A CSV with a header: `sku` (or `name`), `text`, and optionally `image`, "
                   "`logo` (file names inside the ZIP) and `auto_approve` (true by default; "
                   "false stops the row at review). Up to "
                   f"{settings.batch_max_rows:,} rows. Each product costs {price} credits.")
        left, right = st.columns(2)
        with left:
            st.file_uploader("Batch CSV", type=["csv"], key="batch_csv")
        with right:
            st.file_uploader("Images (ZIP, optional)", type=["zip"], key="batch_zip",
                             max_upload_size=500)
        st.button("Check the batch", on_click=check_batch, key="batch_check",
                  icon=":material/fact_check:")
        plan = state.get(state.BATCH_PLAN)
        if plan is not None:
            draw_plan(plan)


def draw_plan(plan) -> None:
    balance, _ = components.attempt(studio.balance, user)
    valid = len(plan.valid_rows)
    total = price * valid
    if plan.errors:
        bad = len(plan.bad_rows)
        st.error(f"{bad} {'row has' if bad == 1 else 'rows have'} problems; nothing is "
                 "queued until they are fixed, unless you skip them.")
        st.dataframe(pd.DataFrame(plan.error_table()), hide_index=True, width="stretch")
    for warning in plan.warnings:
        st.caption(components.plain(warning))
    if valid == 0:
        return
    st.markdown(f"**{valid:,} {'product' if valid == 1 else 'products'} · {total:,} credits** "
                f"(you have {balance if balance is not None else '?':,} credits)")
    if balance is not None and balance < total:
        st.warning("Not enough credits for the whole batch: ask an admin for more, or "
                   "split the CSV.", icon=":material/savings:")
        return
    skip = bool(plan.errors)
    label = (f"Skip the bad rows and start {valid:,} · {total:,} credits" if skip
             else f"Start the batch · {total:,} credits")
    st.button(label, type="primary", on_click=start_batch, args=(skip,), key="batch_start",
              icon=":material/play_arrow:")


def draw_batches() -> None:
    found, error = components.attempt(studio.list_batches, user)
    if error:
        st.error(error)
        return
    if not found:
        st.caption("No batches yet.")
        return
    labels = {b["id"]: f"{b['name']} · {b['total']} rows · {b['created_at']:%d %b %H:%M}"
              for b in found}
    selected = state.get(state.BATCH_SELECTED)
    ids = list(labels)
    index = ids.index(selected) if selected in ids else 0
    chosen = st.selectbox("Batch", ids, index=index, format_func=labels.__getitem__,
                          key="batch_pick")
    state.put(state.BATCH_SELECTED, chosen)
    batch_panel(chosen)


@st.fragment(run_every=PROGRESS_S)
def batch_panel(batch_id: str) -> None:
    view, error = components.attempt(studio.batch, user, batch_id)
    if view is None:
        st.error(error)
        return
    rows = view.rows
    finished = sum(r.status in ("complete", "failed", "cancelled", "skipped") for r in rows)
    st.progress(finished / max(1, len(rows)),
                text=f"{view.status.capitalize()} · {finished} of {len(rows)} rows finished · "
                     + ", ".join(f"{n} {s}" for s, n in view.counts.items()))
    st.caption(f"Credits: {view.charged} charged, {view.refunded} refunded, "
               f"{view.held} held for rows still to run.")
    buttons = st.columns(4)
    buttons[0].button("Pause", key="batch_pause", disabled=view.status != "running",
                      on_click=control, args=(studio.pause_batch, batch_id, "Paused"),
                      icon=":material/pause:")
    buttons[1].button("Resume", key="batch_resume", disabled=view.status != "paused",
                      on_click=control, args=(studio.resume_batch, batch_id, "Resumed"),
                      icon=":material/play_arrow:")
    buttons[2].button("Cancel", key="batch_cancel",
                      disabled=view.status not in ("running", "paused"),
                      on_click=control, args=(studio.cancel_batch, batch_id,
                                              "Cancelled and refunded"),
                      icon=":material/cancel:")
    buttons[3].button("Retry failed rows", key="batch_retry",
                      disabled=not view.counts.get("failed"),
                      on_click=control, args=(studio.retry_batch, batch_id, "Restarted"),
                      icon=":material/refresh:")
    download(view)
    table = pd.DataFrame([{"row": r.row, "sku": r.sku, "status": STATUS_TEXT.get(r.status,
                           r.status), "problem": r.error or ""} for r in rows])
    st.dataframe(table, hide_index=True, width="stretch", key="batch_rows")
    review = [r for r in rows if r.status == "review"]
    if review:
        review_grid(view.id, review)


def review_grid(batch_id: str, rows) -> None:
    st.subheader(f"Review queue ({len(rows)})")
    st.caption("Approve a front to generate its other views, or reject it with a note "
               f"(a new front costs {studio.prices.retry} credits).")
    for start in range(0, len(rows), 4):
        for column, r in zip(st.columns(4), rows[start:start + 4], strict=False):
            with column, st.container(border=True):
                approval, _ = components.attempt(studio.get, user, r.approval_id)
                key = approval.key(ViewType.FRONT) if approval else None
                components.show_image(components.image_bytes(svc, user, key), r.sku)
                st.button("Approve", key=f"approve_{r.row}", type="primary",
                          on_click=approve_row, args=(batch_id, r.row),
                          icon=":material/check:", width="stretch")
                st.text_input("What should change?", key=f"feedback_{r.row}",
                              placeholder="e.g. darker strap")
                st.button("Reject", key=f"reject_{r.row}", on_click=reject_row,
                          args=(r.approval_id, r.row), icon=":material/thumb_down:",
                          width="stretch")


def download(view) -> None:
    from viewgen.batch_output import batch_zip
    from viewgen.batches import manifest_rows
    from viewgen.presets import PRESETS

    labels = {p.name: p.label for p in PRESETS}
    choose, fetch = st.columns([3, 1], vertical_alignment="bottom")
    presets = choose.multiselect(
        "Also in the ZIP: marketplace presets", list(labels), format_func=labels.get,
        key="batch_zip_presets", placeholder="None: the five PNGs per product",
        help="Each product folder gets a folder per preset (amazon/front.jpg …), sized, "
             "padded and on the background each marketplace asks for.")
    fetch.download_button("Download ZIP", data=lambda: batch_zip(manifest_rows(studio, user, view),
                                                              presets=presets),
                       file_name=f"{view.name or 'batch'}.zip", mime="application/zip",
                       key="batch_zip_download", on_click="ignore", icon=":material/folder_zip:",
                       disabled=not any(r.approval_id for r in view.rows), width="stretch")


# ---------------------------------------------------------------------- the page

st.title("Batch")
if notice := state.get(state.BATCH_NOTICE):
    st.success(notice, icon=":material/task_alt:")
if error := state.get(state.BATCH_ERROR):
    st.error(error, icon=":material/error:")
draw_new_batch()
st.subheader("Your batches" if not user.is_admin else "Batches")
draw_batches()

"""History: my products newest first, and for each its revisions and what changed.

The list on the left pages through my products with their front thumbnails; the open
product shows its current views, a timeline of numbered revisions with the rejected
and replaced images and the feedback behind them, a side-by-side comparison of two
revisions of one view, regeneration of chosen views with feedback (which writes the
next revision) and a download of any revision.
"""

from __future__ import annotations

import re

import streamlit as st

from viewgen import ALL_VIEWS, OTHER_VIEWS, STORED_VIEWS, Approval, Revision, Status, ViewType
from viewgen.ui import components, exports_panel, guard, state
from viewgen.ui import qa as qa_panel
from viewgen.ui.state import Action

user, svc = guard.require_user("History", page="pages/history.py")
studio, settings = svc.studio, svc.settings
prices = studio.prices
PAGE_SIZE = 8
TABS = ["Views", "Timeline", "Compare", "Regenerate", "Download"]

STATUS_LABELS = {
    Status.INPUT: ("Started", "gray"),
    Status.FRONT_GENERATING: ("Drawing the front", "blue"),
    Status.FRONT_REVIEW: ("Waiting for your review", "orange"),
    Status.REVISION_REQUESTED: ("Front rejected", "orange"),
    Status.APPROVED: ("Views incomplete", "orange"),
    Status.VIEWS_GENERATING: ("Drawing the views", "blue"),
    Status.COMPLETE: ("Complete", "green"),
    Status.FAILED: ("Failed", "red"),
}


def title_of(approval: Approval) -> str:
    described = approval.extracted_features.description if approval.extracted_features else ""
    text = approval.input_text or described or "Product from a photo"
    return text if len(text) <= 70 else text[:67] + "…"


def when(value) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value else ""


def short_when(value) -> str:
    return value.strftime("%d %b %Y, %H:%M") if value else ""


def status_badge(approval: Approval) -> None:
    label, colour = STATUS_LABELS.get(approval.status, (approval.status.value, "gray"))
    st.badge(label, color=colour)


# ---------------------------------------------------------------------- callbacks


def open_product(approval_id: str) -> None:
    state.drop(*state.HISTORY_KEYS)
    state.put(state.HIST_SELECTED, approval_id)


def turn_page(delta: int) -> None:
    state.put(state.HIST_PAGE, max(0, state.get(state.HIST_PAGE, 0) + delta))


def continue_in_generate(approval_id: str) -> None:
    state.reset_generate()
    state.put(state.GEN_APPROVAL, approval_id)


def queue_regenerate() -> None:
    views = tuple(state.remember(state.W_HIST_VIEWS, state.HIST_VIEWS) or ())
    feedback = state.remember(state.W_HIST_FEEDBACK, state.HIST_FEEDBACK)
    state.drop(state.HIST_ERROR)
    state.put(state.HIST_ACTION, Action("regenerate", views=views, feedback=feedback))


def queue_add_hero() -> None:
    state.drop(state.HIST_ERROR)
    state.put(state.HIST_ACTION, Action("regenerate", views=(ViewType.HERO.value,),
                                        extra={"add": True}))


# ---------------------------------------------------------------------- actions


def regenerate(approval: Approval, action: Action) -> None:
    """Carry out a queued regeneration inside st.status, then rerun."""
    batch = state.get(state.HIST_BATCH)
    if batch is None or batch.approval_id != approval.id:
        views = [ViewType(v) for v in action.views]
        batch, error = components.attempt(studio.start_views, user, approval.id, views,
                                          feedback=action.feedback)
        if batch is None:
            state.put(state.HIST_ERROR, error)
            state.drop(state.HIST_ACTION)
            st.rerun()
        state.put(state.HIST_BATCH, batch)
    names = ", ".join(v.value for v in batch.views)
    adding = bool(action.extra.get("add"))
    title = ("Drawing the three-quarter hero view…" if adding else
             f"Regenerating the {names} view{'s' if len(batch.views) > 1 else ''}…")
    with st.status(title, expanded=True) as status:
        components.watch_batch(batch, svc, user, status)
        final, error = components.attempt(batch.wait, 120)
        state.drop(state.HIST_BATCH, state.HIST_ACTION)
        if error:
            state.put(state.HIST_ERROR, error)
        revisions, _ = components.attempt(studio.revisions, user, approval.id)
        landed = [o.view.value for o in batch.outcomes if o.ok]
        if landed and revisions:
            # Compare and Download start again from the newest revision
            state.drop(state.HIST_VIEWS, state.HIST_FEEDBACK, *state.HIST_REVISION_PICKS)
            state.flash("success", f"Revision {revisions[-1].revision_number} saved: "
                                   + ("added the hero view." if adding else
                                      f"regenerated {', '.join(landed)}."))
            status.update(label="Checking consistency…")
            components.attempt(studio.wait_for_analysis, approval.id, timeout=10)
            status.update(label="Done", state="complete")
        else:
            if final is not None and final.view_errors and not error:
                state.put(state.HIST_ERROR, ("The hero view could not be drawn" if adding else
                                             "No view could be regenerated")
                          + ", so nothing was charged: " + "; ".join(final.view_errors.values()))
            status.update(label="Nothing was regenerated", state="error")
    st.rerun()


# ---------------------------------------------------------------------- list


def product_list() -> str | None:
    page = state.get(state.HIST_PAGE, 0)
    approvals, error = components.attempt(
        studio.list_products, user, user_id=user.id, limit=PAGE_SIZE + 1,
        offset=page * PAGE_SIZE)
    if error:
        st.error(error)
        return None
    approvals = approvals or []
    more = len(approvals) > PAGE_SIZE
    approvals = approvals[:PAGE_SIZE]
    if not approvals and page == 0:
        st.info("No products yet. Make your first one on the Generate page.",
                icon=":material/inventory_2:")
        components.page_link("pages/generate.py", "Go to Generate", icon=":material/auto_awesome:")
        return None
    selected = state.get(state.HIST_SELECTED)
    if selected is None:
        selected = approvals[0].id
        state.put(state.HIST_SELECTED, selected)
    thumbs = components.thumbnail_bytes(svc, user, [a.key(ViewType.FRONT) for a in approvals],
                                        size=120)
    for approval, thumb in zip(approvals, thumbs, strict=True):
        is_open = approval.id == selected
        label, colour = STATUS_LABELS.get(approval.status, (approval.status.value, "gray"))
        with st.container(border=True):
            image, text = st.columns([1, 3], vertical_alignment="center")
            with image:
                if thumb:
                    st.image(thumb, width=56)
                else:
                    components.placeholder("—", height=56)
            with text:
                st.markdown(f"**{components.plain(title_of(approval))}**")
                st.caption(f"{short_when(approval.created_at)} · :{colour}[{label}]")
            if is_open:
                st.badge("Open on the right", icon=":material/arrow_forward:", color="blue")
            else:
                st.button("Open", key=f"open_{approval.id}", on_click=open_product,
                          args=(approval.id,), type="tertiary", icon=":material/open_in_new:")
    newer, older = st.columns(2)
    newer.button("Newer", key="hist_newer", on_click=turn_page, args=(-1,), disabled=page == 0,
                 icon=":material/chevron_left:", width="stretch")
    older.button("Older", key="hist_older", on_click=turn_page, args=(1,), disabled=not more,
                 icon=":material/chevron_right:", icon_position="right", width="stretch")
    return selected


# ---------------------------------------------------------------------- detail


def detail(approval_id: str) -> None:
    approval, error = components.attempt(studio.get, user, approval_id)
    if approval is None:
        st.error(error)
        return
    action = state.get(state.HIST_ACTION)
    st.subheader(title_of(approval))
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        status_badge(approval)  # beside the dates, under the title it belongs to
        bits = [f"Started {when(approval.created_at)}"]
        if approval.rejection_count:
            bits.append(f"{approval.rejection_count} rejected front"
                        f"{'s' if approval.rejection_count > 1 else ''}")
        st.caption(" · ".join(bits), width="content")
    if error := state.get(state.HIST_ERROR):
        st.error(error, icon=":material/error:")
    if action is not None:
        regenerate(approval, action)
    if approval.status != Status.COMPLETE:
        st.info("This product isn't finished yet. Pick it up where you left off in Generate.",
                icon=":material/pending:")
        if st.button("Continue in Generate", key="continue", type="primary",
                     on_click=continue_in_generate, args=(approval.id,),
                     icon=":material/arrow_forward:"):
            st.switch_page("pages/generate.py")
    revisions, _ = components.attempt(studio.revisions, user, approval.id)
    revisions = revisions or []
    history, _ = components.attempt(studio.history, user, approval.id)
    history = history or []
    # the open tab is kept in session state, so a rerun whose layout above the tabs
    # changed (a banner gone) does not send the person back to Views; only it is drawn
    tabs = st.tabs(TABS, key=state.W_HIST_TAB, on_change="rerun")
    drawers = (lambda: current_views(approval), lambda: revision_timeline(revisions, history),
               lambda: compare_revisions(revisions), lambda: regenerate_form(approval),
               lambda: download_and_export(approval, revisions))
    for tab, draw in zip(tabs, drawers, strict=True):
        if tab.open:
            with tab:
                draw()


def current_views(approval: Approval) -> None:
    views = [*ALL_VIEWS, *([ViewType.HERO] if approval.has_hero else [])]
    columns = st.columns(len(views))
    estimated = studio.estimated_views(user, approval)
    for column, view in zip(columns, views, strict=True):
        with column:
            data = components.image_bytes(svc, user, approval.key(view))
            components.show_image(data, view.label, missing=f"{view.label}: no image yet")
            if approval.key(view):
                components.consistency_badge(approval.consistency, view, compact=True)
            if view in estimated:
                qa_panel.estimated_label()
    if approval.status == Status.COMPLETE and not approval.has_hero:
        price = components.credits_label(prices.for_view(approval, ViewType.HERO))
        st.button(f"Add hero view · {price}", key="hist_add_hero", on_click=queue_add_hero,
                  icon=":material/view_in_ar:",
                  help="A three-quarter view (front and side at 45°, camera raised about 20°) drawn from "
                       "the approved front and its features, saved as a new revision; if it "
                       "fails, nothing is charged.")
    if approval.extracted_features:
        with st.expander("Extracted features", icon=":material/palette:"):
            components.features_panel(approval.extracted_features)


def revision_timeline(revisions: list[Revision], history) -> None:
    if not revisions and not history:
        st.caption("Nothing to show yet: revisions appear once all five views exist.")
    for revision in reversed(revisions):
        changes = revision.changes_made or {}
        with st.container(border=True):
            st.markdown(f"**Revision {revision.revision_number}** · "
                        f"{when(revision.created_at)}")
            regenerated = changes.get("regenerated") or []
            preserved = changes.get("preserved") or []
            line = f"Regenerated: {', '.join(regenerated) or '—'}"
            if changes.get("added"):
                line += f" · Added: {', '.join(changes['added'])}"
            if preserved:
                line += f" · Preserved: {', '.join(preserved)}"
            st.caption(line)
            if changes.get("modifications"):
                st.markdown(f"Feedback: “{components.plain(changes['modifications'])}”")
            for view, reason in (changes.get("failed") or {}).items():
                st.caption(f"{view} failed: {components.plain(reason)}")
            shown = [v for v in STORED_VIEWS if v.value in regenerated]
            keys = [(revision.image_data.get(v.value) or {}).get("key") for v in shown]
            thumbs = components.thumbnail_bytes(svc, user, keys, size=160)
            if shown:
                columns = st.columns(max(5, len(shown)))
                for column, view, thumb in zip(columns, shown, thumbs, strict=False):
                    with column:
                        if thumb:
                            st.image(thumb, caption=view.label, width="stretch")
    rejected = [h for h in history if h.view_type == ViewType.FRONT and h.reason == "rejected"]
    replaced = [h for h in history if h not in rejected]  # incl. a flagged front tried again
    if rejected:
        st.markdown("##### Rejected front views")
        history_entries(rejected, "Rejected")
    if replaced:
        st.markdown("##### Replaced images")
        history_entries(replaced, "Replaced")


def history_entries(entries, verb: str) -> None:
    thumbs = components.thumbnail_bytes(svc, user, [e.image_key for e in entries], size=160)
    for entry, thumb in zip(reversed(entries), reversed(thumbs), strict=True):
        image, text = st.columns([1, 4], vertical_alignment="center")
        with image:
            if thumb:
                st.image(thumb, width=96)
            else:
                components.placeholder("no image", height=80)
        with text:
            st.markdown(f"**{verb} {entry.view_type.value} view** · {when(entry.created_at)}")
            st.markdown(f"“{components.plain(entry.user_feedback)}”" if entry.user_feedback
                        else "No feedback.")


def compare_revisions(revisions: list[Revision]) -> None:
    if len(revisions) < 2:
        st.info("Only one revision so far. Regenerate a view to have two versions to compare.",
                icon=":material/compare:")
        return
    numbers = [r.revision_number for r in revisions]
    by_number = {r.revision_number: r for r in revisions}
    hero = any((r.image_data.get(ViewType.HERO.value) or {}).get("key") for r in revisions)
    view = st.segmented_control("View", [*ALL_VIEWS, *([ViewType.HERO] if hero else [])],
                                format_func=lambda v: v.label,
                                key=state.W_HIST_COMPARE_VIEW, default=_last_changed(revisions),
                                required=True)
    pick_a, pick_b = st.columns(2)
    a = pick_a.selectbox("Revision", numbers, index=len(numbers) - 2,
                         format_func=lambda n: f"Revision {n}", key=state.W_HIST_COMPARE_A)
    b = pick_b.selectbox("Against", numbers, index=len(numbers) - 1,
                         format_func=lambda n: f"Revision {n}", key=state.W_HIST_COMPARE_B)
    key_a = (by_number[a].image_data.get(view.value) or {}).get("key")
    key_b = (by_number[b].image_data.get(view.value) or {}).get("key")
    left, right = st.columns(2)
    with left:
        components.show_image(components.image_bytes(svc, user, key_a),
                              f"{view.label} · revision {a}")
    with right:
        components.show_image(components.image_bytes(svc, user, key_b),
                              f"{view.label} · revision {b}")
    if key_a == key_b:
        st.caption(f"The {view.value} view is the same image in both revisions.")


def _last_changed(revisions: list[Revision]) -> ViewType:
    for revision in reversed(revisions[1:]):
        for value in (revision.changes_made or {}).get("regenerated") or []:
            return ViewType(value)
    return ViewType.BACK


def regenerate_form(approval: Approval) -> None:
    if approval.status != Status.COMPLETE:
        st.info("Views can be regenerated once all five exist. Finish the product in "
                "Generate first.", icon=":material/info:")
        return
    st.markdown("Choose the views to draw again and say what should change. The approved "
                "front anchors them, so it stays as it is; every other view is preserved.")
    state.restore(state.W_HIST_VIEWS, state.HIST_VIEWS, [])
    choices = [*OTHER_VIEWS, *([ViewType.HERO] if approval.has_hero else [])]
    chosen = st.pills("Views to regenerate", [v.value for v in choices],
                      selection_mode="multi", format_func=lambda v: ViewType(v).label,
                      key=state.W_HIST_VIEWS)
    state.restore(state.W_HIST_FEEDBACK, state.HIST_FEEDBACK, "")
    st.text_area("What should change?", key=state.W_HIST_FEEDBACK, height=90,
                 max_chars=settings.max_text_chars,
                 placeholder="e.g. match the strap colour of the front")
    count = len(chosen or [])
    balance, _ = components.attempt(studio.balance, user)
    cost = prices.quote_regenerate(count).credits
    st.caption(f"{count} view{'s' if count != 1 else ''} × "
               f"{components.credits_label(prices.regenerate)} = "
               f"**{components.credits_label(cost)}**"
               + (f" · you have {balance:,}" if balance is not None else ""))
    st.button(f"Regenerate · {components.credits_label(cost)}" if count else "Regenerate",
              type="primary",
              key="regenerate", on_click=queue_regenerate, disabled=not count,
              icon=":material/refresh:")


def download_and_export(approval, revisions) -> None:
    download_revision(approval, revisions)
    if not approval.missing_views:
        st.divider()
        exports_panel.approval_exports(studio, user, approval, key="hist_exp")


def download_revision(approval: Approval, revisions: list[Revision]) -> None:
    from viewgen import export

    if not revisions:
        st.info("Downloads appear once all five views exist.", icon=":material/download:")
        return
    numbers = [r.revision_number for r in revisions]
    number = st.selectbox("Revision", numbers, index=len(numbers) - 1,
                          format_func=lambda n: f"Revision {n}", key=state.W_HIST_DOWNLOAD)
    revision = next(r for r in revisions if r.revision_number == number)
    keys = {v: (revision.image_data.get(v.value) or {}).get("key") for v in STORED_VIEWS}
    base = re.sub(r"[^a-z0-9]+", "-", (approval.input_text or "product").lower()).strip("-")
    base = "-".join(base.split("-")[:6]) or "product"

    def images() -> dict[ViewType, bytes]:
        return {v: studio.image_bytes(user, k) for v, k in keys.items() if k}

    def bundle() -> bytes:
        info = {"product": title_of(approval), "revision": revision.revision_number,
                "created_at": revision.created_at.isoformat() if revision.created_at else None,
                "user_prompt": revision.user_prompt, "changes_made": revision.changes_made}
        return export.zip_bundle(images(), approval.extracted_features, extra=info)

    def sheet() -> bytes:
        return export.contact_sheet(images(), title=f"{title_of(approval)} · revision {number}",
                                    features=approval.extracted_features)

    one, two = st.columns(2)
    one.download_button(f"ZIP of revision {number}", data=bundle, on_click="ignore",
                        file_name=f"{base}-rev{number}.zip", mime="application/zip",
                        key="hist_dl_zip", icon=":material/folder_zip:", type="primary",
                        width="stretch")
    two.download_button(f"Contact sheet of revision {number}", data=sheet, on_click="ignore",
                        file_name=f"{base}-rev{number}-contact-sheet.png", mime="image/png",
                        key="hist_dl_sheet", icon=":material/grid_view:", width="stretch")
    st.caption("The ZIP holds the PNGs of this revision (five, and the hero if it has one), "
               "features.json and a manifest "
               "that records the revision: what was regenerated, preserved and why.")


# ---------------------------------------------------------------------- the page

st.title("History")
left, right = st.columns([2.3, 5], gap="large")
with left:
    selected = product_list()
with right:
    if selected:
        detail(selected)

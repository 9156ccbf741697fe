"""Generate: a product from a description or a photo, in five steps.

Input -> Front view -> Review -> More views -> Done. The step machine lives in session
state (``viewgen.ui.state``): a button only records an ``Action``; the next run carries
it out inside ``st.status`` so people see what is happening, records the result in
plain keys before drawing anything else, and reruns into the step the product is now
in. Errors show their ``user_message``; the step and the inputs stay as they were.
"""

from __future__ import annotations

import re

import streamlit as st

from viewgen import ALL_VIEWS, OTHER_VIEWS, Approval, Status, ViewType
from viewgen.ui import components, guard, state
from viewgen.ui.state import Action, Step, Upload

user, svc = guard.require_user("Generate", page="pages/generate.py")
studio, settings = svc.studio, svc.settings
prices = studio.prices
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp"]


# ---------------------------------------------------------------------- state


def current_approval() -> Approval | None:
    approval_id = state.get(state.GEN_APPROVAL)
    if not approval_id:
        return None
    approval, error = components.attempt(studio.get, user, approval_id)
    if approval is None:
        state.reset_generate()
        state.put(state.GEN_ERROR, error)
    return approval


def step_of(approval: Approval | None, action: Action | None) -> Step:
    if action is not None:
        return {"front": Step.FRONT, "reject": Step.FRONT, "retry_front": Step.FRONT,
                "approve": Step.VIEWS, "views": Step.VIEWS}.get(action.kind, Step.INPUT)
    if approval is None or approval.status == Status.INPUT:
        return Step.INPUT
    if approval.status in (Status.FRONT_REVIEW, Status.REVISION_REQUESTED):
        return Step.REVIEW
    if approval.status == Status.FRONT_GENERATING:
        return Step.FRONT
    if approval.status == Status.FAILED:
        return Step.VIEWS if approval.extracted_features else Step.FRONT
    if approval.status == Status.COMPLETE:
        return Step.DONE
    return Step.VIEWS


def queue(action: Action) -> None:
    state.drop(state.GEN_ERROR)
    state.put(state.GEN_ACTION, action)


def queue_front() -> None:
    state.remember(state.W_GEN_TEXT, state.GEN_TEXT)
    for widget, plain in ((state.W_GEN_REFERENCE, state.GEN_REFERENCE),
                          (state.W_GEN_LOGO, state.GEN_LOGO)):
        uploaded = state.get(state.upload_key(widget))
        if uploaded is not None:
            state.put(plain, Upload(uploaded.name, uploaded.getvalue(), uploaded.type or ""))
    queue(Action("front"))


def queue_reject() -> None:
    feedback = state.remember(state.W_GEN_FEEDBACK, state.GEN_FEEDBACK)
    queue(Action("reject", feedback=feedback))


def forget_upload(plain: str, widget: str) -> None:
    state.drop(plain, state.upload_key(widget))
    state.put(state.GEN_UPLOADS, state.get(state.GEN_UPLOADS, 0) + 1)


def start_new() -> None:
    state.reset_generate()


def finish(approval: Approval | None, error: str | None, *, next_action: Action | None = None,
           keep_feedback: bool = False) -> None:
    """Record what a step produced, before anything else is drawn in this run."""
    if approval is not None:
        state.put(state.GEN_APPROVAL, approval.id)
    if error:
        state.put(state.GEN_ERROR, error)
        state.drop(state.GEN_ACTION)
    elif next_action is not None:
        state.put(state.GEN_ACTION, next_action)
    else:
        state.drop(state.GEN_ACTION)
    if not error and not keep_feedback:
        state.drop(state.GEN_FEEDBACK, state.W_GEN_FEEDBACK)


# ---------------------------------------------------------------------- actions


def do_front() -> None:
    text = state.get(state.GEN_TEXT)
    reference: Upload | None = state.get(state.GEN_REFERENCE)
    logo: Upload | None = state.get(state.GEN_LOGO)
    with st.status("Generating the front view…", expanded=True) as status:
        st.write(f"Reserving {prices.front} credits.")
        st.write("Reading your reference photo." if reference
                 else "Writing the prompt from your description.")
        if logo:
            st.write("Placing your logo on the front.")
        st.write(f"Drawing with the {settings.provider_label}…")
        approval, error = components.attempt(
            studio.start_front, user, text=text, image=reference.data if reference else None,
            logo=logo.data if logo else None, session_id=state.session_id())
        finish(approval, error)
        if error:
            status.update(label="The front view could not be generated", state="error",
                          expanded=False)
        else:
            status.update(label="Front view ready", state="complete")
    st.rerun()


def do_reject(approval: Approval, action: Action) -> None:
    with st.status("Generating a new front view…", expanded=True) as status:
        st.write(f"Recording your feedback: “{action.feedback or ''}”")
        rejected, error = components.attempt(studio.reject, user, approval.id,
                                             action.feedback or "")
        finish(None, error, next_action=Action("retry_front"), keep_feedback=True)
        if error:
            status.update(label="The front view was not rejected", state="error",
                          expanded=False)
            st.rerun()
        retry_front(rejected or approval, status)
    st.rerun()


def do_retry_front(approval: Approval) -> None:
    with st.status("Generating a new front view…", expanded=True) as status:
        retry_front(approval, status)
    st.rerun()


def retry_front(approval: Approval, status) -> None:
    price = studio.front_price(approval)
    st.write(f"Reserving {price} credits.")
    if approval.feedback_history:
        st.write("Applying your feedback: " + "; ".join(f"“{f}”" for f in
                                                       approval.feedback_history))
    st.write(f"Drawing with the {settings.provider_label}…")
    fresh, error = components.attempt(studio.retry_front, user, approval.id)
    finish(fresh, error)
    if error:
        status.update(label="The new front view could not be generated", state="error",
                      expanded=False)
    else:
        status.update(label="New front view ready", state="complete")


def do_approve(approval: Approval) -> Approval | None:
    with st.status("Approving the front view…", expanded=True) as status:
        st.write("Measuring its colours, materials and key elements.")
        approved, error = components.attempt(studio.approve, user, approval.id)
        finish(approved, error, next_action=Action("views"))
        if error:
            status.update(label="The front view could not be approved", state="error",
                          expanded=False)
            return None
        status.update(label="Front view approved · features extracted", state="complete")
    return approved


def do_views(approval: Approval, action: Action) -> None:
    batch = state.get(state.GEN_BATCH)
    if batch is None or batch.approval_id != approval.id:
        views = [ViewType(v) for v in action.views] or None
        batch, error = components.attempt(studio.start_views, user, approval.id, views)
        if batch is None:
            finish(None, error)
            st.rerun()
        state.put(state.GEN_BATCH, batch)
    names = ", ".join(v.value for v in batch.views)
    total = len(batch.views)
    with st.status(f"Generating the {names} view{'s' if total > 1 else ''}…",
                   expanded=True) as status:
        st.caption("They are drawn in parallel from the approved front and its features; "
                   "each one appears here as soon as it is ready.")
        components.watch_batch(batch, svc, user, status)
        final, error = components.attempt(batch.wait, 120)
        state.drop(state.GEN_BATCH)
        finish(final, error)
        if final is not None and final.status == Status.COMPLETE:
            status.update(label="Checking that the views agree with the front…")
            components.attempt(studio.wait_for_analysis, approval.id, timeout=10)
            status.update(label="All five views are ready", state="complete")
        else:
            failed = len(final.view_errors) if final else total
            status.update(label=f"{failed} view{'s' if failed != 1 else ''} failed: "
                                "retry below", state="error", expanded=False)
    st.rerun()


def carry_out(action: Action, approval: Approval | None) -> None:
    if action.kind == "front":
        do_front()
    if approval is None:  # nothing to act on any more (e.g. signed out elsewhere)
        state.drop(state.GEN_ACTION)
        st.rerun()
    if action.kind == "reject":
        do_reject(approval, action)
    elif action.kind == "retry_front":
        do_retry_front(approval)
    elif action.kind == "approve":
        approved = do_approve(approval)
        if approved is None:
            st.rerun()
        do_views(approved, Action("views"))
    elif action.kind == "views":
        do_views(approval, action)
    state.drop(state.GEN_ACTION)
    st.rerun()


# ---------------------------------------------------------------------- steps


def draw_input() -> None:
    balance, _ = components.attempt(studio.balance, user)
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("What are we making?")
        state.restore(state.W_GEN_TEXT, state.GEN_TEXT, "")
        # no max_chars: the browser would drop a longer paste without a word; the length
        # is checked here and by Studio.start_front, and the text stays in the box
        text = st.text_area(
            "Product description", key=state.W_GEN_TEXT, height=120,
            placeholder="e.g. A navy leather messenger bag with a tan shoulder strap and "
                        "brass buckles",
            help="Colours, materials and parts you mention are kept in every view.",
        )
        text_length(text or "")
        photo, logo = st.columns(2)
        with photo:
            upload_field("Reference photo (optional)", state.W_GEN_REFERENCE,
                         state.GEN_REFERENCE, "Use a photo of the product instead of, or as "
                         "well as, a description.", what="reference photo")
        with logo:
            upload_field("Logo (optional)", state.W_GEN_LOGO, state.GEN_LOGO,
                         "Placed on the front and kept on the other views.", what="logo")
        st.caption(f"PNG, JPEG or WebP, up to {settings.max_upload_mb} MB each. "
                   "Write a description, upload a photo, or both.")
        st.button(f"Generate the front view · {components.credits_label(prices.front)}",
                  type="primary",
                  on_click=queue_front, key="generate_front", icon=":material/auto_awesome:")
    with right:
        price_card(balance)


def text_length(text: str) -> None:
    """The description's length against the limit; over it, why it cannot be used yet."""
    limit, length = settings.max_text_chars, len(text.strip())
    if length > limit:
        st.warning(f"The description is {length:,} characters long; the limit is {limit:,}. "
                   f"Shorten it by {length - limit:,} characters: your text stays here.",
                   icon=":material/short_text:")
    elif length:
        st.caption(f"{length:,}/{limit:,} characters")


@st.cache_data(max_entries=16, show_spinner=False)
def _upload_problem(data: bytes, what: str, limits: tuple[int, int]) -> str | None:
    _, error = components.attempt(studio.clean_image, data, what=what)
    return error


def upload_problem(data: bytes, what: str) -> str | None:
    """Why an uploaded file cannot be used (Studio's own check, cached per file and
    limits), or None: checked before it is previewed, so a text file named .png is a
    message, not a crash."""
    return _upload_problem(data, what, (settings.max_upload_bytes, settings.max_image_pixels))


def upload_field(label: str, widget: str, plain: str, help_text: str, *, what: str) -> None:
    kept: Upload | None = state.get(plain)
    uploaded = st.file_uploader(label, type=IMAGE_TYPES, key=state.upload_key(widget),
                                help=help_text, max_upload_size=settings.max_upload_mb)
    if uploaded is not None:
        if problem := upload_problem(uploaded.getvalue(), what):
            st.error(problem, icon=":material/broken_image:")
        else:
            st.image(uploaded.getvalue(), width=140)
    elif kept is not None:
        if problem := upload_problem(kept.data, what):
            st.error(problem, icon=":material/broken_image:")
        else:
            st.image(kept.data, width=140, caption=f"{kept.name} · {kept.size_label}")
        st.button("Remove", key=f"remove_{plain}", on_click=forget_upload, args=(plain, widget),
                  type="tertiary", icon=":material/close:")


def price_card(balance: int | None) -> None:
    whole = prices.whole_product()
    with st.container(border=True):
        st.markdown("#### What it costs")
        st.markdown(
            f"- **Front view:** {prices.front} credits\n"
            f"- **New front after a rejection:** {prices.retry} credits\n"
            f"- **Back, side, top and bottom:** {prices.view} credit each\n\n"
            f"A product approved first time costs **{whole} credits** in all. "
            "Credits are only spent on images you get; a failed image is refunded."
        )
        if balance is not None:
            st.markdown(f"You have **{balance:,} credits**.")
            if balance < prices.front:
                st.warning(f"You need {prices.front} credits to start a product. "
                           "Ask an admin for more credits.", icon=":material/savings:")
    st.markdown("##### How it works")
    st.markdown(
        "1. We draw the **front view** from your description or photo.\n"
        "2. You **approve** it, or reject it and say what to change.\n"
        "3. The approved front anchors the **back, side, top and bottom** views.\n"
        "4. Download the five PNGs with their features, or revise views later in History."
    )


def rejected_versions(approval: Approval) -> None:
    history, _ = components.attempt(studio.history, user, approval.id)
    rejected = [h for h in history or [] if h.view_type == ViewType.FRONT]
    if not rejected:
        return
    with st.expander(f"Rejected versions ({len(rejected)})", icon=":material/history:"):
        for entry in reversed(rejected):
            image, note = st.columns([1, 2])
            with image:
                components.show_image(components.image_bytes(svc, user, entry.image_key))
            with note:
                st.markdown(f"“{entry.user_feedback or 'no feedback'}”")
                if entry.created_at:
                    st.caption(entry.created_at.strftime("%d %b %Y, %H:%M UTC"))


def draw_review(approval: Approval) -> None:
    left, right = st.columns([3, 2], gap="large")
    rejected = approval.status == Status.REVISION_REQUESTED
    with left:
        if rejected:
            components.placeholder("You rejected the last front view. Generate a new one "
                                   "with your feedback.", height=320)
        else:
            components.show_image(components.image_bytes(svc, user, approval.key(ViewType.FRONT)),
                                  "Front view", width=460)
    with right:
        if rejected:
            st.subheader("Generate a new front view")
            if approval.user_feedback:
                st.markdown(f"Your feedback: “{approval.user_feedback}”")
            price = studio.front_price(approval)
            st.button(f"Generate a new front view · {components.credits_label(price)}",
                      type="primary",
                      on_click=queue, args=(Action("retry_front"),), key="retry_front",
                      icon=":material/refresh:")
        else:
            st.subheader("Review the front view")
            st.markdown("If it looks right, approve it: its colours, materials and shape then "
                        "anchor the **back, side, top and bottom** views, generated next.")
            views_price = prices.for_views(len(OTHER_VIEWS))
            balance, _ = components.attempt(studio.balance, user)
            short = balance is not None and balance < views_price
            if short:
                st.warning(f"Approving starts the back, side, top and bottom views, which cost "
                           f"{components.credits_label(views_price)}; you have "
                           f"{components.credits_label(balance)}. Ask an admin for more "
                           "credits, or start over with a new product.",
                           icon=":material/savings:")
                st.button("Start over with a new product", on_click=start_new,
                          key="start_over_short", icon=":material/restart_alt:")
            st.button(f"Approve · {components.credits_label(views_price)} for "
                      f"{len(OTHER_VIEWS)} views", type="primary", disabled=short,
                      on_click=queue, args=(Action("approve"),), key="approve",
                      icon=":material/check:")
            st.divider()
            with st.form("reject_form", border=False):
                state.restore(state.W_GEN_FEEDBACK, state.GEN_FEEDBACK, "")
                st.text_area("Not right? Say what should change", key=state.W_GEN_FEEDBACK,
                             height=90, max_chars=settings.max_text_chars,
                             placeholder="e.g. make the strap red and the leather matte")
                st.form_submit_button(
                    f"Reject and try again · {components.credits_label(prices.retry)}",
                    on_click=queue_reject, key="reject", icon=":material/thumb_down:")
            st.caption(f"A new front after a rejection costs {prices.retry} credits instead of "
                       f"{prices.front}. Rejected images stay in the product's history.")
        rejected_versions(approval)
        st.button("Start over with a new product", on_click=start_new, type="tertiary",
                  key="start_over", icon=":material/restart_alt:")


def draw_front_failed(approval: Approval) -> None:
    if approval.status == Status.FRONT_GENERATING:
        st.info("This front view is still being generated in another window. Refresh in a "
                "moment to see it.", icon=":material/hourglass_top:")
        st.button("Refresh", key="refresh_front", icon=":material/refresh:")
        return
    if not state.get(state.GEN_ERROR) and approval.error:
        st.error(approval.error)
    price = studio.front_price(approval)
    st.button(f"Try again · {components.credits_label(price)}", type="primary",
              key="retry_failed_front",
              on_click=queue, args=(Action("retry_front"),), icon=":material/refresh:")
    st.button("Start over with a new product", on_click=start_new, type="tertiary",
              key="start_over_failed", icon=":material/restart_alt:")


def draw_views(approval: Approval) -> None:
    st.subheader("The other views")
    columns = st.columns(len(ALL_VIEWS))
    failed = [v for v in ALL_VIEWS if v.value in approval.view_errors and not approval.key(v)]
    for column, view in zip(columns, ALL_VIEWS, strict=True):
        with column:
            key = approval.key(view)
            if key:
                components.show_image(components.image_bytes(svc, user, key), view.label)
            elif view in failed:
                components.placeholder(f"{view.label} failed", height=150)
                st.caption(approval.view_errors[view.value])
                st.button(f"Retry · {components.credits_label(prices.view)}",
                          key=f"retry_{view.value}",
                          on_click=queue, args=(Action("views", views=(view.value,)),),
                          icon=":material/refresh:")
            elif approval.status == Status.VIEWS_GENERATING:
                components.placeholder(f"{view.label}: rendering…", height=150)
            else:
                components.placeholder(f"{view.label}: not generated yet", height=150)
    missing = approval.missing_views
    if approval.status == Status.VIEWS_GENERATING:
        st.info("These views are still being generated in another window.",
                icon=":material/hourglass_top:")
        st.button("Refresh", key="refresh_views", icon=":material/refresh:")
    elif missing and (len(missing) > 1 or not failed):
        if not state.get(state.GEN_ERROR) and approval.error and not failed:
            st.error(approval.error)
        label = "Retry the failed views" if failed else "Generate the other views"
        cost = components.credits_label(prices.for_views(len(missing)))
        st.button(f"{label} · {cost}", type="primary", key="generate_missing", on_click=queue,
                  args=(Action("views", views=tuple(v.value for v in missing)),),
                  icon=":material/auto_awesome:")


def slug(approval: Approval) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", (approval.input_text or "product").lower()).strip("-")
    return "-".join(words.split("-")[:6]) or "product"


def draw_done(approval: Approval) -> None:
    images = {v: components.image_bytes(svc, user, approval.key(v)) for v in ALL_VIEWS}
    left, right = st.columns([3, 2], gap="large")
    with left:
        for tab, view in zip(st.tabs([v.label for v in ALL_VIEWS]), ALL_VIEWS, strict=True):
            with tab:
                components.consistency_badge(approval.consistency, view)
                components.show_image(images[view], f"{view.label} view", width=440)
    with right:
        st.success("Your product is ready: five consistent views.", icon=":material/task_alt:")
        downloads(approval)
        st.button("Start a new product", on_click=start_new, key="start_new",
                  icon=":material/add:", width="stretch")
        components.page_link("pages/history.py", "Revise views later in History",
                     icon=":material/history:")
        st.divider()
        components.features_panel(approval.extracted_features)
    if not components.consistency_panel(approval.consistency):
        st.info("Checking how well the views agree with the front…",
                icon=":material/hourglass_top:")
        st.button("Refresh the scores", key="refresh_scores", icon=":material/refresh:")


def downloads(approval: Approval) -> None:
    from viewgen import export

    name = slug(approval)
    features = approval.extracted_features

    def bundle() -> bytes:
        info = {"product": approval.input_text or "Product from a photo",
                "approval_id": approval.id}
        return export.zip_bundle(studio.view_images(user, approval), features, extra=info)

    def sheet() -> bytes:
        return export.contact_sheet(studio.view_images(user, approval),
                                    title=approval.input_text or "Product views",
                                    features=features)

    def turntable() -> bytes:
        return export.turntable_gif(studio.view_images(user, approval))

    st.download_button("Download ZIP · 5 PNGs + features.json", data=bundle,
                       file_name=f"{name}-views.zip", mime="application/zip", key="dl_zip",
                       icon=":material/folder_zip:", on_click="ignore", width="stretch",
                       type="primary")
    st.download_button("Download contact sheet (PNG)", data=sheet,
                       file_name=f"{name}-contact-sheet.png", mime="image/png", key="dl_sheet",
                       icon=":material/grid_view:", on_click="ignore", width="stretch")
    st.download_button("Download turntable (GIF)", data=turntable,
                       file_name=f"{name}-turntable.gif", mime="image/gif", key="dl_gif",
                       icon=":material/360:", on_click="ignore", width="stretch")


# ---------------------------------------------------------------------- the page

action: Action | None = state.get(state.GEN_ACTION)
approval = current_approval()
step = step_of(approval, action)
state.put(state.GEN_STEP, step)

st.title("Generate")
if approval is not None and approval.input_text:
    st.caption(f"“{approval.input_text}”")
elif approval is not None:
    st.caption("A product from your reference photo")
components.step_indicator(step)
if error := state.get(state.GEN_ERROR):
    st.error(error, icon=":material/error:")

if action is not None:
    carry_out(action, approval)
elif step == Step.INPUT:
    draw_input()
elif step == Step.REVIEW:
    draw_review(approval)
elif step == Step.FRONT:
    draw_front_failed(approval)
elif step == Step.VIEWS:
    draw_views(approval)
else:
    draw_done(approval)

"""Generate: a product from a description or a photo, in five steps.

Input -> Front view -> Review -> More views -> Done. A button only records an
``Action``; the next run starts that work (a durable workflow: it returns at once and
keeps running if the browser closes), records the result in plain keys and reruns
into the step the product is now in. While the product is generating the page polls
its state from the database (``st.fragment(run_every=...)``), so a reload (the
product's id is in the address, ``?product=``), a second tab or another app replica
shows the same live progress. Errors show their ``user_message``; the step and the
inputs stay as they were.
"""

from __future__ import annotations

import re

import streamlit as st

from viewgen import ALL_VIEWS, OTHER_VIEWS, Approval, Status, ViewType
from viewgen.domain import RetryMode
from viewgen.ui import components, exports_panel, guard, state
from viewgen.ui import qa as qa_panel
from viewgen.ui.features_form import features_form
from viewgen.ui.state import Action, Step, Upload

user, svc = guard.require_user("Generate", page="pages/generate.py")
studio, settings = svc.studio, svc.settings
prices = studio.prices
IMAGE_TYPES = ["png", "jpg", "jpeg", "webp"]


# ---------------------------------------------------------------------- state


def current_approval() -> Approval | None:
    approval_id = state.get(state.GEN_APPROVAL) or st.query_params.get("product")
    if not approval_id:
        return None
    approval, error = components.attempt(studio.get, user, approval_id)
    if approval is None:
        state.reset_generate()
        st.query_params.pop("product", None)
        state.put(state.GEN_ERROR, error)
        return None
    state.put(state.GEN_APPROVAL, approval.id)
    if st.query_params.get("product") != approval.id:
        st.query_params["product"] = approval.id
    return approval


def step_of(approval: Approval | None, action: Action | None) -> Step:
    if action is not None:
        return {"front": Step.FRONT, "reject": Step.FRONT, "retry_front": Step.FRONT,
                "free_front": Step.FRONT, "approve": Step.REVIEW, "views": Step.VIEWS,
                "free_retry": Step.VIEWS}.get(action.kind, Step.INPUT)
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
    state.put(RETRY_MODE, st.session_state.get(W_RETRY_MODE, RetryMode.EDIT.value))
    queue(Action("reject", feedback=feedback))


def forget_upload(plain: str, widget: str) -> None:
    state.drop(plain, state.upload_key(widget))
    state.put(state.GEN_UPLOADS, state.get(state.GEN_UPLOADS, 0) + 1)


def start_new() -> None:
    state.reset_generate()
    st.query_params.pop("product", None)


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
    approval, error = components.attempt(
        studio.start_front, user, text=text, image=reference.data if reference else None,
        logo=logo.data if logo else None, session_id=state.session_id(), wait=False)
    finish(approval, error)
    st.rerun()


def do_reject(approval: Approval, action: Action) -> None:
    _, error = components.attempt(studio.reject, user, approval.id, action.feedback or "")
    if error:
        finish(None, error, keep_feedback=True)
        st.rerun()
    fresh, error = components.attempt(studio.retry_front, user, approval.id, wait=False,
                                      mode=state.get(RETRY_MODE, RetryMode.EDIT.value))
    finish(fresh, error)
    st.rerun()


def do_retry_front(approval: Approval) -> None:
    fresh, error = components.attempt(studio.retry_front, user, approval.id, wait=False)
    finish(fresh, error)
    st.rerun()


def do_free_front(approval: Approval) -> None:
    """"Try again, free" on a front the quality check still flags."""
    fresh, error = components.attempt(studio.retry_flagged_front, user, approval.id,
                                      wait=False)
    finish(fresh, error)
    st.rerun()


def do_approve(approval: Approval) -> None:
    approved, error = components.attempt(studio.approve, user, approval.id, wait=False)
    finish(approved, error)
    st.rerun()


def do_views(approval: Approval, action: Action) -> None:
    views = [ViewType(v) for v in action.views] or None
    batch, error = components.attempt(studio.start_views, user, approval.id, views)
    finish(None if batch is None else approval, error)
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
    elif action.kind == "free_front":
        do_free_front(approval)
    elif action.kind == "approve":
        do_approve(approval)
    elif action.kind == "views":
        do_views(approval, action)
    elif action.kind == "free_retry":
        batch, error = components.attempt(studio.retry_flagged_view, user, approval.id,
                                          ViewType(action.views[0]))
        finish(None if batch is None else approval, error)
        st.rerun()
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
            f"- **Front view:** {components.credits_label(prices.front)}\n"
            f"- **New front after a rejection:** {components.credits_label(prices.retry)}\n"
            + ("- **Back, side, top and bottom:** included\n"
               if prices.view == 0 else
               f"- **Back, side, top and bottom:** {components.credits_label(prices.view)} "
               "each\n")
            + f"- **Regenerating a view later:** {components.credits_label(prices.regenerate)}"
              "\n\n"
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
    title = "Rejected versions" if all(h.reason == "rejected" for h in rejected) \
        else "Earlier versions"
    with st.expander(f"{title} ({len(rejected)})", icon=":material/history:"):
        for entry in reversed(rejected):
            image, note = st.columns([1, 2])
            with image:
                components.show_image(components.image_bytes(svc, user, entry.image_key))
            with note:
                if entry.reason == "rejected":
                    st.markdown(f"“{components.plain(entry.user_feedback or 'no feedback')}”")
                else:
                    st.markdown("Flagged by the quality check; tried again, free.")
                if entry.created_at:
                    st.caption(entry.created_at.strftime("%d %b %Y, %H:%M UTC"))


def draw_review(approval: Approval) -> None:
    if studio.busy(approval) == "approve":
        components.show_image(components.image_bytes(svc, user, approval.key(ViewType.FRONT)),
                              "Front view", width=360)
        live_progress(approval.id, "approve")
        return
    left, right = st.columns([3, 2], gap="large")
    rejected = approval.status == Status.REVISION_REQUESTED
    with left:
        if rejected:
            components.placeholder("You rejected the last front view. Generate a new one "
                                   "with your feedback.", height=320)
        else:
            components.show_image(components.image_bytes(svc, user, approval.key(ViewType.FRONT)),
                                  "Front view", width=460)
            if approval.error and not state.get(state.GEN_ERROR):  # a free try that failed
                st.warning(approval.error, icon=":material/warning:")
            qa_panel.change_notice(approval.qa.get("front_change"))
            if approval.qa.get("front") and qa_panel.view_verdict(
                    approval.qa["front"], key="front",
                    on_retry=lambda: queue(Action("free_front"))):
                st.rerun()  # start the free try now
    with right:
        if rejected:
            st.subheader("Generate a new front view")
            if approval.user_feedback:
                st.markdown(f"Your feedback: “{components.plain(approval.user_feedback)}”")
            price = studio.front_price(approval)
            st.button(f"Generate a new front view · {components.credits_label(price)}",
                      type="primary",
                      on_click=queue, args=(Action("retry_front"),), key="retry_front",
                      icon=":material/refresh:")
        else:
            st.subheader("Review the front view")
            st.markdown("If it looks right, approve it: its colours, materials and shape then "
                        "anchor the **back, side, top and bottom** views, generated next.")
            views_price = prices.quote_views(approval).credits
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
            st.button("Approve" + (f" · {components.credits_label(views_price)} for "
                                   f"{len(OTHER_VIEWS)} views"
                                   if views_price else " · the other views are included"),
                      type="primary", disabled=short,
                      on_click=queue, args=(Action("approve"),), key="approve",
                      icon=":material/check:")
            st.divider()
            with st.form("reject_form", border=False):
                state.restore(state.W_GEN_FEEDBACK, state.GEN_FEEDBACK, "")
                st.text_area("Not right? Say what should change", key=state.W_GEN_FEEDBACK,
                             height=90, max_chars=settings.max_text_chars,
                             placeholder="e.g. make the strap red and the leather matte")
                if studio.generator.name != "offline":  # the offline renderer rebuilds anyway
                    st.radio("The new front", [m.value for m in RetryMode], horizontal=True,
                             key=W_RETRY_MODE, format_func={
                                 "edit": "Edit this image (change only that)",
                                 "fresh": "Start afresh"}.__getitem__)
                st.form_submit_button(
                    f"Reject and try again · {components.credits_label(prices.retry)}",
                    on_click=queue_reject, key="reject", icon=":material/thumb_down:")
            st.caption(f"A new front after a rejection costs {prices.retry} credits instead of "
                       f"{prices.front}. Rejected images stay in the product's history.")
        rejected_versions(approval)
        st.button("Start over with a new product", on_click=start_new, type="tertiary",
                  key="start_over", icon=":material/restart_alt:")


PROGRESS_S = 1.0
W_HERO = "w_gen_hero"  # the features step's "Add a three-quarter hero view" checkbox
W_RETRY_MODE = "w_gen_retry_mode"  # the reject form's "edit this image" / "start afresh"
RETRY_MODE = "gen_retry_mode"
BUSY_TEXT = {
    "front": "Drawing the front view with the {provider}…",
    "approve": "Approving: measuring the front's colours, materials and key elements…",
    "views": "Drawing the {views} from the approved front and its features…",
}


@st.fragment(run_every=PROGRESS_S)
def live_progress(approval_id: str, busy: str) -> None:
    """Poll the product's state; rerun the page into the next step when the work ends."""
    approval, _ = components.attempt(studio.get, user, approval_id)
    if approval is None or studio.busy(approval) != busy:
        st.rerun()
    missing = [v.label.lower() for v in approval.missing_views]
    if studio.making_hero(approval):
        missing.append("three-quarter hero")
    missing = missing or ["views"]
    text = BUSY_TEXT[busy].format(provider=settings.provider_label,
                                  views=components.join_words(missing) + " views"
                                  if missing != ["views"] else "views")
    st.info(text, icon=":material/hourglass_top:")
    if busy == "views":
        draw_view_columns(approval, live=True)
    st.caption("This keeps going if you close the page or reload it; the product also "
               "appears in History.")


def draw_front_failed(approval: Approval) -> None:
    if approval.status == Status.FRONT_GENERATING:
        live_progress(approval.id, "front")
        return
    if not state.get(state.GEN_ERROR) and approval.error:
        st.error(approval.error)
    price = studio.front_price(approval)
    st.button(f"Try again · {components.credits_label(price)}", type="primary",
              key="retry_failed_front",
              on_click=queue, args=(Action("retry_front"),), icon=":material/refresh:")
    st.button("Start over with a new product", on_click=start_new, type="tertiary",
              key="start_over_failed", icon=":material/restart_alt:")


def shown_views(approval: Approval) -> list[ViewType]:
    """The five views, and the hero when the product has one, is drawing one or one failed."""
    hero = approval.has_hero or studio.making_hero(approval) or (
        ViewType.HERO.value in approval.view_errors)
    return [*ALL_VIEWS, *([ViewType.HERO] if hero else [])]


def draw_view_columns(approval: Approval, *, live: bool = False) -> list[ViewType]:
    views = shown_views(approval)
    columns = st.columns(len(views))
    failed = [v for v in views if v.value in approval.view_errors and not approval.key(v)]
    estimated = studio.estimated_views(user, approval)
    for column, view in zip(columns, views, strict=True):
        with column:
            key = approval.key(view)
            if key:
                components.show_image(components.image_bytes(svc, user, key), view.label)
                if view in estimated:
                    qa_panel.estimated_label()
            elif view in failed and not live:
                components.placeholder(f"{view.label} failed", height=150)
                st.caption(approval.view_errors[view.value])
                st.button(f"Retry · {components.credits_label(prices.for_view(approval, view))}",
                          key=f"retry_{view.value}",
                          on_click=queue, args=(Action("views", views=(view.value,)),),
                          icon=":material/refresh:")
            elif approval.status == Status.VIEWS_GENERATING and (
                    view != ViewType.HERO or studio.making_hero(approval)):
                components.placeholder(f"{view.label}: rendering…", height=150)
            else:
                components.placeholder(f"{view.label}: not generated yet", height=150)
    return failed


def draw_views(approval: Approval) -> None:
    st.subheader("The other views")
    if approval.status == Status.VIEWS_GENERATING:
        live_progress(approval.id, "views")
        return
    if approval.status == Status.APPROVED and not approval.view_errors and len(
            approval.missing_views) == 4:
        left, right = st.columns([2, 3], gap="large")
        with left:
            components.show_image(
                components.image_bytes(svc, user, approval.key(ViewType.FRONT)),
                "Approved front", width=320)
        with right:
            st.markdown("#### Check the features")
            st.caption("The other views are drawn from these. Correct anything that is "
                       "wrong, then generate the views.")
            corrected = features_form(approval.extracted_features,
                                      key=f"features:{approval.id}")
            if corrected is not None:
                _, error = components.attempt(studio.correct_features, user, approval.id,
                                              corrected)
                if error:
                    st.error(error)
                else:
                    st.success("Saved: the views will use your corrections.",
                               icon=":material/check:")
    failed = draw_view_columns(approval)
    missing = approval.missing_views
    if missing and (len(missing) > 1 or not failed):
        if not state.get(state.GEN_ERROR) and approval.error and not failed:
            st.error(approval.error)
        wanted = list(missing)
        if not approval.has_hero and ViewType.HERO not in failed:
            hero = st.checkbox(
                f"Add a three-quarter hero view · "
                f"{components.credits_label(prices.for_view(approval, ViewType.HERO))}",
                key=W_HERO, help="A sixth picture for the top of a listing: the product from "
                                 "a front corner (front and side at 45°), the camera raised "
                                 "about 20°, drawn from the approved front and its features. "
                                 "It goes into the ZIP and the marketplace exports; you can "
                                 "also add it later.")
            if hero:
                wanted.append(ViewType.HERO)
        label = "Retry the failed views" if failed else "Generate the other views"
        cost = components.credits_label(prices.quote_views(approval, wanted).credits)
        st.button(f"{label} · {cost}", type="primary", key="generate_missing", on_click=queue,
                  args=(Action("views", views=tuple(v.value for v in wanted)),),
                  icon=":material/auto_awesome:")


def slug(approval: Approval) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", (approval.input_text or "product").lower()).strip("-")
    return "-".join(words.split("-")[:6]) or "product"


def hero_offer(approval: Approval, key: str) -> None:
    """"Add hero view" on a finished product without one (or "Try the hero again" after
    it failed): the optional three-quarter view, priced before the click."""
    if approval.has_hero:
        return
    price = components.credits_label(prices.for_view(approval, ViewType.HERO))
    error = approval.view_errors.get(ViewType.HERO.value)
    if error:
        st.warning(f"The hero view failed: {error} Nothing was charged for it.",
                   icon=":material/warning:")
    st.button(f"{'Try the hero view again' if error else 'Add hero view'} · {price}",
              key=key, on_click=queue, args=(Action("views", views=(ViewType.HERO.value,)),),
              icon=":material/view_in_ar:", width="stretch",
              help="A three-quarter view (front and side at 45°, camera raised about 20°) drawn from the "
                   "approved front and its features; it joins the ZIP and the exports.")


def draw_done(approval: Approval) -> None:
    shown = approval.stored_views
    images = {v: components.image_bytes(svc, user, approval.key(v)) for v in shown}
    estimated = studio.estimated_views(user, approval)
    left, right = st.columns([3, 2], gap="large")
    with left:
        for tab, view in zip(st.tabs([v.label for v in shown]), shown, strict=True):
            with tab:
                components.consistency_badge(approval.consistency, view)
                components.show_image(images[view], f"{view.label} view", width=440)
                if view in estimated:
                    qa_panel.estimated_label()
                verdict = dict(approval.qa.get(view.value) or {})
                change = verdict.pop("change", None)
                qa_panel.change_notice(change)
                if verdict:
                    retry = None if view == ViewType.FRONT else (
                        lambda v=view: queue(Action("free_retry", views=(v.value,))))
                    qa_panel.view_verdict(verdict, key=view.value, on_retry=retry)
    with right:
        product = approval.qa.get("product")
        if product is None:
            st.success("Your product is ready. Checking that the views agree…",
                       icon=":material/task_alt:")
        elif product.get("passed"):
            headline = product.get("headline", "")  # "Five consistent views. Some are ..."
            st.success(f"Your product is ready: {headline[:1].lower()}{headline[1:]}",
                       icon=":material/task_alt:")
        else:
            st.warning("Your product is ready, but not all views agree yet.",
                       icon=":material/warning:")
            for reason in product.get("reasons", [])[:4]:
                st.text(reason)
        downloads(approval)
        hero_offer(approval, "add_hero")
        st.button("Start a new product", on_click=start_new, key="start_new",
                  icon=":material/add:", width="stretch")
        components.page_link("pages/history.py", "Revise views later in History",
                     icon=":material/history:")
        st.divider()
        components.features_panel(approval.extracted_features)
    with st.expander("Marketplace exports and 360° spin", expanded=True, icon=":material/storefront:"):
        exports_panel.approval_exports(studio, user, approval, key="gen_exp", images=images)
    if not components.consistency_panel(approval.consistency):
        scores_pending(approval.id)


@st.fragment(run_every=PROGRESS_S)
def scores_pending(approval_id: str) -> None:
    """The consistency check runs after the views land; show it when it is stored."""
    fresh, _ = components.attempt(studio.get, user, approval_id)
    if fresh is not None and fresh.consistency:
        st.rerun()
    st.info("Checking how well the views agree with the front…",
            icon=":material/hourglass_top:")


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

    count = len(approval.stored_views)
    st.download_button(f"Download ZIP · {count} PNGs + features.json", data=bundle,
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
    st.caption(f"“{components.plain(approval.input_text)}”")
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

"""Every ``st.session_state`` key the app uses, declared in one place.

Two kinds of key. *Plain* keys (``GEN_TEXT``, ``GEN_APPROVAL`` ...) hold the page's
state between runs. *Widget* keys (``W_...``) belong to a widget and Streamlit drops
them on any run where that widget is not drawn, so a page copies a widget's value
into a plain key when the step changes (``remember``) and seeds the widget back from
it when it is drawn again (``restore``). The Generate page's step machine lives here:
the current ``Step``, the approval it is working on, and the pending ``Action`` a
button asked for, which the next run carries out inside ``st.status``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import streamlit as st

from viewgen.domain import User

# -- who is signed in ---------------------------------------------------------------
USER = "user"  # the signed-in viewgen.domain.User
AUTH = "auth"  # this session's own viewgen.auth.Auth (never shared between sessions)
SESSION_TOKEN = "session_token"  # the "stay signed in" token this browser's cookie holds
CLEAR_COOKIE = "clear_cookie"  # signed out: delete the cookie on the sign-in screen
STALE_COOKIE = "stale_cookie"  # a cookie token that signs nobody in (not asked again)
FLASH = "flash"  # [(kind, message)] shown once, on the next run of any page
SESSION = "session_id"  # a random id for this browser session, recorded on new products
NEXT_PAGE = "next_page"  # the page to open once app.py's navigation is in place

# -- sign-in widgets ----------------------------------------------------------------
W_SIGNIN_EMAIL = "w_signin_email"
W_SIGNIN_PASSWORD = "w_signin_password"
W_SIGNIN_REMEMBER = "w_signin_remember"
W_SIGNUP_NAME = "w_signup_name"
W_SIGNUP_EMAIL = "w_signup_email"
W_SIGNUP_PASSWORD = "w_signup_password"
W_SIGNUP_CONFIRM = "w_signup_confirm"
AUTH_ERROR = "auth_error"  # the last sign-in / sign-up error, shown under the form

# -- Generate page: plain keys ------------------------------------------------------
GEN_STEP = "gen_step"  # Step
GEN_APPROVAL = "gen_approval_id"  # the product being made, once the front exists
GEN_TEXT = "gen_text"  # the description
GEN_REFERENCE = "gen_reference"  # Upload | None: the reference photo
GEN_LOGO = "gen_logo"  # Upload | None: the optional logo
GEN_FEEDBACK = "gen_feedback"  # the last rejection feedback typed
GEN_ACTION = "gen_action"  # Action | None: work the next run carries out
GEN_BATCH = "gen_batch"  # viewgen.ViewBatch while views are landing
GEN_ERROR = "gen_error"  # str | None: the last error's user_message
GEN_UPLOADS = "gen_uploads"  # int: bumped to give the uploaders fresh widget keys

# -- Generate page: widget keys -----------------------------------------------------
W_GEN_TEXT = "w_gen_text"
W_GEN_REFERENCE = "w_gen_reference"  # + upload generation
W_GEN_LOGO = "w_gen_logo"  # + upload generation
W_GEN_FEEDBACK = "w_gen_feedback"

# -- History page -------------------------------------------------------------------
HIST_SELECTED = "hist_approval_id"  # the product open on the right
HIST_PAGE = "hist_page"  # page of the product list (0-based)
HIST_ACTION = "hist_action"  # Action | None: a regeneration to carry out
HIST_BATCH = "hist_batch"  # viewgen.ViewBatch while regenerated views land
HIST_ERROR = "hist_error"
HIST_VIEWS = "hist_views"  # views chosen for regeneration (plain copy)
HIST_FEEDBACK = "hist_feedback"  # regeneration feedback (plain copy)
W_HIST_VIEWS = "w_hist_views"
W_HIST_FEEDBACK = "w_hist_feedback"
W_HIST_TAB = "w_hist_tab"  # the open tab of the product on the right (kept across runs)
W_HIST_COMPARE_VIEW = "w_hist_compare_view"
W_HIST_COMPARE_A = "w_hist_compare_a"
W_HIST_COMPARE_B = "w_hist_compare_b"
W_HIST_DOWNLOAD = "w_hist_download_revision"

# -- Admin page ---------------------------------------------------------------------
W_ADMIN_USER = "w_admin_user"
W_ADMIN_DATES = "w_admin_dates"
W_ADMIN_TAB = "tab"  # bound to the ?tab= query parameter: /admin?tab=Approvals
W_ADMIN_STATUS = "w_admin_status"
W_ADMIN_REASONS = "w_admin_reasons"
W_ADMIN_STATES = "w_admin_states"
W_ADMIN_OUTCOME = "w_admin_outcome"
W_ADMIN_PAGE = "w_admin_page_"  # + table name
W_GRANT_USER = "w_grant_user"
W_GRANT_AMOUNT = "w_grant_amount"
W_GRANT_REASON = "w_grant_reason"

GENERATE_KEYS = (
    GEN_STEP, GEN_APPROVAL, GEN_TEXT, GEN_REFERENCE, GEN_LOGO, GEN_FEEDBACK,
    GEN_ACTION, GEN_BATCH, GEN_ERROR, W_GEN_TEXT, W_GEN_FEEDBACK,
)
HIST_REVISION_PICKS = (W_HIST_COMPARE_VIEW, W_HIST_COMPARE_A, W_HIST_COMPARE_B, W_HIST_DOWNLOAD)
HISTORY_KEYS = (
    HIST_SELECTED, HIST_ACTION, HIST_BATCH, HIST_ERROR, HIST_VIEWS, HIST_FEEDBACK,
    W_HIST_VIEWS, W_HIST_FEEDBACK, W_HIST_COMPARE_VIEW, W_HIST_COMPARE_A, W_HIST_COMPARE_B,
    W_HIST_DOWNLOAD,
)


class Step(StrEnum):
    """The Generate page's steps, in order, as the step indicator names them."""

    INPUT = "Input"
    FRONT = "Front view"
    REVIEW = "Review"
    VIEWS = "More views"
    DONE = "Done"

    @property
    def index(self) -> int:
        return list(Step).index(self)


@dataclass(frozen=True)
class Upload:
    """An uploaded file copied out of its widget, so it outlives the widget."""

    name: str
    data: bytes
    mime: str = ""

    @property
    def size_label(self) -> str:
        size = len(self.data)
        return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


@dataclass(frozen=True)
class Action:
    """Work a button asked for; the next run does it inside ``st.status``.

    ``kind`` is one of ``front``, ``reject``, ``retry_front``, ``free_front``, ``approve``,
    ``views``, ``free_retry``
    (Generate) or ``regenerate`` (History).
    """

    kind: str
    views: tuple[str, ...] = ()
    feedback: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def state() -> Any:
    return st.session_state


def current_user() -> User | None:
    user = st.session_state.get(USER)
    return user if isinstance(user, User) else None


def sign_in(user: User) -> None:
    """Start a clean session for ``user``: nothing from a previous person survives.

    The session's accounts backend stays: it has just signed ``user`` in (a Supabase
    client now carries their token).
    """
    for key in list(st.session_state.keys()):
        if key != AUTH:
            del st.session_state[key]
    st.session_state[USER] = user


def sign_out() -> None:
    auth = st.session_state.get(AUTH)
    if auth is not None:
        auth.sign_out()  # ends a Supabase session; a no-op for local accounts
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    flash("info", "You are signed out.")


def session_id() -> str:
    if SESSION not in st.session_state:
        st.session_state[SESSION] = uuid.uuid4().hex
    return st.session_state[SESSION]


def flash(kind: str, message: str) -> None:
    """Queue a message for the next run (``success``, ``info``, ``warning``, ``error``)."""
    st.session_state.setdefault(FLASH, []).append((kind, message))


def pop_flash() -> list[tuple[str, str]]:
    return st.session_state.pop(FLASH, None) or []


def get(key: str, default: Any = None) -> Any:
    return st.session_state.get(key, default)


def put(key: str, value: Any) -> None:
    st.session_state[key] = value


def drop(*keys: str) -> None:
    for key in keys:
        st.session_state.pop(key, None)


def restore(widget_key: str, plain_key: str, default: Any = None) -> None:
    """Before drawing a widget: give it back the value kept in its plain key."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(plain_key, default)


def remember(widget_key: str, plain_key: str) -> Any:
    """Copy a widget's value into its plain key (call it from the widget's callback)."""
    value = st.session_state.get(widget_key)
    st.session_state[plain_key] = value
    return value


def reset_generate() -> None:
    """Forget the product being made, so the Generate page starts at Input again."""
    drop(*GENERATE_KEYS)
    st.session_state[GEN_UPLOADS] = st.session_state.get(GEN_UPLOADS, 0) + 1


def upload_key(base: str) -> str:
    """Uploader widget keys carry a generation so 'Start a new product' empties them."""
    return f"{base}_{st.session_state.get(GEN_UPLOADS, 0)}"

# ---------------------------------------------------------------------- the Batch page
BATCH_PLAN = "batch_plan"  # viewgen.batch_input.BatchPlan checked and waiting to start
BATCH_PLAN_NAME = "batch_plan_name"  # the CSV's file name, for the batch's name
BATCH_SELECTED = "batch_selected"  # the batch id shown below the form
BATCH_ERROR = "batch_error"  # str | None: the last error's user_message
BATCH_NOTICE = "batch_notice"  # str | None: what the last action did

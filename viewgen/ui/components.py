"""Pieces several pages draw: sign-in, sidebar, step indicator, images, features, scores.

Everything here is presentation: it reads what ``viewgen`` returns and draws it. Images
are shown from bytes (the blob store holds keys, never URLs); table thumbnails are
small data URLs made once per image key and cached, since a key never changes what it
points at (a new image always gets a new numbered key).
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import streamlit as st
from streamlit.errors import StreamlitAPIException

from viewgen import auth
from viewgen.domain import ALL_VIEWS, ExtractedFeatures, User, ViewType
from viewgen.errors import ViewgenError
from viewgen.ui import state
from viewgen.ui.services import Services

log = logging.getLogger(__name__)

T = TypeVar("T")

GENERIC_ERROR = (
    "Something went wrong on our side and nothing was charged for it. "
    "Try again; if it keeps happening, tell an admin."
)
WEAK_SCORE_DEFAULT = 70.0


def join_words(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def credits_label(amount: int) -> str:
    """``1 credit``, ``4 credits``, ``free``."""
    if amount == 0:
        return "free"
    return f"{amount:,} credit" + ("" if amount == 1 else "s")


def weak_score() -> float:
    try:
        from viewgen.consistency import WEAK_SCORE
    except ImportError:  # the scorer is optional for drawing
        return WEAK_SCORE_DEFAULT
    return float(WEAK_SCORE)


# ---------------------------------------------------------------------- plain text

# the characters that make markup: links and images need brackets, raw HTML and
# autolinks angle brackets, maths a dollar sign, Streamlit's :colour[...] directives
# brackets; a backslash escapes each (CommonMark) and must itself be escaped first
_MARKUP = re.compile(r"([\\\[\]<>$])")


def plain(text: object) -> str:
    """``text`` shown literally by ``st.markdown`` / ``st.success`` / ``st.caption``.

    User or provider text such as ``![p](http://host/p.png)@x.example`` shows as typed
    and never becomes an image (which the browser would fetch), a link, a colour,
    maths or HTML. Ordinary punctuation is left alone, so messages read as written.
    """
    return _MARKUP.sub(r"\\\1", str(text))


# ---------------------------------------------------------------------- errors


def attempt(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str | None]:
    """Run a call into viewgen; return ``(result, None)`` or ``(None, message for people)``."""
    try:
        return fn(*args, **kwargs), None
    except ViewgenError as exc:  # messages can quote user or provider text: never markdown
        return None, plain(exc.user_message)
    except Exception:  # a bug: log it, show a sentence, never a traceback
        log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
        return None, GENERIC_ERROR


def page_link(page: str, label: str, icon: str | None = None) -> None:
    """``st.page_link`` that draws nothing where the page is unknown (a page script run
    on its own, outside app.py's navigation)."""
    with contextlib.suppress(StreamlitAPIException):
        st.page_link(page, label=label, icon=icon)


def show_flash() -> None:
    for kind, message in state.pop_flash():
        {"success": st.success, "warning": st.warning, "error": st.error}.get(
            kind, st.info)(message)


# ---------------------------------------------------------------------- sign-in


def sign_in_screen(services: Services, after: Callable[[], None] = st.rerun) -> None:
    """The sign-in prompt every page shows to someone who is not signed in.

    ``after`` runs once someone has signed in (by default a rerun of the page).
    """
    show_flash()
    first = _first_account(services)
    _, middle, _ = st.columns([1, 1.4, 1])
    with middle:
        st.title("viewgen")
        st.markdown("Turn a product description or a reference photo into five "
                    "consistent views: **front, back, side, top and bottom**.")
        if first:  # nobody could sign in yet: the first screen makes the admin
            st.info("Nobody has an account here yet. The first account becomes the admin, "
                    "who grants credits and sees the Admin page.",
                    icon=":material/admin_panel_settings:")
            st.subheader("Create the first account (admin)")
            _sign_up_form(services, after, first=True)
        else:
            st.info("Sign in to continue.", icon=":material/lock:")
            sign_in, sign_up = st.tabs(["Sign in", "Create an account"])
            with sign_in, st.form("sign_in_form", border=False):
                st.text_input("Email", key=state.W_SIGNIN_EMAIL, autocomplete="email",
                              placeholder="name@example.com")
                st.text_input("Password", type="password", key=state.W_SIGNIN_PASSWORD,
                              autocomplete="current-password")
                if services.settings.session_days > 0:
                    st.checkbox("Stay signed in on this browser", value=True,
                                key=state.W_SIGNIN_REMEMBER,
                                help=f"For {services.settings.session_days} days, across "
                                     "reloads. Untick on a shared computer.")
                if st.form_submit_button("Sign in", type="primary", key="sign_in_submit"):
                    _sign_in(services, after)
            with sign_up:
                _sign_up_form(services, after, first=False)
        if error := state.get(state.AUTH_ERROR):
            st.error(error)
    if state.get(state.CLEAR_COOKIE):
        session_cookie(None)


def _sign_up_form(services: Services, after: Callable[[], None], *, first: bool) -> None:
    with st.form("sign_up_form", border=False):
        st.text_input("Your name", key=state.W_SIGNUP_NAME, autocomplete="name")
        st.text_input("Email", key=state.W_SIGNUP_EMAIL, autocomplete="email",
                      placeholder="name@example.com")
        st.text_input("Password", type="password", key=state.W_SIGNUP_PASSWORD,
                      autocomplete="new-password", help="At least 8 characters.")
        st.text_input("Confirm password", type="password", key=state.W_SIGNUP_CONFIRM,
                      autocomplete="new-password")
        credits = services.settings.starting_credits
        note = f"New accounts start with {credits} credits."
        if first:
            note += " This is the first account here, so it becomes the admin."
        st.caption(note)
        label = "Create the admin account" if first else "Create account"
        if st.form_submit_button(label, type="primary", key="sign_up_submit"):
            _sign_up(services, after)


def _first_account(services: Services) -> bool:
    try:
        return services.studio.no_accounts_yet()
    except Exception:
        return False


def _sign_in(services: Services, after: Callable[[], None]) -> None:
    user, error = attempt(services.auth.sign_in, state.get(state.W_SIGNIN_EMAIL, ""),
                          state.get(state.W_SIGNIN_PASSWORD, ""))
    remember = bool(state.get(state.W_SIGNIN_REMEMBER, True))
    _signed(services, user, error, f"Welcome back{_name(user)}.", after, remember=remember)


def _sign_up(services: Services, after: Callable[[], None]) -> None:
    password = state.get(state.W_SIGNUP_PASSWORD, "")
    if password != state.get(state.W_SIGNUP_CONFIRM, ""):
        state.put(state.AUTH_ERROR, "The two passwords are different: type the same one twice.")
        return
    user, error = attempt(services.auth.sign_up, state.get(state.W_SIGNUP_EMAIL, ""), password,
                          state.get(state.W_SIGNUP_NAME, "") or "")
    credits = services.settings.starting_credits
    _signed(services, user, error, f"Welcome{_name(user)}! Your account has {credits} credits.",
            after)


def _name(user: User | None) -> str:
    return f", {plain(user.display_name)}" if user and user.display_name else ""


def _signed(services: Services, user: User | None, error: str | None, welcome: str,
            after: Callable[[], None], *, remember: bool = True) -> None:
    if user is None:
        state.put(state.AUTH_ERROR, error)
        return
    state.sign_in(user)
    if remember:  # a failure here only means signing in again after a reload
        token, _ = attempt(services.studio.remember_browser, user)
        if token:
            state.put(state.SESSION_TOKEN, token)
    state.flash("success", welcome)
    after()


def sign_out(services: Services) -> None:
    """End the session here and for this browser's "stay signed in" cookie."""
    attempt(services.studio.forget_browser, state.get(state.SESSION_TOKEN))
    state.sign_out()
    state.put(state.CLEAR_COOKIE, True)


def sign_out_everywhere(services: Services, user: User) -> None:
    """End every session of ``user``: this browser, other browsers, other devices."""
    ended, error = attempt(services.auth.sign_out_everywhere, user)
    if error:
        state.flash("error", error)
        return
    state.sign_out()
    state.put(state.CLEAR_COOKIE, True)
    state.flash("success", "Signed out everywhere: every browser and device signed in to "
                           f"this account must sign in again ({ended or 0} remembered "
                           f"session{'' if ended == 1 else 's'} ended).")


def session_cookie(token: str | None, days: int = 0) -> None:
    """Write (``token``) or delete (None) the browser's "stay signed in" cookie.

    Streamlit can read cookies (``st.context.cookies``) but not set them, so a tiny
    script does; the token is random and already bound to this browser's session.
    """
    if token is None:
        value, age = "", 0
    else:
        value, age = token, days * 86400
    st.html(
        "<script>(function(){var s=location.protocol==='https:'?'; Secure':'';"
        f"document.cookie='{auth.SESSION_COOKIE}={value}; path=/; max-age={age}; "
        "SameSite=Strict'+s;})();</script>",
        unsafe_allow_javascript=True, width=1,
    )


# ---------------------------------------------------------------------- sidebar


def sidebar(user: User, services: Services) -> None:
    """Who is signed in, their credits, which provider draws, and sign out."""
    studio = services.studio
    balance, _ = attempt(studio.balance, user)
    prices = studio.prices
    with st.sidebar:
        st.markdown("### viewgen")
        st.caption("Five consistent product views")
        st.divider()
        # plain HTML: markdown would turn the address into a mailto link
        email = html.escape(user.email)
        name = html.escape(user.display_name) if user.display_name else email
        extra = f"<div style='color:#6b7080;font-size:.85rem'>{email}</div>" \
            if user.display_name else ""
        st.html(f"<div style='font-weight:600'>{name}</div>{extra}")
        if user.is_admin:
            st.badge("Admin", icon=":material/shield_person:", color="violet")
        st.metric("Credits", "—" if balance is None else f"{balance:,}",
                  help=f"A product {prices.whole_product()} (its five views) · retry after a "
                       f"rejection {prices.retry} · regenerating a view later "
                       f"{prices.regenerate}")
        st.caption(f"Images by the **{services.settings.provider_label}**")
        st.button("Sign out", key="sign_out", on_click=sign_out, args=(services,),
                  icon=":material/logout:", width="stretch")
        st.button("Sign out everywhere", key="sign_out_everywhere",
                  on_click=sign_out_everywhere, args=(services, user),
                  icon=":material/devices:", width="stretch",
                  help="End every session of this account: other browsers and devices "
                       "that stayed signed in must sign in again.")
        from viewgen.ui.tokens_panel import tokens_panel  # API tokens (issue 10)

        tokens_panel(studio.api_tokens, user)
        if token := state.get(state.SESSION_TOKEN):
            session_cookie(token, services.settings.session_days)


# ---------------------------------------------------------------------- steps

_STEP_CSS = """
<style>
.vg-steps{display:flex;gap:.4rem;margin:.2rem 0 1.1rem 0;flex-wrap:wrap}
.vg-step{flex:1;min-width:7.5rem;padding:.45rem .7rem;border-radius:.6rem;
 border:1px solid #e3e5ec;color:#7a7f8c;background:#fafbfd;font-size:.92rem}
.vg-step b{display:inline-block;width:1.35rem;height:1.35rem;line-height:1.35rem;
 text-align:center;border-radius:50%;background:#e3e5ec;color:#4b5060;margin-right:.45rem;
 font-size:.8rem}
.vg-step.done{color:#1f2430;background:#f1f5ff;border-color:#d8defa}
.vg-step.done b{background:#4f46e5;color:#fff}
.vg-step.now{color:#1f2430;border:2px solid #4f46e5;background:#fff;font-weight:600}
.vg-step.now b{background:#4f46e5;color:#fff}
</style>
"""


def step_indicator(current: state.Step) -> None:
    """Input · Front view · Review · More views · Done, with the current one marked."""
    parts = []
    for step in state.Step:
        if step.index < current.index:
            cls, mark = "done", "✓"
        elif step == current:
            cls, mark = "now", str(step.index + 1)
        else:
            cls, mark = "", str(step.index + 1)
        aria = ' aria-current="step"' if step == current else ""
        parts.append(f'<div class="vg-step {cls}"{aria}><b>{mark}</b>{step.value}</div>')
    st.markdown(_STEP_CSS + f'<div class="vg-steps" role="list">{"".join(parts)}</div>',
                unsafe_allow_html=True)


# ---------------------------------------------------------------------- images


def placeholder(text: str = "No image", height: int = 160) -> None:
    st.markdown(
        f'<div style="height:{height}px;border:1px dashed #c9ccd6;border-radius:.6rem;'
        f'display:flex;align-items:center;justify-content:center;color:#7a7f8c;'
        f'background:#fafbfd;text-align:center;padding:.5rem">{html.escape(text)}</div>',
        unsafe_allow_html=True,
    )


def image_bytes(services: Services, user: User, key: str | None) -> bytes | None:
    """An image this user may see, or None when it is missing."""
    if not key:
        return None
    data, _ = attempt(services.studio.image_bytes, user, key)
    return data


def show_image(data: bytes | None, caption: str | None = None, *, width: int | str = "stretch",
               missing: str = "Image unavailable") -> None:
    if data is None:
        placeholder(missing)
        return
    st.image(data, caption=caption, width=width)


@st.cache_data(max_entries=20_000, show_spinner=False)
def _thumbnail(key: str, size: int, _services: Services) -> bytes | None:
    from PIL import Image

    try:
        data = _services.studio.blobs.get(key)
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", (size * 2, size * 2))
            small = img.convert("RGB")
            small.thumbnail((size, size))
            buffer = io.BytesIO()
            small.save(buffer, "WEBP", quality=80)
    except (ViewgenError, OSError, ValueError):
        return None
    return buffer.getvalue()


def thumbnail_bytes(services: Services, user: User, keys: Iterable[str | None],
                    size: int = 96) -> list[bytes | None]:
    """Small WebP thumbnails for ``keys`` this user may see (None where not, or missing)."""
    keys = [k if isinstance(k, str) and k else None for k in keys]  # pandas gives NaN
    wanted = {k for k in keys if k}
    if not wanted:
        return [None] * len(keys)
    allowed = services.studio.owned_keys(user, wanted)
    return [_thumbnail(k, size, services) if k in allowed else None for k in keys]


def thumbnails(services: Services, user: User, keys: Iterable[str | None],
               size: int = 96) -> list[str | None]:
    """The same thumbnails as data URLs, for ``st.column_config.ImageColumn``."""
    return [
        "data:image/webp;base64," + base64.b64encode(data).decode("ascii") if data else None
        for data in thumbnail_bytes(services, user, keys, size)
    ]


def watch_batch(batch: Any, services: Services, user: User, status: Any) -> None:
    """Draw each view of a running ``ViewBatch`` as it lands (in the script thread)."""
    total = len(batch.views)
    plural = "s" if total > 1 else ""
    slots = {view: column.empty() for view, column in
             zip(batch.views, st.columns(max(total, 4)), strict=False)}
    for view, slot in slots.items():
        with slot.container():
            placeholder(f"{view.label}: rendering…", height=150)
    for done, outcome in enumerate(batch, start=1):
        with slots[outcome.view].container():
            if outcome.ok:
                show_image(image_bytes(services, user, outcome.key), f"{outcome.view.label} ✓")
            else:
                placeholder(f"{outcome.view.label} failed", height=150)
                st.caption(outcome.error or "")
        status.update(label=f"{done} of {total} view{plural} ready…")


# ---------------------------------------------------------------------- features


FEATURE_NAMES = {"colors": "colours", "materials": "materials", "keyElements": "key elements",
                 "estimatedDimensions": "dimensions", "description": "description"}
"""How the feature record's field names read on screen."""


def features_panel(features: ExtractedFeatures | None) -> None:
    """Colour swatches (hex, name, usage), materials, key elements, size, description."""
    if features is None:
        st.caption("Features appear once the front view is approved.")
        return
    st.markdown("#### Extracted features")
    if features.description:
        st.markdown(plain(features.description))
    if features.colors:
        chips = []
        for colour in features.colors:
            share = f" · {colour.share:.0%}" if colour.share is not None else ""
            chips.append(
                '<div style="display:flex;align-items:center;gap:.6rem;margin:.25rem 0">'
                f'<span style="width:2.1rem;height:2.1rem;border-radius:.45rem;'
                f'background:{colour.hex};border:1px solid #00000022;flex:none"></span>'
                f'<span><b>{plain(colour.name)}</b> <code>{colour.hex}</code><br>'
                f'<span style="color:#6b7080;font-size:.85rem">{colour.usage.value}{share}'
                '</span></span></div>'
            )
        st.markdown("**Colours**" + "".join(chips), unsafe_allow_html=True)
    _listing("Materials", features.materials)
    _listing("Key elements", features.keyElements)
    if features.estimatedDimensions:
        st.markdown("**Dimensions**")
        st.text(features.dimensions_text)
    if features.not_measured:
        st.caption("Could not be measured from the image: " + ", ".join(
            plain(FEATURE_NAMES.get(name, name)) for name in features.not_measured))


def _listing(title: str, items: list[str]) -> None:
    if items:
        st.markdown(f"**{title}** · " + ", ".join(plain(i) for i in items))


# ---------------------------------------------------------------------- consistency


def score_of(consistency: Mapping[str, Any], view: ViewType) -> float | None:
    entry = consistency.get(view.value)
    if not isinstance(entry, Mapping) or entry.get("score") is None:
        return None
    return float(entry["score"])


def consistency_badge(consistency: Mapping[str, Any], view: ViewType, *,
                      compact: bool = False) -> None:
    """The view's consistency score with the front (``compact`` for narrow columns)."""
    score = score_of(consistency, view)
    name = "" if compact else "Consistency "
    if view == ViewType.FRONT:
        st.badge("Reference" if compact else "Reference view", icon=":material/star:",
                 color="blue")
    elif score is None:
        st.badge("Analysing…" if compact else "Consistency: analysing…",
                 icon=":material/hourglass_top:", color="gray")
    elif score < weak_score():
        st.badge(f"{score:.0f}/100" if compact else f"{name}{score:.0f}/100 · weak",
                 icon=":material/warning:", color="orange",
                 help=(consistency.get(view.value) or {}).get("note") or None)
    else:
        st.badge(f"{name}{score:.0f}/100", icon=":material/check_circle:", color="green")


def consistency_panel(consistency: Mapping[str, Any]) -> bool:
    """Scores of the four views (and the hero, when scored) against the front; warns on
    weak ones. False while pending."""
    views = [v for v in ALL_VIEWS if v != ViewType.FRONT]
    if score_of(consistency, ViewType.HERO) is not None:
        views.append(ViewType.HERO)
    if not any(score_of(consistency, v) is not None for v in views):
        return False
    st.markdown("#### Consistency with the front")
    columns = st.columns(len(views))
    weak = []
    for column, view in zip(columns, views, strict=True):
        score = score_of(consistency, view)
        with column:
            st.metric(view.label, "—" if score is None else f"{score:.0f}/100")
        if score is not None and score < weak_score():
            note = (consistency.get(view.value) or {}).get("note") or ""
            weak.append(f"**{view.label}** scored {score:.0f}/100. {note}".strip())
    for line in weak:
        st.warning(line + " You can regenerate this view from History.",
                   icon=":material/warning:")
    return True

"""The first call of every page: services, then a signed-in user (and admin for Admin).

With a ``pages/`` folder beside ``app.py``, Streamlit runs a page straight from a deep
link (``/admin``) on a fresh server without running ``app.py``, and ``AppTest`` can do
the same; a gate that lives only in ``app.py`` is skipped then. So every page calls
``require_user()`` or ``require_admin()`` before it draws or reads anything; when
there is no signed-in user they draw the sign-in prompt and stop the run, and a member
on the Admin page gets a refusal and nothing else.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from viewgen.auth import SESSION_COOKIE
from viewgen.domain import User
from viewgen.ui import components, state
from viewgen.ui.services import Services, services

APP_TITLE = "viewgen"
APP_SCRIPT = "app.py"


def page_setup(title: str | None = None) -> None:
    st.set_page_config(
        page_title=f"{title} · {APP_TITLE}" if title else APP_TITLE,
        page_icon=":material/view_in_ar:",
        layout="wide",
        # "auto": open on a wide window, collapsed on a phone, where an open sidebar
        # would cover the whole page
        initial_sidebar_state="auto",
    )


_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 4.5rem; padding-bottom: 3rem; }
[data-testid="stSidebarUserContent"] { padding-top: 1.2rem; }
h1 { padding-top: 0.4rem !important; }
</style>
"""


def style() -> None:
    """A little tightening so a 1280x800 window shows a step without scrolling; the top
    padding keeps the first element (a success banner) clear of the 3.75rem top bar."""
    st.html(_CSS)


def load_services() -> Services:
    """The services, or an error on screen (a missing key, an unreachable database)."""
    found, error = components.attempt(services)
    if found is None:
        st.error(f"viewgen could not start: {error}")
        st.caption("Fix the setting named above (see the README's configuration section) "
                   "and reload the page.")
        st.stop()
    return found


def _cookie_token() -> str | None:
    try:
        token = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # no browser behind this run (a bare script, some tests)
        return None
    return token or None


def restore_session(svc: Services) -> User | None:
    """Sign in from this browser's "stay signed in" cookie after a reload.

    Returns the user when this run signed them in, else None (already signed in, no
    cookie, or a cookie whose session ended: expired, or signed out elsewhere).
    """
    if state.current_user() is not None:
        return None
    token = _cookie_token()
    if token is None or token == state.get(state.STALE_COOKIE):
        return None
    user, _ = components.attempt(svc.studio.recall_browser, token)
    if user is None:
        state.put(state.STALE_COOKIE, token)
        return None
    state.sign_in(user)
    state.put(state.SESSION_TOKEN, token)
    return user


def _refresh(user: User, svc: Services) -> User | None:
    """The signed-in user as the database has them now (role changes apply at once)."""
    return svc.studio.current_user(user)


def _through_app(page: str | None) -> None:
    """Rerun via app.py, which then opens ``page``; a plain rerun where there is no
    app.py to go through (a test running a page script on its own)."""
    if page:
        state.put(state.NEXT_PAGE, page)
        try:
            st.switch_page(APP_SCRIPT)
        except StreamlitAPIException:
            state.drop(state.NEXT_PAGE)
    st.rerun()


def require_user(title: str | None = None, page: str | None = None) -> tuple[User, Services]:
    """A signed-in user and the services; otherwise the sign-in prompt, and stop.

    ``page`` is the calling page's path (``pages/history.py``): signing in on it goes
    through ``app.py`` and back to ``page``, so a deep link opened on a fresh server
    (which Streamlit runs without ``app.py``) ends up with the navigation in place.
    """
    page_setup(title)
    style()
    svc = load_services()
    if restore_session(svc) is not None and page:
        _through_app(page)  # a deep link opened without app.py: get the navigation
    user = state.current_user()
    if user is not None:
        user, _ = components.attempt(_refresh, user, svc)
        if user is None:
            state.sign_out()
        else:
            state.put(state.USER, user)
    if user is None:
        components.sign_in_screen(svc, after=lambda: _through_app(page))
        st.stop()
    components.sidebar(user, svc)
    components.show_flash()
    return user, svc


def require_admin(title: str = "Admin", page: str | None = None) -> tuple[User, Services]:
    """An admin and the services; a member gets a refusal and nothing else."""
    user, svc = require_user(title, page)
    if not user.is_admin:
        st.title(title)
        st.error("The Admin page is for admins only. Your account is a member account, so "
                 "there is nothing here for you; ask an admin if you need access.",
                 icon=":material/block:")
        components.page_link("pages/generate.py", "Go to Generate", icon=":material/arrow_back:")
        st.stop()
    return user, svc

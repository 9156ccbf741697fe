"""Services for a page run: settings, the Studio (per process) and auth (per session).

``services()`` is what every page calls. The Studio is cached with
``st.cache_resource`` under the settings it was built from, so the database is
opened and migrated, interrupted generations reconciled and the providers set up once,
not on every rerun; a test that points ``VIEWGEN_DATA_DIR`` somewhere else gets its
own services.

The accounts backend is NOT shared: it lives in each browser session's
``st.session_state``. Supabase Auth's client rewrites its Authorization header when
someone signs in, so one client cached for the whole process would make everyone act
as whoever signed in last.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from viewgen.auth import Auth, build_auth
from viewgen.compose import build_studio
from viewgen.settings import Settings, load_settings
from viewgen.ui import state
from viewgen.workflow import Studio


@dataclass(frozen=True)
class Services:
    settings: Settings
    studio: Studio
    auth: Auth


def _release(studio: Studio) -> None:
    studio.close(drain_s=5)  # work in flight finishes (or resumes at the next start)


@st.cache_resource(show_spinner="Starting viewgen …", on_release=_release)
def _build(key: str, _settings: Settings) -> Studio:
    return build_studio(_settings)


def session_auth(studio: Studio, settings: Settings) -> Auth:
    """This browser session's accounts backend, built on its first use."""
    auth = st.session_state.get(state.AUTH)
    if auth is None or getattr(auth, "repo", None) is not studio.repo:
        auth = build_auth(studio.repo, settings)
        st.session_state[state.AUTH] = auth
    return auth


def services() -> Services:
    """The services for this run (raises ``ViewgenError``): shared Studio, own auth."""
    settings = load_settings()
    studio = _build(settings.model_dump_json(), settings)
    return Services(settings=settings, studio=studio, auth=session_auth(studio, settings))

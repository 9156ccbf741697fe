"""Services built once per process: settings, the Studio and the accounts backend.

``services()`` is what every page calls. The build is cached with
``st.cache_resource`` under the settings it was built from, so the database is
opened and migrated, interrupted generations reconciled and the providers set up once,
not on every rerun; a test that points ``VIEWGEN_DATA_DIR`` somewhere else gets its
own services.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from viewgen.auth import Auth, build_auth
from viewgen.settings import Settings
from viewgen.workflow import Studio, build_studio


@dataclass(frozen=True)
class Services:
    settings: Settings
    studio: Studio
    auth: Auth


def _release(services: Services) -> None:
    services.studio.close()


@st.cache_resource(show_spinner="Starting viewgen …", on_release=_release)
def _build(key: str, _settings: Settings) -> Services:
    studio = build_studio(_settings)
    return Services(settings=_settings, studio=studio, auth=build_auth(studio.repo, _settings))


def services() -> Services:
    """The process's services for the current settings (raises ``ViewgenError``)."""
    settings = Settings()
    return _build(settings.model_dump_json(), settings)

"""AppTest fixtures: the app on a temporary data directory, and ways to sign in.

Each test gets its own ``VIEWGEN_DATA_DIR`` (so its own SQLite database and blobs);
the cached services built for it are released after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from viewgen.auth import LocalAuth, create_account, hash_password
from viewgen.domain import Role, User
from viewgen.settings import Settings
from viewgen.store import Repository, open_repository
from viewgen.ui import state

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60
PASSWORD = "correct horse"


@pytest.fixture
def app_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIEWGEN_IMAGE_SIZE", "384")  # as tests/conftest.py: CPU time
    yield Settings()
    from viewgen.ui.services import _build

    _build.clear()  # releases (closes) the Studio built for this test


@pytest.fixture
def app_repo(app_settings: Settings) -> Iterator[Repository]:
    repo = open_repository(app_settings.resolved_database_url)
    yield repo
    repo.engine.dispose()


@pytest.fixture
def app(app_settings: Settings) -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


@pytest.fixture
def app_admin(app_repo: Repository, app_settings: Settings) -> User:
    return create_account(app_repo, app_settings, "ada@example.com",
                          password_hash=hash_password(PASSWORD), display_name="Ada Admin",
                          role=Role.ADMIN)


@pytest.fixture
def app_member(app_repo: Repository, app_settings: Settings, app_admin: User) -> User:
    return LocalAuth(app_repo, app_settings).sign_up("max@example.com", PASSWORD, "Max Member")


def signed_in(at: AppTest, user: User) -> AppTest:
    """Sign ``user`` in the way the sign-in form does, and run the app."""
    at.session_state[state.USER] = user
    return at.run()


def settled(at: AppTest, timeout: float = TIMEOUT) -> AppTest:
    """Wait until no workflow is queued or running (the work a click started, which
    runs durably in the background), then run the app again, as the page's own polling
    would. Polls with a deadline; never sleeps a fixed time."""
    import time

    from viewgen import durable

    deadline = time.monotonic() + timeout
    while durable.queued_or_running():
        assert time.monotonic() < deadline, "the workflow did not finish in time"
        time.sleep(0.05)
    return at.run()


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(element.value) for element in getattr(at, kind)]


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]

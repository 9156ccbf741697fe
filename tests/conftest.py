"""Shared fixtures: settings on a temporary data dir, a migrated repository on SQLite
(and on PostgreSQL when ``VIEWGEN_TEST_DATABASE_URL`` is set), a Studio on the offline
provider, and signed-up users."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from viewgen.auth import LocalAuth
from viewgen.blobs import LocalBlobStore
from viewgen.domain import User
from viewgen.settings import Settings
from viewgen.store import Repository, open_repository
from viewgen.store.schema import metadata
from viewgen.workflow import Studio

PG_ENV = "VIEWGEN_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's secrets file or provider keys."""
    monkeypatch.setenv("VIEWGEN_SECRETS_FILE", str(tmp_path / "no-secrets.toml"))
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY", "SUPABASE_URL",
                 "SUPABASE_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("VIEWGEN_") and name not in (PG_ENV, "VIEWGEN_SECRETS_FILE"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def pg_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture(scope="session")
def pg_database(pg_server_url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not pg_server_url:
        yield None
        return
    url = make_url(pg_server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"viewgen_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _truncate(repo: Repository) -> None:
    with repo.engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables if t.name != "schema_migrations")
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None) -> str:
    """A database URL: SQLite always; PostgreSQL when VIEWGEN_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'viewgen.db'}"
    if not pg_database:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    return pg_database


@pytest.fixture
def repo(db_url: str) -> Iterator[Repository]:
    if db_url.startswith("postgresql"):
        from viewgen.store.postgres import open_postgres_repository

        # the production path: migrations plus Row Level Security for members and admins
        repository: Repository = open_postgres_repository(db_url)
        _truncate(repository)
    else:
        repository = open_repository(db_url)
    yield repository
    repository.engine.dispose()


@pytest.fixture
def pg_repo(pg_database: str | None) -> Iterator[Repository]:
    """The PostgreSQL repository alone (for PostgreSQL-only tests), RLS on, tables empty."""
    if not pg_database:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    from viewgen.store.postgres import open_postgres_repository

    repository: Repository = open_postgres_repository(pg_database)
    _truncate(repository)
    yield repository
    repository.engine.dispose()


@pytest.fixture
def fresh_pg_url(pg_server_url: str | None) -> Iterator[str]:
    """An empty PostgreSQL database of its own (no tables, no RLS), dropped afterwards."""
    if not pg_server_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    url = make_url(pg_server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"viewgen_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# Tests draw 384-px images: the offline renderer's CPU time grows with the pixels, and
# what these tests check (states, ledger, revisions, QA) does not depend on the size.
# The renderer's own tests, the QA tests and the CLI still cover the 1024-px default.
TEST_IMAGE_SIZE = 384


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=db_url,
                    image_size=TEST_IMAGE_SIZE)


@pytest.fixture
def studio(settings: Settings, repo: Repository) -> Iterator[Studio]:
    from viewgen.providers.offline import OfflineExtractor, OfflineGenerator

    s = Studio(settings, repo, LocalBlobStore(settings.blob_dir), OfflineGenerator(),
               OfflineExtractor())
    yield s
    s.close(drain_s=10)  # let work a test started finish before the engine stops


@pytest.fixture
def auth(repo: Repository, settings: Settings) -> LocalAuth:
    return LocalAuth(repo, settings)


@pytest.fixture
def admin(auth: LocalAuth) -> User:
    return auth.sign_up("admin@example.com", "correct horse", "Ada Admin")


@pytest.fixture
def member(auth: LocalAuth, admin: User) -> User:
    return auth.sign_up("member@example.com", "correct horse", "Max Member")


@pytest.fixture
def other_member(auth: LocalAuth, admin: User) -> User:
    return auth.sign_up("other@example.com", "correct horse", "Olga Other")

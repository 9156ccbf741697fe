"""API fixtures: a real uvicorn on a free loopback port over a Studio, and API tokens.

``serve(studio, **settings)`` starts the app in a thread (uvicorn's own server, port 0,
so the OS picks a free port) and stops it after the test; clients are ``httpx`` with a
bearer token. The Studio is the shared ``studio`` fixture (SQLite always, PostgreSQL
with Row Level Security when ``VIEWGEN_TEST_DATABASE_URL`` is set) at a small image size
so a whole offline product takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from api_helpers import LiveServer, client, token_for

from viewgen.api import create_app
from viewgen.auth import create_account
from viewgen.domain import User
from viewgen.settings import Settings
from viewgen.store import Repository
from viewgen.workflow import Studio


@pytest.fixture
def settings(tmp_path, db_url: str) -> Settings:
    # small images: the offline renderer draws a whole product in a few seconds
    return Settings(data_dir=tmp_path / "data", database_url=db_url, image_size=256,
                    api_rate_per_minute=0)


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(studio: Studio, supabase_client: Any | None = None, **overrides: Any) -> LiveServer:
        api_settings = studio.settings.model_copy(update=overrides)
        server = LiveServer(create_app(studio, api_settings,
                                       supabase_client=supabase_client)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(serve, studio: Studio) -> LiveServer:
    return serve(studio)


@pytest.fixture
def alice(repo: Repository, settings: Settings, admin: User) -> User:
    return create_account(repo, settings, "alice@example.com", password_hash=None)


@pytest.fixture
def bob(repo: Repository, settings: Settings, admin: User) -> User:
    return create_account(repo, settings, "bob@example.com", password_hash=None)


@pytest.fixture
def alice_api(server: LiveServer, repo: Repository, alice: User) -> Iterator[httpx.Client]:
    with client(server, token_for(repo, alice)) as c:
        yield c


@pytest.fixture
def bob_api(server: LiveServer, repo: Repository, bob: User) -> Iterator[httpx.Client]:
    with client(server, token_for(repo, bob)) as c:
        yield c



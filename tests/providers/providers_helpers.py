"""Fixtures for the provider contract tests: loopback Gemini and OpenAI servers, and
settings that point the real SDKs at them with short timeouts and tiny backoff."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FAKE_GEMINI_KEY, FAKE_OPENAI_KEY, GeminiServer, OpenAIServer

from viewgen.providers.limits import reset_limiters
from viewgen.settings import Settings


@pytest.fixture(autouse=True)
def _fresh_limiters() -> Iterator[None]:
    """A cooldown one test provokes must not slow the next one down."""
    reset_limiters()
    yield
    reset_limiters()


@pytest.fixture
def gemini_server() -> Iterator[GeminiServer]:
    with GeminiServer() as server:
        yield server


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


def provider_settings_for(tmp_path: Path, gemini: GeminiServer | None,
                          openai: OpenAIServer | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "image_provider": "gemini" if gemini else "offline",
        "feature_provider": "openai" if openai else "offline",
        "gemini_api_key": FAKE_GEMINI_KEY if gemini else None,
        "openai_api_key": FAKE_OPENAI_KEY if openai else None,
        "gemini_base_url": gemini.url if gemini else None,
        "openai_base_url": f"{openai.url}/v1" if openai else None,
        "provider_timeout_s": 2.0,
        "provider_max_attempts": 3,
        "provider_retry_initial_s": 0.01,
        "provider_max_retry_wait_s": 5.0,
        "provider_rpm": 0,
        "provider_concurrency": 4,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def provider_settings(tmp_path: Path, gemini_server: GeminiServer,
                      openai_server: OpenAIServer) -> Settings:
    return provider_settings_for(tmp_path, gemini_server, openai_server)

"""Settings: defaults, environment, the secrets file, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewgen.settings import Settings


def test_embedded_defaults() -> None:
    s = Settings()
    assert s.image_provider == "offline" and s.feature_provider == "offline"
    assert s.resolved_database_url == "sqlite:///data/viewgen.db"
    assert (s.price_front, s.price_retry, s.price_view) == (3, 2, 1)
    assert s.provider_label == "offline demo renderer"


def test_environment_and_secrets_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('GEMINI_API_KEY = "gm-secret-123"\n[viewgen]\nprice_front = 5\n'
                       'image_provider = "gemini"\n')
    monkeypatch.setenv("VIEWGEN_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-456")
    s = Settings()
    assert s.data_dir == tmp_path / "d"
    assert s.price_front == 5
    assert s.image_provider == "gemini"
    assert s.gemini_api_key.get_secret_value() == "gm-secret-123"
    assert s.openai_api_key.get_secret_value() == "sk-test-456"
    for text in (repr(s), str(s), s.model_dump_json()):
        assert "gm-secret-123" not in text and "sk-test-456" not in text
    monkeypatch.setenv("VIEWGEN_PRICE_FRONT", "4")
    assert Settings().price_front == 4  # the environment wins over the file


def test_keys_alone_switch_to_hosted_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gm-key")
    assert (Settings().image_provider, Settings().feature_provider) == ("gemini", "gemini")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-key")
    s = Settings()
    assert (s.image_provider, s.feature_provider) == ("gemini", "openai")
    assert s.provider_label == "Gemini + OpenAI"
    monkeypatch.setenv("VIEWGEN_IMAGE_PROVIDER", "offline")
    assert Settings().image_provider == "offline"  # an explicit choice wins

"""Settings: defaults, environment, the secrets file, and secrets that never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from viewgen.errors import ConfigurationError
from viewgen.settings import Settings, load_settings


def test_embedded_defaults() -> None:
    s = Settings()
    assert s.image_provider == "offline" and s.feature_provider == "offline"
    assert s.resolved_database_url == "sqlite:///data/viewgen.db"
    # the seed's prices: a product 3 with its four other views, a retry 2, a view
    # regenerated later 1
    assert (s.price_front, s.price_retry, s.price_view, s.price_regenerate) == (3, 2, 0, 1)
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


def test_zero_is_a_valid_price_for_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FRONT", "RETRY", "VIEW", "REGENERATE"):
        monkeypatch.setenv(f"VIEWGEN_PRICE_{name}", "0")
    s = load_settings()
    assert (s.price_front, s.price_retry, s.price_view, s.price_regenerate) == (0, 0, 0, 0)


@pytest.mark.parametrize("value", ["-1", "2.5", "2.0", "one", "", "true"])
def test_a_bad_price_stops_the_start_with_the_settings_name(
        monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("VIEWGEN_PRICE_VIEW", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert "VIEWGEN_PRICE_VIEW must be a whole number of credits, 0 or more" in message
    assert repr(value) in message


def test_a_bad_price_in_the_secrets_file_is_refused_too(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("[viewgen]\nprice_regenerate = -2\nprice_retry = 1.5\n")
    monkeypatch.setenv("VIEWGEN_SECRETS_FILE", str(secrets))
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "VIEWGEN_PRICE_REGENERATE" in str(caught.value)
    assert "VIEWGEN_PRICE_RETRY" in str(caught.value)
    secrets.write_text("[viewgen]\nprice_regenerate = 4\n")
    assert load_settings().price_regenerate == 4

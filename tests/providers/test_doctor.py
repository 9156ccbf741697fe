"""``python -m viewgen doctor``: which providers are configured and reachable, with
keys shown only as "set"."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fakes import FAKE_GEMINI_KEY, FAKE_OPENAI_KEY, GeminiServer, OpenAIServer, gemini_bad_key
from providers_helpers import provider_settings_for

from viewgen.providers.doctor import (
    check_providers,
    configuration_problems,
    doctor_report,
    missing_key_message,
)
from viewgen.settings import Settings


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_offline_needs_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert configuration_problems(settings) == []
    text, code = doctor_report(settings)
    assert code == 0
    assert "offline renderer needs no keys" in text
    assert [c.key for c in check_providers(settings, probe=True)] == ["not needed"] * 2


def test_a_chosen_provider_without_its_key_is_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, image_provider="gemini", feature_provider="openai")
    assert configuration_problems(settings) == [
        "VIEWGEN_IMAGE_PROVIDER is 'gemini' but GEMINI_API_KEY is not set (env or "
        ".streamlit/secrets.toml): set the key, or set VIEWGEN_IMAGE_PROVIDER=offline.",
        missing_key_message("VIEWGEN_FEATURE_PROVIDER", "openai"),
    ]
    checks = check_providers(settings, probe=True)
    assert [(c.provider, c.key, c.configured, c.reachable) for c in checks] == [
        ("gemini", "not set", False, None), ("openai", "not set", False, None)]
    text, code = doctor_report(settings)
    assert code == 1
    assert "GEMINI_API_KEY is not set" in text and "OPENAI_API_KEY is not set" in text
    assert "2 problem(s) found." in text


def test_configured_and_reachable_providers_pass(tmp_path: Path, gemini_server: GeminiServer,
                                                 openai_server: OpenAIServer) -> None:
    settings = provider_settings_for(tmp_path, gemini_server, openai_server)
    assert configuration_problems(settings) == []
    checks = check_providers(settings, probe=True)
    assert [(c.role, c.provider, c.key, c.reachable) for c in checks] == [
        ("image", "gemini", "set", True), ("features", "openai", "set", True)]
    gets = [r.path for r in gemini_server.requests + openai_server.requests]
    assert gets == ["/v1beta/models/gemini-2.5-flash-image", "/v1/models/gpt-4o-mini"]
    text, code = doctor_report(settings)
    assert code == 0, text
    assert "every provider is configured and reachable" in text
    assert "reachable (" in text
    for secret in (FAKE_GEMINI_KEY, FAKE_OPENAI_KEY):
        assert secret not in text and secret[-4:] not in text


def test_gemini_as_feature_provider_probes_the_text_model(
    tmp_path: Path, gemini_server: GeminiServer
) -> None:
    settings = provider_settings_for(tmp_path, gemini_server, None, feature_provider="gemini")
    checks = check_providers(settings, probe=True)
    assert [c.model for c in checks] == ["gemini-2.5-flash-image", "gemini-2.5-flash"]
    assert all(c.ok for c in checks)
    assert [r.path for r in gemini_server.requests] == [
        "/v1beta/models/gemini-2.5-flash-image", "/v1beta/models/gemini-2.5-flash"]


def test_a_rejected_key_fails_the_probe(tmp_path: Path, gemini_server: GeminiServer,
                                        openai_server: OpenAIServer) -> None:
    gemini_server.push_get(gemini_bad_key())
    settings = provider_settings_for(tmp_path, gemini_server, openai_server)
    text, code = doctor_report(settings)
    assert code == 1
    assert "KEY REJECTED" in text
    assert "image (gemini): Gemini rejected the API key" in text
    assert len(gemini_server.requests) == 1  # a probe is never retried


def test_an_unreachable_provider_fails_quickly(tmp_path: Path,
                                               openai_server: OpenAIServer) -> None:
    settings = provider_settings_for(tmp_path, None, openai_server,
                                     openai_base_url=f"{_closed_port_url()}/v1")
    (_, features) = check_providers(settings, probe=True)
    assert features.reachable is False
    assert features.status == "UNREACHABLE"
    assert "Could not reach OpenAI" in features.detail


def test_without_probing_nothing_is_sent(tmp_path: Path, gemini_server: GeminiServer,
                                         openai_server: OpenAIServer) -> None:
    settings = provider_settings_for(tmp_path, gemini_server, openai_server)
    text, code = doctor_report(settings, probe=False)
    assert code == 0
    assert "configured (not probed)" in text
    assert gemini_server.requests == [] and openai_server.requests == []


def test_bad_limits_urls_and_aspect_ratio_are_named(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, image_provider="gemini", gemini_api_key="k" * 39,
                        provider_max_attempts=0, provider_timeout_s=0,
                        gemini_base_url="ftp://example.test", aspect_ratio="7:3")
    problems = " | ".join(configuration_problems(settings))
    for setting in ("VIEWGEN_PROVIDER_MAX_ATTEMPTS", "VIEWGEN_PROVIDER_TIMEOUT_S",
                    "VIEWGEN_GEMINI_BASE_URL", "VIEWGEN_ASPECT_RATIO"):
        assert setting in problems


def test_an_unused_key_gets_a_hint(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, openai_api_key="sk-unused-key-1234",
                        feature_provider="offline")
    text, code = doctor_report(settings)
    assert code == 0
    assert "OPENAI_API_KEY is set but unused" in text
    assert "sk-unused" not in text and "1234" not in text


def test_the_cli_command_prints_the_report_and_exits_non_zero_on_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from viewgen.cli import main

    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path))
    assert main(["doctor"]) == 0
    assert "offline renderer needs no keys" in capsys.readouterr().out
    monkeypatch.setenv("VIEWGEN_IMAGE_PROVIDER", "gemini")
    assert main(["doctor", "--no-probe"]) == 1
    assert "GEMINI_API_KEY is not set" in capsys.readouterr().out


# -- --probe-image: the image quota, which models.get cannot see -------------------------
def test_a_key_without_image_quota_passes_the_cheap_probe_but_not_probe_image(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    from fakes import gemini_zero_quota

    settings = provider_settings_for(tmp_path, gemini_server, None, provider_max_attempts=4)
    gemini_server.push(*[gemini_zero_quota()] * 4)
    text, code = doctor_report(settings)  # models.get only: the model is found
    assert code == 0
    assert "doctor --probe-image" in text and "about $0.039" in text
    assert gemini_server.posts() == []
    text, code = doctor_report(settings, probe_image=True)
    assert code == 1
    assert "NO QUOTA" in text
    assert "no quota for gemini-2.5-flash-image" in text and "Enable billing" in text
    assert len(gemini_server.posts()) == 1  # one image call, not retried


def test_probe_image_states_the_price_first_then_draws_one_image(
        tmp_path: Path, gemini_server: GeminiServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from viewgen.cli import main

    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_GEMINI_KEY)
    monkeypatch.setenv("VIEWGEN_GEMINI_BASE_URL", gemini_server.url)
    monkeypatch.setenv("VIEWGEN_FEATURE_PROVIDER", "offline")
    assert main(["doctor", "--probe-image"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first == ("--probe-image draws one real image with Gemini gemini-2.5-flash-image: "
                     "about $0.039, billed to GEMINI_API_KEY.")
    assert "image probe: drew one 1024×1024 image with gemini-2.5-flash-image ($0.0" in out
    assert [r.method for r in gemini_server.requests] == ["GET", "POST"]
    assert FAKE_GEMINI_KEY not in out

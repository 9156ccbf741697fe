"""One registry of providers: settings, building, prices and doctor all read it, so a
provider declared there (and nowhere else) is selectable, built, priced and checked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from viewgen.domain import CallUsage, GeneratedImage, GenerationRequest
from viewgen.errors import ConfigurationError
from viewgen.providers import build_extractor, build_generator, registry
from viewgen.providers.doctor import check_providers, configuration_problems, doctor_report
from viewgen.providers.prices import PRICES, estimate_cost
from viewgen.settings import Settings


class EchoGenerator:
    """A test adapter living outside viewgen: proves nothing names providers by hand."""

    name = "echo"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        return GeneratedImage(data=b"png", usage=CallUsage(provider="echo", model="echo-1"))

    def probe(self, timeout_s: float = 5.0) -> str:
        return "echo-1"

    def close(self) -> None:
        pass


@pytest.fixture
def with_echo(monkeypatch: pytest.MonkeyPatch) -> registry.ProviderSpec:
    spec = registry.ProviderSpec(
        name="echo", label="Echo", adapters={"image": f"{__name__}:EchoGenerator"},
        key_setting="openai_api_key", key_env="ECHO_API_KEY",
        fixed_models={"image": "echo-1"},
        models=(registry.Model("echo-1", registry.Price(per_image=0.5)),),
        probe="echo probe",
    )
    monkeypatch.setitem(registry.PROVIDERS, "echo", spec)
    return spec


def test_every_registered_provider_is_complete() -> None:
    for spec in registry.PROVIDERS.values():
        assert spec.roles, spec.name
        for role in spec.roles:
            assert callable(spec.adapter_class(role)), (spec.name, role)
            assert spec.model(Settings(), role)
        if spec.needs_key:
            assert spec.key_env and spec.models and spec.probe
    assert registry.names_for("image") == ["offline", "gemini"]
    assert registry.names_for("features") == ["offline", "gemini", "openai"]


def test_prices_come_from_the_registry() -> None:
    assert PRICES["gemini-2.5-flash-image"].per_image == 0.039
    assert set(PRICES) == {m.name for s in registry.PROVIDERS.values() for m in s.models}
    assert estimate_cost("gemini-2.5-flash-image-001", 1000, None, 1) == pytest.approx(0.0393)


def test_temperature_rules_are_declared_per_model() -> None:
    assert registry.accepts_temperature("gemini-2.5-flash-image")
    assert not registry.accepts_temperature("gemini-3-pro-image-preview")
    assert not registry.accepts_temperature("o4-mini")
    assert registry.accepts_temperature("gpt-4o-mini")


def test_an_unknown_provider_names_the_setting_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="set VIEWGEN_IMAGE_PROVIDER to 'offline' or 'gemini'"):
        Settings(data_dir=tmp_path, image_provider="dalle")
    with pytest.raises(ConfigurationError, match="'offline', 'gemini' or 'openai'"):
        registry.spec_for("features", "nope")


def test_a_provider_declared_only_in_the_registry_works_everywhere(
        tmp_path: Path, with_echo: registry.ProviderSpec) -> None:
    settings = Settings(data_dir=tmp_path, image_provider="echo", openai_api_key="sk-x" * 5)
    assert isinstance(build_generator(settings), EchoGenerator)
    assert settings.provider_label == "Echo + OpenAI"
    assert estimate_cost("echo-1", None, None, 2) == 1.0
    assert configuration_problems(settings) == []
    [image, _] = check_providers(settings, probe=True)
    assert (image.provider, image.model, image.reachable) == ("echo", "echo-1", True)
    text, _ = doctor_report(settings)
    assert "echo" in text and "echo-1" in text
    no_key = replace(with_echo, key_setting="gemini_api_key")
    registry.PROVIDERS["echo"] = no_key
    problems = configuration_problems(Settings(data_dir=tmp_path, image_provider="echo"))
    assert problems == ["VIEWGEN_IMAGE_PROVIDER is 'echo' but ECHO_API_KEY is not set (env "
                        "or .streamlit/secrets.toml): set the key, or set "
                        "VIEWGEN_IMAGE_PROVIDER=offline."]


def test_keys_pick_providers_by_the_registrys_ranking(tmp_path: Path) -> None:
    both = Settings(data_dir=tmp_path, gemini_api_key="AIza" + "x" * 35,
                    openai_api_key="sk-" + "y" * 30)
    assert (both.image_provider, both.feature_provider) == ("gemini", "openai")
    only_gemini = Settings(data_dir=tmp_path, gemini_api_key="AIza" + "x" * 35)
    assert only_gemini.feature_provider == "gemini"
    assert isinstance(build_extractor(Settings(data_dir=tmp_path)).name, str)

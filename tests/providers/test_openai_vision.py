"""OpenAIExtractor: the real openai SDK against a loopback server speaking
``POST /v1/chat/completions``."""

from __future__ import annotations

import base64
import logging
import time
from pathlib import Path

import pytest
from fakes import (
    FAKE_OPENAI_KEY,
    FEATURES,
    OpenAIServer,
    Reply,
    openai_bad_key,
    openai_content,
    openai_content_filter,
    openai_error,
    openai_features,
    openai_image_url,
    openai_insufficient_quota,
    openai_length,
    openai_rate_limited,
    openai_refusal,
    openai_unavailable,
    product_png,
)
from providers_helpers import provider_settings_for

from viewgen.domain import ColorUsage
from viewgen.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    QuotaExhausted,
    Refused,
    SafetyBlocked,
    Truncated,
)
from viewgen.providers import build_extractor
from viewgen.providers.openai_vision import OpenAIExtractor
from viewgen.settings import Settings

FRONT = product_png((1024, 1024))


def _settings(tmp_path: Path, server: OpenAIServer, **overrides: object) -> Settings:
    return provider_settings_for(tmp_path, None, server, **overrides)


@pytest.fixture
def extractor(tmp_path: Path, openai_server: OpenAIServer) -> OpenAIExtractor:
    return OpenAIExtractor(_settings(tmp_path, openai_server))


def test_sends_the_front_as_a_data_url_with_a_strict_schema(
    extractor: OpenAIExtractor, openai_server: OpenAIServer
) -> None:
    extractor.extract(FRONT)
    (sent,) = openai_server.posts()
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {FAKE_OPENAI_KEY}"
    body = sent.json
    assert body["model"] == "gpt-4o-mini"
    assert body["temperature"] == pytest.approx(0.1)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    image_url = openai_image_url(sent)
    assert image_url["detail"] == "high"
    prefix = "data:image/png;base64,"
    assert image_url["url"].startswith(prefix)
    assert base64.b64decode(image_url["url"][len(prefix):]) == FRONT
    user_text = [c["text"] for c in body["messages"][1]["content"] if c["type"] == "text"]
    assert "keyElements" in user_text[0]

    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    spec = response_format["json_schema"]
    assert spec["strict"] is True and spec["name"] == "ProductFeatures"
    schema = spec["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]) == {
        "colors", "materials", "keyElements", "estimatedDimensions", "description"}
    # the seed's {width, height, depth, unit}: strict, every field required, a size nullable
    assert schema["properties"]["estimatedDimensions"] == {"$ref": "#/$defs/DimensionsSpec"}
    dims = schema["$defs"]["DimensionsSpec"]
    assert dims["additionalProperties"] is False
    assert set(dims["required"]) == set(dims["properties"]) == {"width", "height", "depth",
                                                                "unit"}
    for axis in ("width", "height", "depth"):
        assert {"type": "null"} in dims["properties"][axis]["anyOf"]
    assert dims["properties"]["unit"]["enum"] == ["cm", "in"]
    color = schema["$defs"]["ColorSpec"]
    assert color["additionalProperties"] is False
    assert color["properties"]["usage"]["enum"] == ["primary", "secondary", "accent"]


def test_parses_features_usage_and_cost(extractor: OpenAIExtractor) -> None:
    result = extractor.extract(FRONT)
    features = result.features
    assert [(c.hex, c.name, c.usage) for c in features.colors] == [
        ("#1F3A93", "navy blue", ColorUsage.PRIMARY),
        ("#F2F2F2", "off white", ColorUsage.SECONDARY),
        ("#E67E22", "orange", ColorUsage.ACCENT),
    ]
    assert features.materials == FEATURES["materials"]
    assert features.keyElements == FEATURES["keyElements"]
    assert features.estimatedDimensions.model_dump() == {
        "width": 30, "height": 45, "depth": 15, "unit": "cm", "note": None}
    assert features.dimensions_text == "30 × 45 × 15 cm"
    assert features.description.startswith("A navy canvas backpack")
    assert features.not_measured == []
    usage = result.usage
    assert (usage.provider, usage.model, usage.attempts) == ("openai", "gpt-4o-mini", 1)
    assert (usage.input_tokens, usage.output_tokens, usage.images) == (25512, 164, 0)
    assert usage.cost_usd == pytest.approx(25512 * 0.15 / 1e6 + 164 * 0.60 / 1e6, abs=1e-6)


def test_bad_hex_colours_are_dropped_and_noted(extractor: OpenAIExtractor,
                                               openai_server: OpenAIServer) -> None:
    some_bad = {**FEATURES, "colors": [
        {"hex": "#12345", "name": "blue-ish", "usage": "primary"},
        {"hex": "ff8800", "name": "orange", "usage": "accent"},
    ]}
    all_bad = {**FEATURES, "colors": [{"hex": "red", "name": "red", "usage": "primary"}],
               "estimatedDimensions": {"width": None, "height": None, "depth": None,
                                       "unit": "cm"}}
    openai_server.push(openai_features(some_bad), openai_features(all_bad))
    first = extractor.extract(FRONT).features
    assert [c.hex for c in first.colors] == ["#FF8800"]
    assert first.not_measured == []
    second = extractor.extract(FRONT).features
    assert second.colors == []
    assert second.not_measured == ["colors", "estimatedDimensions"]


@pytest.mark.parametrize(("reply", "error", "match"), [
    (openai_refusal("I'm sorry, I can't help identify this item."), Refused,
     "declined to describe the front view: .I'm sorry, I can't help identify this item"),
    (openai_length(), Truncated, "cut off at the length limit"),
    (openai_content_filter(), SafetyBlocked, "content filter"),
    (openai_content('{"colors": [oops'), MalformedResponse, "not valid JSON"),
    (openai_content('{"colors": []}'), MalformedResponse, "not valid JSON"),
    (Reply(200, b"<html>gateway</html>"), MalformedResponse, "not valid JSON"),
])
def test_unusable_answers_are_typed(extractor: OpenAIExtractor, openai_server: OpenAIServer,
                                    reply: Reply, error: type, match: str) -> None:
    openai_server.push(reply)
    with pytest.raises(error, match=match):
        extractor.extract(FRONT)
    assert len(openai_server.posts()) == 1


def test_a_refusal_is_final(extractor: OpenAIExtractor, openai_server: OpenAIServer) -> None:
    openai_server.push(openai_refusal())
    with pytest.raises(Refused) as caught:
        extractor.extract(FRONT)
    assert caught.value.retryable is False


def test_429_then_success(extractor: OpenAIExtractor, openai_server: OpenAIServer) -> None:
    openai_server.push(openai_rate_limited(30))
    result = extractor.extract(FRONT)
    assert result.usage.attempts == 2
    first, second = openai_server.posts()
    assert second.at - first.at >= 0.029


def test_500_twice_then_success(extractor: OpenAIExtractor, openai_server: OpenAIServer) -> None:
    openai_server.push(openai_unavailable(500, 10), openai_unavailable(500, 10))
    result = extractor.extract(FRONT)
    assert result.usage.attempts == 3


def test_server_errors_after_every_attempt_are_unavailable(
    extractor: OpenAIExtractor, openai_server: OpenAIServer
) -> None:
    openai_server.push(*[openai_unavailable(503, 5)] * 3)
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503.*after 3 attempts") as caught:
        extractor.extract(FRONT)
    assert caught.value.attempts == 3


def test_rate_limited_after_every_attempt_is_quota_exhausted_but_retryable(
    extractor: OpenAIExtractor, openai_server: OpenAIServer
) -> None:
    openai_server.push(*[openai_rate_limited(5)] * 3)
    with pytest.raises(QuotaExhausted, match="rate-limiting") as caught:
        extractor.extract(FRONT)
    assert caught.value.retryable is True
    assert len(openai_server.posts()) == 3


def test_a_retry_after_longer_than_we_wait_ends_the_call_at_once(
    extractor: OpenAIExtractor, openai_server: OpenAIServer
) -> None:
    openai_server.push(openai_error(429, "Rate limit reached", type_="tokens",
                                    code="rate_limit_exceeded", headers={"retry-after": "40"}))
    started = time.monotonic()
    with pytest.raises(QuotaExhausted, match="asked to wait 40 s"):
        extractor.extract(FRONT)
    assert time.monotonic() - started < 1  # the SDK alone would sleep the 40 s
    assert len(openai_server.posts()) == 1


def test_insufficient_quota_is_final_at_once(extractor: OpenAIExtractor,
                                             openai_server: OpenAIServer) -> None:
    openai_server.push(openai_insufficient_quota(), openai_insufficient_quota())
    started = time.monotonic()
    with pytest.raises(QuotaExhausted, match="run out of credit") as caught:
        extractor.extract(FRONT)
    assert time.monotonic() - started < 0.4  # the SDK would have backed off 0.5 s+
    assert len(openai_server.posts()) == 1
    assert caught.value.retryable is False
    assert caught.value.attempts == 1


def test_a_bad_key_never_quotes_the_servers_message(
    extractor: OpenAIExtractor, openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    openai_server.push(openai_bad_key())
    with pytest.raises(AuthenticationFailed, match="OPENAI_API_KEY") as caught:
        extractor.extract(FRONT)
    for text in (str(caught.value), repr(caught.value), caught.value.detail or ""):
        assert FAKE_OPENAI_KEY[-4:] not in text and FAKE_OPENAI_KEY not in text
    assert len(openai_server.posts()) == 1
    assert FAKE_OPENAI_KEY not in caplog.text
    assert FAKE_OPENAI_KEY not in repr(extractor)


def test_a_key_echoed_in_a_400_is_redacted(extractor: OpenAIExtractor,
                                           openai_server: OpenAIServer) -> None:
    openai_server.push(openai_error(400, f"Invalid image for key {FAKE_OPENAI_KEY}",
                                    type_="invalid_request_error", code="invalid_image"))
    with pytest.raises(ProviderError, match=r"HTTP 400.*\[redacted\]") as caught:
        extractor.extract(FRONT)
    assert FAKE_OPENAI_KEY not in str(caught.value)
    assert FAKE_OPENAI_KEY not in (caught.value.detail or "")
    assert caught.value.retryable is False


def test_an_unknown_model_names_the_setting(extractor: OpenAIExtractor,
                                            openai_server: OpenAIServer) -> None:
    openai_server.push(openai_error(404, "The model `gpt-4o-mini` does not exist",
                                    type_="invalid_request_error", code="model_not_found"))
    with pytest.raises(ProviderError, match="VIEWGEN_OPENAI_MODEL"):
        extractor.extract(FRONT)


def test_a_slow_server_times_out(tmp_path: Path, openai_server: OpenAIServer) -> None:
    extractor = OpenAIExtractor(_settings(tmp_path, openai_server, provider_timeout_s=0.3,
                                          provider_max_attempts=1))
    openai_server.push(Reply(delay_s=1.2))
    with pytest.raises(ProviderTimeout, match=r"within 0\.3 s"):
        extractor.extract(FRONT)
    assert len(openai_server.posts()) == 1


def test_a_timeout_is_sent_again_once_only(tmp_path: Path, openai_server: OpenAIServer) -> None:
    # five attempts allowed for 429/5xx; a hung request goes out twice, not five times
    extractor = OpenAIExtractor(_settings(tmp_path, openai_server, provider_timeout_s=0.3,
                                          provider_max_attempts=5))
    openai_server.push(*[Reply(delay_s=1.2)] * 5)
    with pytest.raises(ProviderTimeout) as info:
        extractor.extract(FRONT)
    assert len(openai_server.posts()) == 2
    assert "timed out 2 times; viewgen sends a timed-out request again only once" in str(
        info.value)
    openai_server.reset()
    extractor.extract(FRONT)  # the next call has its own budget
    assert len(openai_server.posts()) == 1


def test_temperature_is_not_sent_to_reasoning_models(tmp_path: Path,
                                                     openai_server: OpenAIServer) -> None:
    extractor = OpenAIExtractor(_settings(tmp_path, openai_server, openai_model="o4-mini"))
    extractor.extract(FRONT)
    (sent,) = openai_server.posts()
    assert sent.json["model"] == "o4-mini"
    assert "temperature" not in sent.json


def test_a_missing_key_is_a_configuration_error_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, feature_provider="openai")
    with pytest.raises(ConfigurationError) as caught:
        build_extractor(settings)
    assert ("VIEWGEN_FEATURE_PROVIDER is 'openai' but OPENAI_API_KEY is not set"
            in str(caught.value))


def test_keys_come_from_the_environment_or_the_secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_server: OpenAIServer
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('OPENAI_API_KEY = "sk-from-secrets-file"\n')
    monkeypatch.setenv("VIEWGEN_SECRETS_FILE", str(secrets))
    monkeypatch.setenv("VIEWGEN_FEATURE_PROVIDER", "openai")
    monkeypatch.setenv("VIEWGEN_OPENAI_BASE_URL", f"{openai_server.url}/v1")
    build_extractor(Settings()).extract(FRONT)
    assert openai_server.posts()[-1].headers["authorization"] == "Bearer sk-from-secrets-file"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    build_extractor(Settings()).extract(FRONT)
    assert openai_server.posts()[-1].headers["authorization"] == "Bearer sk-from-env"


def test_a_key_echoed_in_a_400_reaches_no_message_and_no_log(
        tmp_path: Path, openai_server: OpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from fakes import FAKE_OPENAI_KEY, openai_error

    extractor = OpenAIExtractor(_settings(tmp_path, openai_server, provider_max_attempts=1))
    masked = f"{FAKE_OPENAI_KEY[:8]}****{FAKE_OPENAI_KEY[-4:]}"
    openai_server.push(openai_error(
        400, f"Invalid request for key {FAKE_OPENAI_KEY} ({masked}).",
        type_="invalid_request_error", code=None))
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as info:
        extractor.extract(FRONT)
    logging.getLogger("openai._base_client").info("retrying: %s", info.value.detail)
    for text in (str(info.value), info.value.detail or "", caplog.text):
        assert FAKE_OPENAI_KEY not in text
        assert masked not in text
        assert FAKE_OPENAI_KEY[:10] not in text
    assert "Invalid request for key [redacted]" in str(info.value)

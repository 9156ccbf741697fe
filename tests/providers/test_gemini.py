"""GeminiGenerator / GeminiExtractor: the real google-genai SDK against a loopback
server speaking ``POST /v1beta/models/{model}:generateContent``."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from pathlib import Path

import pytest
from fakes import (
    FAKE_GEMINI_KEY,
    FEATURES,
    GeminiServer,
    Reply,
    gemini_bad_key,
    gemini_error,
    gemini_finish,
    gemini_image,
    gemini_images,
    gemini_no_candidates,
    gemini_parts,
    gemini_prompt_blocked,
    gemini_quota,
    gemini_text,
    gemini_unavailable,
    malformed_json,
    product_png,
)
from PIL import Image
from providers_helpers import provider_settings_for

from viewgen.domain import GenerationRequest, ViewType
from viewgen.errors import (
    AuthenticationFailed,
    ConfigurationError,
    MalformedResponse,
    NoImageReturned,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    QuotaExhausted,
    SafetyBlocked,
    Truncated,
)
from viewgen.providers import build_extractor, build_generator
from viewgen.providers.gemini import GeminiExtractor, GeminiGenerator
from viewgen.settings import Settings

REFERENCE = product_png((300, 200), (120, 30, 30))
LOGO = product_png((64, 64), (250, 200, 0))
FRONT = product_png((1024, 1024), (31, 58, 147))


def _settings(tmp_path: Path, server: GeminiServer, **overrides: object) -> Settings:
    return provider_settings_for(tmp_path, server, None, **overrides)


@pytest.fixture
def generator(tmp_path: Path, gemini_server: GeminiServer) -> GeminiGenerator:
    return GeminiGenerator(_settings(tmp_path, gemini_server))


def _front(**kw: object) -> GenerationRequest:
    return GenerationRequest(view=ViewType.FRONT, prompt="Front view of a navy backpack.",
                             **kw)  # type: ignore[arg-type]


def _view(view: ViewType = ViewType.BACK, **kw: object) -> GenerationRequest:
    return GenerationRequest(view=view, prompt=f"{view.value} view, match the first image.",
                             front=FRONT, **kw)  # type: ignore[arg-type]


def _pixel(png: bytes, xy: tuple[int, int]) -> tuple[int, ...]:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB").getpixel(xy)


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# ---------------------------------------------------------------------- requests
def test_front_sends_prompt_reference_then_logo_with_the_seed_config(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    result = generator.generate(_front(reference=REFERENCE, logo=LOGO))

    (sent,) = gemini_server.posts()
    assert sent.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert sent.headers["x-goog-api-key"] == FAKE_GEMINI_KEY
    parts = gemini_parts(sent)
    assert parts[0] == {"text": "Front view of a navy backpack."}
    assert gemini_images(sent) == [REFERENCE, LOGO]
    assert [p["inlineData"]["mime_type"] for p in parts[1:]] == ["image/png", "image/png"]
    config = sent.json["generationConfig"]
    assert config["temperature"] == pytest.approx(0.1)
    assert config["responseModalities"] == ["IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "1:1"}  # 2.5 takes no imageSize

    with Image.open(io.BytesIO(result.data)) as image:
        assert (image.format, image.size) == ("PNG", (1024, 1024))
    assert result.mime_type == "image/png"
    usage = result.usage
    assert (usage.provider, usage.model, usage.attempts) == ("gemini", "gemini-2.5-flash-image", 1)
    assert (usage.input_tokens, usage.output_tokens, usage.images) == (1548, 1290, 1)
    assert usage.cost_usd == pytest.approx(0.039 + 1548 * 0.30 / 1e6, abs=1e-6)
    assert result.meta["finish_reason"] == "STOP"


def test_text_only_front_sends_no_images(generator: GeminiGenerator,
                                         gemini_server: GeminiServer) -> None:
    generator.generate(_front())
    (sent,) = gemini_server.posts()
    assert gemini_images(sent) == []


def test_other_views_send_the_approved_front_first_then_the_logo(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    generator.generate(_view(ViewType.SIDE, logo=LOGO, reference=REFERENCE))
    (sent,) = gemini_server.posts()
    assert gemini_images(sent) == [FRONT, LOGO]  # the reference is the front's business
    assert gemini_parts(sent)[0]["text"].startswith("side view")


def test_a_view_without_its_front_is_refused_before_any_call(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    with pytest.raises(ProviderError, match="approved front"):
        generator.generate(GenerationRequest(view=ViewType.TOP, prompt="top"))
    assert gemini_server.posts() == []


def test_model_aspect_ratio_and_size_come_from_settings(tmp_path: Path,
                                                        gemini_server: GeminiServer) -> None:
    settings = _settings(tmp_path, gemini_server, gemini_model="gemini-3-pro-image",
                         aspect_ratio="4:3", image_size=2048)
    result = GeminiGenerator(settings).generate(_front(size=(2048, 1536)))
    (sent,) = gemini_server.posts()
    assert sent.path.startswith("/v1beta/models/gemini-3-pro-image:generateContent")
    assert sent.json["generationConfig"]["imageConfig"] == {"aspectRatio": "4:3",
                                                            "imageSize": "2K"}
    with Image.open(io.BytesIO(result.data)) as image:  # square answer fitted, not stretched
        assert image.size == (1536, 1536)


# ---------------------------------------------------------------------- answers
def test_thought_parts_are_skipped(generator: GeminiGenerator,
                                   gemini_server: GeminiServer) -> None:
    gemini_server.push(gemini_image(product_png((1024, 1024), (31, 58, 147)), thought=True,
                                    text="Here is your product."))
    result = generator.generate(_front())
    assert _pixel(result.data, (512, 300)) == (31, 58, 147)  # not the red thought image


def test_a_jpeg_answer_becomes_a_png_of_the_requested_size(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_image(product_png((512, 512), fmt="JPEG"), mime_type="image/jpeg"))
    result = generator.generate(_front(size=(1024, 1024)))
    with Image.open(io.BytesIO(result.data)) as image:
        assert (image.format, image.size) == ("PNG", (1024, 1024))
    assert result.meta["source_format"] == "JPEG"
    assert result.meta["resized"] is True


def test_bytes_that_are_not_an_image_are_a_malformed_response(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_image(b"this is not a png at all"))
    with pytest.raises(MalformedResponse, match="not a readable picture"):
        generator.generate(_front())


def test_malformed_json_is_a_malformed_response(generator: GeminiGenerator,
                                                gemini_server: GeminiServer) -> None:
    gemini_server.push(malformed_json())
    with pytest.raises(MalformedResponse, match="not valid JSON"):
        generator.generate(_front())


@pytest.mark.parametrize(("reason", "words"), [
    ("IMAGE_SAFETY", "image-safety filter"),
    ("IMAGE_PROHIBITED_CONTENT", "prohibited content"),
    ("SAFETY", "safety filter"),
    ("PROHIBITED_CONTENT", "prohibited content"),
])
def test_a_safety_finish_reason_is_safety_blocked_and_names_it(
    generator: GeminiGenerator, gemini_server: GeminiServer, reason: str, words: str
) -> None:
    gemini_server.push(gemini_finish(reason))
    with pytest.raises(SafetyBlocked) as caught:
        generator.generate(_view(ViewType.BACK))
    message = str(caught.value)
    assert reason in message and words in message
    assert "back view" in message
    assert caught.value.retryable is False


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT", "OTHER"])
def test_a_blocked_prompt_without_candidates_is_safety_blocked(
    generator: GeminiGenerator, gemini_server: GeminiServer, reason: str
) -> None:
    gemini_server.push(gemini_prompt_blocked(reason))
    with pytest.raises(SafetyBlocked, match=f"refused the request before.*\\({reason}\\)"):
        generator.generate(_front())


def test_a_text_only_answer_is_no_image_and_quotes_the_text(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_text("I can describe the backpack, but drawing it is not "
                                   "something I can do right now. " * 5))
    with pytest.raises(NoImageReturned) as caught:
        generator.generate(_front())
    message = str(caught.value)
    assert "text instead of an image" in message
    assert "I can describe the backpack" in message
    assert len(message) < 300  # a short bit, not the whole answer


def test_an_empty_candidate_list_is_no_image(generator: GeminiGenerator,
                                             gemini_server: GeminiServer) -> None:
    gemini_server.push(gemini_no_candidates())
    with pytest.raises(NoImageReturned, match="empty candidate list"):
        generator.generate(_front())


def test_no_image_finish_reason_is_no_image(generator: GeminiGenerator,
                                            gemini_server: GeminiServer) -> None:
    gemini_server.push(gemini_finish("NO_IMAGE"))
    with pytest.raises(NoImageReturned, match="NO_IMAGE"):
        generator.generate(_view(ViewType.TOP))


# ---------------------------------------------------------------------- retries
def test_429_then_success_waits_the_servers_retry_delay(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_quota("0.3s"))
    result = generator.generate(_front())
    first, second = gemini_server.posts()
    assert second.at - first.at >= 0.29  # the SDK's own backoff here is 0.01 s
    assert result.usage.attempts == 2


def test_500_twice_then_success_counts_three_attempts(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_unavailable(500), gemini_unavailable(500))
    result = generator.generate(_front())
    assert result.usage.attempts == 3
    assert len(gemini_server.posts()) == 3


def test_quota_exhausted_after_every_attempt(generator: GeminiGenerator,
                                             gemini_server: GeminiServer) -> None:
    gemini_server.push(*[gemini_quota("0.01s")] * 3)
    with pytest.raises(QuotaExhausted) as caught:
        generator.generate(_front())
    assert "quota" in str(caught.value) and "after 3 attempts" in str(caught.value)
    assert caught.value.attempts == 3
    assert len(gemini_server.posts()) == 3


def test_a_retry_delay_longer_than_we_wait_ends_the_call_at_once(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_quota("40s"))
    started = time.monotonic()
    with pytest.raises(QuotaExhausted, match="40 s"):
        generator.generate(_front())
    assert time.monotonic() - started < 2
    assert len(gemini_server.posts()) == 1


def test_server_errors_after_every_attempt_are_unavailable(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(*[gemini_unavailable(503)] * 3)
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503 UNAVAILABLE.*after 3 attempts"):
        generator.generate(_front())


def test_a_slow_server_times_out_and_is_tried_once_more_only(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    # four attempts allowed for 429/5xx, but a timed-out image may still be drawn and
    # billed, so a timeout is tried again once, never three more times
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_timeout_s=0.3,
                                          provider_max_attempts=4))
    gemini_server.push(Reply(delay_s=1.2), Reply(delay_s=1.2), Reply(delay_s=1.2))
    with pytest.raises(ProviderTimeout) as info:
        generator.generate(_front())
    message = str(info.value)
    assert message.startswith("Gemini did not answer within 0.3 s (viewgen tried 2 times; "
                              "it retries a timed-out call only once")
    assert len(gemini_server.posts()) == 2
    assert info.value.attempts == 2


def test_one_timeout_then_an_image_succeeds(tmp_path: Path,
                                            gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_timeout_s=0.3))
    gemini_server.push(Reply(delay_s=1.2))  # then the default answer: an image
    image = generator.generate(_front())
    assert image.meta["timeouts"] == 1
    assert image.usage.attempts == 2
    assert len(gemini_server.posts()) == 2


def test_an_unreachable_server_is_unavailable(tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server,
                                          gemini_base_url=_closed_port_url()))
    with pytest.raises(ProviderUnavailable, match="Could not reach Gemini"):
        generator.generate(_front())


# ---------------------------------------------------------------------- keys
def test_a_bad_key_is_authentication_failed_and_not_retried(
    generator: GeminiGenerator, gemini_server: GeminiServer
) -> None:
    gemini_server.push(gemini_bad_key())
    with pytest.raises(AuthenticationFailed, match="GEMINI_API_KEY"):
        generator.generate(_front())
    assert len(gemini_server.posts()) == 1


@pytest.mark.parametrize("code", [401, 403])
def test_401_and_403_are_authentication_failed(generator: GeminiGenerator,
                                               gemini_server: GeminiServer, code: int) -> None:
    gemini_server.push(gemini_error(code, "PERMISSION_DENIED" if code == 403 else
                                    "UNAUTHENTICATED", "Method doesn't allow unregistered callers"))
    with pytest.raises(AuthenticationFailed, match=f"HTTP {code}"):
        generator.generate(_front())


def test_an_unknown_model_names_the_setting(generator: GeminiGenerator,
                                            gemini_server: GeminiServer) -> None:
    gemini_server.push(gemini_error(404, "NOT_FOUND", "models/x is not found for API version "
                                    "v1beta"))
    with pytest.raises(ProviderError, match="VIEWGEN_GEMINI_MODEL") as caught:
        generator.generate(_front())
    assert caught.value.retryable is False


def test_a_missing_key_is_a_configuration_error_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, image_provider="gemini", feature_provider="gemini")
    with pytest.raises(ConfigurationError) as caught:
        build_generator(settings)
    assert "VIEWGEN_IMAGE_PROVIDER is 'gemini' but GEMINI_API_KEY is not set" in str(caught.value)
    with pytest.raises(ConfigurationError, match=r"VIEWGEN_FEATURE_PROVIDER .* GEMINI_API_KEY"):
        build_extractor(settings)
    blank = Settings(data_dir=tmp_path, image_provider="gemini", gemini_api_key="   ")
    with pytest.raises(ConfigurationError):
        GeminiGenerator(blank)


def test_the_key_never_shows_in_errors_logs_or_reprs(
    tmp_path: Path, gemini_server: GeminiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_timeout_s=0.3,
                                          provider_max_attempts=2))
    # a server that echoes the key back must not get it into our messages either
    gemini_server.push(
        gemini_bad_key(),
        gemini_quota("0.01s"), gemini_quota("0.01s"),
        gemini_error(400, "INVALID_ARGUMENT", f"Bad request from key {FAKE_GEMINI_KEY}"),
        malformed_json(),
        Reply(delay_s=1.0), Reply(delay_s=1.0),
        gemini_finish("IMAGE_SAFETY"),
    )
    errors = []
    for _ in range(6):
        with pytest.raises(ProviderError) as caught:
            generator.generate(_front())
        errors.append(caught.value)
    assert [type(e).__name__ for e in errors] == [
        "AuthenticationFailed", "QuotaExhausted", "ProviderError", "MalformedResponse",
        "ProviderTimeout", "SafetyBlocked"]
    for error in errors:
        for text in (str(error), repr(error), error.detail or "", error.user_message):
            assert FAKE_GEMINI_KEY not in text
    assert "[redacted]" in str(errors[2])
    assert FAKE_GEMINI_KEY not in caplog.text
    assert FAKE_GEMINI_KEY not in repr(generator)
    assert FAKE_GEMINI_KEY[-8:] not in repr(generator.limiter)


# ---------------------------------------------------------------------- limits
def test_concurrency_is_left_to_the_durable_queue(tmp_path: Path) -> None:
    """The adapter no longer caps calls per process: the provider's DBOS queue caps them
    across every process (tests/test_durable_processes.py holds that limit)."""
    with GeminiServer(latency_s=0.15) as server:
        generator = GeminiGenerator(_settings(tmp_path, server, provider_concurrency=2))
        threads = [threading.Thread(target=generator.generate, args=(_front(),))
                   for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert len(server.posts()) == 5
        assert generator.limiter.concurrency == 0 and generator.limiter.rpm == 0


def test_a_429_delay_holds_back_every_thread(tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server))
    gemini_server.push(gemini_quota("0.4s"))
    first = threading.Thread(target=generator.generate, args=(_front(),))
    first.start()
    deadline = time.monotonic() + 5
    while generator.limiter.cooldown_remaining() == 0 and time.monotonic() < deadline:
        time.sleep(0.002)  # poll until the 429 has landed and set the cooldown
    generator.generate(_front())  # a different call, same key
    first.join(timeout=5)
    times = sorted(r.at for r in gemini_server.posts())
    assert len(times) == 3
    assert times[1] - times[0] >= 0.39


# ---------------------------------------------------------------------- extractor
@pytest.fixture
def extractor(tmp_path: Path, gemini_server: GeminiServer) -> GeminiExtractor:
    return GeminiExtractor(_settings(tmp_path, gemini_server, feature_provider="gemini"))


def test_extractor_asks_the_text_model_for_the_schema(extractor: GeminiExtractor,
                                                      gemini_server: GeminiServer) -> None:
    result = extractor.extract(FRONT)
    (sent,) = gemini_server.posts()
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert gemini_images(sent) == [FRONT]
    config = sent.json["generationConfig"]
    assert config["temperature"] == pytest.approx(0.1)
    assert config["responseMimeType"] == "application/json"
    schema = config["responseSchema"]
    assert set(schema["required"]) == {"colors", "materials", "keyElements",
                                       "estimatedDimensions", "description"}
    dims = schema["properties"]["estimatedDimensions"]  # the seed's object, sizes nullable
    assert set(dims["required"]) == {"width", "height", "depth", "unit"}
    assert all(dims["properties"][axis]["nullable"] is True
               for axis in ("width", "height", "depth"))
    assert dims["properties"]["unit"]["enum"] == ["cm", "in"]
    assert "systemInstruction" in sent.json
    features = result.features
    assert [c.hex for c in features.colors] == [c["hex"] for c in FEATURES["colors"]]
    assert features.keyElements == FEATURES["keyElements"]
    assert features.dimensions_text == "30 × 45 × 15 cm"
    assert features.not_measured == []
    assert result.usage.model == "gemini-2.5-flash"
    assert result.usage.cost_usd == pytest.approx(1300 * 0.30 / 1e6 + 180 * 2.50 / 1e6, abs=1e-6)


def test_extractor_drops_a_bad_hex_and_keeps_the_rest(extractor: GeminiExtractor,
                                                      gemini_server: GeminiServer) -> None:
    import json

    broken = {**FEATURES, "colors": [{"hex": "navy", "name": "navy", "usage": "primary"},
                                     {"hex": "e67e22", "name": "orange", "usage": "accent"}]}
    gemini_server.push(gemini_text(json.dumps(broken)))
    features = extractor.extract(FRONT).features
    assert [c.hex for c in features.colors] == ["#E67E22"]


@pytest.mark.parametrize(("reply", "error", "match"), [
    (gemini_text('{"colors": [ not json'), MalformedResponse, "not valid JSON"),
    (gemini_text('{"colors": []}'), MalformedResponse, "missing required fields"),
    (gemini_text('{"colors": [', finish="MAX_TOKENS"), Truncated, "cut off"),
    (gemini_finish("SAFETY"), SafetyBlocked, "SAFETY"),
    (gemini_prompt_blocked("PROHIBITED_CONTENT"), SafetyBlocked, "PROHIBITED_CONTENT"),
])
def test_extractor_failures_are_typed(extractor: GeminiExtractor, gemini_server: GeminiServer,
                                      reply: Reply, error: type, match: str) -> None:
    gemini_server.push(reply)
    with pytest.raises(error, match=match):
        extractor.extract(FRONT)


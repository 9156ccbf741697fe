"""Gemini hardening, with the real google-genai SDK against the loopback server: a quota
that cannot come back is final and says what to do; the seed, the temperature rule, a
403's explanation, IMAGE_OTHER and finishMessage reach the wire or the person; an edit
of a rejected front sends that image; no key ever reaches a message or a log line."""

from __future__ import annotations

import base64
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fakes import (
    FAKE_GEMINI_KEY,
    GeminiServer,
    gemini_daily_quota,
    gemini_error,
    gemini_finish,
    gemini_images,
    gemini_parts,
    gemini_quota,
    gemini_text,
    gemini_zero_quota,
    product_png,
)
from providers_helpers import provider_settings_for

from viewgen.domain import GenerationRequest, RetryMode, ViewType
from viewgen.errors import AuthenticationFailed, NoImageReturned, QuotaExhausted
from viewgen.prompts import edit_prompt
from viewgen.providers.gemini import GeminiExtractor, GeminiGenerator, read_quota
from viewgen.settings import Settings

REFERENCE = product_png((300, 200), (120, 30, 30))
LOGO = product_png((64, 64), (250, 200, 0))
REJECTED = product_png((512, 512), (200, 20, 20))


def _settings(tmp_path: Path, server: GeminiServer, **overrides: object) -> Settings:
    return provider_settings_for(tmp_path, server, None, **overrides)


def _front(**kw: object) -> GenerationRequest:
    return GenerationRequest(view=ViewType.FRONT, prompt="Front view of a red mug.",
                             **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- quota
def test_a_key_with_no_quota_for_the_model_is_final_and_says_what_to_do(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_max_attempts=4))
    gemini_server.push(*[gemini_zero_quota()] * 4)
    with pytest.raises(QuotaExhausted) as info:
        generator.generate(_front())
    error = info.value
    assert len(gemini_server.posts()) == 1  # not retried four times
    assert error.retryable is False
    message = str(error)
    assert "no quota for gemini-2.5-flash-image on the free tier" in message
    assert "limit 0" in message and "Enable billing" in message and "another" not in \
        message.split("Enable billing")[0]
    assert "GEMINI_API_KEY" in message
    assert "wait a little" not in message.lower()


def test_a_used_up_daily_quota_is_final_and_says_tomorrow(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_max_attempts=4))
    gemini_server.push(*[gemini_daily_quota(limit="100")] * 4)
    with pytest.raises(QuotaExhausted) as info:
        generator.generate(_front())
    assert len(gemini_server.posts()) == 1
    assert info.value.retryable is False
    message = str(info.value)
    assert "used up its daily quota for gemini-2.5-flash-image" in message
    assert "GenerateRequestsPerDayPerProjectPerModel, limit 100 a day" in message
    assert "Try again tomorrow" in message


def test_a_per_minute_limit_is_still_retried(tmp_path: Path,
                                             gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_max_attempts=3))
    gemini_server.push(gemini_quota("0.01s"))  # then an image
    image = generator.generate(_front())
    assert image.usage.attempts == 2


@pytest.mark.parametrize(("body", "zero", "daily", "model"), [
    ({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message":
      "* Quota exceeded for metric: generativelanguage.googleapis.com/"
      "generate_content_free_tier_requests, limit: 0, model: gemini-3-pro-image"}},
     True, False, "gemini-3-pro-image"),
    ({"error": {"code": 429, "message": "Quota exceeded", "details": [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
         "metadata": {"quota_limit_value": "0", "quota_metric":
                      "generativelanguage.googleapis.com/generate_content_requests",
                      "quota_limit": "GenerateContentRequestsPerMinutePerProjectPerRegion"}}]}},
     True, False, None),
    ([{"error": {"code": 429, "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric": "m", "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
             "quotaValue": "10"}]}]}}], False, False, None),
])
def test_read_quota_reads_every_shape_google_sends(body, zero, daily, model) -> None:
    problem = read_quota(body)
    assert problem is not None
    assert (problem.zero, problem.daily, problem.final) == (zero, daily, zero or daily)
    assert problem.model == model
    assert read_quota({"error": {"code": 429, "message": "Resource has been exhausted"}}) \
        is None


# ---------------------------------------------------------------------- the request
def test_the_seed_reaches_gemini(tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server))
    generator.generate(_front(seed=123456))
    generator.generate(_front(seed=2**40 + 5))  # folded into int32
    first, second = (p.json["generationConfig"] for p in gemini_server.posts())
    assert first["seed"] == 123456
    assert 0 <= second["seed"] < 2**31
    assert first["temperature"] == pytest.approx(0.1)


def test_temperature_is_not_sent_to_gemini_3_models(tmp_path: Path,
                                                    gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server,
                                          gemini_model="gemini-3-pro-image-preview"))
    generator.generate(_front(seed=7))
    config = gemini_server.posts()[0].json["generationConfig"]
    assert "temperature" not in config
    assert config["seed"] == 7


def test_a_403_keeps_googles_explanation(tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server))
    gemini_server.push(gemini_error(
        403, "PERMISSION_DENIED", "Generative Language API has not been used in project "
        "1234 before or it is disabled. Enable it by visiting the console then retry."))
    with pytest.raises(AuthenticationFailed) as info:
        generator.generate(_front())
    message = str(info.value)
    assert "HTTP 403 PERMISSION_DENIED" in message
    assert "Generative Language API has not been used in project 1234" in message
    assert len(gemini_server.posts()) == 1


def test_image_other_and_the_finish_message_are_shown(tmp_path: Path,
                                                      gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server, provider_max_attempts=1))
    gemini_server.push(gemini_finish("IMAGE_OTHER", "Unable to show the generated image."))
    with pytest.raises(NoImageReturned) as info:
        generator.generate(_front())
    message = str(info.value)
    assert "IMAGE_OTHER" in message and "did not name" in message
    assert "\u201cUnable to show the generated image.\u201d" in message


# ---------------------------------------------------------------------- edit mode
def test_an_edit_sends_the_rejected_image_first_with_the_edit_prompt(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server))
    prompt = edit_prompt(["make it red", "make the handle black"], text="a mug",
                         has_logo=True)
    image = generator.generate(GenerationRequest(
        view=ViewType.FRONT, prompt=prompt, text="a mug", reference=REFERENCE, logo=LOGO,
        feedback=("make it red", "make the handle black"), edit_of=REJECTED,
        retry_mode=RetryMode.EDIT, seed=3))
    [post] = gemini_server.posts()
    parts = gemini_parts(post)
    assert "make the handle black" in parts[0]["text"]
    assert "Keep everything else exactly as it is" in parts[0]["text"]
    assert gemini_images(post) == [REJECTED, LOGO]  # the rejected front, then the logo
    assert [p["inlineData"]["mime_type"] for p in parts[1:]] == ["image/png", "image/png"]
    assert image.meta["mode"] == "edit"


def test_a_fresh_retry_sends_the_reference_not_the_rejected_image(
        tmp_path: Path, gemini_server: GeminiServer) -> None:
    generator = GeminiGenerator(_settings(tmp_path, gemini_server))
    image = generator.generate(_front(reference=REFERENCE, edit_of=REJECTED,
                                      retry_mode=RetryMode.FRESH))
    assert gemini_images(gemini_server.posts()[0]) == [REFERENCE]
    assert image.meta["mode"] == "fresh"


def test_edit_prompt_needs_feedback() -> None:
    with pytest.raises(ValueError, match="feedback"):
        edit_prompt([" "])


# ---------------------------------------------------------------------- keys
class _EchoingServer:
    """A Gemini endpoint that answers every call with a 400 (or a text part) that repeats
    the key it was sent, as a misbehaving proxy or an error page might."""

    def __init__(self, mode: str) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                key = self.headers.get("x-goog-api-key", "")
                if outer.mode == "text":
                    body = gemini_text(f"I cannot draw that. Your key is {key}, "
                                       f"partly {key[:14]}***.").body
                    status = 200
                else:
                    body = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                                      f"Request with key {key} (starts {key[:12]}) rejected"}}
                    status = 400
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.mode = mode
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("mode", ["error", "text"])
def test_a_key_echoed_by_the_server_is_in_no_message_and_no_log(
        tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture) -> None:
    server = _EchoingServer(mode)
    try:
        settings = Settings(data_dir=tmp_path, image_provider="gemini",
                            gemini_api_key=FAKE_GEMINI_KEY, gemini_base_url=server.url,
                            provider_max_attempts=1, provider_rpm=0,
                            provider_retry_initial_s=0.01)
        generator = GeminiGenerator(settings)
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(Exception) as info:
                generator.generate(_front())
            # and whatever the SDKs or we log about it, at any level
            logging.getLogger("google_genai._api_client").warning(
                "retrying after %s", info.value.detail)
            logging.getLogger("httpx").info("HTTP Request: POST %s?key=%s", server.url,
                                             FAKE_GEMINI_KEY)
    finally:
        server.close()
    error = info.value
    assert "I cannot draw that" in str(error) or "rejected" in str(error)
    for text in (str(error), error.user_message, error.detail or "", caplog.text,
                 *(r.getMessage() for r in caplog.records)):
        assert FAKE_GEMINI_KEY not in text
        assert FAKE_GEMINI_KEY[:12] not in text
    assert "[redacted]" in str(error)


def test_the_base64_of_the_image_is_not_mistaken_for_a_key() -> None:
    from viewgen.redact import redact

    blob = base64.b64encode(product_png((32, 32))).decode()
    assert redact(f"data {blob}") == f"data {blob}"


def test_the_extractor_masks_keys_too(tmp_path: Path, gemini_server: GeminiServer) -> None:
    extractor = GeminiExtractor(_settings(tmp_path, gemini_server, provider_max_attempts=1))
    gemini_server.push(gemini_error(400, "INVALID_ARGUMENT",
                                    f"bad request for {FAKE_GEMINI_KEY}"))
    with pytest.raises(Exception) as info:
        extractor.extract(REFERENCE)
    assert FAKE_GEMINI_KEY not in str(info.value)
    assert FAKE_GEMINI_KEY not in (info.value.detail or "")

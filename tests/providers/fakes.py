"""Loopback HTTP servers that speak Gemini's and OpenAI's REST formats.

The contract tests and ``bench/provider_latency.py`` point the real SDKs at these
(``VIEWGEN_GEMINI_BASE_URL`` / ``VIEWGEN_OPENAI_BASE_URL``). Each server records
every request it gets (method, path, headers, JSON body) and answers from a script
of ``Reply`` objects pushed by the test, falling back to a correct default answer
(a real PNG; a valid feature JSON). It can add a fixed latency to every answer and
inject a share of 429 / 503 answers ("chaos") for the benchmark.

Formats follow the published REST references: Gemini
``POST /v1beta/models/{model}:generateContent`` (camelCase JSON, ``inlineData``,
``finishReason``, ``usageMetadata``, ``promptFeedback.blockReason``, errors as
``{"error": {"code", "message", "status", "details": [...]}}``) and
``GET /v1beta/models/{model}``; OpenAI ``POST /v1/chat/completions`` (a
``chat.completion`` object, errors as ``{"error": {"message", "type", "param",
"code"}}``) and ``GET /v1/models/{model}``.
"""

from __future__ import annotations

import base64
import io
import json
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

FAKE_GEMINI_KEY = "AIzaSyFAKE-gemini-test-key-0123456789abcd"
FAKE_OPENAI_KEY = "sk-test-FAKE-openai-key-0123456789abcdef"

FEATURES = {
    "colors": [
        {"hex": "#1F3A93", "name": "navy blue", "usage": "primary"},
        {"hex": "#F2F2F2", "name": "off white", "usage": "secondary"},
        {"hex": "#E67E22", "name": "orange", "usage": "accent"},
    ],
    "materials": ["canvas", "leather"],
    "keyElements": ["two shoulder straps", "front zip pocket", "leather logo patch"],
    "estimatedDimensions": {"width": 30, "height": 45, "depth": 15, "unit": "cm"},
    "description": "A navy canvas backpack with a front zip pocket and tan leather trims.",
}


def product_png(size: tuple[int, int] = (1024, 1024), color: tuple[int, int, int] = (31, 58, 147),
                fmt: str = "PNG") -> bytes:
    """A small studio-like product picture: a coloured block on light grey."""
    image = Image.new("RGB", size, (235, 235, 235))
    w, h = size
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((w * 0.3, h * 0.2, w * 0.7, h * 0.85), radius=max(2, w // 20),
                           fill=color)
    draw.rectangle((w * 0.4, h * 0.45, w * 0.6, h * 0.6), fill=(230, 126, 34))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


# ---------------------------------------------------------------------- plumbing
@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> as is; None -> the default answer
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


ReplyLike = Reply | Callable[[Recorded], Reply]


@dataclass
class Chaos:
    """Answer a share of POSTs with a retryable error (the benchmark's bad weather)."""

    rate: float
    seed: int = 7
    make: Callable[[random.Random], Reply] | None = None
    injected: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


class LoopbackServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1:0 in a daemon thread."""

    def __init__(self, *, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.requests: list[Recorded] = []
        self.chaos: Chaos | None = None
        self._post_script: deque[ReplyLike] = deque()
        self._get_script: deque[ReplyLike] = deque()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.in_flight = 0
        self.peak_in_flight = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LoopbackServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes; without this, Nagle's algorithm
                # and the client's delayed ACK add ~40 ms to every answer
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_port}"

    # ------------------------------------------------------------------ scripting
    def push(self, *replies: ReplyLike) -> None:
        """Answers for the next POSTs, in order; then the default answer again."""
        with self._lock:
            self._post_script.extend(replies)

    def push_get(self, *replies: ReplyLike) -> None:
        with self._lock:
            self._get_script.extend(replies)

    def posts(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._post_script.clear()
            self._get_script.clear()

    # ------------------------------------------------------------------ serving
    def default_reply(self, request: Recorded) -> Reply:  # pragma: no cover - overridden
        return Reply(404, {"error": {"message": "not found"}})

    def _pick(self, request: Recorded) -> ReplyLike:
        with self._lock:
            script = self._post_script if request.method == "POST" else self._get_script
            if script:
                return script.popleft()
            chaos = self.chaos
            if (chaos is not None and request.method == "POST" and chaos.make is not None
                    and chaos.rng.random() < chaos.rate):
                chaos.injected += 1
                return chaos.make(chaos.rng)
        return self.default_reply

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Recorded(method, handler.path,
                           {k.lower(): v for k, v in handler.headers.items()}, body,
                           time.monotonic())
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            chosen = self._pick(request)
            reply = chosen(request) if callable(chosen) else chosen
            if reply.body is None and reply.status == 200:
                default = self.default_reply(request)
                reply = Reply(default.status, default.body, {**default.headers, **reply.headers},
                              reply.delay_s)
            wait = self.latency_s + reply.delay_s
            if wait > 0:
                time.sleep(wait)
            payload = reply.body
            if isinstance(payload, dict | list):
                data = json.dumps(payload).encode()
                content_type = "application/json; charset=UTF-8"
            elif isinstance(payload, str):
                data = payload.encode()
                content_type = "application/json; charset=UTF-8"
            else:
                data = payload or b""
                content_type = "application/json; charset=UTF-8"
            try:
                handler.send_response(reply.status)
                handler.send_header("Content-Type", content_type)
                handler.send_header("Content-Length", str(len(data)))
                for name, value in reply.headers.items():
                    handler.send_header(name, value)
                handler.end_headers()
                handler.wfile.write(data)
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer
        finally:
            with self._lock:
                self.in_flight -= 1


# ---------------------------------------------------------------------- Gemini
_GEMINI_GENERATE = re.compile(r"^/v1beta/models/(?P<model>[^/:?]+):generateContent")
_GEMINI_GET = re.compile(r"^/v1beta/models/(?P<model>[^/:?]+)$")

GEMINI_USAGE = {"promptTokenCount": 1548, "candidatesTokenCount": 1290, "totalTokenCount": 2838}


def gemini_image(png: bytes | None = None, *, text: str | None = None, thought: bool = False,
                 mime_type: str = "image/png", finish: str = "STOP",
                 usage: dict[str, int] | None = None) -> Reply:
    """A candidate with an image part (optionally after text / a thought part)."""
    parts: list[dict[str, Any]] = []
    if thought:
        parts.append({"text": "Planning the composition of the product shot.", "thought": True})
        parts.append({"inlineData": {"mimeType": "image/png",
                                     "data": base64.b64encode(product_png((64, 64),
                                                                          (255, 0, 0))).decode()},
                      "thought": True})
    if text:
        parts.append({"text": text})
    parts.append({"inlineData": {"mimeType": mime_type,
                                 "data": base64.b64encode(png or product_png()).decode()}})
    return Reply(200, {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish,
                        "index": 0}],
        "usageMetadata": usage or GEMINI_USAGE,
        "modelVersion": "gemini-2.5-flash-image",
        "responseId": "fake-response",
    })


def gemini_text(text: str, *, finish: str = "STOP",
                usage: dict[str, int] | None = None) -> Reply:
    return Reply(200, {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": finish, "index": 0}],
        "usageMetadata": usage or {"promptTokenCount": 1300, "candidatesTokenCount": 180,
                                   "totalTokenCount": 1480},
        "modelVersion": "gemini-2.5-flash",
    })


def gemini_finish(reason: str, message: str | None = None) -> Reply:
    """A candidate that stopped for ``reason`` with no content (IMAGE_SAFETY, NO_IMAGE ...),
    with Gemini's ``finishMessage`` when given."""
    candidate: dict[str, Any] = {"finishReason": reason, "index": 0}
    if message:
        candidate["finishMessage"] = message
    return Reply(200, {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 1548, "totalTokenCount": 1548},
        "modelVersion": "gemini-2.5-flash-image",
    })


def gemini_prompt_blocked(reason: str) -> Reply:
    """No candidates; ``promptFeedback.blockReason`` says why."""
    return Reply(200, {
        "promptFeedback": {"blockReason": reason},
        "usageMetadata": {"promptTokenCount": 1548, "totalTokenCount": 1548},
        "modelVersion": "gemini-2.5-flash-image",
    })


def gemini_no_candidates() -> Reply:
    return Reply(200, {"candidates": [], "usageMetadata": {"promptTokenCount": 10}})


def gemini_error(code: int, status: str, message: str,
                 details: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> Reply:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return Reply(code, {"error": error}, headers or {})


def gemini_quota(retry_delay: str = "0.05s") -> Reply:
    return gemini_error(429, "RESOURCE_EXHAUSTED", (
        "You exceeded your current quota, please check your plan and billing details. For "
        "more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
        "rate-limits."), [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric": "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas",
             "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
    ])


def gemini_zero_quota(model: str = "gemini-2.5-flash-image") -> Reply:
    """A key with no quota at all for ``model`` (the free tier's image models): limit 0."""
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    return gemini_error(429, "RESOURCE_EXHAUSTED", (
        "You exceeded your current quota, please check your plan and billing details. For "
        "more information on this error, head to: https://ai.google.dev/gemini-api/docs/"
        "rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n"
        f"* Quota exceeded for metric: {metric}, limit: 0, model: {model}\n"
        "Please retry in 25.465784708s."), [
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas",
             "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric": metric,
             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
             "quotaDimensions": {"location": "global", "model": model}},
            {"quotaMetric": metric,
             "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
             "quotaDimensions": {"location": "global", "model": model}}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"},
    ])


def gemini_daily_quota(model: str = "gemini-2.5-flash-image", limit: str = "100") -> Reply:
    """A per-day quota used up (a minute's wait cannot help)."""
    return gemini_error(429, "RESOURCE_EXHAUSTED", (
        "You exceeded your current quota, please check your plan and billing details."), [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric":
                "generativelanguage.googleapis.com/generate_content_paid_tier_requests",
             "quotaId": "GenerateRequestsPerDayPerProjectPerModel",
             "quotaDimensions": {"location": "global", "model": model},
             "quotaValue": limit}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.05s"},
    ])


def gemini_unavailable(code: int = 503) -> Reply:
    status = {500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}.get(code, "UNKNOWN")
    message = {500: "An internal error has occurred. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting",
               503: "The model is overloaded. Please try again later."}.get(code, "error")
    return gemini_error(code, status, message)


def gemini_bad_key() -> Reply:
    return gemini_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
         "domain": "googleapis.com",
         "metadata": {"service": "generativelanguage.googleapis.com"}},
        {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
         "message": "API key not valid. Please pass a valid API key."},
    ])


def malformed_json() -> Reply:
    return Reply(200, b'{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": ')


class GeminiServer(LoopbackServer):
    """``generateContent`` for an image model (PNG) or a text model (feature JSON)."""

    def __init__(self, *, latency_s: float = 0.0, features: dict[str, Any] | None = None) -> None:
        super().__init__(latency_s=latency_s)
        self.features = features or FEATURES
        self._png = product_png()

    def default_reply(self, request: Recorded) -> Reply:
        if request.method == "GET":
            match = _GEMINI_GET.match(request.path.split("?")[0])
            if not match:
                return gemini_error(404, "NOT_FOUND", f"Unknown path {request.path}")
            model = match.group("model")
            return Reply(200, {
                "name": f"models/{model}", "version": "001", "displayName": model,
                "inputTokenLimit": 32768, "outputTokenLimit": 32768,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            })
        match = _GEMINI_GENERATE.match(request.path)
        if not match:
            return gemini_error(404, "NOT_FOUND", f"Unknown path {request.path}")
        if "image" in match.group("model"):
            return gemini_image(self._png)
        return gemini_text(json.dumps(self.features))

    @staticmethod
    def chaos_reply(rng: random.Random) -> Reply:
        return gemini_quota("0.02s") if rng.random() < 0.5 else gemini_unavailable(503)


def gemini_parts(request: Recorded) -> list[dict[str, Any]]:
    body = request.json or {}
    return [p for c in body.get("contents", []) for p in c.get("parts", [])]


def gemini_images(request: Recorded) -> list[bytes]:
    """The inline images of a generateContent request, in order.

    google-genai sends bytes as URL-safe base64, which the API accepts like standard
    base64 (protobuf JSON reads both).
    """
    return [base64.urlsafe_b64decode(p["inlineData"]["data"]) for p in gemini_parts(request)
            if "inlineData" in p]


# ---------------------------------------------------------------------- OpenAI
_OPENAI_CHAT = "/v1/chat/completions"
_OPENAI_MODEL = re.compile(r"^/v1/models/(?P<model>[^/?]+)$")
OPENAI_USAGE = {"prompt_tokens": 25512, "completion_tokens": 164, "total_tokens": 25676}


def _completion(message: dict[str, Any], finish: str = "stop",
                usage: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake123", "object": "chat.completion", "created": 1_750_000_000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": None,
                                             "refusal": None, "annotations": [], **message},
                     "logprobs": None, "finish_reason": finish}],
        "usage": usage or OPENAI_USAGE,
        "service_tier": "default", "system_fingerprint": "fp_fake",
    }


def openai_features(features: dict[str, Any] | None = None,
                    usage: dict[str, int] | None = None) -> Reply:
    return Reply(200, _completion({"content": json.dumps(features or FEATURES)}, usage=usage))


def openai_content(content: str) -> Reply:
    return Reply(200, _completion({"content": content}))


def openai_refusal(text: str = "I'm sorry, I can't help with that request.") -> Reply:
    return Reply(200, _completion({"refusal": text}))


def openai_length() -> Reply:
    return Reply(200, _completion({"content": '{"colors": [{"hex": "#1F3A93", "na'},
                                  finish="length"))


def openai_content_filter() -> Reply:
    return Reply(200, _completion({"content": None}, finish="content_filter"))


def openai_error(status: int, message: str, *, type_: str, code: str | None,
                 headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"message": message, "type": type_, "param": None,
                                    "code": code}}, headers or {})


def openai_rate_limited(retry_after_ms: int = 20) -> Reply:
    return openai_error(429, "Rate limit reached for gpt-4o-mini on requests per min (RPM): "
                             "Limit 500, Used 500, Requested 1.",
                        type_="requests", code="rate_limit_exceeded",
                        headers={"retry-after-ms": str(retry_after_ms)})


def openai_insufficient_quota() -> Reply:
    return openai_error(429, "You exceeded your current quota, please check your plan and "
                             "billing details. For more information on this error, read the "
                             "docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                        type_="insufficient_quota", code="insufficient_quota")


def openai_bad_key(key: str = FAKE_OPENAI_KEY) -> Reply:
    # the real message repeats part of the key, which is why we never quote it
    masked = f"{key[:6]}{'*' * 20}{key[-4:]}"
    return openai_error(401, f"Incorrect API key provided: {masked}. You can find your API key "
                             "at https://platform.openai.com/account/api-keys.",
                        type_="invalid_request_error", code="invalid_api_key")


def openai_unavailable(status: int = 503, retry_after_ms: int | None = None) -> Reply:
    headers = {"retry-after-ms": str(retry_after_ms)} if retry_after_ms is not None else {}
    return openai_error(status, "The server is overloaded or not ready yet.",
                        type_="server_error", code=None, headers=headers)


class OpenAIServer(LoopbackServer):
    """``chat.completions`` answering the feature schema; ``models/{id}`` for doctor."""

    def __init__(self, *, latency_s: float = 0.0, features: dict[str, Any] | None = None) -> None:
        super().__init__(latency_s=latency_s)
        self.features = features or FEATURES

    def default_reply(self, request: Recorded) -> Reply:
        if request.method == "GET":
            match = _OPENAI_MODEL.match(request.path.split("?")[0])
            if not match:
                return openai_error(404, "Not found", type_="invalid_request_error", code=None)
            return Reply(200, {"id": match.group("model"), "object": "model",
                               "created": 1_721_172_741, "owned_by": "system"})
        if request.path.split("?")[0] != _OPENAI_CHAT:
            return openai_error(404, f"Unknown path {request.path}",
                                type_="invalid_request_error", code=None)
        return openai_features(self.features)

    @staticmethod
    def chaos_reply(rng: random.Random) -> Reply:
        if rng.random() < 0.5:
            return openai_rate_limited(20)
        return openai_unavailable(503, retry_after_ms=20)


def openai_image_url(request: Recorded) -> dict[str, Any]:
    """The ``image_url`` object of the user message of a chat request."""
    for message in (request.json or {}).get("messages", []):
        content = message.get("content")
        if isinstance(content, list):
            for item in content:
                if item.get("type") == "image_url":
                    return item["image_url"]
    raise AssertionError("no image_url in the request")

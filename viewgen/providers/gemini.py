"""Google Gemini through ``google-genai``: the image model draws the views, a text model
can extract features.

``GeminiGenerator`` sends the prompt and the input images as inline parts (for the
front: the reference photo, then the logo; for every other view: the approved front
first, then the logo) to ``gemini-2.5-flash-image`` at temperature 0.1, asking for
an image only, on API version ``v1beta``. Retries are the SDK's own
(``HttpRetryOptions``: backoff with jitter on 408/429/5xx); ``limits`` adds the shared
concurrency cap, requests-per-minute window and the server's retry delay, and counts
the HTTP attempts each call really made. Every way Gemini can fail to deliver an image
(a block for safety, a text-only answer, no candidates, quota, a bad key, a timeout, a
broken payload) becomes a typed ``ProviderError`` whose message says why in words,
never containing the key. The image that comes back is checked, converted to PNG and
resized to the requested size. ``GeminiExtractor`` asks a Gemini text model for the
``extraction.ProductFeatures`` JSON schema. Cost estimates come from ``prices.PRICES``
(about $0.039 per image).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from PIL import Image, ImageOps, UnidentifiedImageError
from pydantic import ValidationError

from viewgen.domain import (
    CallUsage,
    ExtractionResult,
    GeneratedImage,
    GenerationRequest,
    ViewType,
)
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
from viewgen.providers.doctor import missing_key_message
from viewgen.providers.extraction import (
    EXTRACTION_PROMPT,
    EXTRACTION_SYSTEM,
    ProductFeatures,
    sniff_mime,
    to_features,
)
from viewgen.providers.limits import (
    CallTrace,
    RetryWaitTooLong,
    limiter_for,
    own_limit_message,
)
from viewgen.providers.prices import PRICES, estimate_cost
from viewgen.providers.registry import accepts_temperature
from viewgen.redact import install_log_redaction, redact, register_secret
from viewgen.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = "gemini"
PROVIDER_LABEL = "Gemini"
API_VERSION = "v1beta"
TEMPERATURE = 0.1
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
# a timed-out image may still be drawn (and billed) by Google: try it once more, no more
TIMEOUT_RETRIES = 1
SEED_MAX = 2**31 - 1  # GenerateContentConfig.seed is an int32
_EXIF_ORIENTATION = 0x0112
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
__all__ = ["PRICES", "GeminiExtractor", "GeminiGenerator"]


# ---------------------------------------------------------------------- reasons
# finish reasons (and prompt block reasons) that mean "refused on policy grounds",
# in words a person understands
BLOCK_REASONS: dict[str, str] = {
    "SAFETY": "its safety filter flagged the request or the result",
    "IMAGE_SAFETY": "its image-safety filter flagged the picture it drew",
    "PROHIBITED_CONTENT": "it judged the request to involve prohibited content",
    "IMAGE_PROHIBITED_CONTENT": "it judged the picture it drew to show prohibited content",
    "BLOCKLIST": "the request contains a term on a blocklist",
    "SPII": "the request or the result seemed to contain sensitive personal information",
    "RECITATION": "the result was too close to existing copyrighted material",
    "IMAGE_RECITATION": "the picture was too close to an existing copyrighted image",
    "MODEL_ARMOR": "a content-protection rule blocked it",
    "JAILBREAK": "it took the request for an attempt to get around its rules",
    "OTHER": "it gave no further reason",
    "BLOCKED_REASON_UNSPECIFIED": "it gave no further reason",
}
SAFETY_FINISH = frozenset(BLOCK_REASONS) - {"OTHER", "BLOCKED_REASON_UNSPECIFIED", "JAILBREAK"}
SAFETY_ADVICE = (
    "Change the description or the photo (leave out people, brand names and anything "
    "that could read as unsafe) and try again."
)


def _enum_name(value: Any) -> str:
    if value is None:
        return ""
    return str(getattr(value, "value", value)).upper()


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


# ---------------------------------------------------------------------- quota
@dataclass(frozen=True)
class QuotaProblem:
    """What a 429's details say: which quota ran out, and whether waiting can help.

    ``zero``: the key's project has no quota at all for the model (limit 0, e.g. an
    image model on the free tier). ``daily``: a per-day quota is used up. Both are
    final: no retry within minutes can succeed.
    """

    zero: bool
    daily: bool
    metric: str | None = None
    quota_id: str | None = None
    limit: str | None = None
    model: str | None = None

    @property
    def final(self) -> bool:
        return self.zero or self.daily

    def message(self, model: str) -> str:
        which = self.model or model
        metric = (self.metric or "").rsplit("/", 1)[-1]
        tier = " on the free tier" if "free_tier" in metric or "FreeTier" in (
            self.quota_id or "") else ""
        if self.zero:
            return (
                f"This Gemini API key has no quota for {which}{tier} (limit 0 on "
                f"{metric or self.quota_id or 'its requests'}), so retrying cannot help. "
                "Enable billing for the key's project in Google AI Studio (image models "
                "have no free quota), or set GEMINI_API_KEY to a key from a project that "
                "has quota for this model."
            )
        limit = f", limit {self.limit} a day" if self.limit else ""
        return (
            f"This Gemini API key has used up its daily quota for {which} "
            f"({self.quota_id or metric}{limit}). Try again tomorrow (Google resets daily "
            "quotas at midnight Pacific time), raise the limit by enabling billing in "
            "Google AI Studio, or set GEMINI_API_KEY to another key."
        )


_QUOTA_IN_MESSAGE = re.compile(
    r"Quota exceeded for metric: (?P<metric>[^,\s]+), limit: (?P<limit>\d+)"
    r"(?:, model: (?P<model>[^\s,]+))?")


def _error_object(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or b"null")
        except ValueError:
            return {}
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return {}
    error = body.get("error", body)
    return error if isinstance(error, dict) else {}


def read_quota(body: Any) -> QuotaProblem | None:
    """The quota a ``RESOURCE_EXHAUSTED`` error names, from its details.

    Reads ``google.rpc.QuotaFailure`` violations (``quotaMetric``, ``quotaId`` such as
    ``GenerateRequestsPerDayPerProjectPerModel-FreeTier``, ``quotaDimensions.model``,
    ``quotaValue``), the older ``google.rpc.ErrorInfo`` metadata (``quota_metric``,
    ``quota_limit``, ``quota_limit_value``) and the message's "Quota exceeded for
    metric: ..., limit: 0, model: ..." lines. None when the error names no quota.
    """
    error = _error_object(body)
    found: list[dict[str, Any]] = []
    details = error.get("details")
    for item in details if isinstance(details, list) else []:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("@type", ""))
        if kind.endswith("google.rpc.QuotaFailure"):
            for v in item.get("violations") or []:
                if isinstance(v, dict):
                    dims = v.get("quotaDimensions") if isinstance(
                        v.get("quotaDimensions"), dict) else {}
                    found.append({"metric": v.get("quotaMetric") or v.get("subject"),
                                  "id": v.get("quotaId"), "limit": v.get("quotaValue"),
                                  "model": dims.get("model")})
        elif kind.endswith("google.rpc.ErrorInfo"):
            meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            if meta.get("quota_metric") or meta.get("quota_limit"):
                found.append({"metric": meta.get("quota_metric"), "id": meta.get("quota_limit"),
                              "limit": meta.get("quota_limit_value"),
                              "model": meta.get("model")})
    for match in _QUOTA_IN_MESSAGE.finditer(str(error.get("message") or "")):
        found.append({"metric": match["metric"], "id": None, "limit": match["limit"],
                      "model": match["model"]})
    if not found:
        return None

    def daily(v: dict[str, Any]) -> bool:
        return "perday" in str(v["id"] or "").lower() or "per_day" in str(v["metric"] or "")

    zero = [v for v in found if str(v["limit"] if v["limit"] is not None else "").strip() == "0"]
    days = [v for v in found if daily(v)]
    pick = (zero or days or found)[0]
    # fill in what the message knew and the details did not (or the other way round)
    model = pick["model"] or next((v["model"] for v in found if v["model"]), None)
    quota_id = pick["id"] or next((v["id"] for v in found if v["id"] and (
        not days or daily(v))), None)
    return QuotaProblem(zero=bool(zero), daily=bool(days) and not zero,
                        metric=pick["metric"], quota_id=quota_id,
                        limit=None if pick["limit"] is None else str(pick["limit"]),
                        model=model)


class FinalQuota(Exception):
    """A 429 whose quota cannot come back within minutes (raised from the response
    hook, inside the SDK's retry loop, which does not retry it)."""

    def __init__(self, problem: QuotaProblem) -> None:
        super().__init__(f"final quota: {problem}")
        self.problem = problem


def stop_on_final_quota(response: Any) -> None:
    """Response hook: end the call at a zero or daily quota instead of retrying it."""
    if response.status_code != 429:
        return
    try:
        problem = read_quota(response.read())
    except Exception:  # an unreadable body names no quota: leave it to the SDK
        return
    if problem is not None and problem.final:
        raise FinalQuota(problem)


# ---------------------------------------------------------------------- finishMessage
# google-genai drops a Gemini API candidate's ``finishMessage`` (its converter copies
# it only from Vertex answers), yet it is Gemini's own sentence about why no image
# came back; a response hook keeps it for the thread's current call
_finish = threading.local()


def remember_finish_message(response: Any) -> None:
    """Response hook: the first candidate's ``finishMessage`` of a 200 answer, if any."""
    if response.status_code != 200:
        return
    try:
        body = response.read()
        if b"finishMessage" not in body:
            return
        candidates = json.loads(body).get("candidates") or []
        message = candidates[0].get("finishMessage") if candidates else None
    except Exception:  # an answer we cannot read here is read (and judged) by the SDK
        return
    _finish.message = str(message) if message else None


# ---------------------------------------------------------------------- timeouts
class AttemptTimedOut(Exception):
    """One HTTP attempt timed out. Raised by our transport instead of httpx's own
    ``TimeoutException``, which the SDK would retry up to its attempt limit: a hung
    image call may still be drawn and billed, so ``GeminiClient.call`` retries a
    timeout itself, ``TIMEOUT_RETRIES`` times at most."""


class _TimeoutStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx2.TimeoutException as exc:
            raise AttemptTimedOut(type(exc).__name__) from exc

    def close(self) -> None:
        self._inner.close()


class TimeoutOnceTransport(httpx2.HTTPTransport):
    """httpx2's transport, reporting a timeout (connect, write, read) as
    ``AttemptTimedOut``, also while the body is read."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            response = super().handle_request(request)
        except httpx2.TimeoutException as exc:
            raise AttemptTimedOut(type(exc).__name__) from exc
        response.stream = _TimeoutStream(response.stream)
        return response


# ---------------------------------------------------------------------- client
def _api_key(settings: Settings, selector: str) -> str:
    secret = settings.gemini_api_key.get_secret_value().strip() if settings.gemini_api_key else ""
    if not secret:
        raise ConfigurationError(missing_key_message(selector, PROVIDER))
    return secret


class GeminiClient:
    """One ``genai.Client`` with our retry, timeout, base URL and limiter hooks.

    Shared plumbing of the generator and the extractor: ``call`` runs one
    ``generate_content`` inside the limiter and turns every SDK failure into a typed
    ``ProviderError``.
    """

    def __init__(self, settings: Settings, selector: str) -> None:
        key = _api_key(settings, selector)
        self._secret = key
        register_secret(key)
        install_log_redaction()
        self.timeout_s = max(0.001, float(settings.provider_timeout_s))
        self.max_attempts = max(1, min(10, int(settings.provider_max_attempts)))
        self.limiter = limiter_for(PROVIDER, key, settings)
        self.max_wait_s = settings.provider_max_retry_wait_s
        initial = max(0.0, float(settings.provider_retry_initial_s))
        retry = types.HttpRetryOptions(
            attempts=self.max_attempts,
            initial_delay=initial,
            max_delay=max(initial, 30.0),
            exp_base=2.0,
            jitter=initial,
            http_status_codes=RETRY_STATUSES,
        )
        hooks = self.limiter.event_hooks()
        hooks["response"] += [stop_on_final_quota,  # after the limiter has seen it
                              remember_finish_message]
        try:
            self.client = genai.Client(
                api_key=key,
                vertexai=False,
                http_options=types.HttpOptions(
                    api_version=API_VERSION,
                    base_url=settings.gemini_base_url or None,
                    timeout=max(1, round(self.timeout_s * 1000)),
                    retry_options=retry,
                    client_args={"event_hooks": hooks, "transport": TimeoutOnceTransport()},
                ),
            )
        except ValueError as exc:  # the SDK validates options and the key's shape
            raise ConfigurationError(
                "The Gemini client could not be set up: "
                f"{redact(str(exc), key)} (check GEMINI_API_KEY and VIEWGEN_GEMINI_BASE_URL)."
            ) from None

    def __repr__(self) -> str:
        return f"GeminiClient(limiter={self.limiter!r})"

    def call(self, model: str, contents: list[Any],
             config: types.GenerateContentConfig) -> tuple[types.GenerateContentResponse,
                                                          CallTrace]:
        """One ``generate_content``; a timed-out attempt is tried again at most
        ``TIMEOUT_RETRIES`` times (the SDK's own retries cover 429 and 5xx answers)."""
        _finish.message = None
        with self.limiter.call() as trace:
            timeouts = 0
            while True:
                try:
                    response = self.client.models.generate_content(
                        model=model, contents=contents, config=config
                    )
                    break
                except AttemptTimedOut as exc:
                    timeouts += 1
                    if timeouts > TIMEOUT_RETRIES:
                        raise self.error_for(exc, trace, model, timeouts=timeouts) from exc
                    log.warning("gemini call to %s timed out after %s; trying once more",
                                model, _seconds(self.timeout_s))
                except Exception as exc:
                    raise self.error_for(exc, trace, model) from exc
        trace.timeouts = timeouts  # type: ignore[attr-defined]
        trace.finish_message = getattr(_finish, "message", None)  # type: ignore[attr-defined]
        return response, trace

    def probe(self, model: str, timeout_s: float) -> str:
        """One cheap ``models.get`` with no retries; returns the model's display name."""
        trace = CallTrace()
        try:
            info = self.client.models.get(
                model=model,
                config=types.GetModelConfig(http_options=types.HttpOptions(
                    timeout=max(1, round(timeout_s * 1000)),
                    retry_options=types.HttpRetryOptions(attempts=1),
                )),
            )
        except Exception as exc:
            trace.attempts = 1
            raise self.error_for(exc, trace, model, timeout_s=timeout_s) from exc
        return str(info.display_name or info.name or model)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            self.client.close()

    # ------------------------------------------------------------------ errors
    def error_for(self, exc: BaseException, trace: CallTrace, model: str, *,
                  timeout_s: float | None = None, timeouts: int = 0) -> ProviderError:
        error = self._classify(exc, trace, model, timeout_s or self.timeout_s, timeouts)
        error.detail = f"{type(exc).__name__}: {exc}"[:2000]
        log.info("gemini call failed after %d attempt(s): %s", max(1, trace.attempts),
                 type(error).__name__)
        return self.finish(error, trace)

    def finish(self, error: ProviderError, trace: CallTrace) -> ProviderError:
        """``error`` with every key masked in its message and detail, and the attempts."""
        error.user_message = redact(error.user_message, self._secret)
        error.args = (error.user_message,)
        if error.detail:
            error.detail = redact(error.detail, self._secret)
        error.attempts = max(1, trace.attempts)  # type: ignore[attr-defined]
        return error

    def _classify(self, exc: BaseException, trace: CallTrace, model: str,
                  timeout_s: float, timeouts: int = 0) -> ProviderError:
        n = max(1, trace.attempts)
        tries = f" after {n} attempts" if n > 1 else ""
        if isinstance(exc, FinalQuota):
            return QuotaExhausted(exc.problem.message(model), provider=PROVIDER,
                                  retryable=False)
        if isinstance(exc, AttemptTimedOut):
            again = (f" (viewgen tried {timeouts} times; it retries a timed-out call only "
                     f"{'once' if TIMEOUT_RETRIES == 1 else f'{TIMEOUT_RETRIES} times'}, "
                     "since Google may still draw, and bill, an image it was slow to send)"
                     if timeouts > 1 else "")
            return ProviderTimeout(
                f"Gemini did not answer within {_seconds(timeout_s)}{again}. It may be "
                "busy: try again in a minute.",
                provider=PROVIDER,
            )
        if isinstance(exc, RetryWaitTooLong) and exc.own_limit:
            return QuotaExhausted(own_limit_message(PROVIDER_LABEL, exc.wait_s),
                                  provider=PROVIDER)
        if isinstance(exc, RetryWaitTooLong):
            return QuotaExhausted(
                f"Gemini is rate-limiting this API key and asked to wait "
                f"{_seconds(exc.wait_s)} before the next request, longer than viewgen waits "
                f"(VIEWGEN_PROVIDER_MAX_RETRY_WAIT_S = {_seconds(self.max_wait_s)}). "
                "Try again later.",
                provider=PROVIDER,
            )
        if isinstance(exc, genai_errors.APIError):
            return self._api_error(exc, trace, model, tries)
        if isinstance(exc, httpx2.TimeoutException | httpx.TimeoutException):
            return ProviderTimeout(
                f"Gemini did not answer within {_seconds(timeout_s)}{tries}. It may be busy: "
                "try again in a minute.",
                provider=PROVIDER,
            )
        if isinstance(exc, httpx2.TransportError | httpx.TransportError):
            return ProviderUnavailable(
                f"Could not reach Gemini{tries} ({type(exc).__name__}). Check the network "
                "connection (and VIEWGEN_GEMINI_BASE_URL if you set it), then try again.",
                provider=PROVIDER,
            )
        if isinstance(exc, genai_errors.UnknownApiResponseError | ValueError):
            return MalformedResponse(
                "Gemini sent an answer that is not valid JSON, so it could not be read. "
                "Try again.",
                provider=PROVIDER,
            )
        return ProviderError(
            f"The call to Gemini failed unexpectedly ({type(exc).__name__}). Try again.",
            provider=PROVIDER,
        )

    def _api_error(self, exc: genai_errors.APIError, trace: CallTrace, model: str,
                   tries: str) -> ProviderError:
        code = int(exc.code or 0)
        status = str(exc.status or "")
        message = str(exc.message or "")
        reasons = _error_reasons(exc.details)
        what = f"HTTP {code}{' ' + status if status else ''}"
        if code == 429 or status == "RESOURCE_EXHAUSTED":
            problem = read_quota(exc.details)
            if problem is not None and problem.final:
                return QuotaExhausted(problem.message(model), provider=PROVIDER,
                                      retryable=False)
            wait = f" Gemini asks to wait {_seconds(trace.retry_after_s)}." if (
                trace.retry_after_s) else ""
            return QuotaExhausted(
                f"Gemini's quota for this API key is used up ({what}){tries}.{wait} "
                "Wait a little and try again, or raise the key's quota in Google AI Studio.",
                provider=PROVIDER,
            )
        if code == 403 and "API_KEY_INVALID" not in reasons:
            # 403 says why: an API not enabled for the project, a key reported as
            # leaked, a region or a model the key may not use; keep Google's words
            said = f": \u201c{_short(message, 240)}\u201d" if message else ""
            return AuthenticationFailed(
                f"Gemini refused this API key access ({what}){said} Fix that for the "
                "key's project in Google AI Studio, or set GEMINI_API_KEY to another key.",
                provider=PROVIDER,
            )
        if ("API_KEY_INVALID" in reasons or code in (401, 403)
                or (code == 400 and "api key" in message.lower())):
            return AuthenticationFailed(
                f"Gemini rejected the API key ({what}). Check GEMINI_API_KEY (or "
                "GOOGLE_API_KEY) in the environment or .streamlit/secrets.toml.",
                provider=PROVIDER,
            )
        if code == 404:
            return ProviderError(
                f"Gemini has no model named {model!r} for this key ({what}). Check "
                "VIEWGEN_GEMINI_MODEL / VIEWGEN_GEMINI_TEXT_MODEL.",
                provider=PROVIDER, retryable=False,
            )
        if code in (408, 504):
            return ProviderTimeout(
                f"Gemini timed out working on the request ({what}){tries}. Try again.",
                provider=PROVIDER,
            )
        if code >= 500:
            return ProviderUnavailable(
                f"Gemini is having trouble right now ({what}){tries}. Try again in a minute.",
                provider=PROVIDER,
            )
        said = f": {_short(message)}" if message else ""
        return ProviderError(
            f"Gemini rejected the request ({what}){said}",
            provider=PROVIDER, retryable=False,
        )


def _error_reasons(details: Any) -> set[str]:
    """``google.rpc.ErrorInfo`` reasons in an error body (e.g. ``API_KEY_INVALID``)."""
    if isinstance(details, list) and details:
        details = details[0]
    error = details.get("error", details) if isinstance(details, dict) else {}
    items = error.get("details") if isinstance(error, dict) else None
    found: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("reason"):
            found.add(str(item["reason"]))
    return found


def _usage(response: types.GenerateContentResponse, model: str, trace: CallTrace,
           images: int) -> CallUsage:
    meta = response.usage_metadata
    input_tokens = meta.prompt_token_count if meta else None
    output_tokens = None
    if meta and (meta.candidates_token_count is not None or meta.thoughts_token_count):
        output_tokens = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return CallUsage(
        provider=PROVIDER,
        model=model,
        attempts=max(1, trace.attempts),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        images=images,
        cost_usd=estimate_cost(model, input_tokens, output_tokens, images),
    )


def _blocked_prompt(response: types.GenerateContentResponse, what: str) -> ProviderError:
    feedback = response.prompt_feedback
    reason = _enum_name(feedback.block_reason) if feedback else ""
    if reason:
        words = BLOCK_REASONS.get(reason, "it gave no further reason")
        extra = f" ({_short(feedback.block_reason_message)})" if (
            feedback and feedback.block_reason_message) else ""
        return SafetyBlocked(
            f"Gemini refused the request before {what}: {words} ({reason}){extra}. "
            f"{SAFETY_ADVICE}",
            provider=PROVIDER,
        )
    return NoImageReturned(
        f"Gemini returned no result at all (an empty candidate list) instead of {what}. "
        "Try again; if it keeps happening, make the description simpler.",
        provider=PROVIDER,
    )


def _text_of(parts: Sequence[types.Part]) -> str:
    return "".join(p.text for p in parts if p.text and not p.thought).strip()


# ---------------------------------------------------------------------- images
def image_size_hint(model: str, pixels: int) -> str | None:
    """``ImageConfig.image_size`` for models that take it (not gemini-2.x image models)."""
    if model.removeprefix("models/").startswith(("gemini-2.", "gemini-1.")):
        return None
    if pixels <= 1024:
        return "1K"
    return "2K" if pixels <= 2048 else "4K"


def config_problems(settings: Settings) -> list[str]:
    """Gemini's own settings checks for ``doctor`` and app start (the registry calls it)."""
    if settings.image_provider == PROVIDER and settings.aspect_ratio not in ASPECT_RATIOS:
        return [f"VIEWGEN_ASPECT_RATIO is {settings.aspect_ratio!r}; Gemini accepts "
                f"{', '.join(ASPECT_RATIOS)}."]
    return []


def to_png(data: bytes, size: tuple[int, int]) -> tuple[bytes, dict[str, Any]]:
    """Decode what the model sent, convert it to PNG, fit it to ``size``."""
    target = (int(size[0]), int(size[1]))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            source_format = opened.format or "?"
            opened.load()  # decoding every pixel is the check that the bytes are an image
            source = opened.size
            rotated = opened.getexif().get(_EXIF_ORIENTATION, 1) not in (1, None)
            if (source_format == "PNG" and opened.mode in ("RGB", "RGBA")
                    and source == target and not rotated):
                # already what we store: skip a re-encode (~15 ms for 1024²)
                return data, {"source_format": source_format, "source_size": list(source),
                              "resized": False}
            image = (ImageOps.exif_transpose(opened) or opened) if rotated else opened.copy()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MalformedResponse(
            "Gemini sent image data that is not a readable picture. Try again.",
            provider=PROVIDER, detail=repr(exc),
        ) from None
    if image.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.size != target:
        w, h = image.size
        same_shape = abs(w / h - target[0] / target[1]) < 0.02
        if same_shape:
            image = image.resize(target, Image.Resampling.LANCZOS)
        else:  # keep the model's aspect ratio, fit inside the requested box
            scale = min(target[0] / w, target[1] / h)
            image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                 Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    meta = {"source_format": source_format, "source_size": list(source),
            "resized": image.size != source}
    return out.getvalue(), meta


# ---------------------------------------------------------------------- adapters
class GeminiGenerator:
    """``ImageGenerator`` on a Gemini image model (default ``gemini-2.5-flash-image``)."""

    name = PROVIDER

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.gemini_model
        self.aspect_ratio = settings.aspect_ratio
        self._gemini = GeminiClient(settings, "VIEWGEN_IMAGE_PROVIDER")

    def __repr__(self) -> str:
        return f"GeminiGenerator(model={self.model!r})"

    @property
    def limiter(self):
        return self._gemini.limiter

    def api_key_for_queue(self) -> str:
        """The key, for ``durable`` to fingerprint into a per-key queue name (never shown)."""
        return self._gemini._secret

    def contents(self, request: GenerationRequest) -> list[types.Part]:
        """The prompt, then the images in the order the prompt describes them.

        An edit (``request.is_edit``, front only) sends the rejected image first, then
        the logo: the prompt (``prompts.edit_prompt``) says to change only what the
        newest feedback asks for.
        """
        if request.view == ViewType.FRONT and request.is_edit:
            images = [request.edit_of, request.logo]
        elif request.view == ViewType.FRONT:
            images = [request.reference, request.logo]
        else:
            if request.front is None:
                raise ProviderError(
                    f"The {request.view.value} view needs the approved front view, which is "
                    "missing.", provider=PROVIDER, retryable=False,
                )
            images = [request.front, request.logo]
        parts = [types.Part.from_text(text=request.prompt)]
        parts += [types.Part.from_bytes(data=data, mime_type=sniff_mime(data))
                  for data in images if data]
        return parts

    def config(self, request: GenerationRequest) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            temperature=TEMPERATURE if accepts_temperature(self.model) else None,
            seed=int(request.seed) % SEED_MAX,
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(
                aspect_ratio=self.aspect_ratio,
                image_size=image_size_hint(self.model, max(request.size)),
            ),
        )

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        response, trace = self._gemini.call(self.model, self.contents(request),
                                            self.config(request))
        try:
            data = self._image(response, request.view,
                               getattr(trace, "finish_message", None))
            png, meta = to_png(data, request.size)
        except ProviderError as error:
            raise self._gemini.finish(error, trace) from None
        candidate = response.candidates[0] if response.candidates else None
        meta.update(
            finish_reason=_enum_name(candidate.finish_reason) if candidate else None,
            model_version=response.model_version,
            mode="edit" if request.is_edit and request.view == ViewType.FRONT else "fresh",
            timeouts=getattr(trace, "timeouts", 0),
        )
        return GeneratedImage(data=png, usage=_usage(response, self.model, trace, 1),
                              mime_type="image/png", meta=meta)

    @staticmethod
    def _image(response: types.GenerateContentResponse, view: ViewType,
               finish_message: str | None = None) -> bytes:
        what = f"drawing the {view.value} view"
        if not response.candidates:
            raise _blocked_prompt(response, what)
        candidate = response.candidates[0]
        parts = list(candidate.content.parts or []) if candidate.content else []
        for part in parts:
            if part.thought or part.inline_data is None or not part.inline_data.data:
                continue
            return part.inline_data.data
        reason = _enum_name(candidate.finish_reason)
        # Gemini's own sentence about why it stopped, when it gives one
        finish_message = candidate.finish_message or finish_message
        said = (f" Gemini said: \u201c{_short(finish_message, 240)}\u201d."
                if finish_message else "")
        if reason in SAFETY_FINISH:
            raise SafetyBlocked(
                f"Gemini would not draw the {view.value} view: {BLOCK_REASONS[reason]} "
                f"({reason}).{said} {SAFETY_ADVICE}",
                provider=PROVIDER,
            )
        text = _text_of(parts)
        if text:
            raise NoImageReturned(
                f"Gemini answered with text instead of an image: \u201c{_short(text)}\u201d "
                f"({reason or 'no finish reason'}).{said} Try again, or describe the product "
                "more concretely.",
                provider=PROVIDER,
            )
        if reason == "NO_IMAGE":
            raise NoImageReturned(
                f"Gemini finished without drawing the {view.value} view (NO_IMAGE).{said} "
                "Try again, or describe the product more concretely.",
                provider=PROVIDER,
            )
        if reason == "IMAGE_OTHER":
            raise NoImageReturned(
                f"Gemini stopped drawing the {view.value} view for a reason it did not "
                f"name (IMAGE_OTHER).{said} Try again; if it keeps happening, change the "
                "description or the photo.",
                provider=PROVIDER,
            )
        raise NoImageReturned(
            f"Gemini returned no image for the {view.value} view "
            f"(finish reason {reason or 'not given'}).{said} Try again.",
            provider=PROVIDER,
        )

    def probe(self, timeout_s: float = 5.0) -> str:
        return self._gemini.probe(self.model, timeout_s)

    def probe_image(self, timeout_s: float = 90.0) -> str:
        """Draw one small real image (billed): the only way to see the key's image quota.

        Raises the same typed errors as ``generate`` (a zero or daily quota is a final
        ``QuotaExhausted``); returns a line for ``doctor``.
        """
        request = GenerationRequest(
            view=ViewType.FRONT, size=(256, 256), seed=1,
            prompt="A plain white ceramic mug, front view, studio product photograph on a "
                   "light-grey background.",
        )
        image = self.generate(request)
        return (f"drew one {image.meta.get('source_size', ['?', '?'])[0]}×"
                f"{image.meta.get('source_size', ['?', '?'])[1]} image with {self.model} "
                f"(${image.usage.cost_usd:.3f}, {image.usage.attempts} attempt(s)).")

    def close(self) -> None:
        self._gemini.close()


class GeminiExtractor:
    """``FeatureExtractor`` on a Gemini text model with a JSON response schema."""

    name = PROVIDER

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.gemini_text_model
        self._gemini = GeminiClient(settings, "VIEWGEN_FEATURE_PROVIDER")

    def __repr__(self) -> str:
        return f"GeminiExtractor(model={self.model!r})"

    @property
    def limiter(self):
        return self._gemini.limiter

    def api_key_for_queue(self) -> str:
        """The key, for ``durable`` to fingerprint into a per-key queue name (never shown)."""
        return self._gemini._secret

    def config(self) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            temperature=TEMPERATURE if accepts_temperature(self.model) else None,
            system_instruction=EXTRACTION_SYSTEM,
            response_mime_type="application/json",
            response_schema=ProductFeatures,
        )

    def extract(self, image: bytes) -> ExtractionResult:
        contents = [types.Part.from_text(text=EXTRACTION_PROMPT),
                    types.Part.from_bytes(data=image, mime_type=sniff_mime(image))]
        response, trace = self._gemini.call(self.model, contents, self.config())
        try:
            answer = self._answer(response)
        except ProviderError as error:
            raise self._gemini.finish(error, trace) from None
        return ExtractionResult(features=to_features(answer),
                                usage=_usage(response, self.model, trace, 0))

    @staticmethod
    def _answer(response: types.GenerateContentResponse) -> ProductFeatures:
        what = "describing the front view"
        if not response.candidates:
            raise _blocked_prompt(response, what)
        candidate = response.candidates[0]
        reason = _enum_name(candidate.finish_reason)
        parts = list(candidate.content.parts or []) if candidate.content else []
        text = _text_of(parts)
        if reason in SAFETY_FINISH:
            raise SafetyBlocked(
                f"Gemini would not describe the front view: {BLOCK_REASONS[reason]} "
                f"({reason}).",
                provider=PROVIDER,
            )
        if reason == "MAX_TOKENS":
            raise Truncated(
                "Gemini's description of the front view was cut off before it was "
                "complete (MAX_TOKENS). Try approving again.",
                provider=PROVIDER,
            )
        if not text:
            raise MalformedResponse(
                f"Gemini returned no description of the front view (finish reason "
                f"{reason or 'not given'}). Try approving again.",
                provider=PROVIDER,
            )
        try:
            return ProductFeatures.model_validate_json(text)
        except ValidationError as exc:
            broken = any(e["type"] == "json_invalid" for e in exc.errors())
            raise MalformedResponse(
                "Gemini's description of the front view was "
                + ("not valid JSON" if broken else "missing required fields")
                + ", so it could not be used. Try approving again.",
                provider=PROVIDER, detail=_short(json.dumps(exc.errors(), default=str), 500),
            ) from None

    def probe(self, timeout_s: float = 5.0) -> str:
        return self._gemini.probe(self.model, timeout_s)

    def close(self) -> None:
        self._gemini.close()

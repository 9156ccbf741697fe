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
from collections.abc import Sequence
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
    redact,
)
from viewgen.providers.prices import PRICES, estimate_cost
from viewgen.settings import Settings

log = logging.getLogger(__name__)

PROVIDER = "gemini"
PROVIDER_LABEL = "Gemini"
API_VERSION = "v1beta"
TEMPERATURE = 0.1
RETRY_STATUSES = [408, 429, 500, 502, 503, 504]
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
        try:
            self.client = genai.Client(
                api_key=key,
                vertexai=False,
                http_options=types.HttpOptions(
                    api_version=API_VERSION,
                    base_url=settings.gemini_base_url or None,
                    timeout=max(1, round(self.timeout_s * 1000)),
                    retry_options=retry,
                    client_args={"event_hooks": self.limiter.event_hooks()},
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
        with self.limiter.call() as trace:
            try:
                response = self.client.models.generate_content(
                    model=model, contents=contents, config=config
                )
            except Exception as exc:
                raise self.error_for(exc, trace, model) from exc
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
                  timeout_s: float | None = None) -> ProviderError:
        error = self._classify(exc, trace, model, timeout_s or self.timeout_s)
        error.user_message = redact(error.user_message, self._secret)
        error.args = (error.user_message,)
        error.detail = redact(f"{type(exc).__name__}: {exc}"[:2000], self._secret)
        error.attempts = max(1, trace.attempts)  # type: ignore[attr-defined]
        log.info("gemini call failed after %d attempt(s): %s", max(1, trace.attempts),
                 type(error).__name__)
        return error

    def _classify(self, exc: BaseException, trace: CallTrace, model: str,
                  timeout_s: float) -> ProviderError:
        n = max(1, trace.attempts)
        tries = f" after {n} attempts" if n > 1 else ""
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
            wait = f" Gemini asks to wait {_seconds(trace.retry_after_s)}." if (
                trace.retry_after_s) else ""
            return QuotaExhausted(
                f"Gemini's quota for this API key is used up ({what}){tries}.{wait} "
                "Wait a little and try again, or raise the key's quota in Google AI Studio.",
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

    def contents(self, request: GenerationRequest) -> list[types.Part]:
        """The prompt, then the images in the order the prompt describes them."""
        if request.view == ViewType.FRONT:
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
            temperature=TEMPERATURE,
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
            data = self._image(response, request.view)
            png, meta = to_png(data, request.size)
        except ProviderError as error:
            error.attempts = max(1, trace.attempts)  # type: ignore[attr-defined]
            raise
        candidate = response.candidates[0] if response.candidates else None
        meta.update(
            finish_reason=_enum_name(candidate.finish_reason) if candidate else None,
            model_version=response.model_version,
        )
        return GeneratedImage(data=png, usage=_usage(response, self.model, trace, 1),
                              mime_type="image/png", meta=meta)

    @staticmethod
    def _image(response: types.GenerateContentResponse, view: ViewType) -> bytes:
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
        if reason in SAFETY_FINISH:
            raise SafetyBlocked(
                f"Gemini would not draw the {view.value} view: {BLOCK_REASONS[reason]} "
                f"({reason}). {SAFETY_ADVICE}",
                provider=PROVIDER,
            )
        text = _text_of(parts)
        if text:
            raise NoImageReturned(
                f"Gemini answered with text instead of an image: \u201c{_short(text)}\u201d "
                "Try again, or describe the product more concretely.",
                provider=PROVIDER,
            )
        if reason == "NO_IMAGE":
            raise NoImageReturned(
                f"Gemini finished without drawing the {view.value} view (NO_IMAGE). "
                "Try again, or describe the product more concretely.",
                provider=PROVIDER,
            )
        raise NoImageReturned(
            f"Gemini returned no image for the {view.value} view "
            f"(finish reason {reason or 'not given'}). Try again.",
            provider=PROVIDER,
        )

    def probe(self, timeout_s: float = 5.0) -> str:
        return self._gemini.probe(self.model, timeout_s)

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

    def config(self) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            temperature=TEMPERATURE,
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
            error.attempts = max(1, trace.attempts)  # type: ignore[attr-defined]
            raise
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

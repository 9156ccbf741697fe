"""OpenAI vision feature extraction through the ``openai`` SDK (default ``gpt-4o-mini``).

``OpenAIExtractor`` sends the approved front as a high-detail PNG data URL with the
extraction prompt to ``chat.completions.parse`` and asks for the
``extraction.ProductFeatures`` strict JSON schema, at temperature 0.1. Retries and the
timeout are the SDK's own (``max_retries``, ``timeout``); ``limits`` adds the shared
concurrency cap, requests-per-minute window and retry-delay cooldown through the SDK's
httpx event hooks, which also count HTTP attempts and mark an ``insufficient_quota``
429 as final (``x-should-retry: false``), since the SDK would otherwise retry an
account that has simply run out of credit. A refusal, a length cut-off, the content
filter, invalid JSON, quota, a bad key and a timeout each become a typed
``ProviderError`` with a message for the person at the screen; the server's own text
is never quoted for a 401, because OpenAI echoes part of the key there, and every
message and log line passes through ``viewgen.redact``. A timed-out request goes out
again at most once (``TimeoutBudgetTransport``): the SDK would repeat a hung call up
to its retry limit. ``temperature`` is sent only to models that take it (not the
reasoning models: o1, o3, o4, gpt-5).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
from openai import DefaultHttpxClient, OpenAI
from pydantic import ValidationError

from viewgen.domain import CallUsage, ExtractionResult
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

__all__ = ["PRICES", "OpenAIExtractor"]

log = logging.getLogger(__name__)

PROVIDER = "openai"
PROVIDER_LABEL = "OpenAI"
TEMPERATURE = 0.1
FINAL_429_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
TIMEOUT_RETRIES = 1


# ---------------------------------------------------------------------- timeouts
_budget = threading.local()


def _timed_out() -> int:
    return int(getattr(_budget, "timeouts", 0))


class _CountingStream(httpx2.SyncByteStream):
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx2.TimeoutException:
            _budget.timeouts = _timed_out() + 1
            raise

    def close(self) -> None:
        self._inner.close()


class TimeoutBudgetTransport(httpx2.HTTPTransport):
    """httpx2's transport with a per-call budget of timeouts.

    The OpenAI SDK retries a timeout like any connection error, up to ``max_retries``
    times, each waiting the whole timeout. This transport counts the timeouts of the
    thread's current call (``OpenAIExtractor.extract`` resets the count) and, once
    ``TIMEOUT_RETRIES`` retries have timed out too, answers the SDK's next retries
    with an immediate timeout instead of sending the request again.
    """

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if _timed_out() > TIMEOUT_RETRIES:
            raise httpx2.ReadTimeout("timed out before; not sent again", request=request)
        try:
            response = super().handle_request(request)
        except httpx2.TimeoutException:
            _budget.timeouts = _timed_out() + 1
            raise
        response.stream = _CountingStream(response.stream)
        return response


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("code"):
            return str(error["code"])
    return None


def mark_final_quota(response: Any) -> None:
    """Response hook: an out-of-credit 429 is final, so tell the SDK not to retry it."""
    if response.status_code != 429:
        return
    try:
        code = _error_code(json.loads(response.read() or b"null"))
    except ValueError:
        return
    if code in FINAL_429_CODES:
        response.headers["x-should-retry"] = "false"


def data_url(image: bytes) -> str:
    return f"data:{sniff_mime(image)};base64,{base64.b64encode(image).decode('ascii')}"


class OpenAIExtractor:
    """``FeatureExtractor`` on an OpenAI vision model with structured output."""

    name = PROVIDER

    def __init__(self, settings: Settings) -> None:
        secret = (settings.openai_api_key.get_secret_value().strip()
                  if settings.openai_api_key else "")
        if not secret:
            raise ConfigurationError(missing_key_message("VIEWGEN_FEATURE_PROVIDER", PROVIDER))
        self._secret = secret
        register_secret(secret)
        install_log_redaction()
        self.settings = settings
        self.model = settings.openai_model
        self.timeout_s = max(0.001, float(settings.provider_timeout_s))
        self.max_attempts = max(1, min(10, int(settings.provider_max_attempts)))
        self.limiter = limiter_for(PROVIDER, secret, settings)
        self.max_wait_s = settings.provider_max_retry_wait_s
        try:
            self.client = OpenAI(
                api_key=secret,
                base_url=settings.openai_base_url or None,
                max_retries=self.max_attempts - 1,
                timeout=self.timeout_s,
                http_client=DefaultHttpxClient(
                    event_hooks=self.limiter.event_hooks(mark_final_quota),
                    transport=TimeoutBudgetTransport(),
                ),
            )
        except (openai.OpenAIError, ValueError, TypeError) as exc:
            raise ConfigurationError(
                "The OpenAI client could not be set up: "
                f"{redact(str(exc), secret)} (check OPENAI_API_KEY and VIEWGEN_OPENAI_BASE_URL)."
            ) from None

    def __repr__(self) -> str:
        return f"OpenAIExtractor(model={self.model!r})"

    def api_key_for_queue(self) -> str:
        """The key, for ``durable`` to fingerprint into a per-key queue name (never shown)."""
        return self._secret

    def messages(self, image: bytes) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": EXTRACTION_SYSTEM},
            {"role": "user", "content": [
                {"type": "text", "text": EXTRACTION_PROMPT},
                {"type": "image_url", "image_url": {"url": data_url(image), "detail": "high"}},
            ]},
        ]

    def extract(self, image: bytes) -> ExtractionResult:
        _budget.timeouts = 0
        options: dict[str, Any] = {"temperature": TEMPERATURE} if accepts_temperature(
            self.model) else {}
        with self.limiter.call() as trace:
            try:
                completion = self.client.chat.completions.parse(
                    model=self.model,
                    messages=self.messages(image),  # type: ignore[arg-type]
                    response_format=ProductFeatures,
                    **options,
                )
            except Exception as exc:
                raise self.error_for(exc, trace) from exc
        usage = self._usage(completion, trace)
        if not completion.choices:
            raise self._finish(MalformedResponse(
                "OpenAI returned no answer (an empty choice list). Try approving again.",
                provider=PROVIDER,
            ), trace)
        message = completion.choices[0].message
        if message.refusal:
            raise self._finish(Refused(
                "OpenAI declined to describe the front view: "
                f"\u201c{_short(message.refusal)}\u201d",
                provider=PROVIDER,
            ), trace)
        if message.parsed is None:
            raise self._finish(MalformedResponse(
                "OpenAI returned an empty description of the front view. Try approving again.",
                provider=PROVIDER,
            ), trace)
        return ExtractionResult(features=to_features(message.parsed), usage=usage)

    def _usage(self, completion: Any, trace: CallTrace) -> CallUsage:
        usage = getattr(completion, "usage", None)
        input_tokens = usage.prompt_tokens if usage else None
        output_tokens = usage.completion_tokens if usage else None
        return CallUsage(
            provider=PROVIDER, model=self.model, attempts=max(1, trace.attempts),
            input_tokens=input_tokens, output_tokens=output_tokens, images=0,
            cost_usd=estimate_cost(self.model, input_tokens, output_tokens),
        )

    def probe(self, timeout_s: float = 5.0) -> str:
        """One cheap ``models.retrieve`` with no retries; returns the model id."""
        trace = CallTrace(attempts=1)
        try:
            model = self.client.with_options(max_retries=0, timeout=timeout_s).models.retrieve(
                self.model
            )
        except Exception as exc:
            raise self.error_for(exc, trace, timeout_s=timeout_s) from exc
        return str(model.id)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing is best effort
            self.client.close()

    # ------------------------------------------------------------------ errors
    def _finish(self, error: ProviderError, trace: CallTrace) -> ProviderError:
        error.user_message = redact(error.user_message, self._secret)
        error.args = (error.user_message,)
        if error.detail:
            error.detail = redact(error.detail, self._secret)
        error.attempts = max(1, trace.attempts)  # type: ignore[attr-defined]
        return error

    def error_for(self, exc: BaseException, trace: CallTrace, *,
                  timeout_s: float | None = None) -> ProviderError:
        error = self._classify(exc, trace, timeout_s or self.timeout_s)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            # OpenAI's own text repeats the key's first and last characters
            error.detail = f"{type(exc).__name__}: HTTP {exc.status_code} {exc.code or ''}"
        else:
            error.detail = f"{type(exc).__name__}: {exc}"[:2000]
        log.info("openai call failed after %d attempt(s): %s", max(1, trace.attempts),
                 type(error).__name__)
        return self._finish(error, trace)

    def _classify(self, exc: BaseException, trace: CallTrace,
                  timeout_s: float) -> ProviderError:
        n = max(1, trace.attempts)
        tries = f" after {n} attempts" if n > 1 else ""
        if isinstance(exc, openai.LengthFinishReasonError):
            return Truncated(
                "OpenAI's description of the front view was cut off at the length limit "
                "before it was complete. Try approving again.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.ContentFilterFinishReasonError):
            return SafetyBlocked(
                "OpenAI's content filter stopped the description of the front view. "
                "Reject the front and change the description, then try again.",
                provider=PROVIDER,
            )
        if isinstance(exc, ValidationError | json.JSONDecodeError | openai.APIResponseValidationError):
            return MalformedResponse(
                "OpenAI's description of the front view was not valid JSON for the "
                "requested schema, so it could not be used. Try approving again.",
                provider=PROVIDER,
            )
        if isinstance(exc, RetryWaitTooLong) and exc.own_limit:
            return QuotaExhausted(own_limit_message(PROVIDER_LABEL, exc.wait_s),
                                  provider=PROVIDER)
        wait = exc.wait_s if isinstance(exc, RetryWaitTooLong) else (
            trace.retry_after_s if isinstance(exc, openai.RateLimitError) else None)
        if wait is not None and wait > self.max_wait_s:
            return QuotaExhausted(
                f"OpenAI is rate-limiting this API key and asked to wait "
                f"{_seconds(wait)} before the next request, longer than viewgen waits "
                f"(VIEWGEN_PROVIDER_MAX_RETRY_WAIT_S = {_seconds(self.max_wait_s)}). "
                "Try again later.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.APITimeoutError):
            timeouts = _timed_out()
            again = (f" (it timed out {min(timeouts, TIMEOUT_RETRIES + 1)} times; viewgen "
                     "sends a timed-out request again only once)" if timeouts > 1 else tries)
            return ProviderTimeout(
                f"OpenAI did not answer within {_seconds(timeout_s)}{again}. Try again in a "
                "minute.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.APIConnectionError):
            return ProviderUnavailable(
                f"Could not reach OpenAI{tries}. Check the network connection (and "
                "VIEWGEN_OPENAI_BASE_URL if you set it), then try again.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.RateLimitError):
            code = exc.code or _error_code(exc.body)
            if code in FINAL_429_CODES:
                return QuotaExhausted(
                    f"The OpenAI account behind OPENAI_API_KEY has run out of credit "
                    f"({code}). Add credit or raise the limit at platform.openai.com; "
                    "retrying will not help until then.",
                    provider=PROVIDER, retryable=False,
                )
            return QuotaExhausted(
                f"OpenAI is rate-limiting this API key (HTTP 429){tries}. Wait a minute and "
                "try again.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.AuthenticationError):
            # never quote OpenAI's message here: it repeats part of the key
            return AuthenticationFailed(
                "OpenAI rejected the API key (HTTP 401). Check OPENAI_API_KEY in the "
                "environment or .streamlit/secrets.toml.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.PermissionDeniedError):
            return AuthenticationFailed(
                "OpenAI refused this API key access (HTTP 403): the key's project may not "
                f"be allowed to use {self.model!r}. Check OPENAI_API_KEY.",
                provider=PROVIDER,
            )
        if isinstance(exc, openai.NotFoundError):
            return ProviderError(
                f"OpenAI has no model named {self.model!r} for this key (HTTP 404). Check "
                "VIEWGEN_OPENAI_MODEL.",
                provider=PROVIDER, retryable=False,
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return ProviderUnavailable(
                    f"OpenAI is having trouble right now (HTTP {exc.status_code}){tries}. "
                    "Try again in a minute.",
                    provider=PROVIDER,
                )
            return ProviderError(
                f"OpenAI rejected the request (HTTP {exc.status_code}): "
                f"{_short(redact(str(exc.message), self._secret))}",
                provider=PROVIDER, retryable=False,
            )
        return ProviderError(
            f"The call to OpenAI failed unexpectedly ({type(exc).__name__}). Try again.",
            provider=PROVIDER,
        )

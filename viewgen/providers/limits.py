"""Client-side politeness towards a provider, so a team can share one API key.

One ``ProviderLimiter`` per provider and key (keyed by a fingerprint of the key, never
the key itself) is shared by every thread of the process. It holds three things:
a concurrency cap, taken for a whole call including the SDK's own retries; a
requests-per-minute window, counted per HTTP attempt; and a cooldown set by an
answer's retry delay (Gemini's ``google.rpc.RetryInfo.retryDelay`` in the error
details, a ``Retry-After`` or ``retry-after-ms`` header) that every next attempt of
every thread waits out. The adapters plug it into the SDKs' own httpx clients as
event hooks, so the SDKs' retries pass through it, and the same hooks count the HTTP
attempts a call really made. The module also owns the key hygiene the adapters share:
``fingerprint`` and ``redact``.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viewgen.settings import Settings

WINDOW_S = 60.0
# answers whose retry delay we honour; other statuses never carry a useful one
_DELAY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


class RetryWaitTooLong(Exception):
    """The provider asked us to wait longer than ``provider_max_retry_wait_s``.

    Raised from the request hook, inside the SDK's retry loop; neither SDK retries
    it, so the call ends at once and the adapter reports the wait to the user.
    """

    def __init__(self, wait_s: float, *, own_limit: bool = False) -> None:
        what = "our requests-per-minute limit" if own_limit else "the provider"
        super().__init__(f"{what} asks to wait {wait_s:.1f} s")
        self.wait_s = wait_s
        self.own_limit = own_limit  # VIEWGEN_PROVIDER_RPM, not the provider, said wait


@dataclass
class CallTrace:
    """What the hooks saw during one adapter call (one thread, one call)."""

    attempts: int = 0
    statuses: list[int] = field(default_factory=list)
    retry_after_s: float | None = None
    waited_s: float = 0.0


class ProviderLimiter:
    """Concurrency cap + requests-per-minute window + shared retry cooldown.

    ``clock`` and ``sleep`` are injectable so tests can run minutes in microseconds.
    """

    def __init__(
        self,
        name: str,
        *,
        concurrency: int,
        rpm: int,
        max_wait_s: float = 60.0,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.concurrency = concurrency
        self.rpm = rpm
        self.max_wait_s = max_wait_s
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(concurrency) if concurrency > 0 else None
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        self._cooldown_until = 0.0
        self._local = threading.local()
        self._in_flight = 0
        self.peak_in_flight = 0

    def __repr__(self) -> str:
        return (f"ProviderLimiter({self.name!r}, concurrency={self.concurrency}, "
                f"rpm={self.rpm})")

    # ---------------------------------------------------------------- whole calls
    @contextmanager
    def call(self) -> Iterator[CallTrace]:
        """Hold one concurrency slot for a whole call; the hooks fill the trace."""
        if self._slots is not None:
            self._slots.acquire()
        trace = CallTrace()
        previous = getattr(self._local, "trace", None)
        self._local.trace = trace
        with self._lock:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            yield trace
        finally:
            with self._lock:
                self._in_flight -= 1
            self._local.trace = previous
            if self._slots is not None:
                self._slots.release()

    @property
    def trace(self) -> CallTrace | None:
        return getattr(self._local, "trace", None)

    # ---------------------------------------------------------------- per attempt
    def before_attempt(self) -> None:
        """Wait out the cooldown and the per-minute window, then count the attempt."""
        trace = self.trace
        while True:
            own_limit = False
            with self._lock:
                now = self._clock()
                wait = self._cooldown_until - now
                if wait <= 0 and self.rpm > 0:
                    while self._sent and self._sent[0] + self.window_s <= now:
                        self._sent.popleft()
                    if len(self._sent) >= self.rpm:  # same test as above: never 0 here
                        wait = max(self._sent[0] + self.window_s - now, 1e-3)
                        own_limit = True
                if wait <= 0:
                    self._sent.append(now)
                    if trace is not None:
                        trace.attempts += 1
                    return
            if wait > self.max_wait_s:
                raise RetryWaitTooLong(wait, own_limit=own_limit)
            if trace is not None:
                trace.waited_s += wait
            self._sleep(wait)

    def after_response(self, status: int, retry_after_s: float | None) -> None:
        """Record an answer; a retry delay becomes a cooldown for every thread."""
        trace = self.trace
        if trace is not None:
            trace.statuses.append(status)
        if retry_after_s is not None and retry_after_s > 0:
            if trace is not None:
                trace.retry_after_s = retry_after_s
            with self._lock:
                self._cooldown_until = max(self._cooldown_until, self._clock() + retry_after_s)

    def cooldown_remaining(self) -> float:
        with self._lock:
            return max(0.0, self._cooldown_until - self._clock())

    # ---------------------------------------------------------------- httpx glue
    def event_hooks(
        self, *extra_response_hooks: Callable[[Any], None]
    ) -> dict[str, list[Callable[[Any], None]]]:
        """``event_hooks`` for an httpx / httpx2 client (the SDKs' transport)."""

        def on_request(request: Any) -> None:
            self.before_attempt()

        def on_response(response: Any) -> None:
            delay = None
            if response.status_code in _DELAY_STATUSES:
                try:
                    body = response.read()
                except Exception:  # a body we cannot read carries no delay
                    body = b""
                delay = retry_delay_s(response.headers, body)
                if delay is not None and delay > self.max_wait_s:
                    # the OpenAI SDK would sleep up to 2 minutes on its own before the
                    # next attempt reaches ``before_attempt``; this header stops it
                    response.headers["x-should-retry"] = "false"
            for hook in extra_response_hooks:
                hook(response)
            self.after_response(response.status_code, delay)

        return {"request": [on_request], "response": [on_response]}


# -------------------------------------------------------------------- retry delays
def parse_duration(value: Any) -> float | None:
    """A protobuf Duration as JSON: ``"1.5s"`` or ``{"seconds": 1, "nanos": 5e8}``."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        return float(match.group(1)) if match else None
    if isinstance(value, Mapping):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def retry_delay_from_body(body: Any) -> float | None:
    """Gemini's ``RetryInfo.retryDelay`` from an error body (dict, list or bytes)."""
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or b"null")
        except ValueError:
            return None
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, Mapping):
        return None
    error = body.get("error", body)
    details = error.get("details") if isinstance(error, Mapping) else None
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, Mapping) and str(detail.get("@type", "")).endswith(
            "google.rpc.RetryInfo"
        ):
            return parse_duration(detail.get("retryDelay"))
    return None


def retry_delay_from_headers(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` (milliseconds) or ``Retry-After`` (seconds or an HTTP date)."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return float(lowered["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def retry_delay_s(headers: Mapping[str, str], body: Any) -> float | None:
    """The longest retry delay an answer asks for, from its body or its headers."""
    found = [d for d in (retry_delay_from_body(body), retry_delay_from_headers(headers))
             if d is not None and d >= 0]
    return max(found) if found else None


def own_limit_message(provider: str, wait_s: float) -> str:
    """The user's words for "our own per-minute limit, not the provider, is full"."""
    return (
        f"This team's share of {provider} is used up for the moment: VIEWGEN_PROVIDER_RPM "
        f"allows no more requests for {wait_s:.0f} s, longer than viewgen waits "
        "(VIEWGEN_PROVIDER_MAX_RETRY_WAIT_S). Try again in a minute."
    )


# -------------------------------------------------------------------- key hygiene
def fingerprint(secret: str) -> str:
    """A short, one-way name for a key: safe to log, to key a dict, to show."""
    return hashlib.sha256(f"viewgen-key:{secret}".encode()).hexdigest()[:12]


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (and any ``key=...`` query value) masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return re.sub(r"(?i)([?&]key=)[^&\s]+", r"\1[redacted]", text)


# -------------------------------------------------------------------- registry
_registry: dict[tuple[str, str, int, int, float], ProviderLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(provider: str, api_key: str, settings: Settings) -> ProviderLimiter:
    """The process-wide limiter for this provider and key.

    Two adapters on the same key (Gemini images and Gemini features) share one
    limiter, as they share one quota at the provider. Concurrency and requests per
    minute are the durable queues' job now (``viewgen.durable``: global across every
    process, where a per-process cap multiplied with each replica), so this limiter
    keeps only what neither the queues nor the SDKs' retries cover: the cooldown a
    429's retry delay asks of every call on the key, and the count of HTTP attempts.
    """
    key = (
        provider,
        fingerprint(api_key),
        0,  # concurrency: the provider queue's global_concurrency
        0,  # requests per minute: the provider queue's limiter
        float(settings.provider_max_retry_wait_s),
    )
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = ProviderLimiter(
                f"{provider}:{key[1]}", concurrency=key[2], rpm=key[3], max_wait_s=key[4]
            )
            _registry[key] = limiter
        return limiter


def reset_limiters() -> None:
    """Forget every limiter (tests; a key rotated at runtime)."""
    with _registry_lock:
        _registry.clear()

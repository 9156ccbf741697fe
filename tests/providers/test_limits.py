"""Client-side limits: the per-minute window, the concurrency cap, the shared retry
cooldown (from Gemini's RetryInfo and Retry-After headers) and key hygiene."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from pathlib import Path

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viewgen.providers.limits import (
    ProviderLimiter,
    RetryWaitTooLong,
    fingerprint,
    limiter_for,
    parse_duration,
    redact,
    retry_delay_from_body,
    retry_delay_from_headers,
    retry_delay_s,
)
from viewgen.settings import Settings


class FakeClock:
    """Time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(clock: FakeClock, **kw: object) -> ProviderLimiter:
    options: dict[str, object] = {"concurrency": 0, "rpm": 0, "max_wait_s": 120.0}
    options.update(kw)
    return ProviderLimiter("test", clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- delays
@pytest.mark.parametrize(("value", "seconds"), [
    ("1s", 1.0), ("0.25s", 0.25), ("47s", 47.0), (" 3s ", 3.0),
    ({"seconds": 2, "nanos": 500_000_000}, 2.5), ("soon", None), (None, None), (5, None),
])
def test_parse_duration(value: object, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


def test_retry_delay_from_a_gemini_error_body() -> None:
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "39s"},
    ]}}
    assert retry_delay_from_body(body) == 39.0
    assert retry_delay_from_body([body]) == 39.0  # some proxies wrap it in a list
    assert retry_delay_from_body(b'{"error": {"code": 503}}') is None
    assert retry_delay_from_body(b"<html>busy</html>") is None


def test_retry_delay_from_headers() -> None:
    assert retry_delay_from_headers({"retry-after-ms": "250"}) == 0.25
    assert retry_delay_from_headers({"Retry-After": "7"}) == 7.0
    later = formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (retry_delay_from_headers({"Retry-After": later}) or 0) <= 31
    assert retry_delay_from_headers({"Retry-After": "whenever"}) is None
    assert retry_delay_from_headers({}) is None


def test_the_longest_delay_wins() -> None:
    body = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                   "retryDelay": "2s"}]}}
    assert retry_delay_s({"retry-after": "5"}, body) == 5.0
    assert retry_delay_s({}, body) == 2.0
    assert retry_delay_s({}, None) is None


# ---------------------------------------------------------------------- window
def test_requests_per_minute_wait_for_the_window() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, rpm=3)
    for _ in range(3):
        limiter.before_attempt()
    assert clock.slept == []
    limiter.before_attempt()
    assert clock.slept == [pytest.approx(60.0)]


@settings(max_examples=60, deadline=None)
@given(rpm=st.integers(1, 5), gaps=st.lists(st.floats(0, 40), min_size=1, max_size=30))
def test_no_window_of_a_minute_ever_holds_more_than_rpm_attempts(rpm: int,
                                                                 gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = _limiter(clock, rpm=rpm)
    sent: list[float] = []
    for gap in gaps:
        clock.now += gap
        limiter.before_attempt()
        sent.append(clock.now)
    for i, start in enumerate(sent):
        inside = [t for t in sent[i:] if t < start + 60.0]
        assert len(inside) <= rpm


def test_a_retry_delay_becomes_a_cooldown_for_every_caller() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    limiter.after_response(429, 2.5)
    assert limiter.cooldown_remaining() == pytest.approx(2.5)
    limiter.before_attempt()
    assert clock.slept == [pytest.approx(2.5)]
    limiter.before_attempt()
    assert clock.slept == [pytest.approx(2.5)]  # cooled down: no more waiting


def test_a_cooldown_longer_than_the_limit_raises() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, max_wait_s=10.0)
    limiter.after_response(429, 45.0)
    with pytest.raises(RetryWaitTooLong) as caught:
        limiter.before_attempt()
    assert caught.value.wait_s == pytest.approx(45.0)
    assert caught.value.own_limit is False
    assert clock.slept == []


def test_a_full_window_longer_than_the_limit_is_our_own() -> None:
    clock = FakeClock()
    limiter = _limiter(clock, rpm=1, max_wait_s=10.0)
    limiter.before_attempt()
    with pytest.raises(RetryWaitTooLong) as caught:
        limiter.before_attempt()
    assert caught.value.own_limit is True


def test_the_trace_counts_attempts_and_statuses_of_one_call() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    with limiter.call() as trace:
        limiter.before_attempt()
        limiter.after_response(503, 1.0)
        limiter.before_attempt()
        limiter.after_response(200, None)
    assert (trace.attempts, trace.statuses, trace.retry_after_s) == (2, [503, 200], 1.0)
    assert trace.waited_s == pytest.approx(1.0)
    assert limiter.trace is None


# ---------------------------------------------------------------------- concurrency
def test_the_concurrency_cap_holds_across_threads() -> None:
    limiter = ProviderLimiter("test", concurrency=2, rpm=0)
    inside = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with limiter.call():
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.03)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert peak == 2 == limiter.peak_in_flight


# ---------------------------------------------------------------------- httpx hooks
def test_the_hooks_read_a_gemini_retry_delay_from_a_real_response() -> None:
    clock = FakeClock()
    limiter = _limiter(clock)
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]}}
    answers = iter([httpx2.Response(429, json=body), httpx2.Response(200, json={})])
    transport = httpx2.MockTransport(lambda request: next(answers))
    with httpx2.Client(transport=transport, event_hooks=limiter.event_hooks()) as client, \
            limiter.call() as trace:
        assert client.post("http://gemini.test/x").status_code == 429
        assert client.post("http://gemini.test/x").status_code == 200
    assert trace.attempts == 2
    assert trace.statuses == [429, 200]
    assert clock.slept == [pytest.approx(3.0)]


# ---------------------------------------------------------------------- keys
def test_one_limiter_per_provider_and_key(tmp_path: Path) -> None:
    settings_ = Settings(data_dir=tmp_path)
    a = limiter_for("gemini", "key-one-123456", settings_)
    assert limiter_for("gemini", "key-one-123456", settings_) is a
    assert limiter_for("gemini", "key-two-123456", settings_) is not a
    assert limiter_for("openai", "key-one-123456", settings_) is not a
    assert "key-one" not in repr(a) and "123456" not in repr(a)


def test_fingerprint_and_redact_never_leak_the_key() -> None:
    key = "AIzaSy-very-secret-key-987654"
    assert fingerprint(key) == fingerprint(key)
    assert key not in fingerprint(key) and len(fingerprint(key)) == 12
    assert redact(f"bad key {key} in https://x.test/v1?key={key}&alt=sse", key) == (
        "bad key [redacted] in https://x.test/v1?key=[redacted]&alt=sse")
    assert redact("GET https://x.test/v1?key=another-one") == "GET https://x.test/v1?key=[redacted]"

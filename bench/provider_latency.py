"""Provider latency: does the whole flow cost about 3 provider round trips, not 6?

The loopback Gemini and OpenAI servers from ``tests/providers/fakes.py`` answer every
call after a fixed latency L, and the real SDKs talk to them through the real
adapters and the real workflow (SQLite and blobs in a temporary folder). One flow is
front (1 call) + approve (1 extraction) + four views; with the views in parallel it
should take about 3 L of wall time, against 6 L one call at a time. The baseline is
measured in the same run: the same studio with one view worker. Then, with L = 0,
the time our code adds per call (adapter, SDK, limiter, PNG check) over a bare HTTP
POST of the same payload. Last, bad weather: 30% of answers are 429 (with a retry
delay) or 503, and N flows run; how many finish, how many retries it took, and
whether every credit of a failed step came back.

Run: ``python bench/provider_latency.py`` (about 15 s).
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "providers")]

import httpx2  # noqa: E402
from fakes import (  # noqa: E402
    FAKE_GEMINI_KEY,
    FAKE_OPENAI_KEY,
    Chaos,
    GeminiServer,
    OpenAIServer,
)

from viewgen import credits  # noqa: E402
from viewgen.auth import create_account  # noqa: E402
from viewgen.compose import build_studio  # noqa: E402
from viewgen.domain import GenerationRequest, Status, ViewType  # noqa: E402
from viewgen.errors import ViewgenError  # noqa: E402
from viewgen.providers.limits import reset_limiters  # noqa: E402
from viewgen.settings import Settings  # noqa: E402
from viewgen.workflow import Studio  # noqa: E402

L = 0.25  # seconds of provider latency per call
REPEATS = 3
OVERHEAD_CALLS = 30
CHAOS_FLOWS = 20
CHAOS_RATE = 0.30


def _settings(data: Path, gemini: GeminiServer, openai: OpenAIServer, **extra: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data, "image_provider": "gemini", "feature_provider": "openai",
        "gemini_api_key": FAKE_GEMINI_KEY, "openai_api_key": FAKE_OPENAI_KEY,
        "gemini_base_url": gemini.url, "openai_base_url": f"{openai.url}/v1",
        "provider_timeout_s": 10.0, "provider_max_attempts": 4,
        "provider_retry_initial_s": 0.05, "provider_rpm": 0, "provider_concurrency": 4,
        "starting_credits": 10_000, "view_workers": 4,
    }
    values.update(extra)
    return Settings(**values)


def _flow(studio: Studio, user) -> tuple[float, float, Status]:
    """One whole flow; returns (total seconds, views seconds, final status)."""
    started = time.perf_counter()
    approval = studio.start_front(user, text="A navy canvas backpack with tan leather trims")
    studio.approve(user, approval.id)
    views_started = time.perf_counter()
    final = studio.run_views(user, approval.id)
    ended = time.perf_counter()
    return ended - started, ended - views_started, final.status


def _studio(data: Path, gemini: GeminiServer, openai: OpenAIServer, **extra: object):
    settings = _settings(data, gemini, openai, **extra)
    studio = build_studio(settings)
    user = create_account(studio.repo, settings, f"bench-{time.monotonic_ns()}@example.com",
                          password_hash=None)
    return studio, user


def _close(studio: Studio) -> None:
    studio.close()
    studio.repo.engine.dispose()


def measure_latency(tmp: Path) -> dict[str, float]:
    with GeminiServer(latency_s=L) as gemini, OpenAIServer(latency_s=L) as openai:
        parallel, user_p = _studio(tmp / "parallel", gemini, openai)
        sequential, user_s = _studio(tmp / "sequential", gemini, openai, view_workers=1)
        try:
            _flow(parallel, user_p)  # warm up connections and imports
            totals, views, seq_totals, seq_views = [], [], [], []
            for _ in range(REPEATS):
                total, view, status = _flow(parallel, user_p)
                assert status == Status.COMPLETE, status
                totals.append(total)
                views.append(view)
                total, view, status = _flow(sequential, user_s)
                assert status == Status.COMPLETE, status
                seq_totals.append(total)
                seq_views.append(view)
        finally:
            _close(parallel)
            _close(sequential)
    return {
        "flow_parallel": statistics.median(totals),
        "views_parallel": statistics.median(views),
        "flow_sequential": statistics.median(seq_totals),
        "views_sequential": statistics.median(seq_views),
    }


def measure_overhead(tmp: Path) -> dict[str, float]:
    """Per call at L = 0: adapter vs a bare POST of the same bytes to the same server."""
    with GeminiServer() as gemini, OpenAIServer() as openai:
        studio, _ = _studio(tmp / "overhead", gemini, openai)
        try:
            request = GenerationRequest(view=ViewType.BACK, prompt="Back view of the backpack.",
                                        front=_front_png(), size=(1024, 1024))
            for _ in range(3):
                studio.generator.generate(request)
            started = time.perf_counter()
            for _ in range(OVERHEAD_CALLS):
                studio.generator.generate(request)
            adapter = (time.perf_counter() - started) / OVERHEAD_CALLS
            sent = gemini.posts()[-1]
            headers = {k: v for k, v in sent.headers.items()
                       if k in ("content-type", "x-goog-api-key")}
            with httpx2.Client() as client:
                for _ in range(3):
                    client.post(gemini.url + sent.path, content=sent.body, headers=headers)
                started = time.perf_counter()
                for _ in range(OVERHEAD_CALLS):
                    client.post(gemini.url + sent.path, content=sent.body,
                                headers=headers).json()
                bare = (time.perf_counter() - started) / OVERHEAD_CALLS
            front = studio.generator.generate(request).data
            started = time.perf_counter()
            for _ in range(OVERHEAD_CALLS):
                studio.extractor.extract(front)
            extractor = (time.perf_counter() - started) / OVERHEAD_CALLS
        finally:
            _close(studio)
    return {"adapter": adapter, "bare": bare, "extractor": extractor}


def _front_png() -> bytes:
    from fakes import product_png

    return product_png((1024, 1024))


def measure_chaos(tmp: Path) -> dict[str, float]:
    chaos_l = 0.02
    with GeminiServer(latency_s=chaos_l) as gemini, OpenAIServer(latency_s=chaos_l) as openai:
        gemini.chaos = Chaos(CHAOS_RATE, seed=11, make=GeminiServer.chaos_reply)
        openai.chaos = Chaos(CHAOS_RATE, seed=12, make=OpenAIServer.chaos_reply)
        studio, user = _studio(tmp / "chaos", gemini, openai)
        outcomes = {"complete": 0, "front failed": 0, "approve failed": 0, "views missing": 0}
        try:
            for _ in range(CHAOS_FLOWS):
                try:
                    approval = studio.start_front(user, text="A backpack")
                except ViewgenError:
                    outcomes["front failed"] += 1
                    continue
                try:
                    studio.approve(user, approval.id)
                except ViewgenError:
                    outcomes["approve failed"] += 1
                    continue
                final = studio.run_views(user, approval.id)
                key = "complete" if final.status == Status.COMPLETE else "views missing"
                outcomes[key] += 1
            with studio.repo.tx(user) as tx:
                entries = credits.entries(tx, user.id, limit=10_000)
                balance = credits.balance(tx, user.id)
            posts = len(gemini.posts()) + len(openai.posts())
            injected = gemini.chaos.injected + openai.chaos.injected
        finally:
            _close(studio)
    granted = sum(e.delta for e in entries if e.state.value == "granted")
    committed = -sum(e.delta for e in entries if e.state.value == "committed")
    return {
        **outcomes,
        "refunded": -sum(e.delta for e in entries if e.state.value == "refunded"),
        "refund_entries": sum(1 for e in entries if e.state.value == "refunded"),
        "reserved_left": sum(1 for e in entries if e.state.value == "reserved"),
        "balanced": balance == granted - committed,
        "posts": posts,
        "injected": injected,
    }


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="viewgen-bench-") as name:
        tmp = Path(name)
        reset_limiters()
        latency = measure_latency(tmp)
        reset_limiters()
        overhead = measure_overhead(tmp)
        reset_limiters()
        chaos = measure_chaos(tmp)

    rows: list[tuple[str, str]] = [
        ("provider latency L per call", f"{L * 1000:.0f} ms"),
        ("flow, views in parallel (median of 3)",
         f"{latency['flow_parallel']:.2f} s = {latency['flow_parallel'] / L:.2f} L"),
        ("flow, one view worker (same run)",
         f"{latency['flow_sequential']:.2f} s = {latency['flow_sequential'] / L:.2f} L"),
        ("fixed cost per flow beyond 3 L (DB, blobs, SDKs)",
         f"{(latency['flow_parallel'] - 3 * L) * 1000:.0f} ms"),
        ("four views in parallel", f"{latency['views_parallel'] / L:.2f} L"),
        ("four views one at a time", f"{latency['views_sequential'] / L:.2f} L"),
        ("views parallel / sequential",
         f"{latency['views_parallel'] / latency['views_sequential']:.2f}"),
        ("per image call at L=0: bare HTTP POST", f"{overhead['bare'] * 1000:.1f} ms"),
        ("per image call at L=0: GeminiGenerator", f"{overhead['adapter'] * 1000:.1f} ms"),
        ("overhead our code + SDK add per image call",
         f"{(overhead['adapter'] - overhead['bare']) * 1000:.1f} ms"),
        ("per extraction at L=0: OpenAIExtractor", f"{overhead['extractor'] * 1000:.1f} ms"),
        (f"bad weather: {CHAOS_RATE:.0%} 429/503, {CHAOS_FLOWS} flows",
         f"{chaos['injected']} injected of {chaos['posts']} requests"),
        ("  flows complete", f"{chaos['complete']} / {CHAOS_FLOWS}"),
        ("  flows stopped (front / approve / views)",
         f"{chaos['front failed']} / {chaos['approve failed']} / {chaos['views missing']}"),
        ("  credits refunded (entries)", f"{chaos['refunded']} ({chaos['refund_entries']})"),
        ("  reservations left open", f"{chaos['reserved_left']}"),
        ("  ledger balances", "yes" if chaos["balanced"] else "NO"),
        ("bench wall time", f"{time.perf_counter() - started:.1f} s"),
        ("headline: whole flow / L (ideal 3, one at a time 6)",
         f"{latency['flow_parallel'] / L:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 24}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()

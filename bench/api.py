"""HTTP API overhead: what the API adds per call over calling ``Studio`` directly.

One run, side by side: the same database (SQLite in a temporary folder) and a
zero-latency image generator and feature extractor (L = 0, so only our own code is
timed). The API runs as ``uvicorn`` in a child process, as it does in production; the
client is ``httpx`` over loopback with a bearer token. For each of the seed's three
routes and ``GET /api/products/{id}`` the direct ``Studio`` call and the API call are
made alternately, N times each, and the medians compared: the difference is what the
API adds (HTTP, JSON, the token lookup and the shared rate limit's UPDATE, the two
balance reads for ``credits``, URL signing). ``GET /api/products/{id}`` is compared with
the same reads made directly (``api.status.read``: the product, its revisions, its
rejected fronts and its job in one transaction). The server is configured as
``python -m viewgen serve`` configures it (``api.uvicorn_config``: uvloop, httptools),
with the rate limit on (at a limit the bench never reaches). Consistency scoring, CPU
work on a background thread, is off on both sides. Then requests per second on
``GET /api/products/{id}``, one client and eight, against direct reads per second.

Run: ``nice -n 5 python bench/api.py`` (about a minute). Goal: at most 5 ms added per
call (median). The last line is the ratio API / direct for the product read, side by
side in this run.
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from viewgen import tokens  # noqa: E402
from viewgen.api import status  # noqa: E402
from viewgen.api.ratelimit import RateLimiter  # noqa: E402
from viewgen.auth import create_account  # noqa: E402
from viewgen.blobs import build_blob_store  # noqa: E402
from viewgen.domain import (  # noqa: E402
    CallUsage,
    Color,
    ExtractedFeatures,
    ExtractionResult,
    GeneratedImage,
    GenerationRequest,
)
from viewgen.settings import Settings  # noqa: E402
from viewgen.store import SYSTEM, open_repository  # noqa: E402
from viewgen.workflow import Studio  # noqa: E402

N = 25
RPS_SECONDS = 3.0
GOAL_MS = 5.0
RATE = 10_000_000  # the limit is checked (its UPDATE is measured) but never reached


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


class ZeroGenerator:
    """Answers at once with a small PNG: L = 0."""

    name = "zero"
    model = "zero-1"

    def __init__(self) -> None:
        self.png = _png()

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        return GeneratedImage(self.png, CallUsage(provider="zero", model="zero-1", images=1))


class ZeroExtractor:
    name = "zero"
    model = "zero-1"

    def extract(self, image: bytes) -> ExtractionResult:
        features = ExtractedFeatures(colors=[Color(hex="#1E5AA0", name="blue")],
                                     materials=["plastic"], keyElements=["lid"],
                                     description="A blue plastic box with a lid.")
        return ExtractionResult(features, CallUsage(provider="zero", model="zero-1"))


class BenchStudio(Studio):
    """The Studio without its background consistency scoring: that CPU work would land
    on whichever call runs next, direct or API, and blur what each costs."""

    def analyse(self, actor_id: str, approval_id: str, views: list[str]) -> None:
        return None


def settings_for(data: Path) -> Settings:
    # the default queue poll (0.25 s) on both sides: the POST routes' "added" figures carry
    # polling-phase noise, but a 10 ms poll in two processes costs the very CPU the bench
    # measures (the HTTP round trip alone went from 1 to 15 ms); GET is not polled
    return Settings(data_dir=data, starting_credits=1_000_000, api_rate_per_minute=RATE,
                    image_size=64)


def studio_for(settings: Settings) -> Studio:
    return BenchStudio(settings, open_repository(settings.resolved_database_url),
                  build_blob_store(settings), ZeroGenerator(), ZeroExtractor())


def serve_child(data: str, port: int) -> None:
    """The child process: the API over a zero-latency Studio on ``port``."""
    import uvicorn

    from viewgen.api import create_app, uvicorn_config

    settings = settings_for(Path(data))
    app = create_app(studio_for(settings), settings)
    uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, log_level="warning")).run()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 300:
        raise SystemExit(f"API answered {response.status_code}: {response.text}")
    return response


def _rps(call: Callable[[], object], threads: int) -> float:
    stop = time.monotonic() + RPS_SECONDS
    counts = [0] * threads

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            call()
            counts[i] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        settings = settings_for(data)
        studio = studio_for(settings)  # also migrates the database before the child starts
        user = create_account(studio.repo, settings, "bench@example.com", password_hash=None)
        _, token = tokens.create(studio.repo, user, "bench")
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, __file__, "--serve", str(data), str(port)],
                                 env=env)
        try:
            api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                               headers={"Authorization": f"Bearer {token}"})
            deadline = time.monotonic() + 60
            while True:
                try:
                    if api.get("/api/me").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit("the API server did not start")
                time.sleep(0.05)
            rows = measure(studio, user, api)
        finally:
            child.terminate()
            child.wait(timeout=20)
            studio.close()
    report(rows)


def _round(studio: Studio, user, api: httpx.Client,
           times: dict[str, tuple[list[float], list[float]]]) -> None:
    """One product each way, every step timed: direct first, then through the API."""
    ids: dict[str, str] = {}
    direct, via = times["generate-front-view"]
    direct.append(_ms(lambda: ids.__setitem__(
        "d", studio.start_front(user, text="a blue plastic box").id)))
    via.append(_ms(lambda: ids.__setitem__("a", _ok(api.post(
        "/api/generate-front-view", json={"text": "a blue plastic box"})).json()
        ["approvalId"])))
    direct, via = times["approve-front-view"]
    direct.append(_ms(lambda: studio.approve(user, ids["d"])))
    via.append(_ms(lambda: _ok(api.post("/api/approve-front-view", json={
        "approvalId": ids["a"], "approved": True}))))
    direct, via = times["generate-additional-views"]
    direct.append(_ms(lambda: studio.run_views(user, ids["d"])))
    via.append(_ms(lambda: _ok(api.post("/api/generate-additional-views", json={
        "approvalId": ids["a"]}))))
    direct, via = times["GET /api/products/{id}"]
    # the route's reads, made directly: product, revisions, history and job
    direct.append(_ms(lambda: _product(studio, user, ids["d"])))
    via.append(_ms(lambda: _ok(api.get(f"/api/products/{ids['a']}"))))


def _product(studio: Studio, user, approval_id: str) -> object:
    found = status.read(studio, user, approval_id)
    return status.job_of(found.approval, found.calls)


def measure(studio: Studio, user, api: httpx.Client) -> dict[str, object]:
    times: dict[str, tuple[list[float], list[float]]] = {
        k: ([], []) for k in ("generate-front-view", "approve-front-view",
                              "generate-additional-views", "GET /api/products/{id}")}
    # warm both paths once (imports, first connections, JIT-free but cache-warm)
    warm = studio.start_front(user, text="a blue box")
    _ok(api.post("/api/generate-front-view", json={"text": "a blue box"}))
    for _ in range(N):
        _round(studio, user, api, times)
    product = warm.id
    _ok(api.get(f"/api/products/{product}"))
    clients = [httpx.Client(base_url=str(api.base_url), headers=dict(api.headers), timeout=60)
               for _ in range(8)]
    rps_1 = _rps(lambda: api.get(f"/api/products/{product}"), 1)
    rps_8 = _rps(lambda: clients[threading.get_ident() % 8].get(
        f"/api/products/{product}"), 8)
    direct_rps = _rps(lambda: _product(studio, user, product), 1)
    three_rps = _rps(lambda: (studio.get(user, product), studio.revisions(user, product),
                              studio.history(user, product)), 1)
    for c in clients:
        c.close()
    # where the added time goes: a bare HTTP round trip, and the token lookup alone
    bare = httpx.Client(base_url=str(api.base_url), timeout=60)
    http_only = statistics.median(_ms(lambda: bare.get("/api/no-such-route"))
                                  for _ in range(N))
    bare.close()
    token = api.headers["authorization"].split(" ", 1)[1]
    lookup = statistics.median(_ms(lambda: tokens.authenticate(studio.repo, token))
                               for _ in range(N))
    limiter = RateLimiter(RATE)

    def lookup_and_limit() -> None:  # what guard.Authenticator does per request
        with studio.repo.tx(SYSTEM, write=True) as tx:
            found = tokens.lookup(tx, token)
            assert found is not None
            limiter.take(tx.conn, f"token:{found[1].id}")

    limited = statistics.median(_ms(lookup_and_limit) for _ in range(N))
    balance = statistics.median(_ms(lambda: studio.balance(user)) for _ in range(N))
    # a route runs in a worker thread: one hand-off there and back, which on a busy
    # machine waits for the scheduler
    with ThreadPoolExecutor(1) as pool:
        hop = statistics.median(_ms(lambda: pool.submit(int).result()) for _ in range(N))
    return {"hop": hop, "times": times, "rps_1": rps_1, "rps_8": rps_8, "direct_rps": direct_rps,
            "three_rps": three_rps, "http_only": http_only, "lookup": lookup,
            "limited": limited, "balance": balance}


def report(rows: dict[str, object]) -> None:
    times = rows["times"]
    assert isinstance(times, dict)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"API overhead at L = 0, N = {N} calls per route (median ms; the API in a uvicorn "
          f"child process; load average {load} on {os.cpu_count()} CPUs)")
    print(f"{'route':<28}{'Studio':>10}{'API':>10}{'added':>10}")
    added_all: list[float] = []
    for name, (direct, via) in times.items():
        d, a = statistics.median(direct), statistics.median(via)
        added_all += [v - x for v, x in zip(via, direct, strict=True)]
        print(f"{name:<28}{d:>10.2f}{a:>10.2f}{a - d:>10.2f}")
    print(f"{'GET /api/products/{id} req/s, 1 client':<48}{rows['rps_1']:>10.0f}")
    print(f"{'GET /api/products/{id} req/s, 8 clients':<48}{rows['rps_8']:>10.0f}")
    print(f"{'the same reads directly (status.read), calls/s':<48}{rows['direct_rps']:>10.0f}")
    print(f"{'Studio.get + revisions + history (3 tx), calls/s':<48}{rows['three_rps']:>10.0f}")
    print(f"{'of the added: HTTP round trip, no auth (ms)':<48}{rows['http_only']:>10.2f}")
    print(f"{'of the added: token lookup alone (ms)':<48}{rows['lookup']:>10.2f}")
    print(f"{'of the added: lookup + shared rate limit, 1 tx (ms)':<48}{rows['limited']:>10.2f}")
    print(f"{'of the added: a balance read, seed routes do 2 (ms)':<48}{rows['balance']:>10.2f}")
    print(f"{'of the added: one thread hand-off here, now (ms)':<48}{rows['hop']:>10.2f}")
    added = statistics.median(added_all)
    print(f"median added latency over all routes {added:.2f} ms per call = "
          f"{added / GOAL_MS:.2f}x the {GOAL_MS:.0f} ms goal")
    direct, via = times["GET /api/products/{id}"]
    d, a = statistics.median(direct), statistics.median(via)
    print(f"headline: GET /api/products/{{id}} through the API / the same reads directly = "
          f"{a:.2f} / {d:.2f} ms = {a / d:.2f}x (added {a - d:.2f} ms)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve_child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

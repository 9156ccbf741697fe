"""HTTP API overhead: what the API adds per call over calling ``Studio`` directly.

One run, side by side: the same database (SQLite in a temporary folder) and a
zero-latency image generator and feature extractor (L = 0, so only our own code is
timed). The API runs as ``uvicorn`` in a child process, as it does in production
(``api.uvicorn_config``: uvloop, httptools, the rate limit on at a limit the bench never
reaches); the client is ``httpx`` over loopback with a bearer token. For each of the
seed's three routes one product is made directly and one through the API, alternately,
N times; then ``GET /api/products/{id}`` reads those settled products, directly
(``api.status.read`` + ``job_of``: the route's reads) and through the API, alternately.

"Added" is, per API call, its round trip minus the Studio call inside it, which the
server reports in its ``Server-Timing`` header (``api.timing``): the same call the direct
column makes, timed where it runs. That is what the API costs a caller, without the
noise a difference of two separate calls carries when each ends at a queue poll (the
POST routes wait on DBOS queues polled every 0.25 s, so their direct and API times are
each a poll-phase draw). The difference of the medians (API - direct) is printed too; for
the product read, which waits on no queue, both measures agree. Then where the added time
goes (auth, the route's own work, HTTP) and requests per second on the product read.
Consistency scoring (CPU work on a background thread) is off on both sides.

Run: ``nice -n 5 python bench/api.py`` (about four minutes, mostly queue waits). Goal: at
most 5 ms added per call (median). The last line is the ratio API / direct for the
product read, side by side in this run.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from PIL import Image  # noqa: E402

from viewgen import tokens  # noqa: E402
from viewgen.api import status, timing  # noqa: E402
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
from viewgen.store import open_repository  # noqa: E402
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


class Timed:
    """What one route measured: direct Studio calls, and per API call its round trip and
    the server's own ``Server-Timing`` spans (``studio``: the same Studio call inside the
    route; ``auth``; ``app``: the whole request inside the server)."""

    def __init__(self) -> None:
        self.direct: list[float] = []
        self.trip: list[float] = []
        self.spans: list[dict[str, float]] = []

    def api(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        started = time.perf_counter()
        response = _ok(call())
        self.trip.append((time.perf_counter() - started) * 1000)
        self.spans.append(timing.parse(response.headers["server-timing"]))
        return response

    def span(self, name: str) -> list[float]:
        return [s.get(name, 0.0) for s in self.spans]

    def added(self) -> list[float]:
        """Per API call: its round trip minus the Studio call inside it."""
        return [t - s for t, s in zip(self.trip, self.span("studio"), strict=True)]


def _round(studio: Studio, user, api: httpx.Client, times: dict[str, Timed]) -> tuple[str, str]:
    """One product each way, every step timed: direct first, then through the API."""
    ids: dict[str, str] = {}
    t = times["generate-front-view"]
    t.direct.append(_ms(lambda: ids.__setitem__(
        "d", studio.start_front(user, text="a blue plastic box").id)))
    ids["a"] = t.api(lambda: api.post("/api/generate-front-view",
                                      json={"text": "a blue plastic box"})).json()["approvalId"]
    t = times["approve-front-view"]
    t.direct.append(_ms(lambda: studio.approve(user, ids["d"])))
    t.api(lambda: api.post("/api/approve-front-view",
                           json={"approvalId": ids["a"], "approved": True}))
    t = times["generate-additional-views"]
    t.direct.append(_ms(lambda: studio.run_views(user, ids["d"])))
    t.api(lambda: api.post("/api/generate-additional-views", json={"approvalId": ids["a"]}))
    return ids["d"], ids["a"]


def _product(studio: Studio, user, approval_id: str) -> object:
    found = status.read(studio, user, approval_id)
    return status.job_of(found.approval, found.calls)


def measure(studio: Studio, user, api: httpx.Client) -> dict[str, object]:
    times = {k: Timed() for k in ("generate-front-view", "approve-front-view",
                                  "generate-additional-views", "GET /api/products/{id}")}
    # warm both paths once (imports, first connections, JIT-free but cache-warm)
    warm = studio.start_front(user, text="a blue box")
    _ok(api.post("/api/generate-front-view", json={"text": "a blue box"}))
    products = [_round(studio, user, api, times) for _ in range(N)]
    # the product read as a client polls it: settled products, direct and API alternately
    # (timed inside the rounds it would share the CPU with the views workflow's wind-down)
    time.sleep(1.0)
    t = times["GET /api/products/{id}"]
    for _ in range(4):
        for d, a in products:
            t.direct.append(_ms(lambda d=d: _product(studio, user, d)))
            t.api(lambda a=a: api.get(f"/api/products/{a}"))
    product = warm.id
    _ok(api.get(f"/api/products/{product}"))
    clients = [httpx.Client(base_url=str(api.base_url), headers=dict(api.headers), timeout=60)
               for _ in range(8)]
    rps_1 = _rps(lambda: api.get(f"/api/products/{product}"), 1)
    rps_8 = _rps(lambda: clients[threading.get_ident() % 8].get(
        f"/api/products/{product}"), 8)
    direct_rps = _rps(lambda: _product(studio, user, product), 1)
    for c in clients:
        c.close()
    # a bare HTTP round trip (uvicorn's 404 for an unknown path: no auth, no route)
    bare = httpx.Client(base_url=str(api.base_url), timeout=60)
    http_only = statistics.median(_ms(lambda: bare.get("/api/no-such-route"))
                                  for _ in range(N))
    bare.close()
    return {"times": times, "rps_1": rps_1, "rps_8": rps_8, "direct_rps": direct_rps,
            "http_only": http_only}


def report(rows: dict[str, object]) -> None:
    times = rows["times"]
    assert isinstance(times, dict)
    med = statistics.median
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"API overhead at L = 0 (median ms; N = {N} products each way, the product read "
          f"{4 * N} times each way; the API in a uvicorn child process; load average {load} "
          f"on {os.cpu_count()} CPUs)")
    print("  Studio: the call made directly in this process; in API: the same call inside "
          "the route (Server-Timing 'studio');")
    print("  added: each API call's round trip minus the Studio call inside it; "
          "API - direct: the difference of the medians")
    print("  of the added: auth (token lookup + shared rate limit, 1 tx), around (the rest of "
          "the request in the server:")
    print("  body and JSON, balance, signed URLs), HTTP (round trip - the server's 'app' span)")
    print(f"{'route':<28}{'Studio':>9}{'in API':>9}{'API':>9}{'added':>8}{'auth':>7}"
          f"{'around':>8}{'HTTP':>7}{'API - direct':>14}")
    added_all: list[float] = []
    for name, t in times.items():
        d, inside, a = med(t.direct), med(t.span("studio")), med(t.trip)
        added_all += t.added()
        around = med(s["app"] - s["studio"] - s["auth"] for s in t.spans)
        http = med(trip - s["app"] for trip, s in zip(t.trip, t.spans, strict=True))
        print(f"{name:<28}{d:>9.2f}{inside:>9.2f}{a:>9.2f}{med(t.added()):>8.2f}"
              f"{med(t.span('auth')):>7.2f}{around:>8.2f}{http:>7.2f}{a - d:>14.2f}")
    print(f"{'a bare HTTP round trip, for comparison (uvicorn 404, no auth)':<62}"
          f"{rows['http_only']:>8.2f}")
    print(f"{'GET /api/products/{id} req/s, 1 client':<62}{rows['rps_1']:>8.0f}")
    print(f"{'GET /api/products/{id} req/s, 8 clients':<62}{rows['rps_8']:>8.0f}")
    print(f"{'the same reads directly (status.read), calls/s':<62}{rows['direct_rps']:>8.0f}")
    added = med(added_all)
    worst_name, worst = max(((n, med(t.added())) for n, t in times.items()), key=lambda x: x[1])
    print(f"median added latency over all routes {added:.2f} ms per call = "
          f"{added / GOAL_MS:.2f}x the {GOAL_MS:.0f} ms goal (the product read is "
          f"{4 * N} of the {len(added_all)} calls)")
    print(f"the slowest route's median added: {worst:.2f} ms ({worst_name}) = "
          f"{worst / GOAL_MS:.2f}x the goal")
    t = times["GET /api/products/{id}"]
    d, a = med(t.direct), med(t.trip)
    print(f"headline: GET /api/products/{{id}} through the API / the same reads directly = "
          f"{a:.2f} / {d:.2f} ms = {a / d:.2f}x (added {a - d:.2f} ms)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve_child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

"""The per-token rate limit holds across API processes: it lives in the database.

A burst of ``VIEWGEN_API_RATE_PER_MINUTE`` is allowed, the next request is 429 with
``Retry-After``, budgets refill at the rate, and connections racing for the last request
of a minute (as two uvicorn workers would) get it once between them. End to end: an
API server in this process and ``python -m viewgen serve`` in another, on one database,
share one token's budget.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from api_helpers import client, error_of, token_for

from viewgen.api.ratelimit import RateLimiter
from viewgen.store import SYSTEM, Repository

ROOT = Path(__file__).resolve().parents[2]


def _take(repo: Repository, limiter: RateLimiter, key: str, now: float) -> float | None:
    with repo.tx(SYSTEM, write=True) as tx:
        limiter.relax_commit(tx.conn)
        return limiter.take(tx.conn, key, now=now)


def test_a_burst_then_the_rate(repo: Repository) -> None:
    limiter = RateLimiter(6)  # one request every 10 s, six at once
    start = 1_800_000_000.0
    assert [_take(repo, limiter, "token:a", start) for _ in range(6)] == [None] * 6
    wait = _take(repo, limiter, "token:a", start)
    assert wait is not None and abs(wait - 10.0) < 1e-6
    assert _take(repo, limiter, "token:a", start + 5) is not None  # refused: not yet
    assert _take(repo, limiter, "token:b", start) is None  # another key, its own budget
    assert _take(repo, limiter, "token:a", start + 10) is None  # one more after 10 s
    assert _take(repo, limiter, "token:a", start + 10) is not None
    # idle for a long time: the full burst again, never more
    later = start + 3600
    assert [_take(repo, limiter, "token:a", later) for _ in range(7)].count(None) == 6


def test_racing_connections_share_the_last_requests(repo: Repository) -> None:
    limiter = RateLimiter(10)
    now = 1_800_000_000.0
    allowed: list[bool] = []
    gate = threading.Barrier(8)

    def worker() -> None:
        gate.wait()
        for _ in range(5):
            allowed.append(_take(repo, limiter, "token:shared", now) is None)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(allowed) == 40 and allowed.count(True) == 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_api_processes_on_one_database_share_a_tokens_limit(
        serve, studio, repo, settings, alice, tmp_path: Path) -> None:
    here = serve(studio, api_rate_per_minute=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update(VIEWGEN_DATA_DIR=str(settings.data_dir),
               VIEWGEN_DATABASE_URL=settings.resolved_database_url,
               VIEWGEN_API_RATE_PER_MINUTE="4", VIEWGEN_IMAGE_SIZE="256",
               VIEWGEN_SECRETS_FILE=str(tmp_path / "none.toml"), PYTHONPATH=str(ROOT))
    port = _free_port()
    log = (tmp_path / "other.log").open("w+")
    other = subprocess.Popen([sys.executable, "-m", "viewgen", "serve", "--port", str(port)],
                             cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert other.poll() is None, log.seek(0) or log.read()
            assert time.monotonic() < deadline, "the second API process did not start"
            time.sleep(0.1)
        token = token_for(repo, alice, "shared")
        with client(here, token) as a, httpx.Client(
                base_url=f"http://127.0.0.1:{port}", timeout=60,
                headers={"Authorization": f"Bearer {token}"}) as b:
            answers = [api.get("/api/me").status_code for api in (a, b, a, b)]
            assert answers == [200, 200, 200, 200]
            for api in (b, a):  # the budget is spent, whichever process is asked
                limited = api.get("/api/me")
                assert error_of(limited) == (429, "rate_limited")
                assert 1 <= int(limited.headers["retry-after"]) <= 15
            with client(here, token_for(repo, alice, "another")) as c:
                assert c.get("/api/me").status_code == 200  # another token: its own budget
    finally:
        other.send_signal(signal.SIGINT)
        other.wait(timeout=30)

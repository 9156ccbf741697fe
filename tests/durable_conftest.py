"""Helpers for the durable-execution tests and ``bench/scale.py``: worker processes,
a provider double that enforces (and counts breaches of) its own rate limit, throwaway
PostgreSQL databases, polling with a deadline, and the exactly-once audit.

Workers exchange nothing but the database, so a multi-process test runs the loopback
provider in the test process, points ``python -m viewgen worker`` subprocesses at it
through ``VIEWGEN_*`` variables, and enqueues work from an enqueue-only ``Studio``
(``executor="off"``) built on the same database. ``audit`` then reads the database
and the blob folder and names every way a product could have run other than exactly
once: a ledger row committed twice, a reservation left open (credits lost), a second
successful provider call for one view, an image file nothing points at.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "providers"))

from fakes import FAKE_GEMINI_KEY, GeminiServer, Recorded, Reply, product_png  # noqa: E402

from viewgen.settings import Settings  # noqa: E402
from viewgen.store import schema as t  # noqa: E402

IMAGE_SIZE = 256  # small images: the machine's CPU goes to the workflows, not to PNGs
PG_ENV = "VIEWGEN_TEST_DATABASE_URL"


# --------------------------------------------------------------------------- waiting
def wait_until(predicate: Callable[[], Any], *, timeout: float, what: str,
               interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- provider
class RateLimitedGemini(GeminiServer):
    """The Gemini double with a rolling-window request limit of its own.

    Every ``generateContent`` POST is counted at arrival; a request that finds
    ``limit`` others within the last ``window_s`` seconds is recorded in ``over`` (and,
    with ``reject_over``, answered 429 as the real API would). ``limit=0`` counts only.
    Images are ``IMAGE_SIZE`` pixels square.
    """

    def __init__(self, *, latency_s: float = 0.0, limit: int = 0, window_s: float = 60.0,
                 reject_over: bool = False) -> None:
        super().__init__(latency_s=latency_s)
        self._png = product_png((IMAGE_SIZE, IMAGE_SIZE))
        self.limit = limit
        self.window_s = window_s
        self.reject_over = reject_over
        self.arrivals: deque[float] = deque()
        self.over: list[float] = []
        self.count = 0
        self._window_lock = threading.Lock()

    def _pick(self, request: Recorded):  # type: ignore[override]
        if request.method == "POST" and ":generateContent" in request.path:
            with self._window_lock:
                self.count += 1
                now = request.at
                while self.arrivals and self.arrivals[0] <= now - self.window_s:
                    self.arrivals.popleft()
                breach = self.limit > 0 and len(self.arrivals) >= self.limit
                self.arrivals.append(now)
                if breach:
                    self.over.append(now)
                    if self.reject_over:
                        return Reply(429, {"error": {"code": 429, "message": "Too many requests",
                                                     "status": "RESOURCE_EXHAUSTED"}})
        return super()._pick(request)

    def image_posts(self) -> list[Recorded]:
        return [r for r in self.posts() if "image" in r.path]


# --------------------------------------------------------------------------- settings
def settings_values(data_dir: Path, database_url: str, gemini_url: str,
                    **extra: Any) -> dict[str, Any]:
    """Settings for a test cluster: both providers on the loopback Gemini double."""
    values: dict[str, Any] = {
        "data_dir": data_dir, "database_url": database_url,
        "image_provider": "gemini", "feature_provider": "gemini",
        "gemini_api_key": FAKE_GEMINI_KEY, "gemini_base_url": gemini_url,
        "image_size": IMAGE_SIZE, "provider_timeout_s": 30.0, "provider_max_attempts": 2,
        "provider_retry_initial_s": 0.05, "provider_rpm": 0, "provider_concurrency": 16,
        "view_workers": 4, "starting_credits": 10_000, "queue_poll_s": 0.1,
        "heartbeat_s": 0.5, "worker_dead_after_s": 3.0, "batch_rows_per_user": 8,
    }
    values.update(extra)
    return values


def env_for(values: dict[str, Any]) -> dict[str, str]:
    """The environment a ``python -m viewgen worker`` needs for the same settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("VIEWGEN_") and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY",
                                                         "OPENAI_API_KEY")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env["VIEWGEN_SECRETS_FILE"] = str(Path(values["data_dir"]) / "no-secrets.toml")
    for name, value in values.items():
        if value is None:
            continue
        key = "GEMINI_API_KEY" if name == "gemini_api_key" else f"VIEWGEN_{name.upper()}"
        env[key] = str(value)
    return env


# --------------------------------------------------------------------------- workers
@dataclass
class WorkerProcess:
    id: str
    proc: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL: no drain, no atexit, no heartbeat removal."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


@dataclass
class Cluster:
    """Worker processes sharing one database (and one loopback provider)."""

    values: dict[str, Any]
    logs: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def start(self, worker_id: str, **extra: Any) -> WorkerProcess:
        env = env_for({**self.values, **extra})
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{worker_id}-{len(self.workers)}.log"
        handle = log.open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "viewgen", "worker", "--id", worker_id],
                                env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        worker = WorkerProcess(worker_id, proc, log)
        self.workers.append(worker)
        return worker

    def wait_ready(self, engine, worker: WorkerProcess, timeout: float = 90) -> None:
        """Wait for the worker's first heartbeat row (it has launched DBOS)."""
        def ready() -> bool:
            if worker.proc.poll() is not None:
                raise AssertionError(f"worker {worker.id} exited:\n{worker.output()}")
            with engine.connect() as conn:
                return conn.execute(select(t.workers.c.pid).where(
                    t.workers.c.id == worker.id)).scalar() == worker.proc.pid
        wait_until(ready, timeout=timeout, what=f"worker {worker.id} to start", interval=0.2)

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


# --------------------------------------------------------------------------- databases
@contextmanager
def scratch_pg_database(server_url: str, prefix: str = "viewgen_durable") -> Iterator[str]:
    """A PostgreSQL database of our own for one test or bench run, dropped afterwards."""
    url = make_url(server_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def build_batch_plan(n: int, *, prefix: str = "SKU", auto_approve: bool = True):
    """A valid ``BatchPlan`` of ``n`` text-only rows, made by the real CSV checker."""
    from viewgen.batch_input import plan_batch

    flag = "true" if auto_approve else "false"
    lines = ["sku,text,auto_approve"] + [
        f"{prefix}-{i:04d},A navy canvas backpack number {i} with tan leather trims,{flag}"
        for i in range(1, n + 1)]
    plan = plan_batch("\n".join(lines).encode())
    assert not plan.errors, plan.error_messages()
    return plan


# --------------------------------------------------------------------------- the audit
@dataclass
class Audit:
    """What the database and blob folder say about how often things happened."""

    approvals: int = 0
    complete: int = 0
    committed: int = 0
    committed_credits: int = 0
    open_reservations: int = 0
    double_charged: list[str] = field(default_factory=list)
    unbalanced_users: list[str] = field(default_factory=list)
    duplicate_calls: list[str] = field(default_factory=list)
    orphan_blobs: list[str] = field(default_factory=list)
    missing_blobs: list[str] = field(default_factory=list)
    ok_image_calls: int = 0

    @property
    def problems(self) -> list[str]:
        out = []
        if self.open_reservations:
            out.append(f"{self.open_reservations} reservation(s) still open")
        for name in ("double_charged", "unbalanced_users", "duplicate_calls", "orphan_blobs",
                     "missing_blobs"):
            if getattr(self, name):
                out.append(f"{name}: {getattr(self, name)[:5]}")
        return out


def audit(engine, blob_dir: Path, *, prices=None) -> Audit:
    """Read everything back and check that each product ran exactly once.

    Per product: one committed ledger row per successful priced image (a first flow at
    the seed's prices charges the front only, its four views are included; with a view
    price each view is charged too), one charged ``ok`` call per (view, kind) (the QA
    gate's automatic retries are recorded uncharged and do not count), every image it
    points at on disk. Per user: balance = granted - committed, nothing left
    reserved. Per file under ``blob_dir``: some row points at it (``.tmp-`` files of a
    write cut by SIGKILL excepted; they are not images anyone can see).
    """
    from viewgen.credits import Prices

    prices = prices or Prices.from_settings(Settings())
    priced_per_product = 1 + (4 if prices.view > 0 else 0)
    a = Audit()
    ledger, calls, pva = t.credit_ledger, t.generation_calls, t.product_view_approvals
    with engine.connect() as conn:
        approvals = conn.execute(select(pva)).all()
        a.approvals = len(approvals)
        a.complete = sum(1 for r in approvals if r.status == "complete")
        rows = conn.execute(select(ledger)).all()
        a.open_reservations = sum(1 for r in rows if r.state == "reserved")
        committed = [r for r in rows if r.state == "committed"]
        a.committed = len(committed)
        a.committed_credits = -sum(r.delta for r in committed)
        per_approval = Counter(r.approval_id for r in committed)
        ok = conn.execute(select(calls.c.approval_id, calls.c.view_type, calls.c.kind,
                                 func.count()).where(calls.c.outcome == "ok",
                                                     calls.c.charged.is_(True))
                          .group_by(calls.c.approval_id, calls.c.view_type, calls.c.kind)).all()
        a.ok_image_calls = sum(n for _, _, kind, n in ok if kind == "image")
        a.duplicate_calls = [f"{aid}/{view}/{kind} x{n}" for aid, view, kind, n in ok if n > 1]
        charged_ok = Counter()
        for aid, view, kind, n in ok:
            if kind == "image" and (view == "front" or prices.view > 0):
                charged_ok[aid] += n
        for r in approvals:
            if per_approval[r.id] > charged_ok[r.id] or (
                    r.status == "complete" and per_approval[r.id] != priced_per_product):
                a.double_charged.append(f"{r.id}: {per_approval[r.id]} commits, "
                                        f"{charged_ok[r.id]} ok image calls")
        by_user: dict[str, int] = {}
        for r in rows:
            if r.state in ("granted", "committed", "reserved"):
                by_user[r.user_id] = by_user.get(r.user_id, 0) + r.delta
        granted = Counter()
        spent = Counter()
        for r in rows:
            if r.state == "granted":
                granted[r.user_id] += r.delta
            elif r.state == "committed":
                spent[r.user_id] += -r.delta
        a.unbalanced_users = [u for u, bal in by_user.items() if bal != granted[u] - spent[u]]
        referenced: set[str] = set()
        view_cols = [c for c in pva.c if c.name.endswith("_key")]
        for r in approvals:
            for col in view_cols:
                if (key := getattr(r, col.name)):
                    referenced.add(key)
        referenced.update(k for (k,) in conn.execute(
            select(t.view_revision_history.c.image_key)).all() if k)
        for r in conn.execute(select(t.batch_rows.c.image_key, t.batch_rows.c.logo_key)).all():
            referenced.update(k for k in r if k)
    on_disk = set()
    if blob_dir.exists():
        for path in blob_dir.rglob("*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                on_disk.add(path.relative_to(blob_dir).as_posix())
    a.orphan_blobs = sorted(on_disk - referenced)
    a.missing_blobs = sorted(referenced - on_disk)
    return a


def pg_url_or_skip(pg_server_url: str | None) -> str:
    import pytest

    if not pg_server_url:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (set by .ci/run)")
    return pg_server_url


def enqueue_only_studio(values: dict[str, Any]):
    """A Studio in this process that enqueues only (the workers run the workflows)."""
    from viewgen.compose import build_studio

    return build_studio(Settings(**values), executor="off", reconcile=False)


def new_member(studio, email: str):
    """A member account (not an admin, so on PostgreSQL Row Level Security applies to
    every write made on their behalf): the first account of a database is the admin."""
    from viewgen.auth import create_account
    from viewgen.domain import Role

    with studio.repo.engine.connect() as conn:
        if not conn.execute(select(func.count()).select_from(t.users)).scalar_one():
            create_account(studio.repo, studio.settings, "admin@example.com",
                           password_hash=None)
    return create_account(studio.repo, studio.settings, email, password_hash=None,
                          role=Role.MEMBER)

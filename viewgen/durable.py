"""Durable execution on DBOS Transact: every generation is a workflow, every provider
call a step, every queue shared by all processes through the database.

This module holds the DBOS side only: launching the engine for a ``Studio`` (one per
process: the embedded executor of the app, a ``python -m viewgen worker``, or an
enqueue-only app replica), the queues (one image queue and one extraction queue per
provider and key, with a global concurrency and rate limit from settings; a flows
queue for orchestration; a batch queue partitioned by user), the workflow functions
(thin: each step calls a ``Studio`` method that does the work and is idempotent under
replay), and the executor heartbeat with which a live executor takes over the pending
workflows of a dead one. The business logic stays in ``viewgen.workflow``.

Workflow state lives beside the app's tables: in the same PostgreSQL database (schema
``dbos``) for a team, and for the SQLite default in a sibling file
(``viewgen.dbos.db`` next to ``viewgen.db``), so that queue polling never waits on the
app database's write lock.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dbos import DBOS, SetEnqueueOptions, SetWorkflowID
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from viewgen.store import schema as t

if TYPE_CHECKING:
    from viewgen.settings import Settings
    from viewgen.workflow import Studio

log = logging.getLogger(__name__)

APP_NAME = "viewgen"
# Recovery only replays workflows recorded by the same application version. Bump it
# when a workflow's sequence of steps changes, so old checkpoints are not replayed
# against new code (drain the queues first: `python -m viewgen worker --until-idle`).
APP_VERSION = "viewgen-workflows-1"

FLOWS_QUEUE = "viewgen-flows"
BATCH_QUEUE = "viewgen-batches"

_lock = threading.RLock()
_studio: Studio | None = None
_executor: Executor | None = None


# --------------------------------------------------------------------------- naming
def key_fingerprint(secret: str | None) -> str:
    """A short, non-reversible name for an API key, so queues are per key."""
    if not secret:
        return "nokey"
    return hashlib.sha256(secret.encode()).hexdigest()[:10]


def _queue_name(kind: str, provider: str, secret: str | None) -> str:
    return f"viewgen-{kind}-{provider}-{key_fingerprint(secret)}"


def image_queue(studio: Studio) -> str:
    return _queue_name("image", studio.generator.name, _secret(studio, "generator"))


def extract_queue(studio: Studio) -> str:
    return _queue_name("extract", studio.extractor.name, _secret(studio, "extractor"))


def _secret(studio: Studio, which: str) -> str | None:
    adapter = getattr(studio, which)
    key = getattr(adapter, "api_key_for_queue", None)
    if callable(key):
        return key()
    s = studio.settings
    name = adapter.name
    if name == "gemini" and s.gemini_api_key:
        return s.gemini_api_key.get_secret_value()
    if name == "openai" and s.openai_api_key:
        return s.openai_api_key.get_secret_value()
    return None


def system_database_url(settings: Settings) -> str:
    """Where DBOS keeps workflow and queue state (see the module docstring)."""
    if settings.dbos_database_url:
        return settings.dbos_database_url
    url = settings.resolved_database_url
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        path = parsed.database or ""
        if path in ("", ":memory:"):
            return f"sqlite:///{settings.data_dir / 'viewgen.dbos.db'}"
        base, _ = os.path.splitext(path)
        return f"sqlite:///{base}.dbos.db"
    return url


def workflow_id(approval_id: str, action: str, attempt: int | str = 1) -> str:
    """Workflow ids derive from the request, so a double click never starts two."""
    return f"{approval_id}:{action}:{attempt}"


# --------------------------------------------------------------------------- executor
@dataclass
class Executor:
    id: str
    kind: str  # embedded | worker | off
    stop: threading.Event
    thread: threading.Thread | None = None


def _default_executor_id(kind: str) -> str:
    return f"{kind}-{socket.gethostname()}"


def launch(studio: Studio, *, kind: str | None = None, executor_id: str | None = None) -> str:
    """(Re)launch DBOS in this process for ``studio``; returns the executor id.

    DBOS is one engine per process: launching for a second Studio (tests, benchmarks)
    shuts the first down. ``kind`` ``off`` enqueues only (an app replica in front of
    workers); ``embedded`` and ``worker`` also dequeue and run workflows.
    """
    global _studio, _executor
    settings = studio.settings
    kind = kind or settings.worker
    with _lock:
        shutdown()
        wid = executor_id or settings.worker_id or _default_executor_id(kind)
        wid = _unique_executor_id(studio, wid)
        _studio = studio
        DBOS(config={
            "name": APP_NAME,
            "system_database_url": system_database_url(settings),
            "application_version": APP_VERSION,
            "executor_id": wid,
            "log_level": "WARNING",
            "notification_listener_polling_interval_sec": max(0.01, settings.queue_poll_s),
            # DBOS's default (20, no overflow) per process, beside the app's own pool,
            # let three workers exhaust a PostgreSQL of 100 connections (Supabase
            # allows fewer): size it to what the executor runs at once
            "sys_db_pool_size": max(6, 2 * max(1, settings.view_workers) + 4),
        })
        if kind == "off":
            DBOS.listen_queues([])
        try:
            DBOS.launch()
            _register_queues(studio)
        except BaseException:
            # a half-launched engine keeps its polling threads: stop them, or they poll
            # a database that may be gone for the rest of the process
            _studio = None
            DBOS.destroy(workflow_completion_timeout_sec=0)
            raise
        _executor = Executor(id=wid, kind=kind, stop=threading.Event())
        _register_exit()
        _heartbeat(studio, _executor, first=True)
        if kind != "off":
            thread = threading.Thread(target=_janitor, args=(studio, _executor),
                                      name="viewgen-janitor", daemon=True)
            _executor.thread = thread
            thread.start()
        return wid


_exit_registered = False


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        atexit.register(shutdown)
        _exit_registered = True


def shutdown(*, drain_s: float = 0.0) -> None:
    """Stop this process's executor.

    ``drain_s`` lets workflows running here finish first (the CLI, after it has its
    result). What is still pending stays pending under this executor's id: a restart
    with the same id resumes it, or a live executor takes it over once this one's
    heartbeat is older than ``VIEWGEN_WORKER_DEAD_AFTER_S``. An executor that leaves
    nothing behind removes its heartbeat row, so nobody mistakes it for a dead one.
    """
    global _studio, _executor
    with _lock:
        executor, studio = _executor, _studio
        if executor is not None and drain_s > 0:
            deadline = time.monotonic() + drain_s
            while time.monotonic() < deadline and _pending_here(executor.id):
                time.sleep(0.05)
        if executor is not None:
            executor.stop.set()
            if executor.thread is not None:
                executor.thread.join(timeout=5)
            if studio is not None:
                try:
                    if not _pending_here(executor.id):
                        with studio.repo.engine.begin() as conn:
                            conn.execute(t.workers.delete().where(t.workers.c.id == executor.id))
                except Exception:  # the database may be gone already (tests, shutdown)
                    log.debug("could not remove the heartbeat row", exc_info=True)
        _executor = None
        _studio = None
        DBOS.destroy(workflow_completion_timeout_sec=0)


def _pending_here(executor_id: str) -> bool:
    try:
        return bool(DBOS.list_workflows(status="PENDING", executor_id=executor_id,
                                        load_input=False, load_output=False))
    except Exception:
        return False


def current_executor() -> Executor | None:
    return _executor


def current_studio() -> Studio | None:
    return _studio


BATCH_POLL_FACTOR = 4


def _register_queues(studio: Studio) -> None:
    s = studio.settings
    poll = max(0.01, s.queue_poll_s)
    limiter = {"limit": s.provider_rpm, "period": 60.0} if s.provider_rpm > 0 else None
    for name in {image_queue(studio), extract_queue(studio)}:
        DBOS.register_queue(name, global_concurrency=max(1, s.provider_concurrency),
                            worker_concurrency=max(1, s.view_workers),
                            limiter=limiter, polling_interval_sec=poll,
                            on_conflict="always_update")
    DBOS.register_queue(FLOWS_QUEUE, polling_interval_sec=poll, on_conflict="always_update")
    # a batch row is a long flow nobody watches step by step: its start may wait a little
    # longer, and an idle process polls one queue a quarter as often
    DBOS.register_queue(BATCH_QUEUE, partition_concurrency=max(1, s.batch_rows_per_user),
                        polling_interval_sec=poll * BATCH_POLL_FACTOR,
                        on_conflict="always_update")


def _unique_executor_id(studio: Studio, wanted: str) -> str:
    """Keep ``wanted`` unless a live process with another pid is heartbeating under it."""
    fresh = datetime.now(UTC) - timedelta(seconds=studio.settings.worker_dead_after_s)
    with studio.repo.engine.begin() as conn:
        row = conn.execute(select(t.workers).where(t.workers.c.id == wanted)).first()
    if row is None or row.pid == os.getpid() or row.host != socket.gethostname():
        return wanted
    beat = row.heartbeat_at if row.heartbeat_at.tzinfo else row.heartbeat_at.replace(tzinfo=UTC)
    return f"{wanted}-{os.getpid()}" if beat > fresh else wanted


def _heartbeat(studio: Studio, executor: Executor, *, first: bool = False) -> None:
    now = datetime.now(UTC)
    w = t.workers
    with studio.repo.engine.begin() as conn:
        if first:
            values = {"kind": executor.kind, "host": socket.gethostname(), "pid": os.getpid(),
                      "started_at": now, "heartbeat_at": now, "recovered_by": None,
                      "recovered_at": None}
            if conn.execute(update(w).where(w.c.id == executor.id).values(**values)).rowcount == 0:
                conn.execute(w.insert().values(id=executor.id, **values))
        else:
            conn.execute(update(w).where(w.c.id == executor.id).values(heartbeat_at=now))


def take_over_dead(studio: Studio, me: str) -> list[str]:
    """Claim every executor whose heartbeat stopped and resume its pending workflows.

    The claim is one conditional UPDATE, so of several live executors exactly one takes
    over a dead one; DBOS re-enqueues the dead executor's PENDING workflows, and any
    executor listening to their queues runs them from their last completed step.
    """
    cutoff = datetime.now(UTC) - timedelta(seconds=studio.settings.worker_dead_after_s)
    w = t.workers
    claimed: list[str] = []
    with studio.repo.engine.begin() as conn:
        dead = conn.execute(select(w.c.id).where(
            w.c.heartbeat_at < cutoff, w.c.recovered_by.is_(None), w.c.id != me,
            w.c.kind != "off")).scalars().all()
        for wid in dead:
            done = conn.execute(update(w).where(w.c.id == wid, w.c.recovered_by.is_(None))
                                .values(recovered_by=me, recovered_at=datetime.now(UTC)))
            if done.rowcount == 1:
                claimed.append(wid)
    if claimed:
        handles = DBOS._recover_pending_workflows(claimed)
        log.warning("executor %s took over %d workflow(s) of dead executor(s) %s",
                    me, len(handles), ", ".join(claimed))
    return claimed


def _janitor(studio: Studio, executor: Executor) -> None:
    interval = max(0.2, studio.settings.heartbeat_s)
    while not executor.stop.wait(interval):
        try:
            _heartbeat(studio, executor)
            take_over_dead(studio, executor.id)
        except Exception:  # the next beat tries again; never kill the executor thread
            log.exception("executor heartbeat failed")


# --------------------------------------------------------------------------- starting
def _studio_now() -> Studio:
    if _studio is None:
        raise RuntimeError("viewgen's durable engine is not launched in this process")
    return _studio


def enqueue(wfid: str, func: Any, *args: Any, studio: Studio | None = None,
            partition: str | None = None):
    """Enqueue ``func`` on its home queue (``home_queue``) under a deterministic id; an
    existing id returns its handle."""
    queue = home_queue(func.__name__, studio)
    if queue is None:
        raise RuntimeError(f"{func.__name__} is not a viewgen workflow")
    if partition is not None:
        with SetWorkflowID(wfid), SetEnqueueOptions(queue_partition_key=partition):
            return DBOS.enqueue_workflow(queue, func, *args)
    with SetWorkflowID(wfid):
        return DBOS.enqueue_workflow(queue, func, *args)


def start(wfid: str, func: Any, *args: Any, studio: Studio | None = None):
    """Start a coordinating workflow (one that makes no provider call itself, such as a
    views batch) at once when this process runs workflows; an enqueue-only replica
    (``VIEWGEN_WORKER=off``) enqueues it on its home queue for the workers instead. Its
    provider calls still go through their queues and limits; starting it here saves a
    person the wait for the next queue poll. An existing id returns its handle."""
    if _executor is not None and _executor.kind != "off":
        with SetWorkflowID(wfid):
            return DBOS.start_workflow(func, *args)
    return enqueue(wfid, func, *args, studio=studio)


def result(handle: Any, poll: float) -> Any:
    """A workflow's result, from inside another workflow (a recorded step: one constant
    polling interval, as DBOS records it)."""
    return handle.get_result(polling_interval_sec=poll)


# a views batch looks for its (at most five) views this often: a person is waiting on it,
# and a view that lands is written to the product at once rather than a queue poll later
VIEWS_POLL_S = 0.05
FIRST_POLL_S = 0.01


def polls(ceiling: float) -> Iterator[float]:
    """How long a waiting caller sleeps between looks: 10 ms, then half as long again each
    time, up to ``ceiling`` (the queue poll). A quick workflow (the offline renderer, a
    cached answer) is seen at once instead of a whole poll later; a slow one (a provider
    taking seconds) is looked at no more often than the queues are polled."""
    interval = min(FIRST_POLL_S, ceiling)
    while True:
        yield interval
        interval = min(ceiling, interval * 1.5)


def retrieve_result(wfid: str) -> Any:
    return DBOS.retrieve_workflow(wfid).get_result()


def wait(wfid: str, poll: float, *, timeout: float | None = None) -> Any:
    """Wait for a workflow to end and return its result, for a caller outside any
    workflow (a Studio action that waits), looking with ``polls`` (``timeout``: give up
    quietly after that many seconds)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for interval in polls(max(FIRST_POLL_S, poll)):
        if status(wfid) not in ("ENQUEUED", "PENDING", "DELAYED", None):
            return DBOS.retrieve_workflow(wfid).get_result(polling_interval_sec=poll)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(interval)
    return None


def queued_or_running() -> int:
    """How many workflows are queued or running, across every executor."""
    total = 0
    for state in ("ENQUEUED", "PENDING"):
        total += len(DBOS.list_workflows(status=state, load_input=False, load_output=False))
    return total


def queue_depths() -> dict[str, dict[str, int]]:
    """Per queue: workflows waiting and running (the admin's queue panel)."""
    depths: dict[str, dict[str, int]] = {}
    for wf in DBOS.list_queued_workflows(load_input=False):
        entry = depths.setdefault(wf.queue_name or "?", {"queued": 0, "running": 0})
        entry["running" if wf.status == "PENDING" else "queued"] += 1
    return depths


def queue_rows() -> list[dict[str, Any]]:
    """Every viewgen queue with its limits, how many wait, run and started this minute."""
    depths = queue_depths()
    since = datetime.now(UTC) - timedelta(seconds=60)
    rows = []
    for queue in DBOS.list_queues(application_name=APP_NAME):
        if not queue.name.startswith("viewgen-"):
            continue
        started = DBOS.list_workflows(queue_name=queue.name, dequeued_after=since.isoformat(),
                                      load_input=False, load_output=False)
        limiter = queue.limiter
        d = depths.get(queue.name, {})
        rows.append({
            "queue": queue.name, "queued": d.get("queued", 0), "running": d.get("running", 0),
            "concurrency": queue.concurrency, "per_worker": queue.worker_concurrency,
            "rate_limit": f"{limiter['limit']} per {limiter['period']:g} s" if limiter else "",
            "started_last_minute": len(started),
        })
    return rows


def failed_workflows(limit: int = 50) -> list[dict[str, Any]]:
    """Workflows that ended in an error or were cancelled, newest first."""
    found = DBOS.list_workflows(status=["ERROR", "CANCELLED"], sort_desc=True, limit=limit,
                                load_input=False, load_output=False)
    return [{"workflow_id": w.workflow_id, "name": w.name, "status": w.status,
             "queue": w.queue_name, "executor": w.executor_id,
             "error": str(w.error)[:300] if w.error else "",
             "updated": datetime.fromtimestamp(w.updated_at / 1000, UTC) if w.updated_at else None}
            for w in found]


def retry(wfid: str) -> None:
    """Put a cancelled workflow back on its own queue, to go on from its last completed
    step on whichever executor listens there (DBOS would otherwise use its internal
    queue, which every process runs, an enqueue-only app replica included). A workflow
    that ended in an error cannot be resumed (DBOS leaves it as it is): say so."""
    from viewgen.errors import InvalidInput

    found = DBOS.get_workflow_status(wfid)
    if found is None:
        raise InvalidInput("That workflow is not known here.")
    if found.status in ("SUCCESS", "ERROR"):
        raise InvalidInput(
            "That workflow has ended" + (" in an error" if found.status == "ERROR" else "")
            + " and cannot be resumed; its product was settled (a failure is refunded), so "
            "start the work again from the product.")
    DBOS.resume_workflow(wfid, queue_name=found.queue_name or home_queue(found.name))


# The one table of which queue each workflow runs on: ``enqueue`` puts it there, and
# ``retry`` puts a cancelled one back there (a cancel clears its queue). Image calls share
# the image queue (its concurrency and rate limits are the provider's), extraction has its
# own, a views batch waits on the flows queue for its views, and batch rows are
# partitioned per user on the batch queue.
_HOME_QUEUES: dict[str, Callable[[Studio], str]] = {
    "front_flow": image_queue, "view_flow": image_queue, "approve_flow": extract_queue,
    "views_flow": lambda _: FLOWS_QUEUE, "batch_row_flow": lambda _: BATCH_QUEUE,
}


def home_queue(name: str | None, studio: Studio | None = None) -> str | None:
    """The queue a workflow of this name (bare or dotted) runs on, or None if not ours."""
    pick = _HOME_QUEUES.get((name or "").rsplit(".", 1)[-1])
    return pick(studio or _studio_now()) if pick else None


def status(wfid: str) -> str | None:
    """The DBOS status of a workflow (PENDING, ENQUEUED, SUCCESS, ERROR, CANCELLED ...)."""
    found = DBOS.get_workflow_status(wfid)
    return found.status if found is not None else None


# --------------------------------------------------------------------------- workflows
# Each workflow is a few lines over Studio methods. Every step body is idempotent under
# replay: it first looks for the generation_calls row its step_key names and, if the
# earlier run got that far, returns what that run recorded instead of calling again.

_NO_RETRY: dict[str, Any] = {"retries_allowed": False}


@DBOS.step(**_NO_RETRY)
def _front_step(actor_id: str, approval_id: str, reservation: int | None,
                step_key: str, mode: str, free: bool = False) -> dict[str, Any]:
    return _studio_now().run_front_step(actor_id, approval_id, reservation, step_key, mode,
                                        free)


@DBOS.workflow()
def front_flow(actor_id: str, approval_id: str, reservation: int | None,
               mode: str = "edit", free: bool = False) -> dict[str, Any]:
    """The front view: generate (QA gate and free automatic retries inside), store, review.
    ``mode``: after a rejection, ``edit`` the rejected image or start ``fresh``;
    ``free``: a flagged front tried again, recorded but never charged."""
    return _front_step(actor_id, approval_id, reservation, f"{DBOS.workflow_id}:front", mode,
                       free)


@DBOS.step(**_NO_RETRY)
def _extract_step(actor_id: str, approval_id: str, step_key: str) -> dict[str, Any]:
    return _studio_now().run_extract_step(actor_id, approval_id, step_key)


@DBOS.workflow()
def approve_flow(actor_id: str, approval_id: str) -> dict[str, Any]:
    """Approval: extract the features of the front, then status ``approved``."""
    return _extract_step(actor_id, approval_id, f"{DBOS.workflow_id}:features")


@DBOS.step(**_NO_RETRY)
def _view_step(actor_id: str, approval_id: str, view: str, reservation: int | None,
               feedback: list[str], new_feedback: str | None, step_key: str) -> dict[str, Any]:
    return _studio_now().run_view_step(actor_id, approval_id, view, reservation, feedback,
                                       new_feedback, step_key)


@DBOS.workflow()
def view_flow(actor_id: str, approval_id: str, view: str, reservation: int | None,
              feedback: list[str], new_feedback: str | None) -> dict[str, Any]:
    """One other view; it succeeds or fails on its own."""
    return _view_step(actor_id, approval_id, view, reservation, feedback, new_feedback,
                      f"{DBOS.workflow_id}:image")


@DBOS.step(**_NO_RETRY)
def _finish_views_step(actor_id: str, approval_id: str, outcomes: list[dict[str, Any]],
                       regenerating: bool, feedback: str | None) -> None:
    _studio_now().finish_views(actor_id, approval_id, outcomes, regenerating, feedback)


@DBOS.step(**_NO_RETRY)
def _analysis_step(actor_id: str, approval_id: str, views: list[str]) -> None:
    _studio_now().analyse(actor_id, approval_id, views)


@DBOS.workflow()
def views_flow(actor_id: str, approval_id: str, views: list[str],
               reservations: dict[str, int | None], feedback: list[str],
               new_feedback: str | None, regenerating: bool) -> list[dict[str, Any]]:
    """The other views fanned out on the image queue (all settled), then the revision."""
    studio = _studio_now()
    me = DBOS.workflow_id
    handles = [
        enqueue(f"{me}:{view}", view_flow, actor_id, approval_id, view,
                reservations.get(view), feedback, new_feedback, studio=studio)
        for view in views
    ]
    outcomes: list[dict[str, Any]] = []
    for view, handle in zip(views, handles, strict=True):
        try:
            outcomes.append(result(handle, min(studio.settings.queue_poll_s, VIEWS_POLL_S)))
        except Exception as exc:  # a crashed child: its view counts as failed
            log.exception("view workflow %s failed", view)
            outcomes.append({"view": view, "ok": False,
                             "error": f"The {view} view failed unexpectedly ({type(exc).__name__})."})
    _finish_views_step(actor_id, approval_id, outcomes, regenerating, new_feedback)
    landed = [o["view"] for o in outcomes if o.get("ok")]
    if landed:
        _analysis_step(actor_id, approval_id, landed)
    return outcomes


@DBOS.step(**_NO_RETRY)
def _claim_row_step(batch_id: str, row_number: int) -> str | None:
    return _studio_now().claim_batch_row(batch_id, row_number)


@DBOS.step(**_NO_RETRY)
def _row_next_step(actor_id: str, approval_id: str, auto_approve: bool,
                   views_tried: bool) -> dict[str, Any]:
    return _studio_now().batch_row_next(actor_id, approval_id, auto_approve, views_tried)


@DBOS.workflow()
def batch_row_flow(actor_id: str, batch_id: str, row_number: int, auto_approve: bool) -> str:
    """Drive one CSV row's product as far as it goes: front, then (auto) approve, views.

    Runs on the batch queue, partitioned by user, so one person's long batch does not
    starve another's; its provider calls still go through the provider queues. Each
    decision (and the reservation or state change it makes) is a step, so a replay
    takes the same path and finds the same child workflows by id.
    """
    studio = _studio_now()
    approval_id = _claim_row_step(batch_id, row_number)
    if approval_id is None:
        return "skipped"
    poll = studio.settings.queue_poll_s
    views_tried = False
    for _ in range(6):  # front -> approve -> views at most twice over: bounded
        step = _row_next_step(actor_id, approval_id, auto_approve, views_tried)
        action = step["action"]
        if action == "front":
            handle = enqueue(step["workflow_id"], front_flow, actor_id, approval_id,
                             step["reservation"], studio=studio)
        elif action == "approve":
            handle = enqueue(step["workflow_id"], approve_flow, actor_id, approval_id,
                             studio=studio)
        elif action == "views":
            views_tried = True
            handle = enqueue(step["workflow_id"], views_flow, actor_id, approval_id,
                             step["views"], step["reservations"], step["feedback"], None,
                             False, studio=studio)
        else:
            return action  # review | complete | failed
        result(handle, poll)
    return "failed"

"""A product as ``GET /api/products/{id}`` reports it, and the ``job`` a 202 points at.

``read`` takes everything the route shows from the database in one transaction on the
caller's behalf (the approval, its revisions, its rejected fronts, and the
``generation_calls`` rows its latest workflow's steps recorded), so a poll costs one
round of queries. ``job_of`` turns that into the workflow's progress without
asking the workflow engine anything once the product has settled: every step of a
front, approval or view batch records one call row under its ``step_key`` (``ok`` or
the error's type name), so a finished job, and why it failed, is read from the
database. Only while a product is generating, or an approval is under way, is DBOS
asked how the workflow stands (so a workflow that died is reported, not shown as
running forever). A failure is given as ``{error, message}`` with the code the call
would have answered had it waited (``errors.code_of_outcome``); credits held for a
failed step were refunded by that step, or by ``Studio.reconcile`` for an interrupted one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from viewgen import durable
from viewgen.api import schemas as s
from viewgen.api.errors import code_of_outcome
from viewgen.domain import OTHER_VIEWS, Approval, HistoryEntry, Revision, Status
from viewgen.store import schema as t
from viewgen.store.repository import Tx
from viewgen.workflow import Studio

S = Status
WorkflowStatus = Callable[[str], "str | None"]

_QUEUED = ("ENQUEUED", "DELAYED")
_ENDED_BADLY = ("ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED")
INTERRUPTED = ("The workflow stopped before it finished; the credits it held are refunded "
               "when the server reconciles (at start-up, or `python -m viewgen reconcile`).")


@dataclass(frozen=True)
class Call:
    """What one workflow step recorded: ``ok`` or the error type's name, and its message."""

    outcome: str
    error: str | None


@dataclass
class ProductRead:
    approval: Approval
    revisions: list[Revision]
    history: list[HistoryEntry]
    calls: dict[str, Call]


def action_of(workflow_id: str | None) -> str | None:
    """``front`` | ``approve`` | ``views`` from ``durable.workflow_id``'s id."""
    parts = (workflow_id or "").split(":", 2)
    return parts[1] if len(parts) == 3 else None


def step_keys(workflow_id: str) -> list[str]:
    """The ``step_key`` every step of this workflow records its call under."""
    action = action_of(workflow_id)
    if action == "front":
        return [f"{workflow_id}:front"]
    if action == "approve":
        return [f"{workflow_id}:features"]
    if action == "views":
        return [f"{workflow_id}:{v.value}:image" for v in OTHER_VIEWS]
    return []


def step_calls(tx: Tx, approval: Approval) -> dict[str, Call]:
    """The calls the approval's latest workflow recorded, by step key (one indexed query,
    skipped when the product's status alone tells how a front or approval ended)."""
    action = action_of(approval.workflow_id)
    if (action == "front" and approval.status not in (S.FRONT_GENERATING, S.FAILED)) or (
            action == "approve" and approval.status != S.FRONT_REVIEW):
        return {}  # succeeded: the front is there, or the features are
    keys = step_keys(approval.workflow_id or "")
    if not keys:
        return {}
    c = t.generation_calls
    rows = tx.conn.execute(
        select(c.c.step_key, c.c.outcome, c.c.error)
        .where(c.c.approval_id == approval.id, c.c.step_key.in_(keys)))
    return {r.step_key: Call(r.outcome, r.error) for r in rows}


def read(studio: Studio, actor, approval_id: str) -> ProductRead:
    """Everything the product route shows, in one transaction as ``actor`` (NotFound for
    another person's product, as everywhere)."""
    with studio.repo.tx(actor) as tx:
        approval = tx.get_approval(approval_id)
        calls = step_calls(tx, approval)
        if _settled_since(approval, calls):
            # on PostgreSQL each statement sees what was committed when it began: the
            # step committed its call row and the product's new status together between
            # the two reads, so read the product again to show both
            approval = tx.get_approval(approval_id)
        return ProductRead(approval, tx.revisions_for(approval_id),
                           tx.list_history(approval_id), calls)


def _settled_since(approval: Approval, calls: dict[str, Call]) -> bool:
    wfid = approval.workflow_id or ""
    action = action_of(wfid)
    if action == "front":
        return approval.status == S.FRONT_GENERATING and f"{wfid}:front" in calls
    if action == "approve":
        call = calls.get(f"{wfid}:features")
        return approval.status == S.FRONT_REVIEW and call is not None and call.outcome == "ok"
    return False  # a batch's views each commit alone; its last step settles the product


def _error(outcome: str | None, message: str | None, fallback: str) -> s.ErrorOut:
    return s.ErrorOut(error=code_of_outcome(outcome), message=message or fallback)


def _interrupted() -> s.ErrorOut:
    return s.ErrorOut(error="interrupted", message=INTERRUPTED)


def job_of(approval: Approval, calls: dict[str, Call],
           workflow_status: WorkflowStatus = durable.status) -> s.Job | None:
    """The latest workflow of ``approval`` as the API reports it (None before any)."""
    wfid = approval.workflow_id
    action = action_of(wfid)
    if wfid is None or action not in ("front", "approve", "views"):
        return None
    if action == "front":
        return _front(approval, wfid, calls, workflow_status)
    if action == "approve":
        return _approve(approval, wfid, calls, workflow_status)
    return _views(approval, wfid, calls, workflow_status)


def _front(a: Approval, wfid: str, calls: dict[str, Call],
           workflow_status: WorkflowStatus) -> s.Job:
    job = s.Job(workflowId=wfid, action="front", state="succeeded")
    call = calls.get(f"{wfid}:front")
    if a.status == S.FRONT_GENERATING:
        if workflow_status(wfid) in _ENDED_BADLY:
            job.state, job.error = "failed", _interrupted()
        else:
            job.state = "running"
    elif a.status == S.FAILED:
        job.state = "failed"
        if call is not None and call.outcome != "ok":
            job.error = _error(call.outcome, call.error or a.error, "The front view failed.")
        else:  # failed without a step's record: reconciled after an interruption
            job.error = s.ErrorOut(error="interrupted", message=a.error or INTERRUPTED)
    return job


def _approve(a: Approval, wfid: str, calls: dict[str, Call],
             workflow_status: WorkflowStatus) -> s.Job:
    job = s.Job(workflowId=wfid, action="approve", state="succeeded")
    call = calls.get(f"{wfid}:features")
    if call is not None:
        if call.outcome != "ok":
            job.state = "failed"
            job.error = _error(call.outcome, call.error,
                               "The features could not be extracted; approve again.")
        return job
    if a.status == S.FRONT_REVIEW:  # nothing recorded yet: still extracting?
        if workflow_status(wfid) in _ENDED_BADLY:
            job.state, job.error = "failed", _interrupted()
        else:
            job.state = "running"
    return job


def _views(a: Approval, wfid: str, calls: dict[str, Call],
           workflow_status: WorkflowStatus) -> s.Job:
    job = s.Job(workflowId=wfid, action="views", state="succeeded")
    for view in OTHER_VIEWS:
        call = calls.get(f"{wfid}:{view.value}:image")
        if call is None:
            continue
        if call.outcome == "ok":
            job.views[view.value] = s.ViewJob(state="succeeded")
        else:
            job.views[view.value] = s.ViewJob(state="failed", error=_error(
                call.outcome, call.error, f"The {view.value} view failed."))
    if a.status == S.VIEWS_GENERATING:
        if workflow_status(wfid) in _ENDED_BADLY:
            job.state, job.error = "failed", _interrupted()
            return job
        job.state = "running"
        for view in OTHER_VIEWS:  # the views of this batch still on their way
            if view.value not in job.views:
                child = workflow_status(f"{wfid}:{view.value}")
                if child is not None:
                    job.views[view.value] = s.ViewJob(
                        state="queued" if child in _QUEUED else "running")
        return job
    failed = [v for v in job.views.values() if v.error is not None]
    if not job.views and a.status == S.FAILED:
        job.state = "failed"  # no step recorded anything: reconciled after an interruption
        job.error = s.ErrorOut(error="interrupted", message=a.error or INTERRUPTED)
    elif failed:
        landed = len(job.views) - len(failed)
        job.state = "partial" if landed else "failed"
        first = failed[0].error
        assert first is not None
        if landed and a.error:  # "1 view failed: retry them one by one." and why
            job.error = s.ErrorOut(error=first.error, message=f"{a.error} {first.message}")
        else:
            job.error = first
    return job

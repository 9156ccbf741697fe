"""CSV batches: many products started at once, run as durable workflows, watched row by row.

A batch is validated whole before anything is spent (``viewgen.batch_input``), then in
one transaction its rows are written and each row's front price is reserved, so the
whole batch's credits are held up front and cancelling refunds exactly what has not run.
Each row then runs as a ``batch_row_flow`` on the batch queue, partitioned by user (one
person's thousand rows do not starve another's one product). A row's status shown to
people is derived from its product's state, so it cannot drift from it.

The functions here take the ``Studio`` (which delegates to them) and write through its
repository with the actor's scope; a member sees only their own batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select, update

from viewgen import credits, durable
from viewgen.blobs import image_key
from viewgen.domain import Approval, Status, User, ViewType
from viewgen.errors import InsufficientCredits, InvalidInput, NotFound
from viewgen.store import SYSTEM
from viewgen.store import schema as t
from viewgen.store.repository import Tx, new_id

if TYPE_CHECKING:
    from viewgen.batch_input import BatchPlan
    from viewgen.workflow import Studio

S = Status
ROW_SHOWN = ("queued", "generating", "review", "complete", "failed", "cancelled", "skipped")


@dataclass
class RowView:
    """One row as a person sees it."""

    row: int
    sku: str
    status: str
    approval_id: str | None = None
    error: str | None = None
    text: str | None = None
    auto_approve: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "sku": self.sku, "status": self.status,
                "approval_id": self.approval_id, "error": self.error}


@dataclass
class BatchView:
    """A batch with its rows, counts and credits, as ``jobs show`` and the page show it."""

    id: str
    user_id: str
    name: str
    status: str
    created_at: datetime | None
    rows: list[RowView] = field(default_factory=list)
    charged: int = 0
    refunded: int = 0
    held: int = 0

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.status for r in self.rows)
        return {s: found.get(s, 0) for s in ROW_SHOWN if found.get(s, 0)}

    @property
    def done(self) -> bool:
        return all(r.status in ("complete", "failed", "cancelled", "skipped", "review")
                   for r in self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.id, "name": self.name, "status": self.status,
                "rows": [r.as_dict() for r in self.rows], "counts": self.counts,
                "credits": {"charged": self.charged, "refunded": self.refunded,
                            "held": self.held}}


def _scoped(tx: Tx, table, stmt):
    return stmt if tx.sees_all else stmt.where(table.c.user_id == tx.actor.id)


# --------------------------------------------------------------------------- start
def start(studio: Studio, actor: User, plan: BatchPlan, *, name: str = "",
          skip_invalid: bool = False) -> str:
    """Write the batch, hold its credits and queue its rows; returns the batch id."""
    if plan.errors and not skip_invalid:
        n = len(plan.errors)
        raise InvalidInput(
            f"The batch has {n} {'error' if n == 1 else 'errors'}; nothing was queued. "
            "Fix the rows, or choose to skip bad rows.")
    rows = list(plan.rows)
    if not rows:
        raise InvalidInput("The batch has no valid rows; nothing was queued.")
    if len(rows) > studio.settings.batch_max_rows:
        raise InvalidInput(f"A batch may have at most {studio.settings.batch_max_rows:,} rows; "
                           f"this one has {len(rows):,}.")
    price = studio.prices.front
    batch_id = new_id()
    stored: list[str] = []
    try:
        keys: dict[int, tuple[str | None, str | None]] = {}
        for r in rows:
            ref = logo = None
            if r.image is not None:
                ref = image_key(actor.id, f"batch-{batch_id}", f"row{r.row}-reference", 1)
                studio.blobs.put(ref, r.image)
                stored.append(ref)
            if r.logo is not None:
                logo = image_key(actor.id, f"batch-{batch_id}", f"row{r.row}-logo", 1)
                studio.blobs.put(logo, r.logo)
                stored.append(logo)
            keys[r.row] = (ref, logo)
        with studio.repo.tx(actor, write=True) as tx:
            tx.lock_user(actor.id)
            have = credits.balance(tx, actor.id)
            # the whole products are checked up front; the fronts are held now, the other
            # views (if they are priced) are reserved as each row reaches them
            total = studio.prices.whole_product() * len(rows)
            if have < total:
                raise InsufficientCredits(
                    f"This batch of {len(rows):,} products costs {total:,} credits and you "
                    f"have {have:,}. Ask an admin for more credits, or split the batch.",
                    needed=total, balance=have)
            tx.conn.execute(t.batches.insert().values(
                id=batch_id, user_id=actor.id, name=(name or "Batch")[:200], status="running",
                total=len(rows), price_per_row=price))
            for r in rows:
                reservation = credits.reserve(tx, actor.id, price, f"batch row {r.row}", None) \
                    if price > 0 else None
                ref, logo = keys[r.row]
                tx.conn.execute(t.batch_rows.insert().values(
                    batch_id=batch_id, user_id=actor.id, row_number=r.row, sku=r.sku,
                    input_text=r.text, image_key=ref, logo_key=logo,
                    auto_approve=r.auto_approve, status="queued", reservation_id=reservation))
    except BaseException:
        for key in stored:
            studio.blobs.delete(key)
        raise
    for r in rows:
        _enqueue_row(actor, batch_id, r.row, r.auto_approve, 1)
    return batch_id


def _enqueue_row(actor: User, batch_id: str, row_number: int, auto_approve: bool,
                 attempt: int) -> None:
    durable.enqueue(f"batch:{batch_id}:{row_number}:{attempt}", durable.batch_row_flow,
                    actor.id, batch_id, row_number, auto_approve, partition=actor.id)


# --------------------------------------------------------------------------- row steps
def claim_row(studio: Studio, batch_id: str, row_number: int) -> str | None:
    """The row workflow's first step: create the row's product, or say it will not run."""
    with studio.repo.tx(SYSTEM) as tx:
        row = tx.conn.execute(select(t.batch_rows).where(
            t.batch_rows.c.batch_id == batch_id, t.batch_rows.c.row_number == row_number)).first()
    if row is None:
        return None
    if row.approval_id:
        return row.approval_id  # a replay, or a retry of a row that already has a product
    actor = studio.user(row.user_id)

    def claim(tx: Tx, approval_id: str) -> None:
        batch = tx.conn.execute(select(t.batches.c.status).where(
            t.batches.c.id == batch_id)).scalar_one()
        done = tx.conn.execute(update(t.batch_rows).where(
            t.batch_rows.c.id == row.id, t.batch_rows.c.status == "queued",
            t.batch_rows.c.approval_id.is_(None),
        ).values(status="generating", approval_id=approval_id))
        if batch != "running" or done.rowcount != 1:
            raise _NotNow()

    # the CSV's images were checked when the batch started; normalising them (slow for
    # large photos) happens here, one row at a time, in the worker
    reference = studio.clean_image(studio.blobs.get(row.image_key), what="reference photo") \
        if row.image_key else None
    logo = studio.clean_image(studio.blobs.get(row.logo_key), what="logo") \
        if row.logo_key else None
    try:
        approval_id, _ = studio.create_product(
            actor, text=row.input_text, reference=reference, logo=logo, project_name=row.sku,
            reservation=row.reservation_id, generate=False, inside=claim)
    except _NotNow:
        return None
    return approval_id


class _NotNow(Exception):
    """The batch is paused or cancelled, or the row was claimed meanwhile."""


def row_next(studio: Studio, actor_id: str, approval_id: str, auto_approve: bool,
             views_tried: bool) -> dict[str, Any]:
    """Decide (and reserve for) the row's next step from its product's state."""
    actor = studio.user(actor_id)
    with studio.repo.tx(actor, write=True) as tx:
        a = tx.get_approval(approval_id, for_update=True)
        if a.status == S.INPUT:
            wfid = durable.workflow_id(approval_id, "front", "1")
            tx.transition(approval_id, S.INPUT, S.FRONT_GENERATING, action="generate",
                          workflow_id=wfid)
            held = credits.open_reservations(tx, approval_id)
            return {"action": "front", "workflow_id": wfid,
                    "reservation": held[0] if held else None}
        if a.status == S.FRONT_GENERATING:
            held = credits.open_reservations(tx, approval_id)
            return {"action": "front", "workflow_id": a.workflow_id,
                    "reservation": held[0] if held else None}
        if a.status == S.FRONT_REVIEW:
            if not auto_approve:
                return {"action": "review"}
            tried = sum(1 for c in tx.list_calls(approval_id) if c["kind"] == "features")
            return {"action": "approve", "workflow_id": durable.workflow_id(
                approval_id, "approve", f"{a.key(ViewType.FRONT) or ''}#{tried}")}
        if a.status == S.REVISION_REQUESTED:
            return {"action": "review"}
        if a.status == S.VIEWS_GENERATING and a.workflow_id and not views_tried:
            # a replay of this step after a crash between its commit (the views were
            # reserved, the product moved on) and DBOS's checkpoint of its result, which
            # live in different databases on SQLite: start, or find, that same workflow
            # with the reservations it made, instead of calling the row failed
            held = dict(tx.conn.execute(select(
                t.credit_ledger.c.reason, t.credit_ledger.c.id).where(
                t.credit_ledger.c.approval_id == approval_id,
                t.credit_ledger.c.state == "reserved")).all())
            views = [v.value for v in a.missing_views]
            return {"action": "views", "workflow_id": a.workflow_id, "views": views,
                    "reservations": {v: held.get(f"{v} view") for v in views},
                    "feedback": list(a.feedback_history)}
        if a.status == S.APPROVED and a.extracted_features is not None and not views_tried:
            chosen, reservations, _, wfid, feedback = studio._reserve_views(
                tx, approval_id, None, None)
            return {"action": "views", "workflow_id": wfid, "views": [v.value for v in chosen],
                    "reservations": reservations, "feedback": feedback}
        if a.status == S.COMPLETE:
            return {"action": "complete"}
        return {"action": "failed"}


def approve_row(studio: Studio, actor: User, batch_id: str, row_number: int) -> None:
    """A reviewer's one click in the review grid: the row's workflow runs again as an
    auto-approved row (approve, then the four views), durably, without blocking the page."""
    view = get(studio, actor, batch_id)
    row = next((r for r in view.rows if r.row == row_number), None)
    if row is None or row.status != "review" or not row.approval_id:
        raise InvalidInput(f"Row {row_number} is not waiting for review.")
    owner = studio.user(view.user_id)
    approval = studio.get(owner, row.approval_id)
    if approval.status != S.FRONT_REVIEW:
        raise InvalidInput(f"Row {row_number}: generate a new front first (it was rejected).")
    with studio.repo.tx(owner, write=True) as tx:
        attempt = _bump_attempt(tx, batch_id, row_number)
        _set_running(tx, batch_id)
    _enqueue_row(owner, batch_id, row_number, True, attempt)


def _bump_attempt(tx: Tx, batch_id: str, row_number: int) -> int:
    r = t.batch_rows
    where = (r.c.batch_id == batch_id, r.c.row_number == row_number)
    attempt = tx.conn.execute(select(r.c.attempt).where(*where)).scalar_one() + 1
    tx.conn.execute(update(r).where(*where).values(attempt=attempt))
    return attempt


# --------------------------------------------------------------------------- reading
def _row_status(row: Any, approval: Approval | None) -> tuple[str, str | None]:
    if row.status in ("queued", "cancelled", "skipped") or approval is None:
        return row.status, row.error
    st = approval.status
    if st == S.COMPLETE:
        return "complete", None
    if st == S.REVISION_REQUESTED or (st == S.FRONT_REVIEW and not row.auto_approve):
        return "review", None
    if st == S.FAILED:
        return "failed", approval.error
    if st == S.APPROVED and approval.view_errors and not _running(approval):
        return "failed", "; ".join(f"{k}: {v}" for k, v in approval.view_errors.items())
    return "generating", None


def _running(approval: Approval) -> bool:
    return bool(approval.workflow_id) and durable.status(approval.workflow_id) in (
        "ENQUEUED", "PENDING")


def get(studio: Studio, actor: User, batch_id: str) -> BatchView:
    with studio.repo.tx(actor) as tx:
        b = tx.conn.execute(_scoped(tx, t.batches, select(t.batches).where(
            t.batches.c.id == batch_id))).first()
        if b is None:
            raise NotFound("That batch was not found.")
        rows = tx.conn.execute(select(t.batch_rows).where(
            t.batch_rows.c.batch_id == batch_id).order_by(t.batch_rows.c.row_number)).all()
        approvals = {r.approval_id: tx.get_approval(r.approval_id)
                     for r in rows if r.approval_id}
        ledger = t.credit_ledger
        ids = [r.approval_id for r in rows if r.approval_id]
        reservations = [r.reservation_id for r in rows if r.reservation_id]
        cond = ledger.c.id.in_(reservations) if reservations else ledger.c.id == -1
        if ids:
            cond = cond | ledger.c.approval_id.in_(ids)
        sums = dict(tx.conn.execute(
            select(ledger.c.state, func.coalesce(func.sum(ledger.c.delta), 0))
            .where(and_(cond)).group_by(ledger.c.state)).all())
    view = BatchView(id=b.id, user_id=b.user_id, name=b.name, status=b.status,
                     created_at=b.created_at, charged=-int(sums.get("committed", 0)),
                     refunded=-int(sums.get("refunded", 0)), held=-int(sums.get("reserved", 0)))
    for r in rows:
        status, error = _row_status(r, approvals.get(r.approval_id))
        view.rows.append(RowView(row=r.row_number, sku=r.sku, status=status,
                                 approval_id=r.approval_id, error=error, text=r.input_text,
                                 auto_approve=r.auto_approve))
    if view.status == "running" and view.rows and view.done:
        view.status = "complete"
    return view


def list_batches(studio: Studio, actor: User, limit: int = 50) -> list[dict[str, Any]]:
    """Batches newest first with row counts (all users' for an admin)."""
    with studio.repo.tx(actor) as tx:
        b, r = t.batches, t.batch_rows
        stmt = _scoped(tx, b, select(b.c.id, b.c.user_id, b.c.name, b.c.status, b.c.total,
                                     b.c.created_at)).order_by(b.c.created_at.desc()).limit(limit)
        batches = [dict(row._mapping) for row in tx.conn.execute(stmt)]
        if batches:
            counts = tx.conn.execute(
                select(r.c.batch_id, func.count(), func.count(r.c.approval_id))
                .where(r.c.batch_id.in_([x["id"] for x in batches])).group_by(r.c.batch_id)).all()
            started = {c[0]: c[2] for c in counts}
            for x in batches:
                x["started"] = started.get(x["id"], 0)
    return batches


def costs(studio: Studio, actor: User, approval_ids: list[str]) -> dict[str, tuple[int, float]]:
    if not approval_ids:
        return {}
    with studio.repo.tx(actor) as tx:
        ledger, calls = t.credit_ledger, t.generation_calls
        charged = dict(tx.conn.execute(_scoped(tx, ledger, select(
            ledger.c.approval_id, -func.sum(ledger.c.delta)).where(
            ledger.c.approval_id.in_(approval_ids), ledger.c.state == "committed")
            .group_by(ledger.c.approval_id))).all())
        cost = dict(tx.conn.execute(_scoped(tx, calls, select(
            calls.c.approval_id, func.sum(calls.c.cost_usd)).where(
            calls.c.approval_id.in_(approval_ids)).group_by(calls.c.approval_id))).all())
    return {a: (int(charged.get(a) or 0), float(cost.get(a) or 0.0)) for a in approval_ids}


def manifest_rows(studio: Studio, user: User, view: BatchView) -> Iterator[Any]:
    """The batch's rows for ``viewgen.batch_output``, one product's images at a time."""
    from viewgen.batch_output import ManifestRow

    costs = studio.costs_by_approval(user, [r.approval_id for r in view.rows if r.approval_id])
    for r in view.rows:
        images = features = None
        if r.approval_id:
            approval = studio.get(user, r.approval_id)
            images = studio.view_images(user, approval)
            features = approval.extracted_features
        charged, cost = costs.get(r.approval_id or "", (0, 0.0))
        yield ManifestRow(row=r.row, sku=r.sku, status=r.status, approval_id=r.approval_id,
                          error=r.error, images=images, features=features, credits=charged,
                          cost_usd=cost)



# --------------------------------------------------------------------------- control
def _set_status(tx: Tx, batch_id: str, allowed: tuple[str, ...], target: str) -> Any:
    b = t.batches
    row = tx.conn.execute(_scoped(tx, b, select(b).where(b.c.id == batch_id))).first()
    if row is None:
        raise NotFound("That batch was not found.")
    if row.status not in allowed:
        raise InvalidInput(f"The batch is {row.status}; it cannot be {target} now.")
    tx.conn.execute(update(b).where(b.c.id == batch_id).values(
        status=target, finished_at=datetime.now(UTC) if target == "cancelled" else None))
    return row


def pause(studio: Studio, actor: User, batch_id: str) -> None:
    """Rows not yet started wait; rows already running finish."""
    with studio.repo.tx(actor, write=True) as tx:
        _set_status(tx, batch_id, ("running",), "paused")


def resume(studio: Studio, actor: User, batch_id: str) -> int:
    """Queue again every row that has not started; returns how many."""
    with studio.repo.tx(actor, write=True) as tx:
        b = _set_status(tx, batch_id, ("paused", "running"), "running")
        rows = tx.conn.execute(select(t.batch_rows).where(
            t.batch_rows.c.batch_id == batch_id, t.batch_rows.c.status == "queued")).all()
        for r in rows:
            tx.conn.execute(update(t.batch_rows).where(t.batch_rows.c.id == r.id)
                            .values(attempt=r.attempt + 1))
    owner = studio.user(b.user_id)
    for r in rows:
        _enqueue_row(owner, batch_id, r.row_number, r.auto_approve, r.attempt + 1)
    return len(rows)


def cancel(studio: Studio, actor: User, batch_id: str) -> int:
    """Cancel the rows that have not started and refund them; returns how many."""
    with studio.repo.tx(actor, write=True) as tx:
        _set_status(tx, batch_id, ("running", "paused"), "cancelled")
        rows = tx.conn.execute(select(t.batch_rows).where(
            t.batch_rows.c.batch_id == batch_id, t.batch_rows.c.status == "queued")).all()
        cancelled = 0
        for r in rows:
            # conditional: on PostgreSQL a row workflow may claim the row between the
            # SELECT above and here; its reservation then pays for its product and must
            # not be refunded (the UPDATE waits for the claim and re-checks the status)
            done = tx.conn.execute(update(t.batch_rows).where(
                t.batch_rows.c.id == r.id, t.batch_rows.c.status == "queued",
                t.batch_rows.c.approval_id.is_(None)).values(status="cancelled"))
            if done.rowcount == 1:
                credits.settle(tx, r.reservation_id, commit=False)
                cancelled += 1
    return cancelled


def retry_failed(studio: Studio, actor: User, batch_id: str) -> int:
    """Run the failed rows again (a failed front is charged again, failed views are free
    to retry only if their price is zero); returns how many rows were restarted."""
    view = get(studio, actor, batch_id)
    owner = studio.user(view.user_id)
    restarted = 0
    for r in view.rows:
        if r.status != "failed" or not r.approval_id:
            continue
        approval = studio.get(owner, r.approval_id)
        if approval.status == S.FAILED and approval.extracted_features is None:
            studio.retry_front(owner, r.approval_id, wait=False)
        with studio.repo.tx(owner, write=True) as tx:
            attempt = _bump_attempt(tx, batch_id, r.row)
            _set_running(tx, batch_id)
        _enqueue_row(owner, batch_id, r.row, r.auto_approve, attempt)
        restarted += 1
    return restarted


def _set_running(tx: Tx, batch_id: str) -> None:
    tx.conn.execute(update(t.batches).where(t.batches.c.id == batch_id,
                                            t.batches.c.status == "complete")
                    .values(status="running"))

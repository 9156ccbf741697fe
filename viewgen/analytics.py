"""Admin analytics: the Admin page's questions answered in SQL, returned as DataFrames.

Every function takes the Repository and the acting user and refuses anyone but an
admin (``PermissionDenied``). Aggregation happens in the database (``GROUP BY``,
``COUNT``, ``SUM``, ``AVG``) and tables come back one page at a time with their total,
so the page stays quick with tens of thousands of approvals. Sums over products, the
ledger and provider calls read the daily rollups of ``viewgen.store.rollups`` (kept
exact by triggers), since the filters are whole UTC days; the newest-first tables read
the rows themselves, one page at a time. ``grant_credits`` is the page's one write,
done through ``viewgen.credits`` in a write transaction as the admin.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, case, func, literal, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from viewgen import credits
from viewgen.domain import ALL_VIEWS, STORED_VIEWS, Status, User
from viewgen.errors import InvalidInput, PermissionDenied
from viewgen.store import Repository, Tx, rollups
from viewgen.store import schema as t

a = t.product_view_approvals
u = t.users
p = t.projects
h = t.view_revision_history
r = t.revisions
lg = t.credit_ledger
c = t.generation_calls
cd = rollups.calls_daily
ld = rollups.ledger_daily
ad = rollups.approvals_daily
hd = rollups.history_daily

CSV_MAX_ROWS = 100_000
"""The most rows a CSV download holds; the page says so when a table is larger."""

LEDGER_STATES = ("granted", "reserved", "committed", "refunded")
HISTORY_REASONS = ("rejected", "replaced")


# ---------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """The Admin page's filter bar: one user (or all) and an inclusive date range (UTC)."""

    user_id: str | None = None
    start: date | None = None
    end: date | None = None

    def lower(self) -> datetime | None:
        return datetime.combine(self.start, time(), UTC) if self.start else None

    def upper(self) -> datetime | None:
        """Exclusive upper bound: midnight after ``end``."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC) if self.end else None


@dataclass(frozen=True)
class Headline:
    """The metrics across the top of the Admin page."""

    products: int
    approved: int
    complete: int
    first_try_approvals: int
    mean_rejections: float | None
    credits_granted: int
    credits_spent: int
    calls: int
    failed_calls: int
    mean_latency_ms: float | None

    @property
    def first_try_rate(self) -> float | None:
        """Share of approved fronts that were approved without any rejection."""
        return self.first_try_approvals / self.approved if self.approved else None


@dataclass(frozen=True)
class TablePage:
    """One page of a filtered table and how many rows the whole filter matches."""

    frame: pd.DataFrame
    total: int
    offset: int
    limit: int

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.limit, self.total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(
            "The Admin page is for admins only. Ask an admin if you need access."
        )


WIDE_RANGE = timedelta(days=14)


def _where(stmt: Select, table, filters: Filters, dialect: str) -> Select:
    created = table.c.created_at

    def bound(condition):
        # SQLite plans any range on an indexed timestamp as selective and walks the
        # index, then the table, row by row; for a range that covers most rows a plain
        # scan is several times faster, so say how likely the condition is.
        wide = filters.start is None or filters.end is None or (
            filters.end - filters.start >= WIDE_RANGE)
        likely = literal_column("0.9")  # SQLite wants a constant, not a parameter
        return func.likelihood(condition, likely) if dialect == "sqlite" and wide else condition

    if filters.user_id:
        stmt = stmt.where(table.c.user_id == filters.user_id)
    if (lo := filters.lower()) is not None:
        stmt = stmt.where(bound(created >= lo))
    if (hi := filters.upper()) is not None:
        stmt = stmt.where(bound(created < hi))
    return stmt


def _days(stmt: Select, rollup, filters: Filters) -> Select:
    """The filter bar on a daily rollup: whole UTC days, as the raw rows' bounds are."""
    if filters.user_id:
        stmt = stmt.where(rollup.c.user_id == filters.user_id)
    if filters.start is not None:
        stmt = stmt.where(rollup.c.day >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(rollup.c.day <= filters.end)
    return stmt


def _total(column) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), 0)


def day_bucket(column, dialect: str) -> ColumnElement[Any]:
    """The UTC day of a timestamp, grouped portably across SQLite and PostgreSQL."""
    if dialect == "postgresql":
        return func.date_trunc("day", func.timezone("UTC", column))
    return func.date(column)


def _as_days(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.astype("string").str.slice(0, 10), format="%Y-%m-%d")


def _frame(rows, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([tuple(row) for row in rows], columns=columns)


def _read(repo: Repository, actor: User, work: Callable[[Tx, str], Any]) -> Any:
    _require_admin(actor)
    if repo.dialect == "postgresql":  # the rollups' pending deltas first
        with repo.tx(actor, write=True) as tx:
            rollups.fold(tx.conn)
    with repo.tx(actor) as tx:
        return work(tx, repo.dialect)


# ---------------------------------------------------------------------- metrics


def headline(repo: Repository, actor: User, filters: Filters = Filters()) -> Headline:
    """Products, approvals (first try and mean rejections), credits and provider calls."""

    def work(tx: Tx, dialect: str) -> Headline:
        products = tx.conn.execute(_days(select(
            _total(ad.c.products), _total(ad.c.approved),
            _total(case((ad.c.status == Status.COMPLETE.value, ad.c.products), else_=0)),
            _total(ad.c.first_try), _total(ad.c.rejections_approved),
        ), ad, filters)).one()
        ledger = tx.conn.execute(_days(select(
            _total(case((ld.c.state == "granted", ld.c.delta_sum), else_=0)),
            _total(case((ld.c.state == "committed", -ld.c.delta_sum), else_=0)),
        ), ld, filters)).one()
        calls = tx.conn.execute(_days(select(
            _total(cd.c.calls), _total(cd.c.failures), _total(cd.c.latency_sum_ms),
        ), cd, filters)).one()
        approved, n_calls = int(products[1]), int(calls[0])
        return Headline(
            products=int(products[0]), approved=approved, complete=int(products[2]),
            first_try_approvals=int(products[3]),
            mean_rejections=int(products[4]) / approved if approved else None,
            credits_granted=int(ledger[0]), credits_spent=int(ledger[1]),
            calls=n_calls, failed_calls=int(calls[1]),
            mean_latency_ms=float(calls[2]) / n_calls if n_calls else None,
        )

    return _read(repo, actor, work)


def status_group(status_column) -> ColumnElement[str]:
    """complete / failed / in progress, for the generations-per-day chart."""
    return case(
        (status_column == Status.COMPLETE.value, literal("complete")),
        (status_column == Status.FAILED.value, literal("failed")),
        else_=literal("in progress"),
    )


def generations_per_day(repo: Repository, actor: User,
                        filters: Filters = Filters()) -> pd.DataFrame:
    """Products started per UTC day, split into complete / in progress / failed."""

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        group = status_group(ad.c.status).label("outcome")
        products = func.sum(ad.c.products)
        stmt = _days(select(ad.c.day, group, products), ad, filters)
        rows = tx.conn.execute(stmt.group_by(ad.c.day, group).having(products > 0)
                               .order_by(ad.c.day, group))
        frame = _frame(rows, ["day", "outcome", "products"])
        frame["day"] = _as_days(frame["day"])
        return frame

    return _read(repo, actor, work)


def credits_per_user(repo: Repository, actor: User, filters: Filters = Filters(),
                     top: int = 15) -> pd.DataFrame:
    """The ``top`` users by credits spent (committed), with what they were granted."""

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        spent = _total(case((ld.c.state == "committed", -ld.c.delta_sum), else_=0))
        granted = _total(case((ld.c.state == "granted", ld.c.delta_sum), else_=0))
        per_user = _days(select(ld.c.user_id, spent.label("spent"), granted.label("granted")),
                         ld, filters).group_by(ld.c.user_id).subquery()
        stmt = (
            select(u.c.email, per_user.c.spent, per_user.c.granted)
            .join(per_user, per_user.c.user_id == u.c.id)
            .where(per_user.c.spent > 0)
            .order_by(per_user.c.spent.desc(), u.c.email)
            .limit(top)
        )
        return _frame(tx.conn.execute(stmt), ["user", "spent", "granted"])

    return _read(repo, actor, work)


def rejections_per_view(repo: Repository, actor: User,
                        filters: Filters = Filters()) -> pd.DataFrame:
    """Rejected fronts and replaced (regenerated) images, per view type."""

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        images = func.sum(hd.c.images)
        stmt = _days(select(hd.c.view_type, hd.c.reason, images), hd, filters)
        rows = tx.conn.execute(stmt.group_by(hd.c.view_type, hd.c.reason).having(images > 0))
        frame = _frame(rows, ["view", "reason", "count"])
        order = {v.value: i for i, v in enumerate(STORED_VIEWS)}  # the hero last
        return frame.sort_values(["view", "reason"], key=lambda s: s.map(order)
                                 if s.name == "view" else s).reset_index(drop=True)

    return _read(repo, actor, work)


def provider_activity(repo: Repository, actor: User,
                      filters: Filters = Filters()) -> pd.DataFrame:
    """Provider calls per UTC day, provider and kind: calls, failures, summed and maximum
    latency. One pass over the calls; ``provider_stats`` and ``latency_per_day`` roll it
    up (a few hundred rows) without going back to the database."""

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        calls = func.sum(cd.c.calls)
        stmt = _days(select(
            cd.c.day, cd.c.provider, cd.c.kind, calls, func.sum(cd.c.failures),
            func.sum(cd.c.latency_sum_ms), func.max(cd.c.latency_max_ms),
        ), cd, filters).group_by(cd.c.day, cd.c.provider, cd.c.kind).having(calls > 0)
        frame = _frame(tx.conn.execute(stmt.order_by(cd.c.day, cd.c.provider, cd.c.kind)), [
            "day", "provider", "kind", "calls", "failures", "latency_sum_ms",
            "max_latency_ms"])
        frame["day"] = _as_days(frame["day"])
        return frame

    return _read(repo, actor, work)


def summarise_providers(activity: pd.DataFrame) -> pd.DataFrame:
    """Per provider and kind: calls, failures, failure rate, mean and max latency."""
    columns = ["provider", "kind", "calls", "failures", "mean_latency_ms", "max_latency_ms",
               "failure_rate"]
    if activity.empty:
        return pd.DataFrame(columns=columns)
    frame = activity.groupby(["provider", "kind"], as_index=False).agg(
        calls=("calls", "sum"), failures=("failures", "sum"),
        latency_sum_ms=("latency_sum_ms", "sum"), max_latency_ms=("max_latency_ms", "max"))
    frame["mean_latency_ms"] = frame["latency_sum_ms"] / frame["calls"]
    frame["failure_rate"] = frame["failures"] / frame["calls"]
    return frame[columns].reset_index(drop=True)


def latency_by_day(activity: pd.DataFrame) -> pd.DataFrame:
    """Per UTC day and provider: calls, failures and mean latency."""
    columns = ["day", "provider", "calls", "failures", "mean_latency_ms"]
    if activity.empty:
        return pd.DataFrame(columns=columns)
    frame = activity.groupby(["day", "provider"], as_index=False).agg(
        calls=("calls", "sum"), failures=("failures", "sum"),
        latency_sum_ms=("latency_sum_ms", "sum"))
    frame["mean_latency_ms"] = frame["latency_sum_ms"] / frame["calls"]
    return frame[columns].reset_index(drop=True)


def provider_stats(repo: Repository, actor: User, filters: Filters = Filters()) -> pd.DataFrame:
    """Per provider and call kind: calls, failures, failure rate, mean and max latency."""
    return summarise_providers(provider_activity(repo, actor, filters))


def latency_per_day(repo: Repository, actor: User, filters: Filters = Filters()) -> pd.DataFrame:
    """Mean latency and failures per UTC day and provider."""
    return latency_by_day(provider_activity(repo, actor, filters))


# ---------------------------------------------------------------------- tables


def _page(tx: Tx, stmt: Select, count_stmt: Select, columns: list[str], limit: int | None,
          offset: int) -> TablePage:
    total = int(tx.conn.execute(count_stmt).scalar_one())
    if limit is not None:
        stmt = stmt.limit(limit).offset(max(0, offset))
    frame = _frame(tx.conn.execute(stmt), columns)
    return TablePage(frame=frame, total=total, offset=max(0, offset), limit=limit or total or 1)


def _count(table, filters: Filters, dialect: str, *extra) -> Select:
    stmt = _where(select(func.count()).select_from(table), table, filters, dialect)
    return stmt.where(*extra) if extra else stmt


def _rolled_count(column, rollup, filters: Filters, *extra) -> Select:
    """A table's row count from its daily rollup (``column`` sums to the count)."""
    stmt = _days(select(_total(column)), rollup, filters)
    return stmt.where(*extra) if extra else stmt


def approvals(repo: Repository, actor: User, filters: Filters = Filters(), *,
              statuses: tuple[str, ...] = (), limit: int | None = 50,
              offset: int = 0) -> TablePage:
    """Products newest first: who, what, status, rejections, views done, front image key."""
    extra = [a.c.status.in_(statuses)] if statuses else []
    views_done = sum((case((a.c[f"{v.value}_key"].is_not(None), 1), else_=0)
                      for v in ALL_VIEWS), literal(0))

    def work(tx: Tx, dialect: str) -> TablePage:
        stmt = _where(select(
            a.c.created_at, u.c.email, p.c.name, a.c.input_type, a.c.input_text, a.c.status,
            a.c.rejection_count, views_done, a.c.approved_at, a.c.error, a.c.id,
            a.c.front_key,
        ).join(u, u.c.id == a.c.user_id).join(p, p.c.id == a.c.project_id), a, filters, dialect)
        stmt = stmt.where(*extra).order_by(a.c.created_at.desc(), a.c.id)
        counted = [ad.c.status.in_(statuses)] if statuses else []
        return _page(tx, stmt, _rolled_count(ad.c.products, ad, filters, *counted), [
            "created", "user", "product", "input", "description", "status", "rejections",
            "views", "approved", "error", "approval_id", "image_key",
        ], limit, offset)

    return _read(repo, actor, work)


def revision_history(repo: Repository, actor: User, filters: Filters = Filters(), *,
                     reasons: tuple[str, ...] = (), limit: int | None = 50,
                     offset: int = 0) -> TablePage:
    """Every rejected or replaced image with the feedback that replaced it, newest first."""
    extra = [h.c.reason.in_(reasons)] if reasons else []

    def work(tx: Tx, dialect: str) -> TablePage:
        stmt = _where(select(
            h.c.created_at, u.c.email, h.c.view_type, h.c.reason, h.c.user_feedback,
            h.c.approval_id, h.c.image_key,
        ).join(u, u.c.id == h.c.user_id), h, filters, dialect)
        stmt = stmt.where(*extra).order_by(h.c.created_at.desc(), h.c.id.desc())
        counted = [hd.c.reason.in_(reasons)] if reasons else []
        return _page(tx, stmt, _rolled_count(hd.c.images, hd, filters, *counted), [
            "created", "user", "view", "reason", "feedback", "approval_id", "image_key",
        ], limit, offset)

    return _read(repo, actor, work)


def revisions(repo: Repository, actor: User, filters: Filters = Filters(), *,
              limit: int | None = 50, offset: int = 0) -> TablePage:
    """Numbered revisions: what was regenerated, what was preserved, with which feedback."""

    def work(tx: Tx, dialect: str) -> TablePage:
        stmt = _where(select(
            r.c.created_at, u.c.email, p.c.name, r.c.revision_number, r.c.user_prompt,
            r.c.changes_made, r.c.image_data, r.c.approval_id,
        ).join(u, u.c.id == r.c.user_id).join(p, p.c.id == r.c.project_id), r, filters, dialect)
        stmt = stmt.order_by(r.c.created_at.desc(), r.c.id.desc())
        page = _page(tx, stmt, _count(r, filters, dialect), [
            "created", "user", "product", "revision", "prompt", "changes", "image_data",
            "approval_id",
        ], limit, offset)
        frame = page.frame
        changes = frame.pop("changes").map(lambda v: v or {})
        images = frame.pop("image_data").map(lambda v: v or {})
        frame.insert(5, "regenerated", changes.map(lambda v: ", ".join(v.get("regenerated", []))))
        frame.insert(6, "preserved", changes.map(lambda v: ", ".join(v.get("preserved", []))))
        frame.insert(7, "modifications", changes.map(lambda v: v.get("modifications") or ""))
        frame["image_key"] = [_revision_key(ch, im) for ch, im in zip(changes, images,
                                                                      strict=True)]
        return page

    return _read(repo, actor, work)


def _revision_key(changes: dict[str, Any], images: dict[str, Any]) -> str | None:
    """The image that best shows a revision: its first regenerated view, else the front."""
    for view in [*changes.get("regenerated", []), "front"]:
        key = (images.get(view) or {}).get("key")
        if key:
            return key
    return None


def ledger(repo: Repository, actor: User, filters: Filters = Filters(), *,
           states: tuple[str, ...] = (), limit: int | None = 50, offset: int = 0) -> TablePage:
    """Credit ledger rows newest first."""
    extra = [lg.c.state.in_(states)] if states else []

    def work(tx: Tx, dialect: str) -> TablePage:
        stmt = _where(select(
            lg.c.created_at, u.c.email, lg.c.delta, lg.c.state, lg.c.reason, lg.c.approval_id,
        ).join(u, u.c.id == lg.c.user_id), lg, filters, dialect)
        stmt = stmt.where(*extra).order_by(lg.c.created_at.desc(), lg.c.id.desc())
        counted = [ld.c.state.in_(states)] if states else []
        return _page(tx, stmt, _rolled_count(ld.c.entries, ld, filters, *counted), [
            "created", "user", "credits", "state", "reason", "approval_id",
        ], limit, offset)

    return _read(repo, actor, work)


def calls(repo: Repository, actor: User, filters: Filters = Filters(), *,
          outcome: str | None = None, limit: int | None = 50, offset: int = 0) -> TablePage:
    """Provider calls newest first; ``outcome`` is ``ok`` or ``failed``."""
    extra = []
    if outcome == "ok":
        extra.append(c.c.outcome == "ok")
    elif outcome == "failed":
        extra.append(c.c.outcome != "ok")

    def work(tx: Tx, dialect: str) -> TablePage:
        stmt = _where(select(
            c.c.created_at, u.c.email, c.c.provider, c.c.model, c.c.kind, c.c.view_type,
            c.c.attempts, c.c.latency_ms, c.c.outcome, c.c.error, c.c.cost_usd, c.c.approval_id,
        ).join(u, u.c.id == c.c.user_id), c, filters, dialect)
        stmt = stmt.where(*extra).order_by(c.c.created_at.desc(), c.c.id.desc())
        counted = {"ok": cd.c.calls - cd.c.failures, "failed": cd.c.failures}.get(
            outcome or "", cd.c.calls)
        return _page(tx, stmt, _rolled_count(counted, cd, filters), [
            "created", "user", "provider", "model", "kind", "view", "attempts", "latency_ms",
            "outcome", "error", "cost_usd", "approval_id",
        ], limit, offset)

    return _read(repo, actor, work)


def users(repo: Repository, actor: User) -> pd.DataFrame:
    """Every account with its balance, credits spent and number of products."""

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        money = select(
            ld.c.user_id,
            func.sum(case((ld.c.state.in_(credits.COUNTED), ld.c.delta_sum), else_=0))
            .label("balance"),
            func.sum(case((ld.c.state == "committed", -ld.c.delta_sum), else_=0))
            .label("spent"),
        ).group_by(ld.c.user_id).subquery()
        made = select(ad.c.user_id, func.sum(ad.c.products).label("products")).group_by(
            ad.c.user_id).subquery()
        stmt = (
            select(u.c.id, u.c.email, u.c.display_name, u.c.role, u.c.created_at,
                   func.coalesce(money.c.balance, 0), func.coalesce(money.c.spent, 0),
                   func.coalesce(made.c.products, 0))
            .outerjoin(money, money.c.user_id == u.c.id)
            .outerjoin(made, made.c.user_id == u.c.id)
            .order_by(u.c.created_at, u.c.email)
        )
        return _frame(tx.conn.execute(stmt), ["user_id", "email", "name", "role", "created",
                                              "balance", "spent", "products"])

    return _read(repo, actor, work)


TABLES: dict[str, Callable[..., TablePage]] = {
    "approvals": approvals,
    "revision_history": revision_history,
    "revisions": revisions,
    "ledger": ledger,
    "calls": calls,
}


def table_csv(repo: Repository, actor: User, name: str, filters: Filters = Filters(),
              max_rows: int = CSV_MAX_ROWS, **options: Any) -> bytes:
    """A whole filtered table (up to ``max_rows``) as UTF-8 CSV."""
    page = TABLES[name](repo, actor, filters, limit=max_rows, offset=0, **options)
    frame = page.frame.drop(columns=[col for col in ("image_key",) if col in page.frame])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8")


# ---------------------------------------------------------------------- the one write


def grant_credits(repo: Repository, actor: User, user_id: str, amount: int,
                  reason: str = "admin grant") -> int:
    """Grant ``amount`` credits to ``user_id`` as ``actor`` (an admin); the new balance."""
    _require_admin(actor)
    if int(amount) <= 0:
        raise InvalidInput("Enter a positive number of credits to grant.")
    reason = (reason or "").strip()[:64] or "admin grant"
    with repo.tx(actor, write=True) as tx:
        tx.get_user(user_id)  # a clear "not found" for a stale choice
        credits.grant(tx, user_id, int(amount), reason)
        return credits.balance(tx, user_id)


# ---------------------------------------------------------------------- QA gate


def qa_failure_rates(repo: Repository, actor: User, filters: Filters = Filters()) -> pd.DataFrame:
    """How often images fail the QA gate, per provider and view type (issue 9): image
    calls the gate checked (``generation_calls.qa_ok`` set), how many failed, the failure
    rate, how many were not charged to the person (automatic retries, unchanged images)
    and what the failed ones cost. Roll it up per provider or per view with ``groupby``."""
    from sqlalchemy import Boolean, column, false  # imported here: this section is self-contained

    qa_ok = c.c["qa_ok"] if "qa_ok" in c.c else column("qa_ok", Boolean)
    charged = c.c["charged"] if "charged" in c.c else column("charged", Boolean)
    columns = ["provider", "view", "checked", "failed", "failure_rate", "not_charged", "failed_cost_usd"]

    def work(tx: Tx, dialect: str) -> pd.DataFrame:
        failed = case((qa_ok == false(), 1), else_=0)
        stmt = _where(select(
            c.c.provider, c.c.view_type, func.count(), func.sum(failed),
            func.sum(case((charged == false(), 1), else_=0)),
            func.sum(case((qa_ok == false(), c.c.cost_usd), else_=0.0)),
        ), c, filters, dialect).where(qa_ok.is_not(None), c.c.view_type.is_not(None))
        rows = tx.conn.execute(stmt.group_by(c.c.provider, c.c.view_type))
        frame = _frame(rows, ["provider", "view", "checked", "failed", "not_charged", "failed_cost_usd"])
        if frame.empty:
            return pd.DataFrame(columns=columns)
        for name in ("checked", "failed", "not_charged"):
            frame[name] = frame[name].astype(int)
        frame["failed_cost_usd"] = frame["failed_cost_usd"].astype(float)
        frame["failure_rate"] = frame["failed"] / frame["checked"]
        order = {v.value: i for i, v in enumerate(STORED_VIEWS)}  # the hero last
        frame = frame.sort_values(["provider", "view"], key=lambda s: s.map(order) if s.name == "view" else s)
        return frame[columns].reset_index(drop=True)

    return _read(repo, actor, work)


class Analytics:
    """The admin queries bound to one repository, for pages that talk to ``Studio`` only:
    ``studio.analytics.headline(admin, filters)`` is ``headline(repo, admin, filters)``."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def __getattr__(self, name: str) -> Any:
        import functools
        import sys

        fn = getattr(sys.modules[__name__], name, None)
        if name.startswith("_") or not callable(fn) or isinstance(fn, type):
            raise AttributeError(name)
        return functools.partial(fn, self._repo)

    @property
    def cache_key(self) -> str:
        """Names the database (for ``st.cache_data``), never its password."""
        return self._repo.engine.url.render_as_string(hide_password=True)

"""Benchmark: the workflow's store operations and the admin page's aggregate queries on
SQLite vs PostgreSQL, at 1k and 50k approvals, measured side by side in one run.

    python bench/store.py [--sizes 1000,50000] [--ops 200] [--pg URL]

Each backend gets a fresh database bulk-seeded with a realistic history (users,
projects, approvals in every status, ledger rows, provider calls, revisions, rejected
fronts): executemany on SQLite, COPY on PostgreSQL. Then, through the Repository
exactly as the app uses it (on PostgreSQL: the member's role and claims, so Row Level
Security is on), it times one member's workflow transactions and an admin's
aggregate queries. PostgreSQL is the server on this machine (``--pg``, else
VIEWGEN_BENCH_DATABASE_URL / VIEWGEN_TEST_DATABASE_URL, else postgres@127.0.0.1);
each run creates and drops its own database. The table shows ms per operation, the
PG/SQLite ratio, how time grows from the smallest to the largest size, and what RLS
costs on PostgreSQL; the last line is the headline ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, desc, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from viewgen import credits
from viewgen.domain import ALL_VIEWS, InputType, Role, Status, User, ViewType
from viewgen.store import Repository, open_repository
from viewgen.store import schema as t

STATUSES = [(Status.COMPLETE, 70), (Status.FRONT_REVIEW, 10), (Status.APPROVED, 5),
            (Status.FAILED, 5), (Status.REVISION_REQUESTED, 5), (Status.INPUT, 5)]
PROVIDERS = ["gemini", "offline", "openai"]
FEATURES = {"colors": [{"hex": "#1A2B3C", "name": "navy", "usage": "primary", "share": 0.6}],
            "materials": ["leather"], "keyElements": ["strap"], "description": "a bag"}


# ---------------------------------------------------------------------- seeding
def seed_rows(n: int, rng: random.Random) -> dict[str, tuple[list[str], list[tuple]]]:
    """Rows for every table, as column lists and tuples (JSON as text)."""
    now = datetime.now(UTC)
    users = [str(uuid.uuid4()) for _ in range(max(20, n // 50))]
    weights = [w for _, w in STATUSES]
    out: dict[str, tuple[list[str], list[tuple]]] = {}
    out["users"] = (["id", "email", "display_name", "role", "created_at", "updated_at"], [
        (u, f"user{i}@bench.example", f"user {i}", "admin" if i == 0 else "member", now, now)
        for i, u in enumerate(users)])
    projects, approvals, ledger, calls, revisions, history = [], [], [], [], [], []
    ledger += [(u, 100_000, "grant", None, "granted", now, now) for u in users]
    view_cols = [c for v in ALL_VIEWS for c in (f"{v.value}_key", f"{v.value}_prompt")]
    for i in range(n):
        user = users[rng.randrange(len(users))]
        pid, aid = str(uuid.uuid4()), str(uuid.uuid4())
        created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
        status = rng.choices([s for s, _ in STATUSES], weights)[0]
        projects.append((pid, user, f"product {i}", created, created))
        done = status in (Status.COMPLETE, Status.APPROVED)
        has_front = status not in (Status.INPUT, Status.REVISION_REQUESTED)
        views = []
        for v in ALL_VIEWS:
            present = has_front if v == ViewType.FRONT else status == Status.COMPLETE
            views += [f"{user}/{aid}/{v.value}-1.png" if present else None,
                      f"prompt for {v.value}" if present else None]
        approvals.append((aid, user, pid, "text", f"product {i}", *views,
                          json.dumps(FEATURES) if done else None, status.value,
                          "[]", 0, "{}", "{}", i, created, created))
        front_state = "refunded" if status == Status.FAILED else "committed"
        ledger.append((user, -3, "front view", aid, front_state, created, created))
        calls.append((aid, user, "front", "image", rng.choice(PROVIDERS), "model", 1,
                      rng.uniform(200, 9000), "ok" if front_state == "committed" else "Error",
                      1, 0.04, created))
        if status == Status.COMPLETE:
            for v in ALL_VIEWS[1:]:
                ledger.append((user, -1, f"{v.value} view", aid, "committed", created, created))
                calls.append((aid, user, v.value, "image", rng.choice(PROVIDERS), "model", 1,
                              rng.uniform(200, 9000), "ok", 1, 0.04, created))
            revisions.append((pid, aid, user, 1, f"product {i}", "{}", "{}", created))
        if rng.random() < 0.3:
            history.append((aid, user, "front", f"{user}/{aid}/front-0.png", "p", "redder",
                            "rejected", created))
    out["projects"] = (["id", "user_id", "name", "created_at", "updated_at"], projects)
    out["product_view_approvals"] = (
        ["id", "user_id", "project_id", "input_type", "input_text", *view_cols,
         "extracted_features", "status", "feedback_history", "rejection_count",
         "view_errors", "consistency", "seed", "created_at", "updated_at"], approvals)
    out["credit_ledger"] = (["user_id", "delta", "reason", "approval_id", "state",
                             "created_at", "updated_at"], ledger)
    out["generation_calls"] = (["approval_id", "user_id", "view_type", "kind", "provider",
                                "model", "attempts", "latency_ms", "outcome", "images",
                                "cost_usd", "created_at"], calls)
    out["revisions"] = (["project_id", "approval_id", "user_id", "revision_number",
                         "user_prompt", "image_data", "changes_made", "created_at"], revisions)
    out["view_revision_history"] = (["approval_id", "user_id", "view_type", "image_key",
                                     "prompt", "user_feedback", "reason", "created_at"],
                                    history)
    return out


def bulk_load(repo: Repository, rows: dict[str, tuple[list[str], list[tuple]]]) -> None:
    raw = repo.engine.raw_connection()
    try:
        driver = raw.driver_connection
        cur = driver.cursor()
        for table in t.metadata.sorted_tables:
            if table.name not in rows:
                continue
            cols, data = rows[table.name]
            if repo.dialect == "postgresql":
                with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
            else:
                if not driver.in_transaction:
                    cur.execute("BEGIN")  # the engine runs SQLite in autocommit mode
                marks = ", ".join("?" for _ in cols)
                cur.executemany(f"INSERT INTO {table.name} ({', '.join(cols)}) "
                                f"VALUES ({marks})",
                                [tuple(v.isoformat(sep=' ') if isinstance(v, datetime)
                                       else v for v in row) for row in data])
        driver.commit()
        # the steady state autovacuum would reach, with the load's writes flushed so
        # they do not land on the measurements
        if repo.dialect == "postgresql":
            driver.autocommit = True
            cur.execute("VACUUM ANALYZE")
            with contextlib.suppress(Exception):  # needs superuser or pg_checkpoint
                cur.execute("CHECKPOINT")
            driver.autocommit = False
        else:
            cur.execute("ANALYZE")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


# ---------------------------------------------------------------------- measuring
def per_op(fn: Callable[[int], Any], count: int) -> float:
    """Median ms of fn(i), i in range(count): robust to the odd slow fsync."""
    times = []
    for i in range(count):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(repo: Repository, rows: dict, ops: int, repeats: int) -> dict[str, float]:
    users = rows["users"][1]
    admin = User(id=users[0][0], email=users[0][1], role=Role.ADMIN)
    member = User(id=users[1][0], email=users[1][1], role=Role.MEMBER)
    created: list[tuple[str, int]] = []
    approvals: dict[str, Any] = {}
    result: dict[str, float] = {}

    def create(i: int) -> None:  # start_front's transaction
        with repo.tx(member, write=True) as tx:
            project = tx.insert_project(f"bench {i}")
            a = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                   input_text="a navy bag", status=Status.INPUT, seed=i)
            entry = credits.reserve(tx, member.id, 3, "front view", a.id)
            tx.transition(a.id, Status.INPUT, Status.FRONT_GENERATING, action="generate")
        created.append((a.id, entry))

    def store_view(i: int) -> None:  # _generate_front's transaction
        aid, entry = created[i]
        with repo.tx(member, write=True) as tx:
            current = tx.get_approval(aid, for_update=True)
            tx.set_view(aid, ViewType.FRONT, f"{member.id}/{aid}/front-1.png", "prompt")
            tx.transition(aid, Status.FRONT_GENERATING, Status.FRONT_REVIEW, error=None)
            credits.commit(tx, entry)
            tx.insert_call(approval=current, view=ViewType.FRONT, kind="image",
                           provider="offline", model="m", attempts=1, latency_ms=5.0,
                           outcome="ok", images=1)
        approvals[aid] = current

    def approve(i: int) -> None:  # approve's transaction
        aid, _ = created[i]
        with repo.tx(member, write=True) as tx:
            tx.transition(aid, Status.FRONT_REVIEW, Status.APPROVED,
                          extracted_features=FEATURES, approved_at=datetime.now(UTC))

    def revision(i: int) -> None:  # _write_revision
        aid, _ = created[i]
        with repo.tx(member, write=True) as tx:
            tx.insert_revision(approvals[aid], user_prompt="x",
                               image_data={"front": {"key": "k"}}, changes_made={})

    def page_read(i: int) -> None:  # what a page reads to draw one product
        aid, _ = created[i]
        with repo.tx(member) as tx:
            tx.get_approval(aid)
            credits.balance(tx, member.id)

    result["create approval + reserve"] = per_op(create, ops)
    result["store view + commit + call"] = per_op(store_view, ops)
    result["transition (approve)"] = per_op(approve, ops)
    result["revision insert"] = per_op(revision, ops)
    result["read approval + balance"] = per_op(page_read, ops)

    a, ledger, calls = t.product_view_approvals, t.credit_ledger, t.generation_calls

    def admin_query(stmt) -> Callable[[], Any]:
        def run() -> Any:
            with repo.tx(admin) as tx:
                return tx.conn.execute(stmt).all()
        return run

    day = func.date(calls.c.created_at)
    since = datetime.now(UTC) - timedelta(days=30)
    queries = {
        "admin: counts by status": select(a.c.status, func.count()).group_by(a.c.status),
        "admin: credits per user": select(ledger.c.user_id, func.sum(-ledger.c.delta))
        .where(ledger.c.state == "committed").group_by(ledger.c.user_id),
        "admin: calls/provider/day (30d)": select(calls.c.provider, day, func.count(),
                                                  func.sum(calls.c.cost_usd))
        .where(calls.c.created_at >= since).group_by(calls.c.provider, day),
        "admin: latest 50 approvals": select(a).order_by(desc(a.c.created_at)).limit(50),
    }
    for name, stmt in queries.items():
        result[name] = median_ms(admin_query(stmt), repeats)
    return result


# ---------------------------------------------------------------------- backends
def pg_server_url(arg: str | None) -> str:
    url = (arg or os.environ.get("VIEWGEN_BENCH_DATABASE_URL")
           or os.environ.get("VIEWGEN_TEST_DATABASE_URL")
           or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class PgDatabase:
    def __init__(self, server_url: str) -> None:
        self.server = create_engine(server_url, isolation_level="AUTOCOMMIT",
                                    poolclass=NullPool)
        self.name = f"viewgen_bench_{uuid.uuid4().hex[:8]}"
        with self.server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(server_url).set(database=self.name).render_as_string(
            hide_password=False)

    def drop(self) -> None:
        with self.server.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": self.name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.server.dispose()


def run_backend(kind: str, n: int, rows: dict, ops: int, repeats: int, tmp: Path,
                pg_url: str | None) -> tuple[dict[str, float], dict[str, float] | None, float]:
    pg = None
    try:
        if kind == "sqlite":
            repo = open_repository(f"sqlite:///{tmp / f'bench-{n}.db'}")
        else:
            from viewgen.store.postgres import PostgresRepository, open_postgres_repository

            assert pg_url is not None
            pg = PgDatabase(pg_url)
            repo = open_postgres_repository(pg.url)
        started = time.perf_counter()
        bulk_load(repo, rows)
        seeded = time.perf_counter() - started
        no_rls = None
        if kind == "postgres":  # with and without RLS, interleaved so noise hits both
            plain = PostgresRepository(repo.engine, rls=False)
            halves = [measure(r, rows, ops // 2, repeats) for r in (repo, plain, repo, plain)]
            timings = _mean(halves[0], halves[2])
            no_rls = _mean(halves[1], halves[3])
        else:
            timings = measure(repo, rows, ops, repeats)
        repo.engine.dispose()
        return timings, no_rls, seeded
    finally:
        if pg is not None:
            pg.drop()


def _mean(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: (a[k] + b[k]) / 2 for k in a}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,50000")
    parser.add_argument("--ops", type=int, default=200, help="workflow operations per size")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each admin query")
    parser.add_argument("--pg", default=None, help="PostgreSQL server URL")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    pg_url = pg_server_url(args.pg)
    try:
        create_engine(pg_url, poolclass=NullPool).connect().close()
        backends = ["sqlite", "postgres"]
    except Exception as exc:  # no server: SQLite alone, and say so
        print(f"PostgreSQL not reachable ({type(exc).__name__}); SQLite only", file=sys.stderr)
        backends, pg_url = ["sqlite"], None

    results: dict[tuple[str, int], dict[str, float]] = {}
    no_rls: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rows = seed_rows(n, random.Random(n))
            total = sum(len(r) for _, r in rows.values())
            for kind in backends:
                timings, plain, seeded = run_backend(kind, n, rows, args.ops, args.repeats,
                                                     Path(tmp), pg_url)
                results[(kind, n)] = timings
                if plain:
                    no_rls[n] = plain
                print(f"# {kind:<8} {n:>6} approvals: seeded {total:,} rows in {seeded:.1f}s",
                      file=sys.stderr)

    small, large = sizes[0], sizes[-1]
    names = list(results[("sqlite", small)])
    head = f"{'ms per operation':<34}"
    for kind in backends:
        for n in sizes:
            head += f"{kind[:6] + ' ' + _k(n):>13}"
    if "postgres" in backends:
        head += f"{'PG/SQLite ' + _k(large):>15}{'RLS cost':>10}"
    head += "".join(f"{'growth ' + kind[:2]:>11}" for kind in backends)
    print(head)
    print("-" * len(head))
    ratios = []
    for name in names:
        line = f"{name:<34}"
        for kind in backends:
            for n in sizes:
                line += f"{results[(kind, n)][name]:>13.2f}"
        if "postgres" in backends:
            ratio = results[("postgres", large)][name] / results[("sqlite", large)][name]
            ratios.append(ratio)
            rls = results[("postgres", large)][name] / no_rls[large][name]
            line += f"{ratio:>14.2f}x{rls:>9.2f}x"
        for kind in backends:
            grow = results[(kind, large)][name] / results[(kind, small)][name]
            line += f"{grow:>10.2f}x"
        print(line)
    if ratios:
        geo = statistics.geometric_mean(ratios)
        store = statistics.geometric_mean(ratios[:5])
        admin = statistics.geometric_mean(ratios[5:])
        print(f"headline: at {_k(large)} approvals PostgreSQL takes {geo:.2f}x SQLite's time "
              f"(geometric mean; workflow ops {store:.2f}x, admin queries {admin:.2f}x)")
    else:
        grow = statistics.geometric_mean(
            results[("sqlite", large)][n] / results[("sqlite", small)][n] for n in names)
        print(f"headline: SQLite time grows {grow:.2f}x from {_k(small)} to {_k(large)} "
              "approvals (PostgreSQL not measured)")
    return 0


def _k(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 else str(n)


if __name__ == "__main__":
    raise SystemExit(main())

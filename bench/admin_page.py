"""The Admin page's queries on 1k and 50k seeded approvals, SQLite and PostgreSQL.

    python bench/admin_page.py [--small 1000] [--large 50000] [--pg URL | --no-pg]

Seeds fresh databases with ``viewgen.demo`` (SQLite files in a temporary folder; on the
PostgreSQL server, VIEWGEN_BENCH_DATABASE_URL / VIEWGEN_TEST_DATABASE_URL or
postgres@127.0.0.1, a database of its own per size, dropped afterwards) and times every
query the Admin page runs with its default filter, the last 90 days (headline metrics,
the chart queries, the first page of each table, the users list), best of three; then
whole runs of the page in ``AppTest`` (Charts tab and Approvals tab) with the data
caches cleared before each run, best of three. Prints one table: a row per measurement,
per database the time at each size and their ratio; the last line is the headline, the
query total at the large size and its ratio to the small size, per database.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from viewgen import analytics  # noqa: E402
from viewgen.auth import create_account  # noqa: E402
from viewgen.demo import seed  # noqa: E402
from viewgen.domain import Role  # noqa: E402
from viewgen.settings import Settings  # noqa: E402
from viewgen.store import open_repository  # noqa: E402

QUERIES = {
    "headline": lambda repo, admin, f: analytics.headline(repo, admin, f),
    "generations per day": lambda repo, admin, f: analytics.generations_per_day(repo, admin, f),
    "credits per user": lambda repo, admin, f: analytics.credits_per_user(repo, admin, f),
    "rejections per view": lambda repo, admin, f: analytics.rejections_per_view(repo, admin, f),
    "provider activity": lambda repo, admin, f: analytics.provider_activity(repo, admin, f),
    "approvals page": lambda repo, admin, f: analytics.approvals(repo, admin, f),
    "history page": lambda repo, admin, f: analytics.revision_history(repo, admin, f),
    "revisions page": lambda repo, admin, f: analytics.revisions(repo, admin, f),
    "ledger page": lambda repo, admin, f: analytics.ledger(repo, admin, f),
    "calls page": lambda repo, admin, f: analytics.calls(repo, admin, f),
    "users": lambda repo, admin, f: analytics.users(repo, admin),
}


def page_runs(folder: Path, url: str, admin) -> dict[str, float]:
    """Whole AppTest runs of the Admin page on the Charts and the Approvals tab, with
    the data caches cleared before each run (services stay built, as in a server)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from viewgen.ui import state
    from viewgen.ui.services import _build

    os.environ["VIEWGEN_DATA_DIR"] = str(folder)
    os.environ["VIEWGEN_DATABASE_URL"] = url
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[state.USER] = admin
    at.run()
    at.switch_page("pages/admin.py")
    times = {}
    for tab in ("Charts", "Approvals"):
        at.query_params[state.W_ADMIN_TAB] = tab
        best = float("inf")
        for _ in range(3):
            st.cache_data.clear()
            started = time.perf_counter()
            at.run()
            best = min(best, time.perf_counter() - started)
            assert not at.exception, [e.value for e in at.exception]
        times[f"page run: {tab} tab"] = best
    _build.clear()  # closes this database's Studio
    return times


def measure(approvals: int, url: str, folder: Path) -> tuple[dict[str, float], float]:
    settings = Settings(data_dir=folder, database_url=url)
    repo = open_repository(settings.resolved_database_url)
    admin = create_account(repo, settings, "bench-admin@example.com", password_hash=None,
                           role=Role.ADMIN)
    seeded = seed(repo, settings, approvals=approvals, users=25, days=90, seed=7)
    today = datetime.now(UTC).date()  # the page's default filter: the last 90 days
    filters = analytics.Filters(start=today - timedelta(days=89), end=today)
    times = {}
    for name, query in QUERIES.items():
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            query(repo, admin, filters)
            best = min(best, time.perf_counter() - started)
        times[name] = best
    repo.engine.dispose()
    times.update(page_runs(folder, url, admin))
    return times, seeded.seconds


@contextlib.contextmanager
def pg_database(server: str) -> Iterator[str]:
    """A database of this run's own on the PostgreSQL server, dropped afterwards."""
    url = make_url(server)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"viewgen_bench_admin_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=50_000)
    parser.add_argument("--pg", default=os.environ.get("VIEWGEN_BENCH_DATABASE_URL")
                        or os.environ.get("VIEWGEN_TEST_DATABASE_URL")
                        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    sizes = (args.small, args.large)
    results: dict[str, dict[int, dict[str, float]]] = {}
    seeding: dict[str, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            folder = Path(tmp) / f"sqlite-{size}"
            url = f"sqlite:///{folder / 'viewgen.db'}"
            folder.mkdir()
            times, seconds = measure(size, url, folder)
            results.setdefault("SQLite", {})[size] = times
            seeding.setdefault("SQLite", {})[size] = seconds
        if not args.no_pg:
            for size in sizes:
                folder = Path(tmp) / f"pg-{size}"
                folder.mkdir()
                with pg_database(args.pg) as url:
                    times, seconds = measure(size, url, folder)
                results.setdefault("PostgreSQL", {})[size] = times
                seeding.setdefault("PostgreSQL", {})[size] = seconds
    for db, by_size in seeding.items():
        print(f"seeding {db}: " + ", ".join(f"{n:,} in {s:.1f} s" for n, s in by_size.items()))
    small, large = sizes
    header = f"{'measurement':<24}"
    for db in results:
        header += f"{db + ' ' + f'{small:,}':>18}{f'{large:,} ms':>12}{'ratio':>7}"
    print(header)
    names = list(next(iter(results.values()))[small])
    totals = {db: (sum(by[small][n] for n in QUERIES), sum(by[large][n] for n in QUERIES))
              for db, by in results.items()}
    for name in [*names, "queries total"]:
        line = f"{name:<24}"
        for db, by in results.items():
            a, b = totals[db] if name == "queries total" else (by[small][name], by[large][name])
            line += f"{a * 1000:>15.1f} ms{b * 1000:>12.1f}{b / a:>7.1f}"
        print(line)
    print(f"headline: Admin queries at {large:,} approvals (ratio to {small:,}): " + "; ".join(
        f"{db} {b:.2f} s ({b / a:.1f}x)" for db, (a, b) in totals.items()))


if __name__ == "__main__":
    main()

"""The Admin page's queries on 1k and 50k seeded approvals (SQLite): how time grows.

    python bench/admin_page.py [--small 1000] [--large 50000]

Seeds two fresh databases with ``viewgen.demo`` and times every query the Admin page
runs with its default filter, the last 90 days (headline metrics, the chart queries,
the first page of each table, the users list), best of three; then whole runs of the
page in ``AppTest`` (Charts tab and Approvals tab) with the data caches cleared before
each run, best of three. Prints one row per measurement and, last, the ratio of the
query total at the large size to the total at the small size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def page_runs(folder: Path, admin) -> dict[str, float]:
    """Whole AppTest runs of the Admin page on the Charts and the Approvals tab, with
    the data caches cleared before each run (services stay built, as in a server)."""
    import os

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from viewgen.ui import state

    os.environ["VIEWGEN_DATA_DIR"] = str(folder)
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
    return times


def measure(approvals: int, folder: Path) -> tuple[dict[str, float], float]:
    settings = Settings(data_dir=folder)
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
    return times, page_runs(folder, admin), seeded.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small, page_small, seed_small = measure(args.small, Path(tmp) / "small")
        large, page_large, seed_large = measure(args.large, Path(tmp) / "large")
    print(f"seeding: {args.small:,} in {seed_small:.1f} s, {args.large:,} in {seed_large:.1f} s")
    print(f"{'measurement':<22}{args.small:>10,} ms{args.large:>10,} ms{'ratio':>8}")
    for name in QUERIES:
        ratio = large[name] / small[name] if small[name] else float("nan")
        print(f"{name:<22}{small[name] * 1000:>13.1f}{large[name] * 1000:>13.1f}{ratio:>8.1f}")
    for name in page_small:
        ratio = page_large[name] / page_small[name]
        print(f"{name:<22}{page_small[name] * 1000:>13.1f}{page_large[name] * 1000:>13.1f}"
              f"{ratio:>8.1f}")
    total_small, total_large = sum(small.values()), sum(large.values())
    print(f"{'queries total':<22}{total_small * 1000:>13.1f}{total_large * 1000:>13.1f}"
          f"{total_large / total_small:>8.1f}")
    print(f"ratio {args.large:,}/{args.small:,} approvals: {total_large / total_small:.1f}x "
          f"({total_large:.2f} s at {args.large:,})")


if __name__ == "__main__":
    main()

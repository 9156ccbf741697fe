"""Admin analytics on seeded data, on SQLite and (when configured) PostgreSQL: every
aggregate the SQL computes is checked against the same figure computed in Python from
the raw rows; members are refused; filters, paging, CSV and granting behave."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from viewgen import analytics, credits
from viewgen.analytics import Filters
from viewgen.demo import seed
from viewgen.errors import InvalidInput, PermissionDenied
from viewgen.store import SYSTEM
from viewgen.store import schema as t

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def seeded(repo, settings, admin, member):
    seed(repo, settings, approvals=400, users=6, days=20, seed=42, now=NOW)
    return repo


def _rows(repo, table) -> pd.DataFrame:
    with repo.tx(SYSTEM) as tx:
        result = tx.conn.execute(select(table))
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def test_headline_matches_the_raw_rows(seeded, admin) -> None:
    h = analytics.headline(seeded, admin)
    approvals = _rows(seeded, t.product_view_approvals)
    ledger = _rows(seeded, t.credit_ledger)
    calls = _rows(seeded, t.generation_calls)
    approved = approvals[approvals["approved_at"].notna()]
    assert h.products == len(approvals) == 400
    assert h.approved == len(approved)
    assert h.complete == int((approvals["status"] == "complete").sum())
    assert h.first_try_approvals == int((approved["rejection_count"] == 0).sum())
    assert h.first_try_rate == pytest.approx((approved["rejection_count"] == 0).mean())
    assert h.mean_rejections == pytest.approx(approved["rejection_count"].mean())
    assert h.credits_granted == int(ledger.loc[ledger["state"] == "granted", "delta"].sum())
    assert h.credits_spent == -int(ledger.loc[ledger["state"] == "committed", "delta"].sum())
    assert h.calls == len(calls)
    assert h.failed_calls == int((calls["outcome"] != "ok").sum()) > 0
    assert h.mean_latency_ms == pytest.approx(calls["latency_ms"].mean())


def test_charts_aggregate_like_the_raw_rows(seeded, admin) -> None:
    approvals = _rows(seeded, t.product_view_approvals)
    per_day = analytics.generations_per_day(seeded, admin)
    assert per_day["products"].sum() == len(approvals)
    days = approvals["created_at"].dt.tz_convert("UTC").dt.normalize().dt.tz_localize(None)
    expected = days.value_counts().sort_index()
    got = per_day.groupby("day")["products"].sum().sort_index()
    assert list(got.index) == list(expected.index)
    assert list(got.values) == list(expected.values)
    assert set(per_day["outcome"]) <= {"complete", "in progress", "failed"}

    ledger = _rows(seeded, t.credit_ledger)
    spent = (-ledger[ledger["state"] == "committed"].groupby("user_id")["delta"].sum())
    per_user = analytics.credits_per_user(seeded, admin, top=3)
    assert len(per_user) == 3
    assert list(per_user["spent"]) == sorted(spent.nlargest(3).tolist(), reverse=True)
    assert (per_user["spent"] > 0).all()

    history = _rows(seeded, t.view_revision_history)
    per_view = analytics.rejections_per_view(seeded, admin)
    assert per_view["count"].sum() == len(history)
    front = per_view[(per_view["view"] == "front") & (per_view["reason"] == "rejected")]
    assert int(front["count"].sum()) == int((history["reason"] == "rejected").sum())

    calls = _rows(seeded, t.generation_calls)
    providers = analytics.provider_stats(seeded, admin)
    assert providers["calls"].sum() == len(calls)
    assert providers["failures"].sum() == int((calls["outcome"] != "ok").sum())
    assert providers["failure_rate"].between(0, 1).all()
    latency = analytics.latency_per_day(seeded, admin)
    assert latency["calls"].sum() == len(calls)
    assert pd.api.types.is_datetime64_any_dtype(latency["day"])


def test_members_are_refused_everything(seeded, member) -> None:
    for query in (analytics.headline, analytics.generations_per_day, analytics.credits_per_user,
                  analytics.rejections_per_view, analytics.provider_stats,
                  analytics.latency_per_day, analytics.users, *analytics.TABLES.values()):
        with pytest.raises(PermissionDenied):
            query(seeded, member)
    with pytest.raises(PermissionDenied):
        analytics.table_csv(seeded, member, "ledger")
    with pytest.raises(PermissionDenied):
        analytics.grant_credits(seeded, member, member.id, 10)


def test_filters_by_user_and_date_range(seeded, admin) -> None:
    approvals = _rows(seeded, t.product_view_approvals)
    busiest = approvals["user_id"].value_counts().index[0]
    mine = analytics.headline(seeded, admin, Filters(user_id=busiest))
    assert mine.products == int((approvals["user_id"] == busiest).sum())

    start, end = date(2026, 3, 1), date(2026, 3, 7)
    window = Filters(start=start, end=end)
    inside = approvals[(approvals["created_at"] >= pd.Timestamp(start, tz="UTC"))
                       & (approvals["created_at"] < pd.Timestamp(end + timedelta(days=1),
                                                                 tz="UTC"))]
    assert analytics.headline(seeded, admin, window).products == len(inside) > 0
    page = analytics.approvals(seeded, admin, window, limit=10)
    assert page.total == len(inside)
    created = pd.to_datetime(page.frame["created"], utc=True)
    assert created.between(pd.Timestamp(start, tz="UTC"),
                           pd.Timestamp(end + timedelta(days=1), tz="UTC")).all()
    per_day = analytics.generations_per_day(seeded, admin, window)
    assert per_day["day"].min() >= pd.Timestamp(start)
    assert per_day["day"].max() <= pd.Timestamp(end)


def test_tables_page_filter_and_order(seeded, admin) -> None:
    first = analytics.approvals(seeded, admin, limit=25)
    second = analytics.approvals(seeded, admin, limit=25, offset=25)
    assert first.total == 400 and first.pages == 16
    assert (first.first, first.last) == (1, 25)
    assert len(first.frame) == len(second.frame) == 25
    assert not set(first.frame["approval_id"]) & set(second.frame["approval_id"])
    created = pd.to_datetime(first.frame["created"], utc=True)
    assert created.is_monotonic_decreasing
    assert first.frame["image_key"].dropna().str.startswith("demo/").all()

    failed = analytics.approvals(seeded, admin, statuses=("failed",))
    assert failed.total > 0 and set(failed.frame["status"]) == {"failed"}
    rejected = analytics.revision_history(seeded, admin, reasons=("rejected",))
    assert set(rejected.frame["reason"]) == {"rejected"} and rejected.frame["feedback"].all()
    grants = analytics.ledger(seeded, admin, states=("granted",))
    assert (grants.frame["credits"] > 0).all()
    bad = analytics.calls(seeded, admin, outcome="failed")
    assert bad.total > 0 and (bad.frame["outcome"] != "ok").all()
    assert bad.frame["error"].notna().all()
    revisions = analytics.revisions(seeded, admin)
    assert {"regenerated", "preserved", "modifications", "image_key"} <= set(
        revisions.frame.columns)
    assert revisions.frame["image_key"].notna().all()


def test_csv_holds_the_whole_filtered_table(seeded, admin) -> None:
    text = analytics.table_csv(seeded, admin, "calls", outcome="failed").decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("created,user,provider")
    assert len(lines) - 1 == analytics.calls(seeded, admin, outcome="failed").total
    assert "image_key" not in analytics.table_csv(seeded, admin, "approvals").decode()[:200]
    capped = analytics.table_csv(seeded, admin, "ledger", max_rows=7).decode()
    assert len(capped.strip().splitlines()) == 8


def test_users_and_grants(seeded, admin, member) -> None:
    people = analytics.users(seeded, admin)
    assert {"admin@example.com", "member@example.com"} <= set(people["email"])
    with seeded.tx(SYSTEM) as tx:
        for row in people.itertuples():
            assert row.balance == credits.balance(tx, row.user_id)
            assert row.balance >= 0  # demo top-ups keep every balance non-negative
    before = int(people.loc[people["email"] == "member@example.com", "balance"].iloc[0])
    assert analytics.grant_credits(seeded, admin, member.id, 15, "workshop") == before + 15
    with pytest.raises(InvalidInput):
        analytics.grant_credits(seeded, admin, member.id, 0)
    last = analytics.ledger(seeded, admin, Filters(user_id=member.id), limit=1).frame.iloc[0]
    assert (last["credits"], last["state"], last["reason"]) == (15, "granted", "workshop")


def test_an_empty_database_gives_empty_answers(repo, admin) -> None:
    h = analytics.headline(repo, admin)
    assert (h.products, h.first_try_rate, h.mean_rejections, h.mean_latency_ms) == (
        0, None, None, None)
    assert h.credits_granted == 50  # the admin's own starting credits
    assert analytics.generations_per_day(repo, admin).empty
    assert analytics.approvals(repo, admin).total == 0
    assert analytics.approvals(repo, admin).pages == 1


def _rollup_rows(repo) -> dict[str, set[tuple]]:
    """Every rollup's rows that still count something (its first counter is the row
    count), without latency_max_ms (which a delete does not lower), as tuples."""
    from viewgen.store import rollups

    out = {}
    with repo.tx(SYSTEM, write=True) as tx:
        rollups.fold(tx.conn)
        for rollup in rollups.ROLLUPS:
            table = rollup.table
            columns = [c for c in table.c if c.name != "latency_max_ms"]
            rows = tx.conn.execute(select(*columns)).all()
            out[table.name] = {
                tuple(round(v, 3) if isinstance(v, float) else v for v in row) for row in rows
                if row._mapping[next(iter(rollup.sums))]}
    return out


def test_rollups_follow_inserts_updates_and_deletes(seeded, admin, member, settings) -> None:
    """The triggers keep each rollup equal to a GROUP BY of its rows, whatever happens to
    the rows: a product moving on, a reservation settled or refunded, a user deleted."""
    from sqlalchemy import delete, update

    from viewgen.store import rollups

    a, lg, c = t.product_view_approvals, t.credit_ledger, t.generation_calls
    with seeded.tx(SYSTEM, write=True) as tx:
        conn = tx.conn
        some = conn.execute(select(a.c.id).where(a.c.status == "front_review")
                            .limit(5)).scalars().all()
        conn.execute(update(a).where(a.c.id.in_(some)).values(
            status="approved", approved_at=NOW, rejection_count=2))
        first = conn.execute(select(lg.c.id).where(lg.c.state == "committed")
                             .limit(7)).scalars().all()
        conn.execute(update(lg).where(lg.c.id.in_(first)).values(state="refunded"))
        conn.execute(update(c).where(c.c.id.in_(conn.execute(
            select(c.c.id).where(c.c.outcome == "ok").limit(9)).scalars().all())).values(
            outcome="ProviderTimeout", latency_ms=60_000.0))
        moved = conn.execute(select(a.c.id).limit(3)).scalars().all()
        conn.execute(update(a).where(a.c.id.in_(moved)).values(
            created_at=NOW - timedelta(days=40)))
        victim = conn.execute(select(a.c.user_id).where(a.c.user_id != member.id)
                              .limit(1)).scalar_one()
        conn.execute(delete(t.users).where(t.users.c.id == victim))
        credits.grant(tx, member.id, 12, "top-up")
    kept = _rollup_rows(seeded)
    assert victim not in {row[1] for rows in kept.values() for row in rows}
    with seeded.engine.begin() as conn:
        rollups.rebuild(conn)
    assert _rollup_rows(seeded) == kept
    assert analytics.headline(seeded, admin).products == len(
        _rows(seeded, t.product_view_approvals))


def test_a_members_writes_reach_the_rollups_that_only_admins_read(repo, admin, member) -> None:
    """A member's own call and ledger rows update the rollups through the triggers (on
    PostgreSQL as ``authenticated``, which may not read them); an admin sees them."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from viewgen.store import rollups

    with repo.tx(member, write=True) as tx:
        tx.insert_call(approval=None, view=None, kind="image", provider="offline",
                       model="offline-renderer", attempts=1, latency_ms=120.0,
                       outcome="ProviderTimeout")
        credits.commit(tx, credits.reserve(tx, member.id, 3, "front view", None))
    h = analytics.headline(repo, admin)
    assert (h.calls, h.failed_calls, h.mean_latency_ms) == (1, 1, 120.0)
    assert h.credits_spent == 3
    users = analytics.users(repo, admin).set_index("email")
    assert users.loc["member@example.com", "spent"] == 3
    if repo.dialect == "postgresql":
        for table in (rollups.calls_daily, rollups.ledger_daily, "admin_calls_daily_delta"):
            with pytest.raises(DBAPIError, match="permission denied"), repo.tx(member) as tx:
                tx.conn.execute(text(f"SELECT * FROM {table}") if isinstance(table, str)
                                else select(table)).all()

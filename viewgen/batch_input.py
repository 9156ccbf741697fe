"""Reading a batch: a CSV of products (and their images) checked whole before anything is spent.

``plan_batch`` takes the CSV's bytes (UTF-8, a byte-order mark tolerated, a header row
first) and, for rows that name pictures, either a ZIP of images uploaded beside it or
(for the CLI) a folder of images. Columns: ``sku`` or ``name`` (one is required; SKUs
are unique in the file, compared case-insensitively), ``text`` and/or ``image`` (a
row needs one of them), optional ``logo`` and optional ``auto_approve`` (true, false,
yes, no, 1, 0; empty means true). Problems with the file as a whole (not UTF-8, no
header, empty, more than 10,000 rows, a ZIP that is not one or would unpack to too
much) raise ``InvalidInput``; problems with rows are all collected, each a
``RowError`` naming the row and column in a sentence for the person who made the
spreadsheet. Row numbers are the ones a spreadsheet shows: the header is row 1, so the
first product is row 2 (a quoted cell spanning several lines is still one row; blank
rows are skipped but keep their number). Images are decoded with the same limits as a
single upload and stored in the plan as viewgen's normalised PNG, each file read once
however many rows name it; a ZIP's declared sizes are checked before any entry is
unpacked, and no entry is read past the size limit whatever its header says.
"""

from __future__ import annotations

import csv
import difflib
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, Field

from viewgen import imaging
from viewgen.errors import InvalidInput, ViewgenError

if TYPE_CHECKING:
    from viewgen.settings import Settings

MAX_ROWS = 10_000
MAX_SKU_CHARS = 200
HEADER_ROW = 1  # the spreadsheet row of the header; the first product is row 2

COLUMNS = ("sku", "name", "text", "image", "logo", "auto_approve")
_TRUE = frozenset({"", "true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_JUNK_PREFIXES = ("__MACOSX/",)
_JUNK_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BatchLimits:
    """The limits a batch is checked against (``from_settings`` gives the app's own)."""

    max_text_chars: int = 2000
    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_rows: int = MAX_ROWS
    max_images_total_bytes: int = 1024 * 1024 * 1024  # everything unpacked from the ZIP or folder

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: int) -> BatchLimits:
        values = {
            "max_text_chars": settings.max_text_chars,
            "max_image_bytes": settings.max_upload_bytes,
            "max_image_pixels": settings.max_image_pixels,
        }
        values.update(overrides)
        return cls(**values)


class RowError(BaseModel):
    """One problem with one cell (or, with ``column`` None, with the row as a whole)."""

    row: int = Field(description="spreadsheet row number: the header is row 1")
    column: str | None
    message: str = Field(description="a full sentence naming the row, for the person")


class PlannedRow(BaseModel):
    """One product of the batch, checked and ready to start."""

    row: int = Field(description="spreadsheet row number: the header is row 1")
    sku: str = Field(description="the sku cell, or the name cell when the file has no sku column")
    name: str = Field(description="the name cell, or the sku when the file has no name column")
    text: str | None = None
    image: bytes | None = Field(default=None, repr=False,
                                description="normalised PNG (the checked original with normalise=False)")
    logo: bytes | None = Field(default=None, repr=False,
                               description="normalised PNG (the checked original with normalise=False)")
    image_name: str | None = None
    logo_name: str | None = None
    auto_approve: bool = True


class BatchPlan(BaseModel):
    """Every product row of the CSV with the problems found in them.

    ``rows`` holds every non-blank row, good or bad, in file order; ``errors`` every
    problem. ``ok`` only when there are rows and no errors; ``without_bad_rows()`` is
    the "skip bad rows" choice.
    """

    rows: list[PlannedRow] = Field(default_factory=list)
    errors: list[RowError] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    skipped: list[int] = Field(default_factory=list, description="rows dropped by without_bad_rows")

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})

    @property
    def valid_rows(self) -> list[PlannedRow]:
        bad = set(self.bad_rows)
        return [row for row in self.rows if row.row not in bad]

    def without_bad_rows(self) -> BatchPlan:
        """The plan with every row that has an error left out (and listed in ``skipped``)."""
        return BatchPlan(rows=self.valid_rows, errors=[], warnings=list(self.warnings),
                         skipped=sorted({*self.skipped, *self.bad_rows}))

    def price(self, prices_per_product: int) -> int:
        """Credits for the rows that can run: ``prices_per_product`` × the valid rows."""
        if prices_per_product < 0:
            raise ValueError("prices_per_product must not be negative")
        return prices_per_product * len(self.valid_rows)

    def error_messages(self) -> list[str]:
        return [error.message for error in self.errors]

    def error_table(self) -> list[dict[str, str | int]]:
        """One dict per error (row, sku, column, problem), for a table on the page or JSON."""
        skus = {row.row: row.sku for row in self.rows}
        return [{"row": e.row, "sku": skus.get(e.row, ""), "column": e.column or "",
                 "problem": e.message} for e in self.errors]


# --------------------------------------------------------------------------- image sources


class _ImageSource(Protocol):
    kind: str  # "the ZIP" / "the images folder"

    def read(self, name: str) -> bytes: ...


class _Missing(Exception):
    """The named file is not there; the message says what is."""


class _Unreadable(Exception):
    """The named file is there but cannot be read; the message says why."""


def _clean_name(raw: str) -> str:
    """A relative, forward-slash file name, or ``_Unreadable`` for absolute paths and ``..``."""
    name = raw.strip().replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":") or name.startswith("//"):
        raise _Unreadable("is an absolute path; give a name relative to the images")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _Unreadable("reaches outside the images with '..'")
    if not parts:
        raise _Unreadable("is not a file name")
    return "/".join(parts)


def _listing(names: list[str], wanted: str) -> str:
    shown = ", ".join(names[:10]) if names else "no files"
    more = f" and {len(names) - 10:,} more" if len(names) > 10 else ""
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.85)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"(it has: {shown}{more}){hint}"


class _ZipSource:
    kind = "the ZIP"

    def __init__(self, data: bytes, limits: BatchLimits) -> None:
        self.limits = limits
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
            raise InvalidInput(
                "The images file is not a ZIP archive that can be opened. Put the pictures in a "
                "folder, compress it to a .zip and upload that."
            ) from exc
        if len(infos) > 4 * limits.max_rows + 1000:
            raise InvalidInput(
                f"The ZIP holds {len(infos):,} entries, more than a batch of {limits.max_rows:,} "
                "products can use. Put only the pictures the CSV names in it."
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_images_total_bytes:
            raise InvalidInput(
                f"The ZIP would unpack to {_size(declared)}, more than the "
                f"{_size(limits.max_images_total_bytes)} a batch may hold. Put only the pictures "
                "the CSV names in it, or split the batch."
            )
        self.files = {
            info.filename: info for info in infos
            if not info.is_dir() and not info.filename.startswith(_JUNK_PREFIXES)
            and PurePosixPath(info.filename).name not in _JUNK_NAMES
        }
        tops = {name.split("/", 1)[0] for name in self.files}
        # a zipped folder ("images/mug.png") is matched by the names inside it ("mug.png")
        self.prefix = f"{next(iter(tops))}/" if len(tops) == 1 and all("/" in n for n in self.files) else ""
        self.folded: dict[str, list[str]] = {}
        for name in self.files:
            self.folded.setdefault(name.casefold(), []).append(name)
        self.unpacked = 0

    def _find(self, name: str) -> zipfile.ZipInfo:
        for candidate in (name, self.prefix + name):
            if candidate in self.files:
                return self.files[candidate]
        for candidate in (name, self.prefix + name):
            matches = self.folded.get(candidate.casefold(), [])
            if len(matches) == 1:
                return self.files[matches[0]]
        shown = sorted(n[len(self.prefix):] for n in self.files)
        raise _Missing(f"is not in the ZIP {_listing(shown, name)}")

    def read(self, name: str) -> bytes:
        info = self._find(name)
        if info.file_size > self.limits.max_image_bytes:
            raise _Unreadable(
                f"is {_size(info.file_size)} unpacked; the limit is {_size(self.limits.max_image_bytes)}"
            )
        if info.flag_bits & 0x1:
            raise _Unreadable("is password-protected in the ZIP; zip the pictures without a password")
        try:
            with self.archive.open(info) as stream:
                data = stream.read(self.limits.max_image_bytes + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
                OSError, ValueError) as exc:
            raise _Unreadable(f"could not be unpacked from the ZIP ({exc})") from exc
        if len(data) > self.limits.max_image_bytes:  # the header understated it
            raise _Unreadable(f"is larger unpacked than the {_size(self.limits.max_image_bytes)} limit")
        self.unpacked += len(data)
        if self.unpacked > self.limits.max_images_total_bytes:
            raise InvalidInput(
                f"The pictures in the ZIP add up to more than {_size(self.limits.max_images_total_bytes)}; "
                "split the batch."
            )
        return data


class _FolderSource:
    kind = "the images folder"

    def __init__(self, folder: Path, limits: BatchLimits) -> None:
        if not folder.is_dir():
            raise InvalidInput(f"The images folder '{folder}' does not exist or is not a folder.")
        self.root = folder.resolve()
        self.limits = limits
        self.read_total = 0

    def read(self, name: str) -> bytes:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            raise _Unreadable("leads outside the images folder (through a link)")
        if not path.is_file():
            parent = path.parent
            names = sorted(p.name for p in parent.iterdir() if p.is_file()) if parent.is_dir() else []
            where = "the images folder" if parent == self.root else f"'{parent.relative_to(self.root)}'"
            raise _Missing(f"is not in {where} {_listing(names, path.name)}")
        size = path.stat().st_size
        if size > self.limits.max_image_bytes:
            raise _Unreadable(f"is {_size(size)}; the limit is {_size(self.limits.max_image_bytes)}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise _Unreadable(f"could not be read ({exc.strerror or exc})") from exc
        self.read_total += len(data)
        if self.read_total > self.limits.max_images_total_bytes:
            raise InvalidInput(
                f"The pictures add up to more than {_size(self.limits.max_images_total_bytes)}; "
                "split the batch."
            )
        return data


def _size(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    if n >= 1024 * 1024:
        mb = n / (1024 * 1024)
        return f"{mb:.1f} MB" if mb < 10 else f"{mb:.0f} MB"
    return f"{n / 1024:.0f} KB" if n >= 1024 else f"{n} bytes"


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> str:
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InvalidInput("The CSV file is empty. Give it a header row and one row per product.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:64].count(b"\x00") > 8:
        raise InvalidInput(
            "The CSV is saved as UTF-16 ('Unicode Text'). Save it as 'CSV UTF-8 (comma delimited)' "
            "and upload it again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"The CSV is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line} is not valid "
            "UTF-8). Save it as 'CSV UTF-8 (comma delimited)' and upload it again."
        ) from exc


def _header_key(cell: str) -> str:
    return "_".join(cell.strip().lower().replace("-", " ").split())


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """``(spreadsheet row, cells)`` for each record, the header first; ``InvalidInput`` on
    broken quoting."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ","
    if "," not in first_line:  # Excel in some locales writes ';'; "Text (tab delimited)" writes tabs
        for other in (";", "\t"):
            if other in first_line:
                delimiter = other
                break
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for record in reader:
            number += 1
            yield number, record
    except csv.Error as exc:
        raise InvalidInput(
            f"Row {number + 1} of the CSV (near line {reader.line_num}) cannot be read: {exc}. "
            "A cell that starts with a double quote must end with one, and a quote inside it is "
            "written twice (\"\"); save the file from a spreadsheet again."
        ) from exc


@dataclass
class _Header:
    index: dict[str, int]
    width: int

    def cell(self, record: list[str], column: str) -> str | None:
        at = self.index.get(column)
        if at is None:
            return None
        return record[at] if at < len(record) else ""


def _read_header(record: list[str]) -> tuple[_Header, list[str]]:
    keys = [_header_key(cell) for cell in record]
    known = [k for k in keys if k in COLUMNS]
    shown = ", ".join(c.strip() for c in record if c.strip())[:200]
    if not known:
        raise InvalidInput(
            "The first row must be a header naming the columns: sku or name, and text or image "
            f"(optional: logo, auto_approve). It reads: {shown or '(empty cells)'}."
        )
    duplicates = sorted({k for k in known if known.count(k) > 1})
    if duplicates:
        raise InvalidInput(f"The header names the column '{duplicates[0]}' twice; keep one.")
    missing = []
    if "sku" not in known and "name" not in known:
        missing.append("a sku or name column")
    if "text" not in known and "image" not in known:
        missing.append("a text or image column")
    if missing:
        raise InvalidInput(f"The header needs {' and '.join(missing)} (it has: {shown}).")
    warnings = [
        f"The column '{cell.strip()}' is not used (viewgen reads {', '.join(COLUMNS)})."
        for cell, key in zip(record, keys, strict=True)
        if key not in COLUMNS and cell.strip()
    ]
    index = {key: i for i, key in enumerate(keys) if key in COLUMNS}
    return _Header(index=index, width=len(record)), warnings


# --------------------------------------------------------------------------- planning


def plan_batch(
    csv_data: bytes,
    *,
    images_zip: bytes | None = None,
    images_dir: Path | str | None = None,
    limits: BatchLimits | None = None,
    normalise: bool = True,
) -> BatchPlan:
    """Check a whole batch and return its plan; nothing is spent or stored.

    Raises ``InvalidInput`` for a problem with a file as a whole; every problem with a
    row is in the plan's ``errors``. Give ``images_zip`` (the web page) or
    ``images_dir`` (the CLI), not both. Every picture is fully decoded and checked either
    way; with ``normalise=False`` the plan keeps each file's original bytes instead of
    re-encoding it as PNG (re-encoding costs far more than checking, and a PNG of a photo
    is several times the JPEG's size; ``Studio.start_front`` normalises what it is given).
    """
    if images_zip is not None and images_dir is not None:
        raise ValueError("give images_zip or images_dir, not both")
    limits = limits or BatchLimits()
    text = _decode(csv_data)

    records = _records(text)
    header_record = next((rec for _, rec in records if any(c.strip() for c in rec)), None)
    if header_record is None:
        raise InvalidInput("The CSV file is empty. Give it a header row and one row per product.")
    header, warnings = _read_header(header_record)

    raw_rows: list[tuple[int, list[str]]] = []
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(raw_rows) == limits.max_rows:
            raise InvalidInput(
                f"The CSV has more than {limits.max_rows:,} product rows (row {number:,} is one too "
                f"many). Split it into files of at most {limits.max_rows:,} rows."
            )
        raw_rows.append((number, record))
    if not raw_rows:
        raise InvalidInput("The CSV has a header but no product rows below it.")

    errors: list[RowError] = []
    cells_by_row = [(number, record, _check_cells(number, record, header, limits, errors))
                    for number, record in raw_rows]
    _check_duplicates(cells_by_row, errors)

    source: _ImageSource | None = None
    if images_zip is not None:
        source = _ZipSource(images_zip, limits)
    elif images_dir is not None:
        source = _FolderSource(Path(images_dir), limits)

    pictures: dict[str, bytes | str] = {}  # file name -> PNG, or why it cannot be used
    rows: list[PlannedRow] = []
    for number, _record, cells in cells_by_row:
        loaded: dict[str, bytes | None] = {}
        for column in ("image", "logo"):
            loaded[column] = None
            name = cells.get(column)
            if name:
                loaded[column] = _picture(number, column, name, source, pictures, limits, errors,
                                          normalise)
        sku = cells.get("sku") or cells.get("name") or ""
        rows.append(PlannedRow(
            row=number, sku=sku, name=cells.get("name") or sku, text=cells.get("text") or None,
            image=loaded["image"], logo=loaded["logo"], image_name=cells.get("image") or None,
            logo_name=cells.get("logo") or None, auto_approve=cells.get("auto_approve") != "false",
        ))
    order = {column: i for i, column in enumerate(COLUMNS)}
    errors.sort(key=lambda e: (e.row, -1 if e.column is None else order.get(e.column, 99)))
    return BatchPlan(rows=rows, errors=errors, warnings=warnings)


def _check_cells(number: int, record: list[str], header: _Header, limits: BatchLimits,
                 errors: list[RowError]) -> dict[str, str]:
    """The row's cells (stripped, ``auto_approve`` as "true"/"false"), errors appended;
    a cell holding a NUL character is reported and then treated as empty."""

    def fail(column: str | None, message: str) -> None:
        errors.append(RowError(row=number, column=column, message=f"Row {number}: {message}"))

    extra = [cell for cell in record[header.width:] if cell.strip()]
    if extra:
        fail(None, f"it has {len(record)} cells but the header names {header.width} columns; a "
                   "comma inside a description needs the cell in double quotes.")
    cells: dict[str, str] = {}
    damaged: set[str] = set()
    for column in header.index:
        value = (header.cell(record, column) or "").strip()
        if "\x00" in value:
            fail(column, f"the {column} contains a NUL character (\\0), which text cannot hold; "
                         "the file may be damaged.")
            value = ""
            damaged.add(column)
        cells[column] = value

    key_column = "sku" if "sku" in header.index else "name"
    key = cells.get(key_column, "")
    if not key and key_column not in damaged:
        fail(key_column, f"the {key_column} is empty; every row needs one.")
    elif len(key) > MAX_SKU_CHARS:
        fail(key_column, f"the {key_column} is {len(key):,} characters long; the limit is {MAX_SKU_CHARS}.")
    elif any(unicodedata.category(ch) == "Cc" for ch in key):
        fail(key_column, f"the {key_column} '{key[:40]}' contains a line break or control character.")
    name = cells.get("name", "")
    if key_column == "sku" and len(name) > MAX_SKU_CHARS:
        fail("name", f"the name is {len(name):,} characters long; the limit is {MAX_SKU_CHARS}.")

    text = cells.get("text", "")
    if len(text) > limits.max_text_chars:
        fail("text", f"the text is {len(text):,} characters long; the limit is "
                     f"{limits.max_text_chars:,}. Shorten it.")
    if not text and not cells.get("image") and not damaged & {"text", "image"}:
        if "image" in header.index:
            fail("text", "the text and the image are both empty; give a description, an image or both.")
        else:
            fail("text", "the text is empty; describe the product.")

    if "auto_approve" in header.index:
        raw = cells["auto_approve"]
        flag = raw.lower()
        if flag in _TRUE:
            cells["auto_approve"] = "true"
        elif flag in _FALSE:
            cells["auto_approve"] = "false"
        else:
            fail("auto_approve", f"auto_approve is '{raw[:40]}'; write true or false (or yes/no, 1/0; "
                                 "empty means true).")
    return cells


def _check_duplicates(rows: list[tuple[int, list[str], dict[str, str]]], errors: list[RowError]) -> None:
    first: dict[str, int] = {}
    for number, _record, cells in rows:
        column = "sku" if "sku" in cells else "name"
        value = cells.get(column, "")
        if not value:
            continue
        key = unicodedata.normalize("NFC", value).casefold()
        if key in first:
            errors.append(RowError(
                row=number, column=column,
                message=f"Row {number}: the {column} '{value}' is already used by row {first[key]}; "
                        f"each {column} must be unique in the file.",
            ))
        else:
            first[key] = number


def _picture(number: int, column: str, raw: str, source: _ImageSource | None,
             cache: dict[str, bytes | str], limits: BatchLimits, errors: list[RowError],
             normalise: bool) -> bytes | None:
    """The named picture (a normalised PNG, or its checked original bytes), or None with the
    reason added to ``errors``."""
    what = "image" if column == "image" else "logo"
    try:
        name = _clean_name(raw)
    except _Unreadable as exc:
        errors.append(RowError(row=number, column=column,
                               message=_sentence(f"Row {number}: the {what} '{raw}' {exc}")))
        return None
    if source is None:
        errors.append(RowError(row=number, column=column, message=(
            f"Row {number}: the {what} '{name}' is named but no ZIP of images was given with the CSV."
        )))
        return None
    if name not in cache:
        try:
            data = source.read(name)  # InvalidInput (the batch's total is too large) propagates
        except (_Missing, _Unreadable) as exc:
            cache[name] = str(exc)
        else:
            try:
                picture = imaging.load_image(data, max_bytes=limits.max_image_bytes,
                                             max_pixels=limits.max_image_pixels, what=what)
                cache[name] = imaging.normalise_png(picture) if normalise else data
            except ViewgenError as exc:
                cache[name] = f"cannot be used. {exc.user_message}"
            except Exception as exc:  # a decoder failing in a way load_image does not name
                cache[name] = f"cannot be read as an image ({type(exc).__name__})"
    result = cache[name]
    if isinstance(result, bytes):
        return result
    errors.append(RowError(row=number, column=column,
                           message=_sentence(f"Row {number}: the {what} '{name}' {result}")))
    return None


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


__all__ = ["MAX_ROWS", "BatchLimits", "BatchPlan", "PlannedRow", "RowError", "plan_batch"]

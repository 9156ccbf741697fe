"""The batch download: one ZIP with a folder per product and a manifest a spreadsheet opens safely.

``write_batch_zip`` takes the batch's rows as ``ManifestRow`` objects, one per product,
from any iterable (a generator that loads one product's images at a time keeps memory
to one product: each row's files are written, and the row let go, before the next is
asked for). Each product with images gets a folder named from its SKU (made safe for
every filesystem, and unique even on case-insensitive ones) holding ``front.png``,
``back.png``, ``side.png``, ``top.png``, ``bottom.png`` (those that exist; other formats
re-encoded as PNG) and ``features.json``; ``manifest.csv`` at the top lists every row
(row, sku, folder, status, approval_id, error, colours, materials, dimensions,
credits charged, cost in USD), sorted by row, UTF-8 with a byte-order mark so Excel
reads accents, each cell neutralised against formula injection (OWASP: a cell starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe).
PNGs are stored (they are compressed already), text is deflated, and entry dates are
fixed so the same batch gives the same bytes. ``write_batch_folder`` writes the same
layout to a directory (the CLI's ``--out``). With ``presets`` (marketplace presets,
``viewgen.presets``) each product folder also holds a folder per preset
(``SKU-1/amazon/front.jpg`` …), made by ``viewgen.export.render_set``, optionally on one
chosen ``background``; unknown presets or a bad colour are refused before anything is
written.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from viewgen import imaging
from viewgen.domain import ALL_VIEWS, ExtractedFeatures, ViewType
from viewgen.errors import InvalidInput
from viewgen.presets import Preset

MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = (
    "row", "sku", "folder", "status", "approval_id", "error", "colors", "materials",
    "dimensions", "credits_charged", "cost_usd",
)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_FOLDER_CHARS = 80
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_VIEW_NAMES = {view.value: view for view in ALL_VIEWS}


@dataclass
class ManifestRow:
    """One product of a finished (or partly finished) batch, as the download shows it.

    ``images`` maps a view (``ViewType`` or its name: front, back, side, top, bottom) to
    the image's bytes; ``features`` is an ``ExtractedFeatures`` or its JSON dict.
    """

    row: int
    sku: str
    status: str
    approval_id: str | None = None
    error: str | None = None
    images: Mapping[ViewType | str, bytes] | None = None
    features: ExtractedFeatures | Mapping[str, Any] | None = None
    credits: int = 0
    cost_usd: float | None = None


# --------------------------------------------------------------------------- cells and names


def _neutralise(value: str) -> str:
    """OWASP's rule (the same as ``viewgen.csvsafe.neutralise``): a cell a spreadsheet would
    run as a formula gets a leading apostrophe; a plain number is left as it is."""
    if value.startswith(_FORMULA_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


class _FolderNames:
    """Filesystem-safe, unique (case-insensitively) folder names from SKUs."""

    def __init__(self) -> None:
        self.used: set[str] = {MANIFEST_NAME.casefold()}

    def take(self, sku: str, row: int) -> str:
        base = _safe_name(sku) or f"row-{row}"
        name = base
        if name.casefold() in self.used:
            name = f"{base}-row-{row}"
        counter = 2
        while name.casefold() in self.used:
            name = f"{base}-row-{row}-{counter}"
            counter += 1
        self.used.add(name.casefold())
        return name


def _safe_name(sku: str) -> str:
    """A folder name every filesystem accepts: letters, digits, ``.``, ``-``, ``_`` (other
    characters become ``_``), no leading dot or hyphen (a shell would read an option),
    no trailing dot or space, not a Windows
    device name, at most 80 characters."""
    text = unicodedata.normalize("NFKC", sku)
    chars = [ch if (ch.isalnum() or ch in "-_.") and ch.isprintable() else "_" for ch in text]
    name = re.sub(r"_+", "_", "".join(chars)).strip("._ -")
    name = name[:_MAX_FOLDER_CHARS].rstrip("._ ")
    if name.split(".", 1)[0].casefold() in _WINDOWS_RESERVED:
        name = f"_{name}"
    return name


# --------------------------------------------------------------------------- one product


def _view(key: ViewType | str) -> ViewType:
    view = _VIEW_NAMES.get(getattr(key, "value", key))
    if view is None:
        raise ValueError(f"unknown view {key!r}: use one of {', '.join(_VIEW_NAMES)}")
    return view


def _as_png(data: bytes) -> bytes:
    if imaging.sniff_format(data) == "PNG":
        return data
    image = imaging.open_png(data)
    out = io.BytesIO()
    image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, format="PNG")
    return out.getvalue()


def _features(value: ExtractedFeatures | Mapping[str, Any] | None) -> tuple[
        ExtractedFeatures | None, dict[str, Any] | None]:
    """``(parsed, json)`` for the row's features; a dict that does not parse is still written."""
    if value is None:
        return None, None
    if isinstance(value, ExtractedFeatures):
        return value, value.public_json()
    raw = dict(value)
    try:
        return ExtractedFeatures.model_validate(raw), raw
    except ValidationError:
        return None, raw


def _colors(features: ExtractedFeatures | None) -> str:
    if features is None:
        return ""
    parts = []
    for color in features.colors:
        share = f", {color.share * 100:.0f}%" if color.share is not None else ""
        parts.append(f"{color.name} {color.hex} ({color.usage.value}{share})")
    return "; ".join(parts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        value = value.value
    return str(value)


def _product_files(row: ManifestRow, presets: Sequence[Preset] = ()
                   ) -> tuple[list[tuple[str, bytes]], list[str], ExtractedFeatures | None]:
    """``(files, problems, features)``: the folder's files in view order, features.json,
    then a folder per preset."""
    images = {_view(key): data for key, data in (row.images or {}).items() if data}
    files: list[tuple[str, bytes]] = []
    problems: list[str] = []
    readable: dict[ViewType, bytes] = {}  # the views that made it in, for the presets
    for view in ALL_VIEWS:
        if view not in images:
            continue
        try:
            files.append((f"{view.value}.png", _as_png(images[view])))
            readable[view] = images[view]
        except InvalidInput:
            problems.append(f"the {view.value} image could not be read, so it is not in the download")
    parsed, raw = _features(row.features)
    if raw is not None:
        files.append(("features.json", (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode()))
    if presets and readable:
        from viewgen.export import render_set

        for item in render_set(readable, presets):
            files.append((f"{item.preset.name}/{item.filename}", item.data))
    return files, problems, parsed


def _manifest_cells(row: ManifestRow, folder: str, problems: list[str],
                    features: ExtractedFeatures | None) -> list[str]:
    error = "; ".join([e for e in (_text(row.error), *problems) if e])
    cost = "" if row.cost_usd is None else f"{row.cost_usd:.4f}"
    cells = [
        str(row.row), _text(row.sku), folder, _text(row.status), _text(row.approval_id), error,
        _colors(features), "; ".join(features.materials) if features else "",
        features.dimensions_text if features else "", str(int(row.credits)), cost,
    ]
    return [_neutralise(cell) for cell in cells]


def _manifest_bytes(entries: list[tuple[int, list[str]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(MANIFEST_COLUMNS)
    for _, cells in sorted(entries, key=lambda entry: entry[0]):
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")


def chosen_presets(presets: Iterable[str | Preset], background: str | None) -> list[Preset]:
    """The presets asked for, checked (and on ``background``) before anything is written."""
    from viewgen.presets import resolve_presets, with_background

    names = list(presets)
    return with_background(resolve_presets(names), background) if names else []


def _walk(rows: Iterable[ManifestRow], presets: Sequence[Preset] = ()
          ) -> Iterator[tuple[str | None, Any]]:
    """Yield ``(folder, files)`` per product with files, then ``(None, manifest bytes)``.

    Each row is dropped before the next one is asked for, so only one product's images
    are held at a time.
    """
    names = _FolderNames()
    entries: list[tuple[int, list[str]]] = []
    for row in rows:
        files, problems, features = _product_files(row, presets)
        folder = names.take(_text(row.sku), row.row) if files else ""
        entries.append((row.row, _manifest_cells(row, folder, problems, features)))
        del row, features
        if files:
            yield folder, files
        del files
    yield None, _manifest_bytes(entries)


# --------------------------------------------------------------------------- writers


def write_batch_zip(rows: Iterable[ManifestRow], out: IO[bytes] | str | Path, *,
                    presets: Iterable[str | Preset] = (), background: str | None = None) -> int:
    """Write the batch ZIP to ``out`` (a binary file object or a path) and return the
    number of product folders written."""
    chosen = chosen_presets(presets, background)
    folders = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for folder, payload in _walk(rows, chosen):
            if folder is None:
                _add(archive, MANIFEST_NAME, payload)
                continue
            folders += 1
            for name, data in payload:
                _add(archive, f"{folder}/{name}", data)
            del payload, data  # let this product go before the next is asked for
    return folders


def batch_zip(rows: Iterable[ManifestRow], *, presets: Iterable[str | Preset] = (),
              background: str | None = None) -> bytes:
    """The batch ZIP as bytes (for a download button)."""
    out = io.BytesIO()
    write_batch_zip(rows, out, presets=presets, background=background)
    return out.getvalue()


def write_batch_folder(rows: Iterable[ManifestRow], out_dir: str | Path, *,
                       presets: Iterable[str | Preset] = (), background: str | None = None) -> int:
    """Write the same layout as the ZIP into ``out_dir`` (created if missing; files of an
    earlier run with the same names are replaced) and return the number of folders."""
    chosen = chosen_presets(presets, background)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    folders = 0
    for folder, payload in _walk(rows, chosen):
        if folder is None:
            (root / MANIFEST_NAME).write_bytes(payload)
            continue
        folders += 1
        (root / folder).mkdir(exist_ok=True)
        for name, data in payload:
            (root / folder / name).parent.mkdir(parents=True, exist_ok=True)
            (root / folder / name).write_bytes(data)
        del payload, data
    return folders


def manifest_csv(rows: Iterable[ManifestRow]) -> bytes:
    """Only ``manifest.csv`` (the images are read only to check them; nothing is written)."""
    manifest = b""
    for folder, payload in _walk(rows):
        if folder is None:
            manifest = payload
    return manifest


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


__all__ = [
    "MANIFEST_COLUMNS",
    "MANIFEST_NAME",
    "ManifestRow",
    "batch_zip",
    "chosen_presets",
    "manifest_csv",
    "write_batch_folder",
    "write_batch_zip",
]

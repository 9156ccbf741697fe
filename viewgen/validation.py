"""Checks on what people type and on what rows point at, each failing with a named error.

``clean_text`` turns a text field into something every store can hold: NUL bytes
(PostgreSQL refuses them with ``DataError``, SQLite keeps them), lone surrogates
(``UnicodeEncodeError`` on the way to UTF-8) and text over the limit are refused with
an ``InvalidInput`` saying which field and why, instead of failing deep in a driver.
``parse_view`` names an unknown view and lists the five that exist. ``output_dir``
checks, before anything is charged, that a folder can receive the files a command will
write. ``key_belongs_to``
says whether a blob key lies under a user's own prefix (``<user_id>/...``), so the
workflow can refuse to read, and send to a provider, an image that is not the
approval owner's even if a row was made to point at it.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from viewgen.domain import STORED_VIEWS, ViewType
from viewgen.errors import InvalidInput

_SURROGATE = re.compile("[\ud800-\udfff]")
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def _view_names() -> str:
    names = [v.value for v in STORED_VIEWS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def clean_text(value: str | None, *, what: str, max_chars: int,
               required: bool = False) -> str | None:
    """``value`` stripped, or None when empty and not ``required``.

    Raises ``InvalidInput`` naming ``what`` for a NUL byte, a lone surrogate (text
    that is not valid Unicode, e.g. half an emoji from a broken paste), text longer
    than ``max_chars`` characters, a missing required value, or a non-text value.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text, not {type(value).__name__}.")
    if "\x00" in value:
        raise InvalidInput(
            f"The {what} contains a NUL character (\\0), which cannot be stored. Remove it "
            "(it often comes from copying out of a binary file) and try again."
        )
    bad = _SURROGATE.search(value)
    if bad:
        raise InvalidInput(
            f"The {what} contains a broken character (U+{ord(bad.group()):04X} at position "
            f"{bad.start() + 1}, half of a character pair). Retype that part and try again."
        )
    text = value.strip()
    if len(text) > max_chars:
        raise InvalidInput(
            f"The {what} is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it and try again."
        )
    if not text:
        if required:
            raise InvalidInput(f"The {what} is empty: write a few words first.")
        return None
    return text


def parse_view(name: str | ViewType) -> ViewType:
    """The ``ViewType`` called ``name`` (any case, spaces ignored)."""
    if isinstance(name, ViewType):
        return name
    if not isinstance(name, str):
        raise InvalidInput(f"Unknown view {name!r}: choose {_view_names()}.")
    try:
        return ViewType(name.strip().lower())
    except ValueError:
        shown = "".join(c for c in name.strip()
                        if c.isprintable() and not _SURROGATE.match(c))
        shown = shown if len(shown) <= 40 else shown[:39] + "…"
        raise InvalidInput(f"Unknown view '{shown}': choose {_view_names()}.") from None


def key_belongs_to(key: str | None, user_id: str | None) -> bool:
    """True when blob ``key`` lies under ``user_id``'s own prefix (``<user_id>/...``).

    Refuses anything that could step out of that prefix: an empty key or id, ``..``
    or empty segments, backslashes, a leading slash, and ids that are not one plain
    path segment.
    """
    if not key or not user_id or not isinstance(key, str) or not isinstance(user_id, str):
        return False
    if not _KEY_SEGMENT.match(user_id) or user_id in (".", ".."):
        return False
    if "\\" in key or "\x00" in key or not key.startswith(user_id + "/"):
        return False
    segments = key.split("/")
    return len(segments) >= 2 and all(s and s not in (".", "..") for s in segments)


def output_dir(path: str | Path, *, files: Iterable[str] = (), option: str = "--out") -> Path:
    """``path`` as a folder that can take ``files``, checked without creating anything.

    Refuses an existing file, a folder (or the nearest existing parent of one to be
    made) that this process cannot write in (tried with a temporary file, since
    ``os.access`` says yes to root even on a read-only mount), and a ``files`` entry
    that exists there as a folder. Raises ``InvalidInput`` naming ``option``.
    """
    raw = str(path)
    if not raw.strip() or "\x00" in raw:
        raise InvalidInput(f"{option} needs a folder name.")
    target = Path(raw).expanduser()
    if target.exists() and not target.is_dir():
        raise InvalidInput(
            f"{option} {raw} is an existing file, not a folder: give a folder for the "
            "views (it is created if missing). Nothing was generated or charged."
        )
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InvalidInput(
            f"{option} {raw} cannot be created: {probe} is a file, not a folder. "
            "Nothing was generated or charged."
        )
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".viewgen-probe-"):
            pass
    except OSError as exc:
        where = "" if probe == target else f" (its nearest existing parent {probe})"
        reason = exc.strerror or type(exc).__name__
        raise InvalidInput(
            f"{option} {raw} cannot be written{where}: {reason}. Choose a folder you can "
            "write to. Nothing was generated or charged."
        ) from None
    for name in files:
        inside = target / name
        if inside.is_dir():
            raise InvalidInput(
                f"{option} {raw} already has a folder named {name}, where a file of that "
                "name is to be written. Nothing was generated or charged."
            )
    return target

"""Image storage behind one small protocol: a local directory (default) or Supabase Storage.

Keys look like ``{user}/{approval}/{view}-{n}.png``; the database stores keys, never
URLs (a signed URL expires, a key does not). ``url(key)`` mints a short-lived URL
when a backend has them; the local store returns ``None`` and pages read bytes.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from viewgen.errors import ConfigurationError, InvalidInput, NotFound, StorageError

if TYPE_CHECKING:
    from viewgen.settings import Settings

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class BlobStore(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str | None: ...


def image_key(user_id: str, approval_id: str, name: str, n: int, ext: str = "png") -> str:
    """``{user}/{approval}/{name}-{n}.{ext}``, validated."""
    return check_key(f"{user_id}/{approval_id}/{name}-{n}.{ext}")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store: absolute, ``..``, odd characters."""
    if not key or "\\" in key or key.startswith("/") or "\x00" in key:
        raise InvalidInput(f"Refused an unsafe image key: {key!r}")
    parts = key.split("/")
    if len(parts) < 2 or any(p in (".", "..") or not _SEGMENT.match(p) for p in parts):
        raise InvalidInput(f"Refused an unsafe image key: {key!r}")
    return key


class LocalBlobStore:
    """Files under one root directory, written atomically."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidInput(f"Refused an unsafe image key: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            raise StorageError("Could not save the image to local storage.", detail=str(exc)) from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("That image is no longer in storage.") from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def url(self, key: str) -> str | None:
        return None


def build_blob_store(settings: Settings) -> BlobStore:
    if settings.blob_backend == "local":
        return LocalBlobStore(settings.blob_dir)
    if settings.blob_backend == "supabase":
        from viewgen.blobs_supabase import SupabaseBlobStore

        return SupabaseBlobStore.from_settings(settings)
    raise ConfigurationError(f"Unknown VIEWGEN_BLOB_BACKEND {settings.blob_backend!r}.")

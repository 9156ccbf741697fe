"""Short-lived HMAC-signed image URLs for the HTTP API, when the blob store has none.

The database keeps image keys, never URLs. When the API shows an image it asks the
blob store for a signed URL (Supabase Storage mints its own); the local store has
none, so the API signs its own link: ``/api/images/{key}?exp=UNIX&sig=HMAC``, where the
signature is HMAC-SHA256 over the key and the expiry time with a secret only the
server knows. Such a link is checked here (signature first, in constant time, then
expiry) and needs no bearer token, so it can be put in an ``<img>`` tag or handed to
another tool; the API signs a key only for a person who may see it.

The secret comes from ``VIEWGEN_API_SIGNING_SECRET`` or, when that is unset, from
``<data_dir>/api-signing.key``, generated once (mode 0600) and read on later starts so
that links survive a restart. It is never logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from viewgen.blobs import check_key
from viewgen.errors import ConfigurationError, PermissionDenied

if TYPE_CHECKING:
    from viewgen.settings import Settings

KEY_FILE = "api-signing.key"
MIN_SECRET_BYTES = 16


class ExpiredLink(PermissionDenied):
    """A signed image link whose time is up: ask the API for a fresh one."""


def load_secret(settings: Settings) -> bytes:
    """The signing secret: from settings, else from the data dir (created on first use)."""
    if settings.api_signing_secret is not None:
        value = settings.api_signing_secret.get_secret_value().encode()
        if len(value) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"VIEWGEN_API_SIGNING_SECRET must be at least {MIN_SECRET_BYTES} characters; "
                "leave it unset to have one generated in the data directory."
            )
        return value
    path = Path(settings.data_dir) / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise ConfigurationError(
            f"Could not create {path} for the API's link-signing key: {exc.strerror}. "
            "Set VIEWGEN_API_SIGNING_SECRET or make VIEWGEN_DATA_DIR writable."
        ) from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48) + "\n")
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    # another process may have created the file an instant ago: wait for its line
    for _ in range(50):
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value.encode()
        time.sleep(0.01)
    raise ConfigurationError(f"{path} is empty: delete it to have a new signing key made.")


class UrlSigner:
    """Signs and checks ``(key, expiry)`` pairs with one secret."""

    def __init__(self, secret: bytes, *, lifetime_s: int = 900) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError("The API's link-signing key is too short.")
        self._secret = secret
        self.lifetime_s = lifetime_s

    def __repr__(self) -> str:  # never show the secret, even in a traceback's locals
        return f"UrlSigner(lifetime_s={self.lifetime_s})"

    def signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def sign(self, key: str, *, now: float | None = None) -> tuple[int, str]:
        """``(expires, signature)`` for a link to ``key`` valid for ``lifetime_s``."""
        expires = int((time.time() if now is None else now) + self.lifetime_s)
        return expires, self.signature(check_key(key), expires)

    def path(self, key: str, *, prefix: str = "/api/images/", now: float | None = None) -> str:
        """The signed path (no host) of a link to ``key``."""
        expires, sig = self.sign(key, now=now)
        return f"{prefix}{quote(key, safe='/')}?exp={expires}&sig={sig}"

    def verify(self, key: str, expires: str | int, signature: str, *,
               now: float | None = None) -> None:
        """Raise ``PermissionDenied`` for a link not signed here, ``ExpiredLink`` for a late one.

        The signature is checked before anything else, so a forged link learns nothing
        about whether its key exists."""
        try:
            when = int(expires)
        except (TypeError, ValueError):
            when = -1
        expected = self.signature(key, when)
        if when < 0 or not hmac.compare_digest(expected, signature or ""):
            raise PermissionDenied("That image link is not valid (its signature does not "
                                   "match); fetch the product again for a fresh link.")
        if when <= (time.time() if now is None else now):
            raise ExpiredLink(
                "That image link has expired; fetch the product again for a fresh link."
            )

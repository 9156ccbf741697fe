"""Images in Supabase Storage: the ``BlobStore`` for shared deployments.

One ``SupabaseBlobStore`` serves the whole process. It talks to Storage with the
project's service_role (secret) key from ``SUPABASE_KEY`` and never signs anyone in,
so its Authorization header never changes; who may see which image is decided before
it is asked (``Tx.owns_key``), and the bucket policies in ``supabase/storage.sql``
guard everything else. Keys are ``{user}/{approval}/{name}-{n}.{ext}``: reference
photos and logos go to the private ``uploads`` bucket, exports to ``products``, the
views to ``images``. An upload never overwrites (``x-upsert: false``): a key is
written once. ``url(key)`` mints a signed URL valid for ``signed_url_expiry_s`` when
an image is shown; URLs are never stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from storage3.exceptions import StorageApiError
from storage3.utils import StorageException

from viewgen.blobs import check_key
from viewgen.errors import ConfigurationError, NotFound, StorageError, ViewgenError

if TYPE_CHECKING:
    from supabase import Client
    from viewgen.settings import Settings

IMAGES, UPLOADS, PRODUCTS = "images", "uploads", "products"
BUCKETS = (IMAGES, UPLOADS, PRODUCTS)
# the file's name before "-{n}" decides its bucket; everything else is a view image
_BUCKET_BY_NAME = {"reference": UPLOADS, "logo": UPLOADS, "export": PRODUCTS}
HTTP_TIMEOUT_S = 30.0


def make_client(settings: Settings) -> Client:
    """A new ``supabase`` client for ``SUPABASE_URL`` / ``SUPABASE_KEY``.

    Each call builds its own HTTP client and session storage, so two clients never
    share an Authorization header or a signed-in session.
    """
    from supabase_auth import SyncMemoryStorage

    from supabase import ClientOptions, create_client

    if not settings.supabase_url or settings.supabase_key is None:
        raise ConfigurationError(
            "Supabase is selected but SUPABASE_URL and SUPABASE_KEY are not both set."
        )
    options = ClientOptions(
        auto_refresh_token=False,  # no timer threads per browser session
        persist_session=True,
        storage=SyncMemoryStorage(),
        flow_type="implicit",
        httpx_client=httpx.Client(
            timeout=httpx.Timeout(HTTP_TIMEOUT_S, connect=10.0), follow_redirects=True
        ),
    )
    try:
        return create_client(settings.supabase_url, settings.supabase_key.get_secret_value(),
                             options)
    except Exception as exc:  # SupabaseException: a malformed URL or key
        raise ConfigurationError(
            f"SUPABASE_URL or SUPABASE_KEY is not usable: {getattr(exc, 'message', exc)}"
        ) from exc


def bucket_for(key: str) -> str:
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return _BUCKET_BY_NAME.get(stem.rsplit("-", 1)[0], IMAGES)


class SupabaseBlobStore:
    """Private buckets in Supabase Storage, one shared service client."""

    name = "supabase"

    def __init__(self, client: Client, *, signed_url_expiry_s: int = 3600) -> None:
        self.client = client
        self.signed_url_expiry_s = signed_url_expiry_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SupabaseBlobStore:
        return cls(make_client(settings), signed_url_expiry_s=settings.signed_url_expiry_s)

    def _bucket(self, key: str) -> tuple[Any, str]:
        check_key(key)
        return self.client.storage.from_(bucket_for(key)), key

    def put(self, key: str, data: bytes, content_type: str = "image/png") -> None:
        bucket, path = self._bucket(key)
        with _mapped("save", key):
            bucket.upload(path, data, {"content-type": content_type, "upsert": "false"})

    def get(self, key: str) -> bytes:
        bucket, path = self._bucket(key)
        with _mapped("read", key):
            return bucket.download(path)

    def delete(self, key: str) -> None:
        bucket, path = self._bucket(key)
        with _mapped("delete", key):
            bucket.remove([path])  # a missing object is not an error

    def exists(self, key: str) -> bool:
        bucket, path = self._bucket(key)
        with _mapped("find", key):
            return bool(bucket.exists(path))

    def url(self, key: str) -> str | None:
        bucket, path = self._bucket(key)
        with _mapped("sign a link to", key):
            signed = bucket.create_signed_url(path, self.signed_url_expiry_s)
        url = signed.get("signedURL") or signed.get("signedUrl")
        if not url:
            raise StorageError("Supabase Storage did not return a link for that image.")
        return str(url)


class _mapped:
    """Turns Storage and network failures into errors written for the person."""

    def __init__(self, action: str, key: str) -> None:
        self.action = action
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, ViewgenError):
            return False
        if isinstance(exc, StorageApiError):
            raise storage_error(exc, self.action, self.key) from exc
        if isinstance(exc, httpx.TimeoutException):
            raise StorageError("Supabase Storage did not answer in time; try again.",
                               detail=repr(exc)) from exc
        if isinstance(exc, (httpx.HTTPError, StorageException)):
            raise StorageError("Could not reach Supabase Storage; check the connection "
                               "and SUPABASE_URL, then try again.", detail=repr(exc)) from exc
        return False


def storage_error(exc: StorageApiError, action: str, key: str) -> ViewgenError:
    """One Storage API error as a ``StorageError`` / ``NotFound`` a person can act on."""
    try:
        status = int(str(exc.status))
    except ValueError:
        status = 0
    code = str(exc.code or "").lower()
    message = str(exc.message or "")
    detail = f"{status} {exc.code}: {message}"
    if "bucket" in code or "bucket not found" in message.lower():
        return StorageError(
            f"The Supabase Storage bucket '{bucket_for(key)}' does not exist: run "
            "supabase/storage.sql in the SQL editor (see docs/supabase.md).", detail=detail)
    if status == 404 or code in ("not_found", "nosuchkey", "objectnotfound"):
        return NotFound("That image is no longer in storage.", detail=detail)
    if status == 409 or code in ("duplicate", "already_exists", "keyalreadyexists"):
        return StorageError("An image with this name is already stored; nothing was "
                            "overwritten. Try again.", detail=detail)
    if status in (401, 403) or code in ("invalidjwt", "unauthorized", "accessdenied") \
            or "row-level security" in message.lower():
        return StorageError(
            "Supabase Storage refused the app's key: SUPABASE_KEY must be the project's "
            "service_role (secret) key.", detail=detail)
    if status == 413 or code in ("payload_too_large", "entitytoolarge"):
        return StorageError("The image is larger than the storage bucket accepts.",
                            detail=detail)
    if status == 429:
        return StorageError("Supabase Storage is rate limiting the app; wait a moment and "
                            "try again.", detail=detail)
    if status >= 500 or code == "internalerror":
        return StorageError("Supabase Storage is having trouble right now; try again in a "
                            "moment.", detail=detail)
    return StorageError(f"Supabase Storage could not {action} the image ({message or code}).",
                        detail=detail)

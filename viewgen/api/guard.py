"""Who is calling, how often, and how much they send: the HTTP API's front door.

``Authenticator`` turns an ``Authorization: Bearer ...`` header into a ``User``: a
viewgen API token (``vg_...``, looked up by its SHA-256 in ``api_tokens``) or, on a
Supabase deployment, a Supabase access token verified by asking Supabase Auth
(``auth.get_user(jwt)``); a JWT is never decoded and trusted locally. A verified
Supabase token is remembered for ``SUPABASE_CACHE_S`` seconds so a busy client does not
pay a round trip per call. It also spends one request of the caller's rate limit
(``ratelimit.RateLimiter``, shared through the database by every API process): for an
API token in the same write transaction as the lookup (and the once-a-minute
``last_used_at``), so authentication and the limit cost one transaction together.
``BodyLimit`` is ASGI middleware that refuses a body over the limit with 413
as soon as it is known to be too large: from ``Content-Length`` before reading a
byte, or while counting a chunked body, never after buffering it whole.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from viewgen import credits, tokens
from viewgen.api.errors import NotAvailable, Unauthorized, error_body
from viewgen.api.ratelimit import RateLimiter
from viewgen.domain import User
from viewgen.store import SYSTEM, Repository

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from viewgen.settings import Settings

SUPABASE_CACHE_S = 30.0
_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Caller:
    """The person behind a request and what they authenticated with."""

    user: User
    via: str  # "api_token" | "supabase"
    limit_key: str  # the rate limit's bucket: a token id, or a Supabase user id
    balance: int | None = None  # their credits as the request began, when asked for


class Authenticator:
    def __init__(self, repo: Repository, settings: Settings, *,
                 supabase_client: Any | None = None, limiter: RateLimiter | None = None) -> None:
        self.repo = repo
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.api_rate_per_minute)
        self._supabase = supabase_client
        self._supabase_enabled = settings.auth_backend == "supabase" or supabase_client is not None
        self._cache: dict[str, tuple[float, User]] = {}
        self._lock = threading.Lock()

    def caller(self, authorization: str | None, *, with_balance: bool = False) -> Caller:
        """Who is calling, with one request of their rate limit spent; ``with_balance``:
        their credits too, read in the same transaction for an API token (a route that
        reports what it charged needs the balance before it)."""
        scheme, _, credential = (authorization or "").partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("Send an API token: 'Authorization: Bearer vg_...' (create one "
                               "in the app's account panel or with `python -m viewgen tokens "
                               "create EMAIL`).")
        if tokens.looks_like_token(credential):
            return self._token_caller(credential, with_balance)
        if self._supabase_enabled:
            user = self._supabase_user(credential)
            found = Caller(user, "supabase", f"user:{user.id}")
            if self.limiter.enabled:
                with self.repo.tx(SYSTEM, write=True) as tx:
                    self.limiter.relax_commit(tx.conn)
                    wait = self.limiter.take(tx.conn, found.limit_key)
                if wait is not None:
                    raise self.limiter.refusal(wait)
            return found
        raise Unauthorized("That is not a viewgen API token (they start with 'vg_').")

    def _token_caller(self, credential: str, with_balance: bool) -> Caller:
        """Look the token up and spend one request of its limit, in one transaction (the
        caller's balance too, if asked for)."""
        found: tuple[User, tokens.ApiToken] | None = None
        wait: float | None = None
        balance: int | None = None
        if tokens.plausible(credential):
            with self.repo.tx(SYSTEM, write=True) as tx:
                self.limiter.relax_commit(tx.conn)
                found = tokens.lookup(tx, credential)
                if found is not None:
                    wait = self.limiter.take(tx.conn, f"token:{found[1].id}")  # None: no limit
                if found is not None and wait is None:
                    if with_balance:
                        balance = credits.balance(tx, found[0].id)
                    if tokens.stale(found[1]):
                        tokens.touch(tx, found[1])
        if found is None:
            raise Unauthorized("That API token is not valid or has been revoked.")
        if wait is not None:
            raise self.limiter.refusal(wait)
        user, token = found
        return Caller(user, "api_token", f"token:{token.id}", balance)

    # -- Supabase access tokens ---------------------------------------------------
    def _client(self) -> Any:
        if self._supabase is None:
            from viewgen.blobs_supabase import make_client

            self._supabase = make_client(self.settings)
        return self._supabase

    def _supabase_user(self, jwt: str) -> User:
        digest = hashlib.sha256(jwt.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
            if hit and hit[0] > now:
                return hit[1]
        from supabase_auth.errors import AuthError as SupabaseAuthError
        from supabase_auth.errors import AuthRetryableError

        from viewgen.auth_supabase import SupabaseAuth, auth_error

        try:
            response = self._client().auth.get_user(jwt)
        except SupabaseAuthError as exc:
            status = int(getattr(exc, "status", 0) or 0)
            if status >= 500 or isinstance(exc, AuthRetryableError):
                # Supabase is down: not the caller's fault, and not a 401
                raise NotAvailable(auth_error(exc).user_message) from exc
            raise Unauthorized("Supabase did not accept that access token (expired or "
                               "signed out): sign in again.") from exc
        remote = getattr(response, "user", None)
        if remote is None:
            raise Unauthorized("Supabase did not accept that access token: sign in again.")
        user = SupabaseAuth(self.repo, self.settings, client=self._client())._local_user(remote)
        with self._lock:
            if len(self._cache) >= _CACHE_MAX:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[digest] = (now + SUPABASE_CACHE_S, user)
        return user


def body_limit_bytes(settings: Settings) -> int:
    """The largest request body: set, or room for a photo and a logo in base64."""
    if settings.api_max_body_mb is not None:
        return int(settings.api_max_body_mb * 1024 * 1024)
    return 2 * (settings.max_upload_bytes * 4 // 3 + 4) + 64 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes``, without buffering it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _message(self) -> str:
        size = (f"{self.max_bytes / (1024 * 1024):.1f} MB" if self.max_bytes >= 1024 * 1024
                else f"{self.max_bytes // 1024} KB")
        return (f"The request body is larger than this server accepts ({size}); "
                "send a smaller image (VIEWGEN_MAX_UPLOAD_MB / VIEWGEN_API_MAX_BODY_MB).")

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(error_body("body_too_large", self._message()),
                          separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._refuse(send)  # nothing of the body has been read
                    return
        seen = 0
        refused = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

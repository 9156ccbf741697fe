"""Accounts in Supabase Auth: sign up, sign in with a password, sign out.

ONE ``SupabaseAuth`` PER BROWSER SESSION. Keep the instance in that session's
``st.session_state`` and never in ``st.cache_resource`` or a module global: signing in
rewrites its ``supabase`` client's Authorization header to the signed-in person's
token, so an instance shared between sessions would make everyone act as whoever
signed in last. Each instance builds its own client (``make_client``), with its own
HTTP client and session storage.

The Supabase user's id is viewgen's ``users.id`` and so the ``user_id`` of every row
(and the first segment of every image key, which the storage policies check). The
local ``users`` row is created on the first sign-in (``create_account``: the first
account becomes admin, new accounts get the starting credits); Supabase keeps the
password, viewgen keeps none. Supabase's answers become ``AuthError`` messages a
person can act on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from supabase_auth.errors import AuthError as SupabaseAuthError
from supabase_auth.errors import AuthRetryableError, AuthWeakPasswordError

from viewgen.auth import MIN_PASSWORD, check_email, create_account
from viewgen.blobs_supabase import make_client
from viewgen.domain import User
from viewgen.errors import AuthError, InvalidInput, NotFound
from viewgen.store import SYSTEM, Repository

if TYPE_CHECKING:
    from supabase import Client
    from viewgen.settings import Settings

log = logging.getLogger(__name__)


class ConfirmEmail(AuthError):
    """Signed up, but Supabase wants the email confirmed before the first sign-in."""


class SupabaseAuth:
    """Supabase Auth for one browser session (see the module docstring)."""

    name = "supabase"

    def __init__(self, repo: Repository, settings: Settings, *,
                 client: Client | None = None) -> None:
        self.repo = repo
        self.settings = settings
        self.client = client or make_client(settings)

    # -- the Auth protocol --------------------------------------------------------
    def sign_up(self, email: str, password: str, display_name: str = "") -> User:
        email = check_email(email, strict=True)
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD} characters.")
        name = (display_name or "").strip()
        try:
            response = self.client.auth.sign_up({
                "email": email, "password": password,
                "options": {"data": {"display_name": name}} if name else {},
            })
        except SupabaseAuthError as exc:
            raise auth_error(exc, email) from exc
        if response.user is None:
            raise AuthError("Supabase did not create the account; try again.")
        if response.session is None:
            raise ConfirmEmail(
                f"Almost there: open the confirmation link sent to {email}, then sign in."
            )
        return self._local_user(response.user, name)

    def sign_in(self, email: str, password: str) -> User:
        email = (email or "").strip().lower()
        if not email or not password:
            raise AuthError("Enter your email and password.")
        try:
            response = self.client.auth.sign_in_with_password(
                {"email": email, "password": password}
            )
        except SupabaseAuthError as exc:
            raise auth_error(exc, email) from exc
        if response.user is None or response.session is None:
            raise AuthError("Supabase did not start a session; try again.")
        return self._local_user(response.user)

    def sign_out(self) -> None:
        """End this browser session's Supabase session (other devices stay signed in)."""
        try:
            self.client.auth.sign_out({"scope": "local"})
        except SupabaseAuthError as exc:  # the local session is gone either way
            log.info("Supabase sign-out request failed: %s", type(exc).__name__)

    def sign_out_everywhere(self, user: User) -> int:
        """End every Supabase session of ``user`` (scope "global": all refresh tokens)
        and forget viewgen's own "stay signed in" tokens for them."""
        from viewgen.auth import forget_all

        try:
            self.client.auth.sign_out({"scope": "global"})
        except SupabaseAuthError as exc:
            raise AuthError(
                "Supabase could not end your other sessions right now; try again. "
                f"({type(exc).__name__})"
            ) from exc
        return forget_all(self.repo, user.id)

    # -- helpers ------------------------------------------------------------------
    @property
    def access_token(self) -> str | None:
        session = self.client.auth.get_session()
        return session.access_token if session else None

    def _local_user(self, remote: Any, display_name: str = "") -> User:
        """The viewgen user for a Supabase user, created on the first sign-in."""
        uid = str(remote.id)
        email = check_email(remote.email or "")
        with self.repo.tx(SYSTEM) as tx:
            try:
                return tx.get_user(uid)
            except NotFound:
                found = tx.user_credentials(email)
        if found is not None:
            raise AuthError(
                f"{email} already has a viewgen account from before Supabase sign-in was "
                "turned on. Ask an admin to move it over (docs/supabase.md, 'Existing "
                "accounts')."
            )
        metadata = getattr(remote, "user_metadata", None) or {}
        name = display_name or str(metadata.get("display_name") or "")
        try:
            return create_account(self.repo, self.settings, email, password_hash=None,
                                  display_name=name, user_id=uid)
        except AuthError:  # the same person signing in twice at once: the other won
            with self.repo.tx(SYSTEM) as tx:
                return tx.get_user(uid)


def auth_error(exc: SupabaseAuthError, email: str = "") -> AuthError:
    """One Supabase Auth error as an ``AuthError`` whose message says what to do."""
    code = str(getattr(exc, "code", "") or "")
    status = int(getattr(exc, "status", 0) or 0)
    message = str(getattr(exc, "message", "") or exc)
    detail = f"{status} {code}: {message}"
    if isinstance(exc, AuthWeakPasswordError) or code == "weak_password":
        reasons = ", ".join(str(r) for r in (getattr(exc, "reasons", None) or []))
        hint = f" ({reasons})" if reasons else ""
        return AuthError(f"Choose a stronger password{hint}: {message}", detail=detail)
    if code == "invalid_credentials" or (status == 400 and "invalid login" in message.lower()):
        return AuthError("That email and password don't match an account.", detail=detail)
    if code == "email_not_confirmed" or "not confirmed" in message.lower():
        return AuthError("Confirm your email first: open the link sent to "
                         f"{email or 'your inbox'}, then sign in.", detail=detail)
    if code in ("user_already_exists", "email_exists") or (status == 422 and \
            "already registered" in message.lower()):
        return AuthError(f"An account for {email or 'that email'} exists already: sign in "
                         "instead.", detail=detail)
    if code.startswith("over_") or status == 429:
        return AuthError("Too many attempts for now: wait a minute, then try again.",
                         detail=detail)
    if code == "signup_disabled":
        return AuthError("New sign-ups are turned off; ask an admin to invite you.",
                         detail=detail)
    if code in ("email_address_invalid", "email_address_not_authorized"):
        return AuthError("Supabase does not accept that email address.", detail=detail)
    if code == "user_banned":
        return AuthError("This account is suspended; ask an admin.", detail=detail)
    if isinstance(exc, AuthRetryableError) or status >= 500:
        return AuthError("The sign-in service is unavailable right now; try again in a "
                         "moment.", detail=detail)
    if status in (401, 403) or code in ("bad_jwt", "no_authorization", "invalid_jwt"):
        return AuthError("Supabase refused the app's key: an admin should check SUPABASE_KEY.",
                         detail=detail)
    return AuthError(f"Supabase could not do that: {message}", detail=detail)

"""Accounts: local sign-up and sign-in (the default) behind one small protocol.

Local passwords are hashed with scrypt (stdlib ``hashlib.scrypt``, per-user salt,
constant-time comparison). The first account on a fresh database becomes admin; new
accounts get the starting credits from settings as a ``granted`` ledger row. A
Supabase deployment swaps in ``SupabaseAuth`` (viewgen/auth_supabase.py), whose
user id becomes the ``user_id`` of every row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from email_validator import EmailNotValidError, validate_email

from viewgen import credits
from viewgen.domain import Role, User
from viewgen.errors import AuthError, InvalidInput
from viewgen.store import SYSTEM, Repository

if TYPE_CHECKING:
    from viewgen.settings import Settings

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_N, _R, _P = 2**14, 8, 1
MIN_PASSWORD = 8


class Auth(Protocol):
    name: str

    def sign_up(self, email: str, password: str, display_name: str = "") -> User: ...

    def sign_in(self, email: str, password: str) -> User: ...

    def sign_out(self) -> None: ...

    def sign_out_everywhere(self, user: User) -> int: ...


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def check_email(email: str, *, strict: bool = False) -> str:
    """``email`` trimmed and lower-cased, or ``InvalidInput``.

    ``strict`` (every address a person types at sign-up: pass it there) uses ``email-validator``'s
    syntax rules: no quoted local parts, no brackets, parentheses, colons or other
    characters mail systems do not accept, a real domain name. So neither Markdown such
    as ``![p](http://host/p.png)@x.example`` nor a spreadsheet formula such as
    ``=HYPERLINK(...)@x.example`` can become an account name. Accounts that code makes
    (the CLI's ``cli@viewgen.local``, Supabase's already-checked users) only need the
    basic shape.
    """
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput("Enter a valid email address, like name@example.com.")
    if strict:
        try:
            validate_email(email, check_deliverability=False, allow_quoted_local=False,
                           allow_domain_literal=False, allow_display_name=False)
        except EmailNotValidError as exc:
            raise InvalidInput(
                f"That email address cannot be used: {exc} Enter one like name@example.com."
            ) from None
    return email


def create_account(
    repo: Repository, settings: Settings, email: str, *, password_hash: str | None,
    display_name: str = "", role: Role | None = None, credits_granted: int | None = None,
    user_id: str | None = None,
) -> User:
    """Insert a user (admin if first, unless ``role`` says) and grant starting credits."""
    email = check_email(email)
    with repo.tx(SYSTEM, write=True) as tx:
        first = tx.count_users() == 0
        chosen = role or (Role.ADMIN if first else Role.MEMBER)
        user = tx.insert_user(email, display_name=display_name.strip(), role=chosen,
                              password_hash=password_hash, user_id=user_id)
        amount = settings.starting_credits if credits_granted is None else credits_granted
        if amount > 0:
            credits.grant(tx, user.id, amount, "starting credits")
    return user


class LocalAuth:
    """Accounts in viewgen's own ``users`` table."""

    name = "local"

    def __init__(self, repo: Repository, settings: Settings) -> None:
        self.repo = repo
        self.settings = settings

    def sign_up(self, email: str, password: str, display_name: str = "") -> User:
        email = check_email(email, strict=True)
        if len(password or "") < MIN_PASSWORD:
            raise InvalidInput(f"Choose a password of at least {MIN_PASSWORD} characters.")
        return create_account(self.repo, self.settings, email,
                              password_hash=hash_password(password), display_name=display_name)

    def sign_in(self, email: str, password: str) -> User:
        email = (email or "").strip().lower()
        with self.repo.tx(SYSTEM) as tx:
            found = tx.user_credentials(email)
        if found is None or not verify_password(password or "", found[1]):
            raise AuthError("That email and password don't match an account.")
        return found[0]

    def sign_out(self) -> None:
        """Local sessions live in the page's session state; nothing to revoke."""

    def sign_out_everywhere(self, user: User) -> int:
        """Forget every "stay signed in" token of ``user``; returns how many there were."""
        return forget_all(self.repo, user.id)


def build_auth(repo: Repository, settings: Settings) -> Auth:
    if settings.auth_backend == "supabase":
        from viewgen.auth_supabase import SupabaseAuth

        return SupabaseAuth(repo, settings)
    return LocalAuth(repo, settings)


# -- "stay signed in" ---------------------------------------------------------------
# A browser that signs in gets a random token in a cookie; the database keeps only its
# SHA-256, so neither a copy of the database nor a log line can sign anyone in. A
# reload finds the cookie, ``recall`` finds the user; signing out deletes the row.

SESSION_COOKIE = "viewgen_session"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def remember(repo: Repository, settings: Settings, user: User) -> str | None:
    """A new session token for ``user`` (None when ``VIEWGEN_SESSION_DAYS`` is 0)."""
    if settings.session_days <= 0:
        return None
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with repo.tx(SYSTEM, write=True) as tx:
        tx.delete_expired_sessions(now)
        tx.insert_session(_token_hash(token), user.id, now + timedelta(days=settings.session_days))
    return token


def recall(repo: Repository, token: str | None) -> User | None:
    """The user a session token signs in, if it is known and unexpired."""
    if not token or len(token) > 200:
        return None
    with repo.tx(SYSTEM) as tx:
        return tx.session_user(_token_hash(token), datetime.now(UTC))


def forget_all(repo: Repository, user_id: str) -> int:
    """End every remembered session of ``user_id`` (all browsers, all devices).

    Returns how many tokens stopped working. A browser that is open right now keeps
    its page session until it reloads or signs out; after a reload its cookie signs
    nobody in.
    """
    from viewgen.store import schema as t

    with repo.tx(SYSTEM, write=True) as tx:
        return int(tx.conn.execute(
            t.sessions.delete().where(t.sessions.c.user_id == user_id)).rowcount or 0)


def forget(repo: Repository, token: str | None) -> None:
    """End a session: its token signs nobody in any more."""
    if token:
        with repo.tx(SYSTEM, write=True) as tx:
            tx.delete_session(_token_hash(token))

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
from typing import TYPE_CHECKING, Protocol

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


def check_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidInput("Enter a valid email address, like name@example.com.")
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
        email = check_email(email)
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


def build_auth(repo: Repository, settings: Settings) -> Auth:
    if settings.auth_backend == "supabase":
        from viewgen.auth_supabase import SupabaseAuth

        return SupabaseAuth(repo, settings)
    return LocalAuth(repo, settings)

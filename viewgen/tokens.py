"""Per-user API tokens for the HTTP API: create, list, revoke, and authenticate a request.

A token is ``vg_`` followed by 32 random bytes (URL-safe base64); it is shown to its
owner once, when it is created, and the database keeps only its SHA-256, so neither a
copy of the database nor a log line can act as anyone. Creating, listing and revoking
run as the owner (``repo.tx(user)``: scoped by ``user_id`` and, on PostgreSQL, by the
``api_tokens`` policies of ``supabase/policies.sql``); ``authenticate`` runs as
``SYSTEM`` because nobody is known until the token is found, exactly like sign-in.
A revoked token keeps its row, so the owner's list shows what was revoked and when.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from viewgen.domain import User, UTCDateTime
from viewgen.errors import InvalidInput, NotFound
from viewgen.store import SYSTEM, Repository, Tx
from viewgen.store import schema as t
from viewgen.store.repository import _user, new_id

PREFIX = "vg_"
MAX_NAME = 100
MAX_TOKEN_CHARS = 200
# last_used_at is written at most this often per token, so a busy client does not turn
# every read into a write
TOUCH_EVERY = timedelta(minutes=1)


class ApiToken(BaseModel):
    """A token as its owner sees it in a list: never the token itself."""

    id: str
    user_id: str
    name: str
    created_at: UTCDateTime = None
    last_used_at: UTCDateTime = None
    revoked_at: UTCDateTime = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Whether a bearer credential is one of ours (else it may be a Supabase JWT)."""
    return value.startswith(PREFIX)


def clean_name(name: str | None) -> str:
    value = " ".join((name or "").split())
    if not value:
        return "API token"
    if len(value) > MAX_NAME:
        raise InvalidInput(f"A token's name is at most {MAX_NAME} characters.")
    return value


def _token(row) -> ApiToken:
    return ApiToken(id=row.id, user_id=row.user_id, name=row.name, created_at=row.created_at,
                    last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def create(repo: Repository, user: User, name: str | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row, and the token itself (shown once, never stored)."""
    label = clean_name(name)
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = new_id()
    with repo.tx(user, write=True) as tx:
        tx.conn.execute(t.api_tokens.insert().values(
            id=token_id, user_id=user.id, name=label, token_hash=token_hash(secret)))
        row = tx.conn.execute(
            select(t.api_tokens).where(t.api_tokens.c.id == token_id)).one()
    return _token(row), secret


def list_tokens(repo: Repository, user: User) -> list[ApiToken]:
    """``user``'s own tokens, newest first (an admin's list is also their own only)."""
    a = t.api_tokens
    with repo.tx(user) as tx:
        rows = tx.conn.execute(
            select(a).where(a.c.user_id == user.id).order_by(a.c.created_at.desc(), a.c.id)
        ).all()
    return [_token(r) for r in rows]


def revoke(repo: Repository, user: User, token_id: str) -> ApiToken:
    """Revoke one of ``user``'s tokens (again is harmless); another's is not found."""
    a = t.api_tokens
    with repo.tx(user, write=True) as tx:
        row = tx.conn.execute(
            select(a).where(a.c.id == token_id, a.c.user_id == user.id)).first()
        if row is None:
            raise NotFound("That API token was not found.")
        if row.revoked_at is None:
            tx.conn.execute(a.update().where(a.c.id == token_id, a.c.user_id == user.id)
                            .values(revoked_at=datetime.now(UTC)))
            row = tx.conn.execute(select(a).where(a.c.id == token_id)).one()
    return _token(row)


def resolve(repo: Repository, user: User, id_or_name: str) -> str:
    """The id of ``user``'s token with this id, or the one active token with this name."""
    mine = list_tokens(repo, user)
    for token in mine:
        if token.id == id_or_name:
            return token.id
    named = [tk for tk in mine if tk.active and tk.name == clean_name(id_or_name)]
    if len(named) == 1:
        return named[0].id
    if len(named) > 1:
        raise InvalidInput(f"{len(named)} active tokens are named '{id_or_name}': revoke one "
                           "by its id (`tokens list EMAIL` shows them).")
    raise NotFound("That API token was not found.")


def authenticate(repo: Repository, token: str | None) -> tuple[User, ApiToken] | None:
    """The user an unrevoked token acts as, and the token's row; None for anything else."""
    if not plausible(token):
        return None
    assert token is not None
    with repo.tx(SYSTEM) as tx:
        found = lookup(tx, token)
    if found is not None and stale(found[1]):
        with repo.tx(SYSTEM, write=True) as tx:
            touch(tx, found[1])
    return found


def plausible(token: str | None) -> bool:
    """Whether ``token`` is worth a lookup at all (ours, and not absurdly long)."""
    return bool(token) and looks_like_token(token or "") and len(token or "") <= MAX_TOKEN_CHARS


def lookup(tx: Tx, token: str) -> tuple[User, ApiToken] | None:
    """In ``tx`` (as ``SYSTEM``): the user and row of an unrevoked token, else None."""
    digest = token_hash(token)
    a = t.api_tokens
    row = tx.conn.execute(
        select(a, t.users.c.email, t.users.c.display_name, t.users.c.role,
               t.users.c.created_at.label("user_created_at"))
        .join(t.users, t.users.c.id == a.c.user_id)
        .where(a.c.token_hash == digest)
    ).first()
    # the hash was found by equality in an index; compare again in constant time so the
    # answer never depends on how much of a guess matched
    if row is None or not hmac.compare_digest(row.token_hash, digest) or row.revoked_at:
        return None
    return _user(_UserRow(row)), _token(row)


def stale(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether ``last_used_at`` is due to be written (at most once per ``TOUCH_EVERY``)."""
    now = now or datetime.now(UTC)
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch(tx: Tx, token: ApiToken) -> None:
    """Record that ``token`` was used now (in a write transaction as ``SYSTEM``)."""
    a = t.api_tokens
    tx.conn.execute(a.update().where(a.c.id == token.id).values(last_used_at=datetime.now(UTC)))


class _UserRow:
    """The user columns of a token lookup, named as ``repository._user`` expects."""

    def __init__(self, row) -> None:
        self.id = row.user_id
        self.email = row.email
        self.display_name = row.display_name
        self.role = row.role
        self.created_at = row.user_created_at


def user_by_email(repo: Repository, email: str) -> User:
    """For the CLI (``tokens create|list|revoke EMAIL``): the account, or NotFound."""
    from viewgen.auth import check_email

    address = check_email(email)
    with repo.tx(SYSTEM) as tx:
        found = tx.user_credentials(address)
    if found is None:
        raise NotFound(f"No account for {address}.")
    return found[0]


class Tokens:
    """The token operations bound to one repository (``studio.api_tokens``)."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo

    def create(self, user: Any, name: str | None) -> Any:
        return create(self._repo, user, name)

    def revoke(self, user: Any, token_id: str) -> Any:
        return revoke(self._repo, user, token_id)

    def list(self, user: Any) -> Any:
        return list_tokens(self._repo, user)

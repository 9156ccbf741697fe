"""API tokens: only a hash is stored, owners see only their own, revocation holds; the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from viewgen import tokens
from viewgen.auth import create_account
from viewgen.errors import InvalidInput, NotFound
from viewgen.settings import Settings
from viewgen.store import schema as t

ROOT = Path(__file__).resolve().parents[2]


def test_only_the_hash_is_stored_and_the_token_signs_its_owner_in(repo, alice) -> None:
    row, secret = tokens.create(repo, alice, "  my   shop  ")
    assert secret.startswith("vg_") and len(secret) > 40
    assert row.name == "my shop" and row.last_used_at is None
    with repo.engine.connect() as conn:
        stored = conn.execute(select(t.api_tokens)).one()._mapping
    assert secret not in {str(v) for v in stored.values()}
    assert stored["token_hash"] == tokens.token_hash(secret)

    user, used = tokens.authenticate(repo, secret)
    assert user.id == alice.id and user.email == alice.email and used.id == row.id
    assert tokens.list_tokens(repo, alice)[0].last_used_at is not None
    assert tokens.authenticate(repo, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert tokens.authenticate(repo, "") is None


def test_owners_see_and_revoke_only_their_own(repo, alice, bob) -> None:
    mine, _ = tokens.create(repo, alice, "ci")
    theirs, bob_secret = tokens.create(repo, bob, "ci")
    assert [tk.id for tk in tokens.list_tokens(repo, alice)] == [mine.id]
    with pytest.raises(NotFound):
        tokens.revoke(repo, alice, theirs.id)
    assert tokens.authenticate(repo, bob_secret) is not None  # untouched
    with pytest.raises(NotFound):
        tokens.resolve(repo, alice, theirs.id)


def test_revoke_by_name_needs_one_match(repo, alice) -> None:
    first, _ = tokens.create(repo, alice, "laptop")
    tokens.create(repo, alice, "laptop")
    with pytest.raises(InvalidInput):
        tokens.resolve(repo, alice, "laptop")
    tokens.revoke(repo, alice, first.id)
    remaining = tokens.resolve(repo, alice, "laptop")  # only one active one now
    assert remaining != first.id
    again = tokens.revoke(repo, alice, first.id)  # revoking twice changes nothing
    assert again.revoked_at is not None
    with pytest.raises(InvalidInput):
        tokens.create(repo, alice, "x" * 101)


def test_row_level_security_hides_other_peoples_tokens(pg_repo, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    create_account(pg_repo, settings, "root@example.com", password_hash=None)  # the admin
    ann = create_account(pg_repo, settings, "ann@example.com", password_hash=None)
    ben = create_account(pg_repo, settings, "ben@example.com", password_hash=None)
    tokens.create(pg_repo, ann, "a")
    tokens.create(pg_repo, ben, "b")
    # no user_id filter on purpose: only the policies stand between Ann and Ben's row
    with pg_repo.tx(ann) as tx:
        names = [r.name for r in tx.conn.execute(select(t.api_tokens))]
        updated = tx.conn.execute(t.api_tokens.update().values(name="mine")).rowcount
    assert names == ["a"] and updated == 1
    with pg_repo.tx(ben) as tx:
        assert [r.name for r in tx.conn.execute(select(t.api_tokens))] == ["b"]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update(VIEWGEN_DATA_DIR=str(tmp_path / "data"),
               VIEWGEN_SECRETS_FILE=str(tmp_path / "none.toml"), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "viewgen", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_creates_lists_and_revokes_tokens(tmp_path: Path) -> None:
    assert _cli(tmp_path, "users", "add", "max@example.com", "--no-password").returncode == 0
    created = _cli(tmp_path, "tokens", "create", "max@example.com", "build server", "--json")
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["token"].startswith("vg_") and made["name"] == "build server"

    listed = _cli(tmp_path, "tokens", "list", "max@example.com")
    assert "build server" in listed.stdout and "active" in listed.stdout
    assert made["token"] not in listed.stdout  # shown once, at creation only

    revoked = _cli(tmp_path, "tokens", "revoke", "max@example.com", "build server")
    assert revoked.returncode == 0, revoked.stderr
    rows = json.loads(_cli(tmp_path, "tokens", "list", "max@example.com", "--json").stdout)
    assert rows[0]["revoked_at"] is not None

    unknown = _cli(tmp_path, "tokens", "list", "nobody@example.com")
    assert unknown.returncode == 1 and "No account for nobody@example.com" in unknown.stderr

"""Local accounts: sign-up, sign-in, the first admin, starting credits, hashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from viewgen.auth import (
    LocalAuth,
    check_email,
    forget,
    forget_all,
    hash_password,
    recall,
    remember,
    verify_password,
)
from viewgen.domain import Role
from viewgen.errors import AuthError, InvalidInput
from viewgen.store import SYSTEM
from viewgen.store import schema as t


def test_first_account_is_admin_and_gets_credits(auth: LocalAuth, settings) -> None:
    first = auth.sign_up("Ada@Example.com", "long enough", "Ada")
    second = auth.sign_up("bob@example.com", "long enough")
    assert first.email == "ada@example.com"
    assert first.role == Role.ADMIN
    assert second.role == Role.MEMBER
    assert second.display_name == "bob"
    from viewgen import credits

    with auth.repo.tx(SYSTEM) as tx:
        assert credits.balance(tx, second.id) == settings.starting_credits


def test_sign_in(auth: LocalAuth) -> None:
    user = auth.sign_up("ada@example.com", "long enough")
    assert auth.sign_in(" ADA@example.com ", "long enough").id == user.id
    with pytest.raises(AuthError, match="don't match"):
        auth.sign_in("ada@example.com", "wrong password")
    with pytest.raises(AuthError, match="don't match"):
        auth.sign_in("nobody@example.com", "long enough")


@pytest.mark.parametrize(("email", "password", "message"), [
    ("not-an-email", "long enough", "valid email"),
    ("a@example.com", "short", "at least 8"),
])
def test_bad_sign_up_writes_nothing(auth: LocalAuth, email, password, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        auth.sign_up(email, password)
    with auth.repo.tx(SYSTEM) as tx:
        assert tx.count_users() == 0


def test_duplicate_email(auth: LocalAuth) -> None:
    auth.sign_up("ada@example.com", "long enough")
    with pytest.raises(AuthError, match="already exists"):
        auth.sign_up("ADA@example.com", "another one")
    from sqlalchemy import func, select

    with auth.repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.credit_ledger)).scalar_one() == 1


def test_password_hashes_are_salted_scrypt() -> None:
    a, b = hash_password("secret pass"), hash_password("secret pass")
    assert a != b and a.startswith("scrypt$") and "secret" not in a
    assert verify_password("secret pass", a)
    assert not verify_password("secret pas", a)
    assert not verify_password("secret pass", None)
    assert not verify_password("secret pass", "scrypt$garbage")


# -- "stay signed in" ---------------------------------------------------------------
def test_a_remembered_session_signs_in_until_forgotten(auth: LocalAuth, settings) -> None:
    user = auth.sign_up("ada@example.com", "long enough")
    token = remember(auth.repo, settings, user)
    assert token and len(token) >= 40
    assert recall(auth.repo, token).id == user.id
    other = remember(auth.repo, settings, user)  # a second browser: its own session
    assert other != token
    forget(auth.repo, token)
    assert recall(auth.repo, token) is None
    assert recall(auth.repo, other).id == user.id  # signing out here keeps that one
    for junk in (None, "", "not-a-token", "x" * 500):
        assert recall(auth.repo, junk) is None


def test_only_a_hash_of_the_token_is_stored(auth: LocalAuth, settings) -> None:
    user = auth.sign_up("ada@example.com", "long enough")
    token = remember(auth.repo, settings, user)
    with auth.repo.engine.connect() as conn:
        [row] = conn.execute(select(t.sessions)).mappings().all()
    assert token not in str(dict(row))
    assert row["user_id"] == user.id


def test_sessions_expire_and_can_be_turned_off(auth: LocalAuth, settings) -> None:
    user = auth.sign_up("ada@example.com", "long enough")
    token = remember(auth.repo, settings, user)
    with auth.repo.engine.begin() as conn:
        conn.execute(t.sessions.update().values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert recall(auth.repo, token) is None
    remember(auth.repo, settings, user)  # a new sign-in clears expired rows away
    with auth.repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.sessions)).scalar_one() == 1
    off = settings.model_copy(update={"session_days": 0})
    assert remember(auth.repo, off, user) is None


def test_sign_out_everywhere_ends_every_browser_of_that_user_only(auth: LocalAuth,
                                                                 settings) -> None:
    ada = auth.sign_up("ada@example.com", "long enough")
    bob = auth.sign_up("bob@example.com", "long enough")
    laptop, phone = remember(auth.repo, settings, ada), remember(auth.repo, settings, ada)
    bobs = remember(auth.repo, settings, bob)
    assert auth.sign_out_everywhere(ada) == 2
    assert recall(auth.repo, laptop) is None and recall(auth.repo, phone) is None
    assert recall(auth.repo, bobs).id == bob.id
    assert forget_all(auth.repo, ada.id) == 0  # nothing left to end


# -- email addresses that are markup or formulas --------------------------------------
@pytest.mark.parametrize("email", [
    "![p](http://host/p.png)@x.example",
    '=HYPERLINK("http://evil.example","x")@x.example',
    '"quoted local"@example.com',
    "a@[127.0.0.1]",
    "ada@localhost",
    "Ada <ada@example.com>",
])
def test_sign_up_refuses_addresses_mail_would_refuse(auth: LocalAuth, email: str) -> None:
    with pytest.raises(InvalidInput, match=r"cannot be used|valid email"):
        auth.sign_up(email, "long enough")
    with auth.repo.tx(SYSTEM) as tx:
        assert tx.count_users() == 0


def test_ordinary_addresses_still_work() -> None:
    assert check_email(" Max+Work@Example.COM ", strict=True) == "max+work@example.com"
    assert check_email("o.brien-smith@mail.example.co.uk", strict=True) == \
        "o.brien-smith@mail.example.co.uk"
    assert check_email("cli@viewgen.local") == "cli@viewgen.local"  # code-made accounts

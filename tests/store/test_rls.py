"""Row Level Security on the local PostgreSQL through the app's own connection path:
the SQL in supabase/ (with the auth.uid() stand-in) keeps a member to their own rows
even when the Repository's own filtering is bypassed. Also: the generated
supabase/schema.sql matches schema.py, applies to an empty database (with Supabase's
storage schema stood in) and enforces the storage policies; pooler settings."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from viewgen import credits
from viewgen.auth import create_account
from viewgen.domain import InputType, Role, Status, User, ViewType
from viewgen.errors import ConfigurationError, NotFound
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository, Tx
from viewgen.store import schema as t
from viewgen.store.engine import make_engine
from viewgen.store.postgres import (
    ADMIN_ROLE,
    MEMBER_ROLE,
    SUPABASE_DIR,
    apply_rls,
    claims_for,
    ensure_rls,
    open_postgres_repository,
    run_script,
    schema_sql,
    uses_null_pool,
)

# just enough of Supabase's storage schema for supabase/storage.sql to run and bite
STORAGE_STANDIN = """
create schema if not exists storage;
create table if not exists storage.buckets (
  id text primary key, name text not null, public boolean default false);
create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id), name text not null);
alter table storage.objects enable row level security;
create or replace function storage.foldername(name text) returns text[]
  language sql immutable as $$
    select parts[1:array_length(parts, 1) - 1] from string_to_array(name, '/') as parts
  $$;
grant usage on schema storage to authenticated;
grant select, insert, update, delete on storage.objects to authenticated;
"""


def _person(repo: Repository, email: str, role: Role = Role.MEMBER) -> User:
    return create_account(repo, Settings(), email, password_hash=None, role=role,
                          credits_granted=10)


def _fill(repo: Repository, user: User) -> str:
    """One row in every user table for ``user``; returns the approval id."""
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project(f"{user.email}'s product")
        approval = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                      input_text=f"secret of {user.email}",
                                      status=Status.INPUT, seed=1)
        entry = credits.reserve(tx, user.id, 3, "front view", approval.id)
        credits.commit(tx, entry)
        tx.insert_history(approval, ViewType.FRONT, f"{user.id}/{approval.id}/front-1.png",
                          "p", "f", "rejected")
        tx.insert_revision(approval, user_prompt="r", image_data={}, changes_made={})
        tx.insert_call(approval=approval, view=ViewType.FRONT, kind="image",
                       provider="offline", model="m", attempts=1, latency_ms=1.0,
                       outcome="ok")
    return approval.id


@pytest.fixture
def pg_url(pg_database: str | None) -> str:
    if not pg_database:
        pytest.skip("PostgreSQL tests need VIEWGEN_TEST_DATABASE_URL (set by .ci/run)")
    return pg_database


@pytest.fixture
def people(pg_repo: Repository) -> dict[str, User]:
    found = {
        "admin": _person(pg_repo, "admin@example.com", Role.ADMIN),
        "a": _person(pg_repo, "a@example.com"),
        "b": _person(pg_repo, "b@example.com"),
    }
    for user in found.values():
        _fill(pg_repo, user)
    return found


@pytest.mark.postgres
def test_each_actor_runs_as_its_role_with_its_claims(pg_repo: Repository,
                                                     people: dict[str, User]) -> None:
    a, admin = people["a"], people["admin"]
    probe = text("SELECT current_user, current_setting('request.jwt.claims', true)")
    with pg_repo.tx(a) as tx:
        role, claims = tx.conn.execute(probe).one()
        uid = tx.conn.execute(text("SELECT auth.uid()::text")).scalar()
    assert role == MEMBER_ROLE and uid == a.id
    assert json.loads(claims) == {"sub": a.id, "role": MEMBER_ROLE, "app_role": "member"}
    with pg_repo.tx(admin) as tx:
        assert tx.conn.execute(probe).one()[0] == ADMIN_ROLE
    with pg_repo.tx(SYSTEM) as tx:  # the login role; claims are transaction-local
        role, claims = tx.conn.execute(probe).one()
    assert role == make_url(str(pg_repo.engine.url)).username
    assert not claims
    assert claims_for(admin)["role"] == ADMIN_ROLE


@pytest.mark.postgres
def test_raw_queries_in_a_members_transaction_see_only_their_rows(
        pg_repo: Repository, people: dict[str, User]) -> None:
    a, b = people["a"], people["b"]
    with pg_repo.tx(a) as tx:
        for table in t.USER_TABLES:
            owners = set(tx.conn.execute(select(table.c.user_id)).scalars())
            assert owners == {a.id}, table.name
        assert list(tx.conn.execute(select(t.users.c.id)).scalars()) == [a.id]
    with pg_repo.engine.connect() as conn:  # the rows are there, for the login role
        for table in t.USER_TABLES:
            owners = set(conn.execute(select(table.c.user_id)).scalars())
            assert {a.id, b.id} <= owners, table.name


@pytest.mark.postgres
def test_raw_updates_in_a_members_transaction_touch_none_of_anothers_rows(
        pg_repo: Repository, people: dict[str, User]) -> None:
    a, b = people["a"], people["b"]
    with pg_repo.tx(a, write=True) as tx:
        changed = tx.conn.execute(
            update(t.product_view_approvals).values(input_text="overwritten")).rowcount
        renamed = tx.conn.execute(update(t.projects).values(name="mine now")).rowcount
        settled = tx.conn.execute(update(t.credit_ledger)
                                  .where(t.credit_ledger.c.user_id == b.id)
                                  .values(state="refunded")).rowcount
    assert (changed, renamed, settled) == (1, 1, 0)
    with pg_repo.tx(b) as tx:
        [mine] = tx.list_approvals()
        assert mine.input_text == f"secret of {b.email}"
        assert credits.balance(tx, b.id) == 7
    with pytest.raises(ProgrammingError, match="permission denied"), \
            pg_repo.tx(a, write=True) as tx:
        tx.conn.execute(delete(t.product_view_approvals))


@pytest.mark.postgres
def test_a_scoping_bug_in_the_repository_still_leaks_nothing(
        pg_repo: Repository, people: dict[str, User], monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = people["a"], people["b"]
    with pg_repo.tx(b) as tx:
        [theirs] = tx.list_approvals()
    # the Repository forgets to filter and believes everyone is an admin
    monkeypatch.setattr(Tx, "_scope", lambda self, table, stmt: stmt)
    monkeypatch.setattr(Tx, "sees_all", property(lambda self: True))
    with pg_repo.tx(a, write=True) as tx:
        assert {x.user_id for x in tx.list_approvals()} == {a.id}
        assert [u.id for u in tx.list_users()] == [a.id]
        assert {p.user_id for p in tx.list_projects()} == {a.id}
        with pytest.raises(NotFound):
            tx.get_approval(theirs.id)
        with pytest.raises(NotFound):
            tx.update_approval(theirs.id, input_text="overwritten")
        assert tx.list_revisions(theirs.project_id) == []
        assert tx.list_calls(theirs.id) == []
        assert credits.entries(tx, b.id) == []
        assert credits.balance(tx, b.id) == 0  # their ledger is invisible, not zero
    with pg_repo.tx(people["admin"]) as tx:
        assert len(tx.list_approvals()) == 3


@pytest.mark.postgres
def test_a_member_cannot_grant_credits_or_promote_themselves(
        pg_repo: Repository, people: dict[str, User]) -> None:
    a = people["a"]
    with pytest.raises(DBAPIError, match="row-level security"), \
            pg_repo.tx(a, write=True) as tx:
        tx.conn.execute(t.credit_ledger.insert().values(
            user_id=a.id, delta=100, reason="free", state="granted"))
    with pytest.raises(DBAPIError, match="permission denied"), \
            pg_repo.tx(a, write=True) as tx:
        tx.conn.execute(update(t.users).where(t.users.c.id == a.id).values(role="admin"))
    with pytest.raises(DBAPIError, match="row-level security"), \
            pg_repo.tx(a, write=True) as tx:  # nor write a row in someone else's name
        tx.conn.execute(t.projects.insert().values(
            id=str(uuid.uuid4()), user_id=people["b"].id, name="planted"))
    with pg_repo.tx(SYSTEM) as tx:
        assert tx.get_user(a.id).role == Role.MEMBER
        assert credits.balance(tx, a.id) == 7


@pytest.mark.postgres
def test_anon_gets_nothing(pg_repo: Repository, people: dict[str, User]) -> None:
    with pytest.raises(DBAPIError, match="permission denied"), pg_repo.engine.begin() as conn:
        conn.execute(text("SET LOCAL ROLE anon"))
        conn.execute(select(t.product_view_approvals.c.id))


@pytest.mark.postgres
def test_no_member_or_admin_role_can_read_sign_in_sessions(
        pg_repo: Repository, people: dict[str, User], settings) -> None:
    from viewgen.auth import remember

    remember(pg_repo, settings, people["b"])
    for who in ("a", "admin"):
        with pytest.raises(DBAPIError, match="permission denied"), pg_repo.tx(people[who]) as tx:
            tx.conn.execute(select(t.sessions.c.user_id))


@pytest.mark.postgres
def test_rls_sql_is_rerunnable_and_recorded(pg_repo: Repository) -> None:
    assert ensure_rls(pg_repo.engine) is False  # open_postgres_repository installed it
    first = apply_rls(pg_repo.engine)
    assert apply_rls(pg_repo.engine) == first
    with pg_repo.engine.connect() as conn:
        names = list(conn.execute(select(t.schema_migrations.c.name)).scalars())
        assert names.count(first) == 1
        rls_on = dict(conn.execute(text(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(:n)"),
            {"n": [table.name for table in t.metadata.sorted_tables]}).all())
    assert all(rls_on.values()) and len(rls_on) == len(t.metadata.sorted_tables)


@pytest.mark.postgres
def test_rls_can_be_turned_off(pg_url: str) -> None:
    repo = open_postgres_repository(pg_url, Settings(db_rls=False))
    try:
        member = User(id=str(uuid.uuid4()), email="x@example.com")
        with repo.tx(member) as tx:
            assert tx.conn.execute(text("SELECT current_user")).scalar() not in (
                MEMBER_ROLE, ADMIN_ROLE)
    finally:
        repo.engine.dispose()


# ---------------------------------------------------------------------- pooler settings
@pytest.mark.parametrize(("url", "choice", "null"), [
    ("postgresql+psycopg://u:p@aws-0-eu.pooler.supabase.com:6543/postgres", "auto", True),
    ("postgresql+psycopg://u:p@aws-0-eu.pooler.supabase.com:5432/postgres", "auto", False),
    ("postgresql+psycopg://u:p@db.example.com:5432/postgres", "null", True),
    ("postgresql+psycopg://u:p@db.example.com:6543/postgres", "queue", False),
])
def test_null_pool_choice(url: str, choice: str, null: bool) -> None:
    assert uses_null_pool(url, Settings(db_pool=choice)) is null
    engine = make_engine(url, pooled=not null)
    assert isinstance(engine.pool, NullPool) is null
    assert engine.dialect.name == "postgresql"
    engine.dispose()


@pytest.mark.postgres
def test_no_pooled_connections_and_no_prepared_statements(pg_url: str) -> None:
    repo = open_postgres_repository(pg_url, Settings(db_pool="null"))
    try:
        assert isinstance(repo.engine.pool, NullPool)
        user = _person(repo, f"{uuid.uuid4().hex[:8]}@example.com")
        with repo.tx(user) as tx:
            for _ in range(12):  # psycopg would prepare from the 5th repeat by default
                credits.balance(tx, user.id)
            prepared = tx.conn.execute(text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared.scalar() == 0
            pid = tx.conn.execute(text("SELECT pg_backend_pid()")).scalar()
        deadline = time.monotonic() + 10
        alive = 1
        while alive and time.monotonic() < deadline:  # that connection closes, not kept
            with repo.engine.connect() as conn:
                alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity "
                                          "WHERE pid = :p"), {"p": pid}).scalar()
        assert alive == 0
    finally:
        repo.engine.dispose()


def test_an_unreachable_database_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="VIEWGEN_DATABASE_URL"):
        open_postgres_repository("postgresql+psycopg://nobody@127.0.0.1:1/nothing",
                                 Settings(db_pool="null"))


# ---------------------------------------------------------------------- supabase/schema.sql
def test_schema_sql_is_generated_from_schema_py() -> None:
    on_disk = (SUPABASE_DIR / "schema.sql").read_text(encoding="utf-8")
    assert on_disk == schema_sql(), (
        "supabase/schema.sql drifted from schema.py / policies.sql / storage.sql: run "
        "`python -m viewgen.store.postgres schema-sql > supabase/schema.sql`"
    )


@pytest.mark.postgres
def test_schema_sql_builds_what_the_app_expects_and_guards_storage(
        fresh_pg_url: str) -> None:
    engine = create_engine(fresh_pg_url, poolclass=NullPool)
    try:
        with engine.begin() as conn:  # a "Supabase project": auth and storage exist
            run_script(conn, (SUPABASE_DIR / "auth_standin.sql").read_text())
            run_script(conn, STORAGE_STANDIN)
        for _ in range(2):  # the SQL editor may run it twice
            with engine.begin() as conn:
                run_script(conn, (Path(SUPABASE_DIR) / "schema.sql").read_text())
        with engine.connect() as conn:
            inspector = inspect(conn)
            for table in t.metadata.sorted_tables:
                columns = {c["name"] for c in inspector.get_columns(table.name)}
                assert columns == set(table.columns.keys()), table.name
            buckets = dict(conn.execute(text("SELECT id, public FROM storage.buckets")).all())
        assert buckets == {"images": False, "uploads": False, "products": False}

        repo = open_postgres_repository(fresh_pg_url, Settings(db_pool="null"))
        assert repo.migrate() == []  # schema.sql recorded the migrations it includes
        a = _person(repo, "a@example.com")
        b = _person(repo, "b@example.com")
        _fill(repo, a)
        with repo.tx(a, write=True) as tx:
            tx.conn.execute(text("INSERT INTO storage.objects (bucket_id, name) "
                                 "VALUES ('images', :n)"), {"n": f"{a.id}/x/front-1.png"})
            with pytest.raises(DBAPIError, match="row-level security"), \
                    tx.conn.begin_nested():
                tx.conn.execute(text("INSERT INTO storage.objects (bucket_id, name) "
                                     "VALUES ('images', :n)"), {"n": f"{b.id}/x/front-1.png"})
        with repo.engine.begin() as conn:
            conn.execute(text("INSERT INTO storage.objects (bucket_id, name) "
                              "VALUES ('uploads', :n)"), {"n": f"{b.id}/y/logo-1.png"})
        with repo.tx(a) as tx:
            names = list(tx.conn.execute(text("SELECT name FROM storage.objects")).scalars())
        with repo.tx(b, write=True) as tx:
            gone = tx.conn.execute(text("DELETE FROM storage.objects WHERE name LIKE :p"),
                                   {"p": f"{a.id}/%"}).rowcount
        assert names == [f"{a.id}/x/front-1.png"]
        assert gone == 0
        repo.engine.dispose()
    finally:
        engine.dispose()


# -- what a row points at must be the member's too --------------------------------------
def _theirs(pg_repo: Repository, user: User) -> tuple[str, str, str]:
    """(project id, approval id, a real image key) of ``user``."""
    with pg_repo.tx(user) as tx:
        [approval] = tx.list_approvals()
    return approval.project_id, approval.id, f"{user.id}/{approval.id}/front-1.png"


def _mine(pg_repo: Repository, user: User) -> tuple[str, str]:
    with pg_repo.tx(user) as tx:
        [approval] = tx.list_approvals()
    return approval.project_id, approval.id


@pytest.mark.postgres
def test_a_member_cannot_insert_a_revision_into_another_members_project(
        pg_repo: Repository, people: dict[str, User]) -> None:
    a, b = people["a"], people["b"]
    their_project, their_approval, _ = _theirs(pg_repo, b)
    my_project, my_approval = _mine(pg_repo, a)
    planted = [
        dict(project_id=their_project, approval_id=None),
        dict(project_id=their_project, approval_id=their_approval),
        dict(project_id=my_project, approval_id=their_approval),  # their approval, my project
    ]
    for where in planted:
        with pytest.raises(DBAPIError, match="row-level security"), \
                pg_repo.tx(a, write=True) as tx:
            tx.conn.execute(t.revisions.insert().values(
                user_id=a.id, revision_number=99, user_prompt="planted", image_data={},
                changes_made={}, **where))
    with pg_repo.engine.connect() as conn:  # nothing landed anywhere
        assert conn.execute(select(t.revisions.c.id).where(
            t.revisions.c.user_prompt == "planted")).all() == []
    with pg_repo.tx(a, write=True) as tx:  # the member's own revision still goes in
        tx.conn.execute(t.revisions.insert().values(
            user_id=a.id, project_id=my_project, approval_id=my_approval,
            revision_number=99, user_prompt="mine", changes_made={},
            image_data={"front": {"key": f"{a.id}/{my_approval}/front-2.png"}}))


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["reference_key", "logo_key", "front_key", "back_key"])
def test_a_member_cannot_point_their_approval_at_another_members_image(
        pg_repo: Repository, people: dict[str, User], column: str) -> None:
    a, b = people["a"], people["b"]
    _, _, their_key = _theirs(pg_repo, b)
    _, my_approval = _mine(pg_repo, a)
    sneaky = [their_key, f"{a.id}/../{their_key}", f"{a.id}x/{my_approval}/front-1.png"]
    for key in sneaky:
        with pytest.raises(DBAPIError, match="row-level security"), \
                pg_repo.tx(a, write=True) as tx:
            tx.conn.execute(update(t.product_view_approvals)
                            .where(t.product_view_approvals.c.id == my_approval)
                            .values({column: key}))
    with pg_repo.tx(a, write=True) as tx:  # a key under their own prefix is fine
        assert tx.conn.execute(update(t.product_view_approvals)
                               .where(t.product_view_approvals.c.id == my_approval)
                               .values({column: f"{a.id}/{my_approval}/x-1.png"})).rowcount == 1
    with pg_repo.tx(a) as tx:
        assert tx.get_approval(my_approval).model_dump()  # still readable, still theirs


@pytest.mark.postgres
def test_a_member_cannot_file_history_calls_or_credits_under_another_members_approval(
        pg_repo: Repository, people: dict[str, User]) -> None:
    a, b = people["a"], people["b"]
    _, their_approval, their_key = _theirs(pg_repo, b)
    _, my_approval = _mine(pg_repo, a)
    attempts = [
        t.view_revision_history.insert().values(
            approval_id=their_approval, user_id=a.id, view_type="front",
            image_key=f"{a.id}/{their_approval}/front-9.png", reason="rejected"),
        t.view_revision_history.insert().values(  # my approval, their photo
            approval_id=my_approval, user_id=a.id, view_type="front", image_key=their_key,
            reason="rejected"),
        t.generation_calls.insert().values(
            approval_id=their_approval, user_id=a.id, kind="image", provider="offline",
            model="m", attempts=1, latency_ms=1.0, outcome="ok"),
        t.credit_ledger.insert().values(
            user_id=a.id, delta=-1, reason="x", approval_id=their_approval, state="reserved"),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="row-level security"), \
                pg_repo.tx(a, write=True) as tx:
            tx.conn.execute(statement)
    with pg_repo.tx(a, write=True) as tx:  # the same rows about their own approval are fine
        tx.conn.execute(t.view_revision_history.insert().values(
            approval_id=my_approval, user_id=a.id, view_type="front",
            image_key=f"{a.id}/{my_approval}/front-9.png", reason="rejected"))
        tx.conn.execute(t.credit_ledger.insert().values(
            user_id=a.id, delta=-1, reason="x", approval_id=my_approval, state="reserved"))

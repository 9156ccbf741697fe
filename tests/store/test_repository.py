"""The Repository on SQLite and PostgreSQL: scoping by user, constraints, timestamps,
migrations, transitions, revision numbers and JSON columns."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from viewgen.domain import (
    Approval,
    ExtractedFeatures,
    InputType,
    Role,
    Status,
    User,
    ViewType,
)
from viewgen.errors import IllegalTransition, NotFound, PermissionDenied
from viewgen.store import SYSTEM, Repository, open_repository
from viewgen.store import schema as t
from viewgen.store.migrations import MIGRATIONS


def _approval(repo: Repository, user: User, text_: str = "a red mug") -> Approval:
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project(text_)
        return tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                  input_text=text_, status=Status.INPUT, seed=7)


# ---------------------------------------------------------------------- users
def test_member_sees_only_themselves(repo: Repository, admin: User, member: User,
                                     other_member: User) -> None:
    with repo.tx(member) as tx:
        assert tx.get_user(member.id).email == member.email
        with pytest.raises(NotFound):
            tx.get_user(other_member.id)
        with pytest.raises(PermissionDenied):
            tx.list_users()
        with pytest.raises(PermissionDenied):
            tx.set_role(member.id, Role.ADMIN)
    with repo.tx(admin) as tx:
        assert {u.email for u in tx.list_users()} == {admin.email, member.email,
                                                      other_member.email}
        assert tx.get_user(other_member.id).role == Role.MEMBER


def test_admin_changes_a_role(repo: Repository, admin: User, member: User) -> None:
    with repo.tx(admin, write=True) as tx:
        tx.set_role(member.id, Role.ADMIN)
    with repo.tx(SYSTEM) as tx:
        assert tx.get_user(member.id).role == Role.ADMIN


def test_emails_are_unique_and_lowercase(repo: Repository, member: User) -> None:
    from viewgen.errors import AuthError

    with pytest.raises(AuthError, match="already exists"), repo.tx(SYSTEM, write=True) as tx:
        tx.insert_user(member.email.upper())


# ---------------------------------------------------------------------- projects, approvals
def test_projects_are_scoped(repo: Repository, admin: User, member: User,
                             other_member: User) -> None:
    mine = _approval(repo, member)
    theirs = _approval(repo, other_member)
    with repo.tx(member) as tx:
        assert [p.id for p in tx.list_projects()] == [mine.project_id]
        with pytest.raises(NotFound):
            tx.get_project(theirs.project_id)
    assert {p.id for p in repo.list_projects(admin)} == {mine.project_id, theirs.project_id}


def test_member_cannot_read_or_update_another_members_approval(
        repo: Repository, admin: User, member: User, other_member: User) -> None:
    theirs = _approval(repo, other_member, "their secret product")
    mine = _approval(repo, member)
    with repo.tx(member, write=True) as tx:
        with pytest.raises(NotFound):
            tx.get_approval(theirs.id)
        with pytest.raises(NotFound):
            tx.update_approval(theirs.id, input_text="overwritten")
        with pytest.raises(NotFound):
            tx.transition(theirs.id, Status.INPUT, Status.FRONT_GENERATING)
        with pytest.raises(NotFound):
            tx.merge_json(theirs.id, "view_errors", {"back": "x"})
        with pytest.raises(NotFound):
            tx.list_history(theirs.id)
        with pytest.raises(NotFound):  # not into someone else's project either
            tx.insert_approval(project_id=theirs.project_id, input_type=InputType.TEXT,
                               input_text="x", status=Status.INPUT, seed=1)
        assert [a.id for a in tx.list_approvals()] == [mine.id]
        assert not tx.approval_exists(theirs.id)
        assert tx.list_calls(theirs.id) == []
        assert not tx.owns_key(f"{other_member.id}/{theirs.id}/front-1.png")
        assert tx.owns_key(f"{member.id}/{mine.id}/front-1.png")
    untouched = repo.get_approval(other_member, theirs.id)
    assert untouched.input_text == "their secret product"
    assert untouched.status == Status.INPUT
    assert {a.id for a in repo.list_approvals(admin)} == {mine.id, theirs.id}
    assert repo.list_approvals(admin, user_id=other_member.id)[0].id == theirs.id


def test_status_check_constraint_refuses_a_bad_status(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    with pytest.raises(IntegrityError), repo.tx(member, write=True) as tx:
        tx.update_approval(approval.id, status="almost_done")
    with pytest.raises(IntegrityError), repo.engine.begin() as conn:
        conn.execute(update(t.product_view_approvals).values(status="bogus"))
    assert repo.get_approval(member, approval.id).status == Status.INPUT


def test_updated_at_changes_on_update(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with repo.engine.begin() as conn:
        conn.execute(update(t.product_view_approvals).values(updated_at=long_ago))
    with repo.tx(member, write=True) as tx:
        tx.update_approval(approval.id, input_text="a blue mug")
    after = repo.get_approval(member, approval.id)
    assert after.updated_at is not None and after.updated_at > long_ago + timedelta(days=365)
    assert after.created_at == approval.created_at
    assert after.updated_at.tzinfo is not None


def test_transitions_refused_when_illegal(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    with repo.tx(member, write=True) as tx:
        with pytest.raises(IllegalTransition, match="nothing has been generated"):
            tx.transition(approval.id, Status.INPUT, Status.COMPLETE)
        tx.transition(approval.id, Status.INPUT, Status.FRONT_GENERATING)
        # a stale "current" (someone moved first) is refused, never a silent no-op
        with pytest.raises(IllegalTransition, match="changed meanwhile"):
            tx.transition(approval.id, Status.INPUT, Status.FRONT_GENERATING)
    assert repo.get_approval(member, approval.id).status == Status.FRONT_GENERATING


def test_stuck_approvals_are_for_admins(repo: Repository, admin: User, member: User) -> None:
    approval = _approval(repo, member)
    with repo.tx(member, write=True) as tx:
        tx.transition(approval.id, Status.INPUT, Status.FRONT_GENERATING)
        with pytest.raises(PermissionDenied):
            tx.stuck_approvals(datetime.now(UTC))
    with repo.tx(SYSTEM) as tx:
        stuck = tx.stuck_approvals(datetime.now(UTC) + timedelta(seconds=1))
    assert [a.id for a in stuck] == [approval.id]


# ---------------------------------------------------------------------- history, revisions
def test_history_rows_are_kept_in_order(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    with repo.tx(member, write=True) as tx:
        for n in (1, 2):
            tx.insert_history(approval, ViewType.FRONT, f"{member.id}/{approval.id}/front-{n}.png",
                              f"prompt {n}", f"feedback {n}", "rejected")
        history = tx.list_history(approval.id)
    assert [h.image_key.rsplit("-", 1)[1] for h in history] == ["1.png", "2.png"]
    assert history[1].user_feedback == "feedback 2"


def test_revisions_numbered_per_project_and_unique(repo: Repository, member: User,
                                                   other_member: User) -> None:
    first = _approval(repo, member)
    second = _approval(repo, other_member)
    with repo.tx(member, write=True) as tx:
        numbers = [tx.insert_revision(first, user_prompt=f"r{i}", image_data={},
                                      changes_made={}).revision_number for i in range(3)]
    with repo.tx(other_member, write=True) as tx:
        other = tx.insert_revision(second, user_prompt="r", image_data={}, changes_made={})
    assert numbers == [1, 2, 3]
    assert other.revision_number == 1
    assert [r.revision_number for r in repo.list_revisions(member, first.project_id)] == [1, 2, 3]
    assert repo.list_revisions(member, second.project_id) == []
    with pytest.raises(IntegrityError), repo.engine.begin() as conn:
        conn.execute(t.revisions.insert().values(
            project_id=first.project_id, approval_id=first.id, user_id=member.id,
            revision_number=2, image_data={}, changes_made={},
            created_at=datetime.now(UTC)))


def test_concurrent_revisions_get_distinct_numbers(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    barrier = threading.Barrier(8, timeout=30)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait()
            with repo.tx(member, write=True) as tx:
                tx.insert_revision(approval, user_prompt="x", image_data={}, changes_made={})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert errors == []
    numbers = [r.revision_number for r in repo.list_revisions(member, approval.project_id)]
    assert numbers == list(range(1, 9))


# ---------------------------------------------------------------------- JSON columns
def test_json_columns_round_trip(repo: Repository, member: User) -> None:
    approval = _approval(repo, member)
    features = ExtractedFeatures.model_validate({
        "colors": [{"hex": "#1a2b3c", "name": "navy", "usage": "primary", "share": 0.61}],
        "materials": ["leather", "brass"], "keyElements": ["strap", "buckle — brass"],
        "estimatedDimensions": "40 × 30 × 12 cm", "description": "a bag ✓",
        "not_measured": ["materials"],
    })
    nested = {"back": {"score": 91.5, "notes": ["ok", None, 3]}, "ünïcode": "ß"}
    with repo.tx(member, write=True) as tx:
        tx.update_approval(approval.id, extracted_features=features.model_dump(mode="json"),
                           consistency=nested, feedback_history=["make it red", "darker"])
        merged = tx.merge_json(approval.id, "view_errors", {"top": "busy", "side": "x"})
        merged = tx.merge_json(approval.id, "view_errors", {"bottom": "y"}, remove=["side"])
        revision = tx.insert_revision(
            approval, user_prompt="first",
            image_data={"front": {"key": f"{member.id}/{approval.id}/front-1.png",
                                  "prompt_used": "p", "created_at": "now"}},
            changes_made={"regenerated": ["front"], "preserved": [], "modifications": None},
        )
    got = repo.get_approval(member, approval.id)
    assert got.extracted_features == features
    assert got.consistency == nested
    assert got.feedback_history == ["make it red", "darker"]
    assert got.view_errors == merged == {"top": "busy", "bottom": "y"}
    [stored] = repo.list_revisions(member, approval.project_id)
    assert stored.image_data == revision.image_data
    assert stored.changes_made["modifications"] is None


def test_provider_calls_are_recorded_and_scoped(repo: Repository, member: User,
                                                other_member: User) -> None:
    approval = _approval(repo, member)
    with repo.tx(member, write=True) as tx:
        tx.insert_call(approval=approval, view=ViewType.FRONT, kind="image", provider="offline",
                       model="procedural", attempts=1, latency_ms=12.5, outcome="ok", images=1)
        assert [c["provider"] for c in tx.list_calls(approval.id)] == ["offline"]
    with repo.tx(other_member) as tx:
        assert tx.list_calls(approval.id) == []


# ---------------------------------------------------------------------- migrations
def test_migrations_recorded_once_and_rerunnable(repo: Repository) -> None:
    assert repo.migrate() == []
    assert repo.migrate() == []
    with repo.engine.connect() as conn:
        names = list(conn.execute(select(t.schema_migrations.c.name)).scalars())
        for name, _ in MIGRATIONS:
            assert names.count(name) == 1
        tables = set(inspect(conn).get_table_names())
    assert {table.name for table in t.metadata.sorted_tables} <= tables


def test_fresh_sqlite_database_applies_every_migration(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    repo = open_repository(url)
    try:
        with repo.engine.connect() as conn:
            done = conn.execute(select(func.count()).select_from(t.schema_migrations)).scalar()
        assert done == len(MIGRATIONS)
        assert open_repository(url).migrate() == []
    finally:
        repo.engine.dispose()


@pytest.mark.postgres
def test_postgres_uses_jsonb_and_the_admin_indexes(pg_repo: Repository) -> None:
    with pg_repo.engine.connect() as conn:
        types = dict(conn.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'product_view_approvals'")).all())
        indexes = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")).scalars())
    for column in ("extracted_features", "consistency", "view_errors", "feedback_history"):
        assert types[column] == "jsonb"
    assert types["created_at"] == "timestamp with time zone"
    for table in t.metadata.sorted_tables:
        for index in table.indexes:
            assert index.name in indexes


def test_covering_index_migration_upgrades_an_older_database(repo: Repository) -> None:
    with repo.engine.begin() as conn:  # the shape before 0002
        conn.execute(text("DROP INDEX ix_ledger_user_state_delta"))
        conn.execute(text("DROP INDEX ix_calls_created_provider"))
        conn.execute(text("CREATE INDEX ix_ledger_user_state ON credit_ledger (user_id, state)"))
        conn.execute(text("CREATE INDEX ix_calls_created ON generation_calls (created_at)"))
        conn.execute(t.schema_migrations.delete().where(
            t.schema_migrations.c.name == "0002_covering_indexes"))
    assert repo.migrate() == ["0002_covering_indexes"]
    assert repo.migrate() == []
    with repo.engine.connect() as conn:
        inspector = inspect(conn)
        ledger = {i["name"] for i in inspector.get_indexes("credit_ledger")}
        calls = {i["name"] for i in inspector.get_indexes("generation_calls")}
    assert "ix_ledger_user_state_delta" in ledger and "ix_ledger_user_state" not in ledger
    assert "ix_calls_created_provider" in calls and "ix_calls_created" not in calls

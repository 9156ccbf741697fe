"""Migration 0008 on SQLite and PostgreSQL: a database from before the hero view (no
``hero_key``, a history CHECK that lists five views) gains the hero's columns and a
history that accepts it; existing products, their history rows (same ids) and the admin
rollup's triggers are kept, and a second run changes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import func, inspect, select, text

from viewgen.auth import create_account
from viewgen.domain import ALL_VIEWS, Role, Status, User, ViewType
from viewgen.settings import Settings
from viewgen.store import Repository, migrations
from viewgen.store import schema as t

OLD_CHECK = "view_type IN ('front', 'back', 'side', 'top', 'bottom')"


def _user(repo: Repository) -> User:
    return create_account(repo, Settings(), f"{uuid.uuid4().hex[:10]}@example.com",
                          password_hash=None, role=Role.MEMBER, credits_granted=5)


def _old_shape(conn) -> None:
    """Undo 0008: drop the hero columns and put back the five-view CHECK."""
    conn.execute(t.schema_migrations.delete().where(t.schema_migrations.c.name == "0008_hero_view"))
    for column in ("hero_key", "hero_prompt"):
        conn.execute(text(f"ALTER TABLE product_view_approvals DROP COLUMN {column}"))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE view_revision_history DROP CONSTRAINT ck_history_view"))
        conn.execute(text(f"ALTER TABLE view_revision_history ADD CONSTRAINT ck_history_view "
                          f"CHECK ({OLD_CHECK})"))
        return
    made = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'view_revision_history'")
                        ).scalar_one()
    old_sql = made.replace(", 'hero')", ")")
    assert "'hero'" not in old_sql
    conn.execute(text("ALTER TABLE view_revision_history RENAME TO history_new"))
    indexes = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                "AND tbl_name = 'history_new' AND sql IS NOT NULL")).all()
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    conn.execute(text(old_sql))
    conn.execute(text("INSERT INTO view_revision_history SELECT * FROM history_new"))
    conn.execute(text("DROP TABLE history_new"))
    for _, sql in indexes:
        conn.execute(text(sql.replace("history_new", "view_revision_history")))
    from viewgen.store import rollups

    for rollup in rollups.ROLLUPS:
        if rollup.source == "view_revision_history":
            for statement in rollups._sqlite_triggers(rollup):
                conn.execute(text(statement))


def test_0008_adds_the_hero_and_keeps_every_old_row(repo: Repository) -> None:
    user = _user(repo)
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project("old products")
    approval_id = str(uuid.uuid4())
    keys = {v: f"{user.id}/{approval_id}/{v.value}-1.png" for v in ALL_VIEWS}
    with repo.engine.begin() as conn:
        _old_shape(conn)
        assert "hero_key" not in {c["name"] for c in inspect(conn).get_columns("product_view_approvals")}
        conn.execute(text(  # as the code before 0008 wrote a complete product
            "INSERT INTO product_view_approvals (id, user_id, project_id, input_type, "
            "input_text, status, feedback_history, rejection_count, view_errors, consistency, "
            "seed, qa, created_at, updated_at, front_key, back_key, side_key, top_key, "
            "bottom_key) VALUES (:id, :u, :p, 'text', 'an old bag', 'complete', '[]', 0, "
            "'{}', '{}', 1, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :f, :b, :s, :t, :o)"),
            {"id": approval_id, "u": user.id, "p": project.id, "f": keys[ViewType.FRONT],
             "b": keys[ViewType.BACK], "s": keys[ViewType.SIDE], "t": keys[ViewType.TOP],
             "o": keys[ViewType.BOTTOM]})
        conn.execute(text("INSERT INTO view_revision_history (approval_id, user_id, view_type, "
                          "image_key, reason, created_at) VALUES (:a, :u, 'back', :k, 'replaced', "
                          "CURRENT_TIMESTAMP)"), {"a": approval_id, "u": user.id, "k": "old-back"})
        old_history = conn.execute(select(t.view_revision_history.c.id)).scalars().all()

        assert migrations.migrate(conn) == ["0008_hero_view"]
        assert migrations.migrate(conn) == []  # a second run changes nothing
        assert {"hero_key", "hero_prompt"} <= {
            c["name"] for c in inspect(conn).get_columns("product_view_approvals")}
        assert conn.execute(select(t.view_revision_history.c.id)).scalars().all() == old_history

    approval = repo.get_approval(user, approval_id)
    assert approval.status == Status.COMPLETE and approval.missing_views == []
    assert not approval.has_hero
    assert {v: approval.key(v) for v in ALL_VIEWS} == keys

    with repo.tx(user, write=True) as tx:  # the history now takes a replaced hero
        tx.set_view(approval_id, ViewType.HERO, f"{user.id}/{approval_id}/hero-1.png", "hero")
        current = tx.get_approval(approval_id)
        tx.insert_history(current, ViewType.HERO, current.key(ViewType.HERO), "hero", "darker",
                          "replaced")
    assert sorted(h.view_type.value for h in repo.list_history(user, approval_id)) == ["back", "hero"]
    if repo.engine.dialect.name == "sqlite":  # the admin rollup's trigger came back
        with repo.engine.connect() as conn:
            counted = conn.execute(text("SELECT COALESCE(SUM(images), 0) FROM admin_history_daily "
                                        "WHERE view_type = 'hero'")).scalar_one()
            rows = conn.execute(select(func.count()).select_from(t.view_revision_history)
                                .where(t.view_revision_history.c.view_type == "hero")).scalar_one()
        assert counted == rows == 1

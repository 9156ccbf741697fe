"""Ordered, named schema migrations, each recorded in ``schema_migrations`` once applied.

A flat list (as simonw/llm keeps it): append a new small function, never edit an
applied one. The baseline creates the tables as ``schema.py`` defines them today, so a
later migration must also be harmless on a fresh database where the baseline already
made the new shape (check the inspector before adding a column).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, inspect, select, text

from viewgen.domain import STORED_VIEWS
from viewgen.store import schema

Migration = Callable[[Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


@migration("0001_baseline")
def _baseline(conn: Connection) -> None:
    # every table and index of schema.py, in dependency order
    schema.metadata.create_all(conn, checkfirst=True)


@migration("0002_covering_indexes")
def _covering_indexes(conn: Connection) -> None:
    # the admin page sums the ledger per user and the calls per provider per day, and
    # every reservation sums one user's ledger: wider indexes answer those from the
    # index alone and make the two narrower ones they start with redundant
    for old in ("ix_ledger_user_state", "ix_calls_created"):
        conn.execute(text(f"DROP INDEX IF EXISTS {old}"))
    for table, name in ((schema.credit_ledger, "ix_ledger_user_state_delta"),
                        (schema.generation_calls, "ix_calls_created_provider")):
        next(i for i in table.indexes if i.name == name).create(conn, checkfirst=True)


@migration("0003_sessions")
def _sessions(conn: Connection) -> None:
    # "stay signed in" across page reloads (viewgen.auth.remember / recall)
    schema.sessions.create(conn, checkfirst=True)  # with its indexes


@migration("0004_durable_jobs")
def _durable_jobs(conn: Connection) -> None:
    # generation runs as DBOS workflows: the approval names its workflow, a replayed
    # step finds its call row by step_key, QA verdicts are kept, executors heartbeat,
    # and CSV batches have rows. On a fresh database the baseline made all of this.
    inspector = inspect(conn)
    added = {
        schema.product_view_approvals: ("workflow_id", "qa"),
        schema.generation_calls: ("step_key", "charged", "qa_ok", "qa_reasons"),
    }
    for table, names in added.items():
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for name in names:
            if name in have:
                continue
            column = table.c[name]
            ddl = column.type.compile(dialect=conn.dialect)
            default = ""
            if name == "qa":
                default = " NOT NULL DEFAULT '{}'"
            elif name == "charged":
                default = " NOT NULL DEFAULT TRUE" if conn.dialect.name == "postgresql" \
                    else " NOT NULL DEFAULT 1"
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {ddl}{default}"))
    next(i for i in schema.generation_calls.indexes if i.name == "uq_calls_step_key").create(
        conn, checkfirst=True)
    for table in (schema.workers, schema.batches, schema.batch_rows):
        table.create(conn, checkfirst=True)  # with its indexes


@migration("0006_dimensions")
def _dimensions(conn: Connection) -> None:
    # the seed's feature record: estimatedDimensions {width, height, depth, unit} instead
    # of text (text no parser reads is kept as its note), and a column that keeps the
    # features as extracted beside the ones the person approved (they may correct them).
    # Rows approved before this had no way to be corrected: as extracted = as approved.
    from viewgen.dimensions import upgrade_feature_json

    approvals = schema.product_view_approvals
    original = approvals.c.extracted_features_original
    if original.name not in {c["name"] for c in inspect(conn).get_columns(approvals.name)}:
        kind = original.type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {approvals.name} ADD COLUMN {original.name} {kind}"))
    last = ""
    while True:  # in pages by id, so 50k approvals never sit in memory at once
        rows = conn.execute(
            select(approvals.c.id, approvals.c.extracted_features, original)
            .where(approvals.c.extracted_features.is_not(None), approvals.c.id > last)
            .order_by(approvals.c.id).limit(500)
        ).all()
        if not rows:
            return
        changes = []
        for row_id, features, kept in rows:
            if not isinstance(features, dict):
                continue
            approved = upgrade_feature_json(features)
            extracted = upgrade_feature_json(kept) if isinstance(kept, dict) else approved
            if approved != features or extracted != kept:
                changes.append({"row_id": row_id, "approved": approved, "extracted": extracted})
        if changes:
            conn.execute(
                approvals.update().where(approvals.c.id == bindparam("row_id"))
                .values(extracted_features=bindparam("approved", type_=original.type),
                        extracted_features_original=bindparam("extracted", type_=original.type),
                        updated_at=approvals.c.updated_at),  # a format change, not an edit
                changes,
            )
        last = rows[-1][0]


@migration("0005_api_tokens")
def _api_tokens(conn: Connection) -> None:
    # bearer tokens for the HTTP API (python -m viewgen serve), created in the account panel
    schema.api_tokens.create(conn, checkfirst=True)  # with its indexes


def applied(conn: Connection) -> set[str]:
    if not inspect(conn).has_table(schema.schema_migrations.name):
        return set()
    return set(conn.execute(select(schema.schema_migrations.c.name)).scalars())


def migrate(conn: Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    schema.schema_migrations.create(conn, checkfirst=True)
    done = applied(conn)
    ran: list[str] = []
    for name, fn in MIGRATIONS:
        if name in done:
            continue
        fn(conn)
        conn.execute(schema.schema_migrations.insert().values(name=name))
        ran.append(name)
    return ran


@migration("0007_admin_rollups")
def _admin_rollups(conn: Connection) -> None:
    # at 50k products the Admin page's sums scanned every call, ledger row and product
    # (1.8 s); daily rollups kept by triggers answer them from a few thousand rows, and
    # the history and revisions tables get the created_at index their newest-first
    # pages walk
    from viewgen.store import rollups

    rollups.install(conn)  # tables, triggers, backfill, privileges, the two indexes


@migration("0008_hero_view")
def _hero_view(conn: Connection) -> None:
    # the optional three-quarter hero view: its image and prompt beside the five views',
    # and its replaced images in the history, whose CHECK listed the five views only.
    # Existing rows are untouched: a product without a hero is complete as before.
    approvals = schema.product_view_approvals
    have = {c["name"] for c in inspect(conn).get_columns(approvals.name)}
    for name in ("hero_key", "hero_prompt"):
        if name not in have:
            conn.execute(text(f"ALTER TABLE {approvals.name} ADD COLUMN {name} TEXT"))
    history = schema.view_revision_history
    allowed = ", ".join(f"'{v.value}'" for v in STORED_VIEWS)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ALTER TABLE {history.name} DROP CONSTRAINT IF EXISTS ck_history_view"))
        conn.execute(text(f"ALTER TABLE {history.name} ADD CONSTRAINT ck_history_view "
                          f"CHECK (view_type IN ({allowed}))"))
        return
    made = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                        {"n": history.name}).scalar_one()
    if "'hero'" in made:
        return  # a fresh database: the baseline made the new shape
    # SQLite cannot alter a CHECK: rebuild the table (same rows and ids), then put back
    # its indexes and the admin rollup's triggers, which went with the old table
    from viewgen.store import rollups

    old = f"{history.name}_before_hero"
    conn.execute(text(f"ALTER TABLE {history.name} RENAME TO {old}"))
    for index in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index' "
                                   "AND tbl_name = :t AND sql IS NOT NULL"), {"t": old}).scalars().all():
        conn.execute(text(f"DROP INDEX {index}"))
    history.create(conn)  # with its indexes
    columns = ", ".join(c.name for c in history.columns)
    conn.execute(text(f"INSERT INTO {history.name} ({columns}) SELECT {columns} FROM {old}"))
    conn.execute(text(f"DROP TABLE {old}"))
    for statement in rollups.sqlite_triggers_on(history.name):
        conn.execute(text(statement))
    for statement in rollups.INDEXES:
        conn.execute(text(statement))


@migration("0009_api_rate_limits")
def _api_rate_limits(conn: Connection) -> None:
    # the HTTP API's per-token rate limit moves from each process's memory into the
    # database, so several uvicorn workers or API servers on one database share it
    schema.api_rate_limits.create(conn, checkfirst=True)

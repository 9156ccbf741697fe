"""Ordered, named schema migrations, each recorded in ``schema_migrations`` once applied.

A flat list (as simonw/llm keeps it): append a new small function, never edit an
applied one. The baseline creates the tables as ``schema.py`` defines them today, so a
later migration must also be harmless on a fresh database where the baseline already
made the new shape (check the inspector before adding a column).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, select, text

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

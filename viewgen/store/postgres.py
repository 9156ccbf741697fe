"""PostgreSQL for shared deployments (Supabase's database or any server), with Row Level
Security that holds for the app's own connection.

``open_postgres_repository(url, settings)`` migrates the schema, makes sure the RLS SQL
in ``supabase/`` is installed (``apply_rls``, once per version of that SQL) and returns a
``PostgresRepository``. That repository's ``_on_begin`` runs, at the start of every
transaction on behalf of a person, ``set_config('request.jwt.claims', ...)`` with their
id as ``sub`` and switches the role for that transaction only (``SET LOCAL ROLE``):
members become ``authenticated``, whom the policies restrict to their own rows, admins
become ``viewgen_admin``, whom the policies let see all. The login role (``postgres``,
which bypasses RLS) is used only for ``SYSTEM`` work: sign-in, account creation,
reconciliation, migrations. So a bug in the Repository's own ``user_id`` filtering still
cannot show one member another member's rows.

It also works through Supabase's transaction pooler (port 6543): psycopg never prepares
statements server-side (engine.py), the per-transaction settings are transaction-local,
and with ``VIEWGEN_DB_POOL=null`` (automatic on port 6543) the app keeps no idle
connections of its own (NullPool).

``python -m viewgen.store.postgres schema-sql`` prints ``supabase/schema.sql``: the
tables, generated from ``schema.py``, followed by the policy and storage SQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex, CreateTable

from viewgen.domain import User
from viewgen.errors import ConfigurationError
from viewgen.store import rollups, schema
from viewgen.store.engine import make_engine
from viewgen.store.migrations import MIGRATIONS, migrate
from viewgen.store.repository import SYSTEM, Repository

if TYPE_CHECKING:
    from viewgen.settings import Settings

log = logging.getLogger(__name__)

MEMBER_ROLE = "authenticated"
ADMIN_ROLE = "viewgen_admin"
SUPABASE_DIR = Path(__file__).resolve().parents[2] / "supabase"
POOLER_TRANSACTION_PORT = 6543
# one key for "schema changes in progress" so app instances starting together queue up
_DDL_LOCK = 7_126_117_000_001
_RLS_PREFIX = "rls-"

_SET_ACTOR = text(
    "SELECT set_config('request.jwt.claims', :claims, true), set_config('role', :role, true)"
)


def claims_for(actor: User) -> dict[str, str]:
    """The claims a member's or admin's transaction runs with (``sub`` is the user id)."""
    role = ADMIN_ROLE if actor.is_admin else MEMBER_ROLE
    return {"sub": actor.id, "role": role, "app_role": actor.role.value}


class PostgresRepository(Repository):
    """A Repository whose every transaction on behalf of a person runs under RLS."""

    def __init__(self, engine: Engine, *, rls: bool = True) -> None:
        super().__init__(engine)
        self.rls = rls

    def _on_begin(self, conn: Connection, actor: User, write: bool) -> None:
        if not self.rls or actor.id == SYSTEM.id:
            return  # the login role: sign-in, reconciliation, account creation
        claims = claims_for(actor)
        # set_config('role', r, true) is SET LOCAL ROLE r, in the same round trip
        conn.execute(_SET_ACTOR, {"claims": json.dumps(claims), "role": claims["role"]})

    def migrate(self) -> list[str]:
        with self.engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
            return migrate(conn)


# ---------------------------------------------------------------------- engine
def uses_null_pool(url: str, settings: Settings | None = None) -> bool:
    """No pooled connections when asked to, or on the pooler's transaction port."""
    choice = settings.db_pool if settings is not None else "auto"
    if choice != "auto":
        return choice == "null"
    return make_url(url).port == POOLER_TRANSACTION_PORT


def open_postgres_repository(url: str, settings: Settings | None = None) -> PostgresRepository:
    """A migrated PostgreSQL repository; with RLS on (the default) its SQL is installed."""
    engine = make_engine(url, pooled=not uses_null_pool(url, settings))
    rls = settings.db_rls if settings is not None else True
    repo = PostgresRepository(engine, rls=rls)
    try:
        repo.migrate()
        if rls:
            ensure_rls(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise ConfigurationError(
            "Could not prepare the PostgreSQL database (VIEWGEN_DATABASE_URL): "
            f"{_first_line(exc.orig)}. Check the URL and that its user owns the tables; "
            "see docs/supabase.md.",
            detail=str(exc),
        ) from exc
    if not rls:
        log.warning("VIEWGEN_DB_RLS is off: only the app's own filtering separates users")
    return repo


# ---------------------------------------------------------------------- RLS SQL
def sql_file(name: str) -> str:
    path = SUPABASE_DIR / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"{path} is missing: the supabase/ folder of the viewgen checkout is needed "
            "to set up Row Level Security."
        ) from exc


def rls_version() -> str:
    """Names one version of the RLS SQL; recorded in ``schema_migrations`` once applied."""
    digest = hashlib.sha256()
    for name in ("auth_standin.sql", "policies.sql", "storage.sql"):
        digest.update(sql_file(name).encode())
    return _RLS_PREFIX + digest.hexdigest()[:16]


def rls_installed(conn: Connection) -> bool:
    t = schema.schema_migrations
    found = conn.execute(select(t.c.name).where(t.c.name == rls_version())).first()
    return found is not None


def ensure_rls(engine: Engine) -> bool:
    """Apply the RLS SQL unless this version is recorded already; True if it ran now."""
    with engine.connect() as conn:
        if rls_installed(conn):
            return False
    apply_rls(engine)
    return True


def apply_rls(engine: Engine, *, storage: bool | None = None) -> str:
    """Install roles, privileges and policies (``supabase/policies.sql``) in one transaction.

    On a plain PostgreSQL (no ``auth.uid()``) it first runs ``supabase/auth_standin.sql``:
    the ``anon`` / ``authenticated`` roles and ``auth.uid()`` reading
    ``request.jwt.claims ->> 'sub'`` as Supabase defines it. On Supabase (a
    ``storage.buckets`` table exists) it also creates the buckets and their policies
    (``supabase/storage.sql``); if the login role may not, it logs how to do it by hand.
    Safe to run again; records the SQL's version so ``ensure_rls`` skips it next time.
    """
    version = rls_version()
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _DDL_LOCK})
        has_auth = conn.execute(text("SELECT to_regprocedure('auth.uid()')")).scalar()
        if has_auth is None:
            run_script(conn, sql_file("auth_standin.sql"))
        run_script(conn, sql_file("policies.sql"))
        has_storage = conn.execute(text("SELECT to_regclass('storage.buckets')")).scalar()
        if storage is None:
            storage = has_storage is not None
        if storage:
            try:
                with conn.begin_nested():
                    run_script(conn, sql_file("storage.sql"))
            except DBAPIError as exc:
                log.warning(
                    "could not create the storage buckets and policies (%s); run "
                    "supabase/storage.sql in the Supabase SQL editor", _first_line(exc.orig),
                )
        t = schema.schema_migrations
        if conn.execute(select(t.c.name).where(t.c.name == version)).first() is None:
            conn.execute(t.insert().values(name=version))
    return version


def run_script(conn: Connection, sql: str) -> None:
    """Run a multi-statement SQL script as it is (no parameters, so ``%`` stays itself)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cur:
        cur.execute(sql)


# ---------------------------------------------------------------------- schema.sql
def tables_sql() -> str:
    """``CREATE TABLE / INDEX IF NOT EXISTS`` for every table of ``schema.py``."""
    dialect = postgresql.dialect()
    parts: list[str] = []
    for table in schema.metadata.sorted_tables:
        parts.append(_ddl(CreateTable(table, if_not_exists=True), dialect))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            parts.append(_ddl(CreateIndex(index, if_not_exists=True), dialect))
    return "\n".join(parts)


def schema_sql() -> str:
    """The whole of ``supabase/schema.sql`` (generated; a test keeps the file in step)."""
    recorded = ",\n  ".join(f"('{name}', now())" for name, _ in MIGRATIONS)
    sections: Sequence[tuple[str, str]] = (
        ("1. Tables (generated from viewgen/store/schema.py)", tables_sql()),
        ("2. The app's migrations these tables already include",
         "insert into schema_migrations (name, applied_at) values\n  "
         f"{recorded}\non conflict (name) do nothing;\n"),
        ("3. Roles, privileges and Row Level Security (supabase/policies.sql)",
         sql_file("policies.sql")),
        ("4. Storage buckets and policies (supabase/storage.sql)", sql_file("storage.sql")),
        ("5. The Admin page's daily rollups and their triggers (viewgen/store/rollups.py)",
         rollups.postgres_sql()),
    )
    out = [
        "-- viewgen: everything a new Supabase project needs, in one script for the SQL",
        "-- editor. GENERATED by `python -m viewgen.store.postgres schema-sql >",
        "-- supabase/schema.sql`; edit schema.py, policies.sql or storage.sql instead.",
        "-- Safe to run again.",
        "",
    ]
    for title, body in sections:
        out += [f"-- {'=' * 76}", f"-- {title}", f"-- {'=' * 76}", "", body.rstrip() + "\n"]
    return "\n".join(out)


def _ddl(element, dialect) -> str:
    sql = str(element.compile(dialect=dialect)).strip()
    return "\n".join(line.rstrip() for line in sql.splitlines()) + ";\n"


def _first_line(error: object) -> str:
    return (str(error).strip().splitlines() or ["unknown error"])[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["schema-sql"]:
        print("usage: python -m viewgen.store.postgres schema-sql > supabase/schema.sql",
              file=sys.stderr)
        return 2
    sys.stdout.write(schema_sql())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

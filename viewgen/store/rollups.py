"""Daily rollups for the Admin page, kept exact by triggers on SQLite and PostgreSQL.

The Admin page's sums (headline metrics, per-day charts, credits per user, table
totals) grow with every call, ledger row and product: at 50k products a scan of the
raw rows takes most of a second. Each rollup here holds one row per UTC day, user
and a few keys, with counters; a trigger on the source table adds a new row's
contribution, and on an update or delete takes the old one away, inside the same
transaction, so a rollup is always what a ``GROUP BY`` of the raw rows would say.
The one approximation: ``latency_max_ms`` never goes down when a call row is
deleted (only a deleted user's rows ever are). ``TRUNCATE`` fires no row trigger, so
on PostgreSQL a statement trigger empties the rollup with its source (SQLite has no
``TRUNCATE``). Filters on the Admin page are whole
UTC days, so the rollups answer them exactly. On SQLite they are ``WITHOUT ROWID``
tables: a range of days is read straight from the primary key's b-tree.

On PostgreSQL, where transactions run side by side, a trigger does not touch the rollup:
it appends its share to the rollup's ``_delta`` table (an upsert would lock one rollup
row per key in statement order, and two of one person's transactions deadlocked on
them), and a reader calls ``fold`` (``admin_rollups_fold()``) first, which moves the
deltas into the rollups, one folder at a time. SQLite has one writer at a time, so
its triggers upsert the rollups directly.

Migration ``0007_admin_rollups`` calls ``install``: tables, triggers (PL/pgSQL
functions ``SECURITY DEFINER`` on PostgreSQL, so a member's insert can add to tables
the member cannot read) and a backfill from the rows already there. On PostgreSQL only
``viewgen_admin`` may read the rollups and run the fold (members and ``anon`` get
nothing, RLS on); the deltas are the owner's alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    text,
)

metadata = MetaData()

calls_daily = Table(
    "admin_calls_daily", metadata,
    Column("day", Date, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("calls", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("latency_sum_ms", Float, nullable=False, default=0),
    Column("latency_max_ms", Float),
    PrimaryKeyConstraint("day", "user_id", "provider", "kind"),
    sqlite_with_rowid=False,
)

ledger_daily = Table(
    "admin_ledger_daily", metadata,
    Column("day", Date, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("state", String(16), nullable=False),
    Column("entries", Integer, nullable=False, default=0),
    Column("delta_sum", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("day", "user_id", "state"),
    sqlite_with_rowid=False,
)

approvals_daily = Table(
    "admin_approvals_daily", metadata,
    Column("day", Date, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("status", String(32), nullable=False),
    Column("products", Integer, nullable=False, default=0),
    Column("approved", Integer, nullable=False, default=0),
    Column("first_try", Integer, nullable=False, default=0),
    Column("rejections_approved", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("day", "user_id", "status"),
    sqlite_with_rowid=False,
)

history_daily = Table(
    "admin_history_daily", metadata,
    Column("day", Date, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("view_type", String(16), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("images", Integer, nullable=False, default=0),
    PrimaryKeyConstraint("day", "user_id", "view_type", "reason"),
    sqlite_with_rowid=False,
)


@dataclass(frozen=True)
class Rollup:
    """A rollup: its table, the source table, the key columns (besides the day) and the
    counters as SQL over one source row, written with ``{r}`` for ``NEW`` / ``OLD``."""

    table: Table
    source: str
    keys: tuple[str, ...]
    sums: dict[str, str]
    watch: tuple[str, ...]  # source columns whose change moves a row's contribution
    maximum: tuple[str, str] | None = None  # (rollup column, source expression)

    @property
    def name(self) -> str:
        return self.table.name


APPROVED = "{r}.approved_at IS NOT NULL"
ROLLUPS = (
    Rollup(calls_daily, "generation_calls", ("user_id", "provider", "kind"), {
        "calls": "1",
        "failures": "CASE WHEN {r}.outcome <> 'ok' THEN 1 ELSE 0 END",
        "latency_sum_ms": "{r}.latency_ms",
    }, watch=("created_at", "user_id", "provider", "kind", "outcome", "latency_ms"),
        maximum=("latency_max_ms", "{r}.latency_ms")),
    Rollup(ledger_daily, "credit_ledger", ("user_id", "state"), {
        "entries": "1",
        "delta_sum": "{r}.delta",
    }, watch=("created_at", "user_id", "state", "delta")),
    Rollup(approvals_daily, "product_view_approvals", ("user_id", "status"), {
        "products": "1",
        "approved": f"CASE WHEN {APPROVED} THEN 1 ELSE 0 END",
        "first_try": f"CASE WHEN {APPROVED} AND {{r}}.rejection_count = 0 THEN 1 ELSE 0 END",
        "rejections_approved": f"CASE WHEN {APPROVED} THEN {{r}}.rejection_count ELSE 0 END",
    }, watch=("created_at", "user_id", "status", "approved_at", "rejection_count")),
    Rollup(history_daily, "view_revision_history", ("user_id", "view_type", "reason"), {
        "images": "1",
    }, watch=("created_at", "user_id", "view_type", "reason")),
)


def day_sql(column: str, dialect: str) -> str:
    """The UTC day of a timestamp column, as the rollups store it."""
    if dialect == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _upsert(rollup: Rollup, row: str, sign: str, dialect: str) -> str:
    """INSERT ... ON CONFLICT that adds (sign '+') or removes ('-') one row's share."""
    columns = ["day", *rollup.keys, *rollup.sums]
    values = [day_sql(f"{row}.created_at", dialect), *(f"{row}.{k}" for k in rollup.keys),
              *(f"{sign}({expr.format(r=row)})" for expr in rollup.sums.values())]
    updates = [f"{c} = {rollup.name}.{c} + excluded.{c}" for c in rollup.sums]
    if rollup.maximum and sign == "+":
        column, expr = rollup.maximum
        columns.append(column)
        values.append(expr.format(r=row))
        bigger = "GREATEST" if dialect == "postgresql" else "max"
        updates.append(f"{column} = {bigger}(COALESCE({rollup.name}.{column}, "
                       f"excluded.{column}), excluded.{column})")
    keys = ", ".join(["day", *rollup.keys])
    return (f"INSERT INTO {rollup.name} ({', '.join(columns)}) VALUES ({', '.join(values)}) "
            f"ON CONFLICT ({keys}) DO UPDATE SET {', '.join(updates)}")


def sqlite_triggers_on(table: str) -> list[str]:
    """The SQLite triggers that keep every rollup fed by ``table`` in step with it (a
    migration that rebuilds ``table`` on SQLite, where ALTER cannot change a CHECK, loses
    them with the old table and puts these back)."""
    return [statement for rollup in ROLLUPS if rollup.source == table
            for statement in _sqlite_triggers(rollup)]


def _sqlite_triggers(rollup: Rollup) -> list[str]:
    name, source = rollup.name, rollup.source
    watched = ", ".join(rollup.watch)
    return [
        f"DROP TRIGGER IF EXISTS {name}_ins",
        f"DROP TRIGGER IF EXISTS {name}_upd",
        f"DROP TRIGGER IF EXISTS {name}_del",
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {source} BEGIN "
        f"{_upsert(rollup, 'NEW', '+', 'sqlite')}; END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE OF {watched} ON {source} BEGIN "
        f"{_upsert(rollup, 'OLD', '-', 'sqlite')}; {_upsert(rollup, 'NEW', '+', 'sqlite')}; END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {source} BEGIN "
        f"{_upsert(rollup, 'OLD', '-', 'sqlite')}; END",
    ]


def _delta_insert(rollup: Rollup, row: str, sign: str) -> str:
    """One row's share (sign '+') or its removal ('-') appended to the rollup's deltas."""
    columns = ["day", *rollup.keys, *rollup.sums]
    values = [day_sql(f"{row}.created_at", "postgresql"), *(f"{row}.{k}" for k in rollup.keys),
              *(f"{sign}({expr.format(r=row)})" for expr in rollup.sums.values())]
    if rollup.maximum and sign == "+":
        columns.append(rollup.maximum[0])
        values.append(rollup.maximum[1].format(r=row))
    return (f"INSERT INTO {rollup.name}_delta ({', '.join(columns)}) "
            f"VALUES ({', '.join(values)})")


def _fold(rollup: Rollup) -> str:
    """Move the deltas into the rollup, summed per key (one folder at a time)."""
    keys = ", ".join(["day", *rollup.keys])
    columns = [*rollup.keys, *rollup.sums]
    picked = [f"SUM({c})" for c in rollup.sums]
    updates = [f"{c} = {rollup.name}.{c} + excluded.{c}" for c in rollup.sums]
    if rollup.maximum:
        column = rollup.maximum[0]
        columns.append(column)
        picked.append(f"MAX({column})")
        updates.append(f"{column} = GREATEST({rollup.name}.{column}, excluded.{column})")
    return (f"WITH moved AS (DELETE FROM {rollup.name}_delta RETURNING *) "
            f"INSERT INTO {rollup.name} (day, {', '.join(columns)}) "
            f"SELECT {keys}, {', '.join(picked)} FROM moved GROUP BY {keys} "
            f"ON CONFLICT ({keys}) DO UPDATE SET {', '.join(updates)}")


def _postgres_triggers(rollup: Rollup) -> list[str]:
    # Writers only append to an unindexed delta table: an upsert into the rollup itself
    # would lock one row per (day, user, ...) in whatever order a transaction's
    # statements run, and two of one person's transactions deadlocked on them. Readers
    # fold the deltas in first (admin_rollups_fold), one folder at a time.
    name, source = rollup.name, rollup.source
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in rollup.watch)
    function = f"""
CREATE OR REPLACE FUNCTION {name}_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  IF TG_OP = 'UPDATE' AND NOT ({changed}) THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {_delta_insert(rollup, 'OLD', '-')};
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_delta_insert(rollup, 'NEW', '+')};
  END IF;
  RETURN NULL;
END
$fn$"""
    # TRUNCATE fires no row trigger: empty the rollup with its source
    emptied = f"""
CREATE OR REPLACE FUNCTION {name}_truncate() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  DELETE FROM {name}_delta;
  DELETE FROM {name};
  RETURN NULL;
END
$fn$"""
    return [
        f"CREATE TABLE IF NOT EXISTS {name}_delta (LIKE {name} INCLUDING DEFAULTS)",
        function,
        emptied,
        f"DROP TRIGGER IF EXISTS {name}_sync ON {source}",
        f"CREATE TRIGGER {name}_sync AFTER INSERT OR UPDATE OR DELETE ON {source} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}_sync()",
        f"DROP TRIGGER IF EXISTS {name}_truncate ON {source}",
        f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {source} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}_truncate()",
    ]


def _postgres_folder() -> str:
    body = ";\n  ".join(_fold(rollup) for rollup in ROLLUPS)
    return f"""
CREATE OR REPLACE FUNCTION admin_rollups_fold() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('viewgen admin_rollups_fold')) THEN
    RETURN;  -- another reader is folding; its result is as good
  END IF;
  {body};
END
$fn$"""


def _backfill(rollup: Rollup, dialect: str) -> str:
    day = day_sql("r.created_at", dialect)
    keys = ", ".join(f"r.{k}" for k in rollup.keys)
    sums = [f"SUM({expr.format(r='r')})" for expr in rollup.sums.values()]
    columns = ["day", *rollup.keys, *rollup.sums]
    if rollup.maximum:
        columns.append(rollup.maximum[0])
        sums.append(f"MAX({rollup.maximum[1].format(r='r')})")
    return (f"INSERT INTO {rollup.name} ({', '.join(columns)}) "
            f"SELECT {day}, {keys}, {', '.join(sums)} FROM {rollup.source} r "
            f"GROUP BY {day}, {keys}")


_PG_PRIVILEGES = """
DO $$
DECLARE t text;
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'viewgen_admin') THEN
    CREATE ROLE viewgen_admin NOLOGIN NOINHERIT;  -- as supabase/policies.sql makes it
  END IF;
  FOREACH t IN ARRAY ARRAY['admin_calls_daily', 'admin_ledger_daily',
                           'admin_approvals_daily', 'admin_history_daily',
                           'admin_calls_daily_delta', 'admin_ledger_daily_delta',
                           'admin_approvals_daily_delta', 'admin_history_daily_delta'] LOOP
    EXECUTE format('REVOKE ALL ON TABLE %I FROM PUBLIC', t);
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
      EXECUTE format('REVOKE ALL ON TABLE %I FROM anon', t);
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
      EXECUTE format('REVOKE ALL ON TABLE %I FROM authenticated', t);
    END IF;
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    IF t NOT LIKE '%_delta' THEN  -- the deltas: only the owner's functions touch them
      EXECUTE format('GRANT SELECT ON TABLE %I TO viewgen_admin', t);
      EXECUTE format('DROP POLICY IF EXISTS admin_reads ON %I', t);
      EXECUTE format('CREATE POLICY admin_reads ON %I FOR SELECT TO viewgen_admin '
                     'USING (true)', t);
    END IF;
  END LOOP;
  REVOKE ALL ON FUNCTION admin_rollups_fold() FROM PUBLIC;
  GRANT EXECUTE ON FUNCTION admin_rollups_fold() TO viewgen_admin;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- a role made meanwhile
END $$"""


INDEXES = (  # what the newest-first history and revisions pages walk
    "CREATE INDEX IF NOT EXISTS ix_history_created ON view_revision_history (created_at)",
    "CREATE INDEX IF NOT EXISTS ix_revisions_created ON revisions (created_at)",
)


def statements(dialect: str) -> list[str]:
    """Everything ``install`` runs, in order, as SQL for ``dialect``; safe to run again."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateTable

    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    out = [str(CreateTable(table, if_not_exists=True).compile(dialect=compiler)).strip()
           for table in metadata.sorted_tables]
    for rollup in ROLLUPS:
        if dialect == "postgresql":
            out += [*_postgres_triggers(rollup), f"DELETE FROM {rollup.name}_delta"]
        else:
            out += _sqlite_triggers(rollup)
        out += [f"DELETE FROM {rollup.name}", _backfill(rollup, dialect)]
    if dialect == "postgresql":
        out += [_postgres_folder().strip(), _PG_PRIVILEGES.strip()]
    return [*out, *INDEXES]


def install(conn: Connection) -> None:
    """Create the rollup tables and their triggers, and fill them from existing rows."""
    for statement in statements(conn.dialect.name):
        conn.execute(text(statement))


def postgres_sql() -> str:
    """``install`` as one script, for ``supabase/schema.sql``."""
    return "\n\n".join(f"{statement.strip()};" for statement in statements("postgresql")) + "\n"


def fold(conn: Connection) -> None:
    """Bring the rollups up to date before reading them (PostgreSQL folds its deltas;
    SQLite's triggers already wrote the rollups)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT admin_rollups_fold()"))


def rebuild(conn: Connection) -> None:
    """Recompute every rollup from the raw rows (after a bulk load with triggers off)."""
    for rollup in ROLLUPS:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DELETE FROM {rollup.name}_delta"))
        conn.execute(text(f"DELETE FROM {rollup.name}"))
        conn.execute(text(_backfill(rollup, conn.dialect.name)))


@contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """Insert many rows with the triggers off, then rebuild every rollup once.

    Call inside the write transaction that inserts: on SQLite it holds the database's
    write lock, on PostgreSQL ``ALTER TABLE ... DISABLE TRIGGER`` locks the tables, so
    no other writer's row can slip past the rollups before they are rebuilt.
    """
    dialect = conn.dialect.name
    for rollup in ROLLUPS:
        if dialect == "postgresql":
            conn.execute(text(f"ALTER TABLE {rollup.source} DISABLE TRIGGER {rollup.name}_sync"))
        else:
            for suffix in ("ins", "upd", "del"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {rollup.name}_{suffix}"))
    yield
    for rollup in ROLLUPS:
        if dialect == "postgresql":
            conn.execute(text(f"ALTER TABLE {rollup.source} ENABLE TRIGGER {rollup.name}_sync"))
        else:
            for statement in _sqlite_triggers(rollup):
                conn.execute(text(statement))
    rebuild(conn)

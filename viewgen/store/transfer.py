"""Moving a viewgen installation: ``python -m viewgen migrate-data``.

Copies users, projects, approvals, view history, revisions, the credit ledger and
provider calls from one database to another (SQLite -> PostgreSQL is the usual move,
any pair works), and the images between blob stores (a local folder or Supabase
Storage), then prints what it copied and skipped per table.

It is idempotent: rows are keyed by primary key and never copied twice. Rows with text
ids (users, projects, approvals) that exist in the target are skipped. Rows with integer
ids (history, revisions, ledger, calls) keep their ids; one already in the target is
skipped when it is the same row (same immutable columns) and reported as a conflict
when it is not, because then the target was not empty and nothing is overwritten. On
PostgreSQL the id sequences are moved past the copied ids afterwards. Images are copied
when the target store does not have the key yet. The source is only read.

``--to-auth supabase`` also creates each copied user in Supabase Auth with the same id
(service_role key), so their rows and image keys stay theirs; they then set a password
through the password-recovery email.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Integer, Table, func, inspect, select, text
from sqlalchemy.engine import make_url

from viewgen.blobs import BlobStore, LocalBlobStore
from viewgen.domain import STORED_VIEWS
from viewgen.errors import ConfigurationError, InvalidInput, ViewgenError
from viewgen.store import open_repository
from viewgen.store import schema as t
from viewgen.store.engine import make_engine

if TYPE_CHECKING:
    from viewgen.settings import Settings

BATCH = 500
# sign-in sessions, executor heartbeats and the API's rate-limit counters stay behind:
# they belong to one deployment
TABLES: tuple[Table, ...] = tuple(s for s in t.metadata.sorted_tables
                                  if s not in (t.schema_migrations, t.sessions, t.workers,
                                               t.api_rate_limits))
# the columns that never change once a row is written: equal ones mean "the same row"
IDENTITY: dict[str, tuple[str, ...]] = {
    t.view_revision_history.name: ("approval_id", "view_type", "image_key", "created_at"),
    t.revisions.name: ("project_id", "revision_number", "created_at"),
    t.credit_ledger.name: ("user_id", "delta", "reason", "approval_id", "created_at"),
    t.generation_calls.name: ("user_id", "approval_id", "provider", "model", "kind",
                              "created_at"),
}
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                 "webp": "image/webp", "gif": "image/gif", "zip": "application/zip"}


@dataclass
class Count:
    copied: int = 0
    skipped: int = 0
    conflicts: int = 0
    missing: int = 0


@dataclass
class Report:
    tables: dict[str, Count] = field(default_factory=dict)
    images: Count | None = None
    auth: Count | None = None

    @property
    def conflicts(self) -> int:
        return sum(c.conflicts for c in self.tables.values())

    def lines(self) -> list[str]:
        rows = [f"{'':<24}{'copied':>8}{'skipped':>9}{'conflicts':>11}"]
        for name, c in self.tables.items():
            rows.append(f"{name:<24}{c.copied:>8}{c.skipped:>9}{c.conflicts:>11}")
        if self.images is not None:
            i = self.images
            rows.append(f"{'images':<24}{i.copied:>8}{i.skipped:>9}{'':>11}"
                        f"  ({i.missing} missing in the source)")
        if self.auth is not None:
            a = self.auth
            rows.append(f"{'supabase auth users':<24}{a.copied:>8}{a.skipped:>9}")
        return rows


# ---------------------------------------------------------------------- rows
def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _identity(table: Table, row: dict[str, Any]) -> tuple:
    return tuple(_utc(row.get(c)) for c in IDENTITY[table.name])


def _pages(conn: Connection, table: Table, columns: list[str]) -> Iterator[list[dict]]:
    pk = table.primary_key.columns.values()[0]
    stmt = select(*[table.c[c] for c in columns]).order_by(pk)
    result = conn.execution_options(stream_results=True).execute(stmt)
    for chunk in result.mappings().partitions(BATCH):
        yield [{k: _utc(v) for k, v in row.items()} for row in chunk]


def copy_table(src: Connection, dst_engine: Engine, table: Table) -> Count:
    count = Count()
    src_cols = {c["name"] for c in inspect(src).get_columns(table.name)}
    columns = [c.name for c in table.columns if c.name in src_cols]
    pk = table.primary_key.columns.values()[0]
    by_identity = table.name in IDENTITY
    for page in _pages(src, table, columns):
        ids = [row[pk.name] for row in page]
        with dst_engine.begin() as dst:
            existing = {
                r[pk.name]: dict(r)
                for r in dst.execute(select(table).where(pk.in_(ids))).mappings()
            }
            fresh = []
            for row in page:
                there = existing.get(row[pk.name])
                if there is None:
                    fresh.append(row)
                elif not by_identity or _identity(table, there) == _identity(table, row):
                    count.skipped += 1
                else:
                    count.conflicts += 1
            if fresh:
                dst.execute(table.insert(), fresh)
                count.copied += len(fresh)
    return count


def bump_sequences(engine: Engine) -> None:
    """Move PostgreSQL id sequences past the ids copied in explicitly."""
    if engine.dialect.name != "postgresql":
        return  # SQLite's integer keys continue from the largest id by themselves
    with engine.begin() as conn:
        for table in TABLES:
            pk = table.primary_key.columns.values()[0]
            if not isinstance(pk.type, Integer):
                continue
            top = conn.execute(select(func.max(pk))).scalar()
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, :c), :v, false)"),
                {"t": table.name, "c": pk.name, "v": int(top or 0) + 1},
            )


# ---------------------------------------------------------------------- images
def image_keys(conn: Connection) -> list[str]:
    """Every blob key the database points at."""
    keys: set[str] = set()
    a = t.product_view_approvals
    cols = ["reference_key", "logo_key", *(f"{v.value}_key" for v in STORED_VIEWS)]
    present = {c["name"] for c in inspect(conn).get_columns(a.name)}
    for row in conn.execute(select(*[a.c[c] for c in cols if c in present])):
        keys.update(k for k in row if k)
    keys.update(k for k in conn.execute(select(t.view_revision_history.c.image_key)).scalars()
                if k)
    for data in conn.execute(select(t.revisions.c.image_data)).scalars():
        for view in (data or {}).values():
            if isinstance(view, dict) and view.get("key"):
                keys.add(str(view["key"]))
    return sorted(keys)


def copy_images(keys: Iterable[str], source: BlobStore, target: BlobStore,
                progress: Callable[[str], None] | None = None) -> Count:
    count = Count()
    for key in keys:
        if target.exists(key):
            count.skipped += 1
            continue
        if not source.exists(key):
            count.missing += 1
            if progress:
                progress(f"  missing in the source store: {key}")
            continue
        content_type = CONTENT_TYPES.get(key.rsplit(".", 1)[-1].lower(), "application/octet-stream")
        target.put(key, source.get(key), content_type)
        count.copied += 1
    return count


# ---------------------------------------------------------------------- auth
def create_auth_users(conn: Connection, settings: Settings) -> Count:
    """Each user as a Supabase Auth user with the same id (needs the service_role key)."""
    from supabase_auth.errors import AuthError as SupabaseAuthError

    from viewgen.auth_supabase import auth_error
    from viewgen.blobs_supabase import make_client

    client = make_client(settings)
    count = Count()
    for user in conn.execute(select(t.users)).mappings():
        try:
            client.auth.admin.create_user({
                "id": user["id"], "email": user["email"], "email_confirm": True,
                "user_metadata": {"display_name": user["display_name"] or ""},
            })
            count.copied += 1
        except SupabaseAuthError as exc:
            if getattr(exc, "code", None) in ("email_exists", "user_already_exists") or \
                    getattr(exc, "status", None) == 422:
                count.skipped += 1
                continue
            raise auth_error(exc, user["email"]) from exc
    return count


# ---------------------------------------------------------------------- the whole move
def _source_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (
        parsed.database and Path(parsed.database).is_file()
    ):
        raise ConfigurationError(f"There is no SQLite database at {parsed.database!r}.")
    engine = make_engine(url)
    if not inspect(engine).has_table(t.users.name):
        engine.dispose()
        raise ConfigurationError(f"{_safe(url)} has no viewgen tables to copy.")
    return engine


def _target_engine(url: str, settings: Settings | None) -> Engine:
    if make_url(url).get_backend_name() == "postgresql":
        from viewgen.store.postgres import open_postgres_repository

        return open_postgres_repository(url, settings).engine
    return open_repository(url).engine


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def transfer(source_url: str, target_url: str, *, source_blobs: BlobStore | None = None,
             target_blobs: BlobStore | None = None, settings: Settings | None = None,
             to_auth: bool = False,
             progress: Callable[[str], None] | None = None) -> Report:
    """Copy everything from ``source_url`` to ``target_url`` (see the module docstring)."""
    if make_url(source_url) == make_url(target_url):
        raise InvalidInput("The source and the target are the same database.")
    src = _source_engine(source_url)
    dst = _target_engine(target_url, settings)
    report = Report()
    try:
        with src.connect() as conn:
            for table in TABLES:
                report.tables[table.name] = copy_table(conn, dst, table)
                if progress:
                    progress(f"  {table.name}: done")
            bump_sequences(dst)
            if source_blobs is not None and target_blobs is not None:
                report.images = copy_images(image_keys(conn), source_blobs, target_blobs,
                                            progress)
            if to_auth:
                if settings is None:
                    raise ConfigurationError("--to-auth needs SUPABASE_URL and SUPABASE_KEY.")
                report.auth = create_auth_users(conn, settings)
    finally:
        src.dispose()
        dst.dispose()
    return report


# ---------------------------------------------------------------------- CLI
def _blob_store(spec: str | None, settings: Settings, *, must_exist: bool) -> BlobStore | None:
    if not spec:
        return None
    if spec == "supabase":
        from viewgen.blobs_supabase import SupabaseBlobStore

        return SupabaseBlobStore.from_settings(settings)
    path = Path(spec)
    if must_exist and not path.is_dir():
        raise ConfigurationError(f"There is no image folder at {spec}.")
    return LocalBlobStore(path)


def cmd_migrate_data(args: argparse.Namespace, settings: Settings) -> int:
    source_blobs = _blob_store(args.from_blobs, settings, must_exist=True)
    target_blobs = _blob_store(args.to_blobs, settings, must_exist=False)
    if (source_blobs is None) != (target_blobs is None):
        raise InvalidInput("Give both --from-blobs and --to-blobs to copy images, or neither.")
    print(f"migrate-data: {_safe(args.source)} -> {_safe(args.target)}")
    try:
        report = transfer(args.source, args.target, source_blobs=source_blobs,
                          target_blobs=target_blobs, settings=settings,
                          to_auth=args.to_auth == "supabase", progress=print)
    except ViewgenError:
        raise
    except Exception as exc:
        raise ViewgenError(f"migrate-data stopped: {type(exc).__name__}: "
                           f"{str(exc).splitlines()[0] if str(exc) else ''}. Nothing copied "
                           "so far is lost; run the same command again.") from exc
    for line in report.lines():
        print(line)
    if report.images is None:
        print("images: not copied (give --from-blobs and --to-blobs to copy them)")
    if report.auth is not None and report.auth.copied:
        print("New Supabase Auth users set their password through 'Send password recovery' "
              "(Authentication -> Users in the dashboard).")
    if report.conflicts:
        print(f"{report.conflicts} row(s) conflict with different rows already in the "
              "target; they were not copied. Copy into an empty database.")
        return 1
    return 0


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "migrate-data", help="copy all data (and images) to another database, idempotently",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    p.add_argument("--from", dest="source", required=True, metavar="URL",
                   help="source database, e.g. sqlite:///data/viewgen.db")
    p.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="target database, e.g. postgresql+psycopg://user:pw@host:5432/db")
    p.add_argument("--from-blobs", metavar="DIR|supabase", help="where the images are now")
    p.add_argument("--to-blobs", metavar="DIR|supabase", help="where the images should go")
    p.add_argument("--to-auth", choices=["supabase"],
                   help="also create the users in Supabase Auth with the same ids")
    p.set_defaults(func=cmd_migrate_data)

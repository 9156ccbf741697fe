"""Engines for the two supported databases, with the connection habits each needs.

SQLite (default): WAL, foreign keys on, a busy timeout, and transactions we begin
ourselves so a write transaction can be ``BEGIN IMMEDIATE`` (it takes the write lock
up front, which makes credit reservation atomic). PostgreSQL: psycopg 3 with
server-side prepared statements off (Supabase's transaction pooler cannot keep
them) and pre-ping; row locks (``SELECT ... FOR UPDATE``) make reservation atomic.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

IMMEDIATE = "viewgen_immediate"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs: dict = {"pool_pre_ping": True}
        if parsed.drivername == "postgresql+psycopg":
            kwargs["connect_args"] = {"prepare_threshold": None}
        if not pooled:
            kwargs["poolclass"] = NullPool
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        return create_engine(parsed, **kwargs)
    return create_engine(parsed)


def _sqlite_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        if conn.get_execution_options().get(IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine

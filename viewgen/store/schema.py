"""The database schema: the single source of truth for every table viewgen keeps.

SQLAlchemy Core tables that run unchanged on SQLite (the embedded default) and
PostgreSQL (shared deployments, Supabase). JSON columns become ``jsonb`` on
PostgreSQL; timestamps are timezone-aware UTC; every table with ``updated_at`` has
it set on each write by the Repository (``onupdate``). Image columns hold blob
keys, never URLs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from viewgen.domain import STORED_VIEWS, InputType, LedgerState, Role, Status


def utcnow() -> datetime:
    return datetime.now(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


def _ts(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


def _in(column: str, values) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    Column("role", String(16), nullable=False, default=Role.MEMBER.value),
    Column("password_hash", Text, nullable=True),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    CheckConstraint(_in("role", [r.value for r in Role]), name="ck_users_role"),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    Index("ix_projects_user_created", "user_id", "created_at"),
)

# <view>_key / <view>_prompt for the five views and the optional hero (migration 0008)
_view_columns: list[Column] = []
for _view in STORED_VIEWS:
    _view_columns.append(Column(f"{_view.value}_key", Text, nullable=True))
    _view_columns.append(Column(f"{_view.value}_prompt", Text, nullable=True))

product_view_approvals = Table(
    "product_view_approvals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "project_id", String(36), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    Column("session_id", String(64), nullable=True),
    Column("input_type", String(16), nullable=False),
    Column("input_text", Text, nullable=True),
    Column("reference_key", Text, nullable=True),
    Column("logo_key", Text, nullable=True),
    *_view_columns,
    Column("extracted_features", JSONType, nullable=True),
    # the features as the extractor returned them, kept when the person corrects
    # extracted_features (which the views use) before the views (migration 0006)
    Column("extracted_features_original", JSONType, nullable=True),
    Column("status", String(32), nullable=False),
    Column("user_feedback", Text, nullable=True),
    Column("feedback_history", JSONType, nullable=False, default=list),
    Column("rejection_count", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("view_errors", JSONType, nullable=False, default=dict),
    Column("consistency", JSONType, nullable=False, default=dict),
    Column("seed", Integer, nullable=False, default=0),
    # the durable workflow now (or last) running for this product, and the QA gate's
    # verdict per view ({view: {ok, score, reasons, ...}})
    Column("workflow_id", String(200), nullable=True),
    Column("qa", JSONType, nullable=False, default=dict, server_default=text("'{}'")),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("approved_at", nullable=True),
    _ts("completed_at", nullable=True),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    CheckConstraint(_in("status", [s.value for s in Status]), name="ck_approvals_status"),
    CheckConstraint(_in("input_type", [t.value for t in InputType]), name="ck_approvals_input"),
    Index("ix_approvals_user_created", "user_id", "created_at"),
    Index("ix_approvals_project", "project_id"),
    Index("ix_approvals_status_updated", "status", "updated_at"),
    Index("ix_approvals_created", "created_at"),
)

view_revision_history = Table(
    "view_revision_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "approval_id",
        String(36),
        ForeignKey("product_view_approvals.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("view_type", String(16), nullable=False),
    Column("image_key", Text, nullable=False),
    Column("prompt", Text, nullable=True),
    Column("user_feedback", Text, nullable=True),
    Column("reason", String(32), nullable=False, default="rejected"),
    _ts("created_at", nullable=False, default=utcnow),
    CheckConstraint(_in("view_type", [v.value for v in STORED_VIEWS]), name="ck_history_view"),
    Index("ix_history_approval", "approval_id", "created_at"),
    Index("ix_history_user_created", "user_id", "created_at"),
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "project_id", String(36), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "approval_id",
        String(36),
        ForeignKey("product_view_approvals.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("revision_number", Integer, nullable=False),
    Column("user_prompt", Text, nullable=True),
    Column("image_data", JSONType, nullable=False, default=dict),
    Column("changes_made", JSONType, nullable=False, default=dict),
    _ts("created_at", nullable=False, default=utcnow),
    UniqueConstraint("project_id", "revision_number", name="uq_revisions_project_number"),
    Index("ix_revisions_user_created", "user_id", "created_at"),
)

credit_ledger = Table(
    "credit_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("reason", String(64), nullable=False),
    Column(
        "approval_id",
        String(36),
        ForeignKey("product_view_approvals.id", ondelete="SET NULL"),
        nullable=True,
    ),
    Column("state", String(16), nullable=False),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    CheckConstraint(_in("state", [s.value for s in LedgerState]), name="ck_ledger_state"),
    # a reservation or commit spends (delta < 0); a grant adds (delta > 0)
    CheckConstraint(
        "(state = 'granted' AND delta > 0) OR (state <> 'granted' AND delta < 0)",
        name="ck_ledger_sign",
    ),
    # covers every balance check and the admin's credits per user (index-only scans)
    Index("ix_ledger_user_state_delta", "user_id", "state", "delta"),
    Index("ix_ledger_created", "created_at"),
    Index("ix_ledger_approval", "approval_id"),
)

generation_calls = Table(
    "generation_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "approval_id",
        String(36),
        ForeignKey("product_view_approvals.id", ondelete="CASCADE"),
        nullable=True,
    ),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("view_type", String(16), nullable=True),
    Column("kind", String(16), nullable=False, default="image"),  # image | features
    Column("provider", String(32), nullable=False),
    Column("model", String(100), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("latency_ms", Float, nullable=False),
    Column("outcome", String(32), nullable=False),  # ok | error class name
    Column("error", Text, nullable=True),
    Column("input_tokens", Integer, nullable=True),
    Column("output_tokens", Integer, nullable=True),
    Column("images", Integer, nullable=False, default=0),
    Column("cost_usd", Float, nullable=False, default=0.0),
    # the workflow step that made this call: a replayed step finds its row and does not
    # call, store or charge again (unique; null for calls made outside a workflow)
    Column("step_key", String(300), nullable=True),
    # automatic QA retries are recorded with their cost but never charged to the person
    Column("charged", Boolean, nullable=False, default=True, server_default=true()),
    Column("qa_ok", Boolean, nullable=True),
    Column("qa_reasons", JSONType, nullable=True),
    _ts("created_at", nullable=False, default=utcnow),
    # covers the admin's calls per provider per day (PostgreSQL: index-only scans)
    Index("ix_calls_created_provider", "created_at", "provider",
          postgresql_include=["kind", "outcome", "latency_ms", "cost_usd"]),
    Index("ix_calls_provider", "provider", "created_at"),
    Index("ix_calls_approval", "approval_id"),
    Index("ix_calls_user_created", "user_id", "created_at"),
    Index("uq_calls_step_key", "step_key", unique=True),
)

# "stay signed in": one row per browser that chose to stay signed in. Only a hash of
# the cookie's random token is kept, so a copy of the database signs nobody in.
# Touched only by SYSTEM (sign-in, sign-out); RLS gives members no access at all.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("expires_at", nullable=False),
    Index("ix_sessions_user", "user_id"),
    Index("ix_sessions_expires", "expires_at"),
)

# Durable execution (viewgen.durable). One row per executor process: the embedded one in
# each app replica and every `python -m viewgen worker`. A live executor takes over the
# pending workflows of one whose heartbeat stopped (recovered_by records who did).
workers = Table(
    "workers",
    metadata,
    Column("id", String(100), primary_key=True),  # the DBOS executor id
    Column("kind", String(16), nullable=False),  # embedded | worker | off
    Column("host", String(200), nullable=False, default=""),
    Column("pid", Integer, nullable=False, default=0),
    _ts("started_at", nullable=False, default=utcnow),
    _ts("heartbeat_at", nullable=False, default=utcnow),
    Column("recovered_by", String(100), nullable=True),
    _ts("recovered_at", nullable=True),
)

BATCH_STATES = ("running", "paused", "cancelled", "complete")
ROW_STATES = ("queued", "generating", "review", "complete", "failed", "cancelled", "skipped")

# A CSV batch and its rows. A row becomes one product (approval) when it runs.
batches = Table(
    "batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="running"),
    Column("total", Integer, nullable=False, default=0),
    Column("price_per_row", Integer, nullable=False, default=0),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    _ts("finished_at", nullable=True),
    CheckConstraint(_in("status", BATCH_STATES), name="ck_batches_status"),
    Index("ix_batches_user_created", "user_id", "created_at"),
)

batch_rows = Table(
    "batch_rows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(36), ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("sku", String(200), nullable=False),
    Column("input_text", Text, nullable=True),
    Column("image_key", Text, nullable=True),
    Column("logo_key", Text, nullable=True),
    Column("auto_approve", Boolean, nullable=False, default=True),
    Column("status", String(16), nullable=False, default="queued"),
    Column(
        "approval_id", String(36),
        ForeignKey("product_view_approvals.id", ondelete="SET NULL"), nullable=True,
    ),
    Column("error", Text, nullable=True),
    Column("attempt", Integer, nullable=False, default=1),
    # the row's front price, reserved when the batch starts (refunded if it never runs)
    Column("reservation_id", Integer, nullable=True),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("updated_at", nullable=False, default=utcnow, onupdate=utcnow),
    CheckConstraint(_in("status", ROW_STATES), name="ck_batch_rows_status"),
    UniqueConstraint("batch_id", "row_number", name="uq_batch_rows_number"),
    Index("ix_batch_rows_batch", "batch_id", "row_number"),
    Index("ix_batch_rows_approval", "approval_id"),
)

# per-user API tokens for the HTTP API (viewgen.tokens): only the SHA-256 of a token is
# kept, so a copy of the database authenticates nobody. A revoked token keeps its row
# (revoked_at) so the owner's list shows what was revoked and when.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    _ts("created_at", nullable=False, default=utcnow),
    _ts("last_used_at", nullable=True),
    _ts("revoked_at", nullable=True),
    Index("ix_api_tokens_user", "user_id", "created_at"),
)

# the HTTP API's per-token rate limit, shared by every API process on this database: one
# row per API token (or Supabase user), kept by a conditional UPDATE (GCRA): the request
# is allowed when ``tat`` ("theoretical arrival time", epoch seconds) is not more than the
# burst ahead of now, and moves it one interval on (viewgen.api.ratelimit)
api_rate_limits = Table(
    "api_rate_limits",
    metadata,
    Column("key", String(100), primary_key=True),  # token:<id> | user:<id>
    Column("tat", Float, nullable=False),
)

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("name", String(100), primary_key=True),
    _ts("applied_at", nullable=False, default=utcnow),
)

# tables that belong to one user (RLS and the Repository scope them by user_id)
USER_TABLES = (
    projects,
    product_view_approvals,
    view_revision_history,
    revisions,
    credit_ledger,
    generation_calls,
    batches,
    batch_rows,
)

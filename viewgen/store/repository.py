"""The Repository: every read and write of viewgen's tables, scoped to a user.

Work happens inside ``repo.tx(actor)``: one transaction whose ``Tx`` methods all
filter by the actor's ``user_id`` unless the actor is an admin (who sees all), or the
actor is ``SYSTEM`` (start-up reconciliation, sign-in). Another user's row is
reported as not found, never as forbidden, so ids leak nothing. Write transactions
take the write lock up front (``BEGIN IMMEDIATE`` on SQLite; row locks on
PostgreSQL) so credit reservation cannot race. ``_on_begin`` is the hook where the
PostgreSQL backend sets the user's claims for Row Level Security.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import IntegrityError

from viewgen import states
from viewgen.domain import (
    STORED_VIEWS,
    Approval,
    ExtractedFeatures,
    HistoryEntry,
    InputType,
    Project,
    Revision,
    Role,
    Status,
    User,
    ViewImage,
    ViewType,
)
from viewgen.errors import AuthError, IllegalTransition, InvalidInput, NotFound, PermissionDenied
from viewgen.store import schema as t
from viewgen.store.engine import IMMEDIATE, is_sqlite
from viewgen.store.migrations import migrate

SYSTEM = User(id="system", email="system@viewgen.local", display_name="system", role=Role.ADMIN)


def new_id() -> str:
    return str(uuid.uuid4())


class Repository:
    """Owns the engine; hands out scoped transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def migrate(self) -> list[str]:
        with self.engine.connect() as conn:
            conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                return migrate(conn)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def tx(self, actor: User, *, write: bool = False) -> Iterator[Tx]:
        with self.engine.connect() as conn:
            if write and is_sqlite(self.engine):
                conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                self._on_begin(conn, actor, write)
                yield Tx(conn, actor)

    def _on_begin(self, conn: Connection, actor: User, write: bool) -> None:
        """Per-transaction set-up; the PostgreSQL/RLS backend overrides this."""

    # -- convenience reads (one transaction each) ---------------------------------
    def get_approval(self, actor: User, approval_id: str) -> Approval:
        with self.tx(actor) as tx:
            return tx.get_approval(approval_id)

    def list_approvals(self, actor: User, **filters: Any) -> list[Approval]:
        with self.tx(actor) as tx:
            return tx.list_approvals(**filters)

    def list_history(self, actor: User, approval_id: str) -> list[HistoryEntry]:
        with self.tx(actor) as tx:
            return tx.list_history(approval_id)

    def list_revisions(self, actor: User, project_id: str) -> list[Revision]:
        with self.tx(actor) as tx:
            return tx.list_revisions(project_id)

    def list_projects(self, actor: User) -> list[Project]:
        with self.tx(actor) as tx:
            return tx.list_projects()


def _user(row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name or "",
        role=Role(row.role),
        created_at=row.created_at,
    )


def _approval(row: Any) -> Approval:
    m = row._mapping
    views = {
        v: ViewImage(view=v, key=m[f"{v.value}_key"], prompt=m[f"{v.value}_prompt"])
        for v in STORED_VIEWS
    }
    features = m["extracted_features"]
    return Approval(
        id=m["id"],
        user_id=m["user_id"],
        project_id=m["project_id"],
        session_id=m["session_id"],
        input_type=InputType(m["input_type"]),
        input_text=m["input_text"],
        reference_key=m["reference_key"],
        logo_key=m["logo_key"],
        views=views,
        extracted_features=ExtractedFeatures.model_validate(features) if features else None,
        status=Status(m["status"]),
        user_feedback=m["user_feedback"],
        error=m["error"],
        view_errors=m["view_errors"] or {},
        consistency=m["consistency"] or {},
        feedback_history=m["feedback_history"] or [],
        rejection_count=m["rejection_count"] or 0,
        seed=m["seed"] or 0,
        workflow_id=m["workflow_id"],
        qa=m["qa"] or {},
        created_at=m["created_at"],
        approved_at=m["approved_at"],
        updated_at=m["updated_at"],
    )


def _revision(row: Any) -> Revision:
    m = row._mapping
    return Revision(
        id=m["id"],
        project_id=m["project_id"],
        approval_id=m["approval_id"],
        revision_number=m["revision_number"],
        user_prompt=m["user_prompt"],
        image_data=m["image_data"] or {},
        changes_made=m["changes_made"] or {},
        created_at=m["created_at"],
    )


class Tx:
    """One transaction on behalf of ``actor``; every query is scoped to them."""

    def __init__(self, conn: Connection, actor: User) -> None:
        self.conn = conn
        self.actor = actor

    # -- scoping ------------------------------------------------------------------
    @property
    def sees_all(self) -> bool:
        return self.actor.is_admin

    def _scope(self, table, stmt):
        if self.sees_all:
            return stmt
        return stmt.where(table.c.user_id == self.actor.id)

    def _require_admin(self) -> None:
        if not self.sees_all:
            raise PermissionDenied("Only an admin can do that.")

    @property
    def _locks_rows(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    # -- users --------------------------------------------------------------------
    def insert_user(
        self, email: str, *, display_name: str = "", role: Role = Role.MEMBER,
        password_hash: str | None = None, user_id: str | None = None,
    ) -> User:
        email = email.strip().lower()
        uid = user_id or new_id()
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    t.users.insert().values(
                        id=uid, email=email, display_name=display_name or email.split("@")[0],
                        role=role.value, password_hash=password_hash,
                    )
                )
        except IntegrityError as exc:
            raise AuthError(f"An account for {email} already exists.") from exc
        return self.get_user(uid)

    def get_user(self, user_id: str) -> User:
        if not self.sees_all and user_id != self.actor.id:
            raise NotFound("That user was not found.")
        row = self.conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
        if row is None:
            raise NotFound("That user was not found.")
        return _user(row)

    def user_credentials(self, email: str) -> tuple[User, str | None] | None:
        """For sign-in only (SYSTEM actor): the user and their password hash."""
        self._require_admin()
        row = self.conn.execute(
            select(t.users).where(t.users.c.email == email.strip().lower())
        ).first()
        return (_user(row), row.password_hash) if row else None

    def count_users(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(t.users)).scalar_one())

    def list_users(self) -> list[User]:
        self._require_admin()
        rows = self.conn.execute(select(t.users).order_by(t.users.c.created_at)).all()
        return [_user(r) for r in rows]

    def set_role(self, user_id: str, role: Role) -> None:
        self._require_admin()
        self.conn.execute(t.users.update().where(t.users.c.id == user_id).values(role=role.value))

    # -- "stay signed in" sessions (SYSTEM only: sign-in and sign-out) --------------
    def insert_session(self, token_hash: str, user_id: str, expires_at: datetime) -> None:
        self._require_admin()
        self.conn.execute(t.sessions.insert().values(
            token_hash=token_hash, user_id=user_id, expires_at=expires_at))

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The user of an unexpired session, or None."""
        self._require_admin()
        row = self.conn.execute(
            select(t.users).join(t.sessions, t.sessions.c.user_id == t.users.c.id)
            .where(t.sessions.c.token_hash == token_hash, t.sessions.c.expires_at > now)
        ).first()
        return _user(row) if row else None

    def delete_session(self, token_hash: str) -> None:
        self._require_admin()
        self.conn.execute(t.sessions.delete().where(t.sessions.c.token_hash == token_hash))

    def delete_expired_sessions(self, now: datetime) -> int:
        self._require_admin()
        return self.conn.execute(
            t.sessions.delete().where(t.sessions.c.expires_at <= now)).rowcount

    def lock_user(self, user_id: str) -> None:
        """Serialise credit changes for one user (PostgreSQL row lock).

        ``FOR NO KEY UPDATE``, not ``FOR UPDATE``: inserting a row whose foreign key
        points at the user takes a KEY SHARE lock on the user row earlier in the same
        transaction, and two such transactions upgrading to ``FOR UPDATE`` deadlock.
        NO KEY UPDATE does not conflict with KEY SHARE but still conflicts with itself,
        so reservations for one user stay serialised.
        """
        if self._locks_rows:
            self.conn.execute(
                select(t.users.c.id)
                .where(t.users.c.id == user_id)
                .with_for_update(key_share=True)
            )

    # -- projects -----------------------------------------------------------------
    def insert_project(self, name: str) -> Project:
        pid = new_id()
        self.conn.execute(
            t.projects.insert().values(id=pid, user_id=self.actor.id, name=name[:200])
        )
        return self.get_project(pid)

    def get_project(self, project_id: str) -> Project:
        row = self.conn.execute(
            self._scope(t.projects, select(t.projects).where(t.projects.c.id == project_id))
        ).first()
        if row is None:
            raise NotFound("That project was not found.")
        return Project(id=row.id, user_id=row.user_id, name=row.name, created_at=row.created_at)

    def list_projects(self) -> list[Project]:
        stmt = self._scope(t.projects, select(t.projects).order_by(t.projects.c.created_at.desc()))
        return [
            Project(id=r.id, user_id=r.user_id, name=r.name, created_at=r.created_at)
            for r in self.conn.execute(stmt)
        ]

    # -- approvals ----------------------------------------------------------------
    def insert_approval(
        self, *, project_id: str, input_type: InputType, input_text: str | None,
        status: Status, seed: int, session_id: str | None = None,
        approval_id: str | None = None,
    ) -> Approval:
        self.get_project(project_id)  # scoped: refuses someone else's project
        aid = approval_id or new_id()
        self.conn.execute(
            t.product_view_approvals.insert().values(
                id=aid, user_id=self.actor.id, project_id=project_id, session_id=session_id,
                input_type=input_type.value, input_text=input_text, status=status.value,
                seed=seed, feedback_history=[], view_errors={}, consistency={}, qa={},
            )
        )
        return self.get_approval(aid)

    def get_approval(self, approval_id: str, *, for_update: bool = False) -> Approval:
        a = t.product_view_approvals
        stmt = self._scope(a, select(a).where(a.c.id == approval_id))
        if for_update and self._locks_rows:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        if row is None:
            raise NotFound("That product was not found.")
        return _approval(row)

    def update_approval(self, approval_id: str, **values: Any) -> None:
        a = t.product_view_approvals
        values = {k: (v.value if isinstance(v, Status) else v) for k, v in values.items()}
        stmt = a.update().where(a.c.id == approval_id)
        if not self.sees_all:
            stmt = stmt.where(a.c.user_id == self.actor.id)
        if self.conn.execute(stmt.values(**values)).rowcount != 1:
            raise NotFound("That product was not found.")

    def set_view(self, approval_id: str, view: ViewType, key: str | None,
                 prompt: str | None) -> None:
        self.update_approval(
            approval_id, **{f"{view.value}_key": key, f"{view.value}_prompt": prompt}
        )

    def transition(self, approval_id: str, current: Status, target: Status, *,
                   action: str = "", **values: Any) -> None:
        """Move ``current -> target`` if the state machine allows it and nobody moved first."""
        states.check(current, target, action=action)
        a = t.product_view_approvals
        stmt = a.update().where(a.c.id == approval_id, a.c.status == current.value)
        if not self.sees_all:
            stmt = stmt.where(a.c.user_id == self.actor.id)
        result = self.conn.execute(stmt.values(status=target.value, **values))
        if result.rowcount != 1:
            now = self.get_approval(approval_id)
            raise IllegalTransition(
                f"Can't {action or 'do that'} now: this product changed meanwhile "
                f"(it is {now.status.value.replace('_', ' ')}).",
                detail=f"expected {current.value}, found {now.status.value}",
            )

    def merge_json(self, approval_id: str, column: str, patch: dict[str, Any],
                   remove: Sequence[str] = ()) -> dict[str, Any]:
        """Read-modify-write of a JSON column under the transaction's write lock."""
        a = t.product_view_approvals
        stmt = self._scope(a, select(a.c[column]).where(a.c.id == approval_id))
        if self._locks_rows:
            stmt = stmt.with_for_update()
        current = self.conn.execute(stmt).scalar_one_or_none()
        merged = dict(current or {})
        merged.update(patch)
        for key in remove:
            merged.pop(key, None)
        self.update_approval(approval_id, **{column: merged})
        return merged

    def set_approved_features(self, approval_id: str,
                              features_json: ExtractedFeatures | dict[str, Any]) -> None:
        """Store the person's corrected features; the views are generated from these.

        Only for an approved front whose views have not started (status ``approved``).
        The first correction moves the extracted record to ``extracted_features_original``
        (``COALESCE``: later corrections never overwrite it), so the record keeps both
        versions. Bad features (a hex that is not #RRGGBB, a negative size) raise
        ``InvalidInput`` and change nothing.
        """
        try:
            features = ExtractedFeatures.model_validate(
                features_json.model_dump(mode="json")
                if isinstance(features_json, ExtractedFeatures) else features_json)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem.get("loc", ()))
            raise InvalidInput(
                f"These features cannot be saved: {where}: "
                f"{str(problem.get('msg', 'invalid')).removeprefix('Value error, ')}."
            ) from None
        a = t.product_view_approvals
        stmt = a.update().where(
            a.c.id == approval_id, a.c.status == Status.APPROVED.value,
            a.c.extracted_features.is_not(None),
        )
        if not self.sees_all:
            stmt = stmt.where(a.c.user_id == self.actor.id)
        result = self.conn.execute(stmt.values(
            extracted_features_original=func.coalesce(
                a.c.extracted_features_original, a.c.extracted_features),
            extracted_features=features.model_dump(mode="json"),
        ))
        if result.rowcount != 1:
            now = self.get_approval(approval_id)  # NotFound for someone else's product
            raise IllegalTransition(
                "The features can be corrected only after the front is approved and before "
                f"the other views are generated (this product is "
                f"{now.status.value.replace('_', ' ')}).",
                detail=f"expected approved, found {now.status.value}",
            )

    def feature_versions(
        self, approval_id: str,
    ) -> tuple[ExtractedFeatures | None, ExtractedFeatures | None]:
        """``(as extracted, as approved)``; the same record twice if never corrected."""
        a = t.product_view_approvals
        row = self.conn.execute(self._scope(a, select(
            a.c.extracted_features_original, a.c.extracted_features,
        ).where(a.c.id == approval_id))).first()
        if row is None:
            raise NotFound("That product was not found.")
        original, approved = row
        approved_features = ExtractedFeatures.model_validate(approved) if approved else None
        if original is None:
            return approved_features, approved_features
        return ExtractedFeatures.model_validate(original), approved_features

    def list_approvals(
        self, *, project_id: str | None = None, statuses: Sequence[Status] | None = None,
        limit: int = 50, offset: int = 0, user_id: str | None = None,
    ) -> list[Approval]:
        a = t.product_view_approvals
        stmt = self._scope(a, select(a))
        if project_id:
            stmt = stmt.where(a.c.project_id == project_id)
        if statuses:
            stmt = stmt.where(a.c.status.in_([s.value for s in statuses]))
        if user_id:
            stmt = stmt.where(a.c.user_id == user_id)
        stmt = stmt.order_by(a.c.created_at.desc(), a.c.id).limit(limit).offset(offset)
        return [_approval(r) for r in self.conn.execute(stmt)]

    def stuck_approvals(self, older_than: datetime) -> list[Approval]:
        self._require_admin()
        a = t.product_view_approvals
        stmt = select(a).where(
            a.c.status.in_([s.value for s in states.GENERATING]), a.c.updated_at < older_than
        )
        return [_approval(r) for r in self.conn.execute(stmt)]

    # -- history ------------------------------------------------------------------
    def insert_history(
        self, approval: Approval, view: ViewType, image_key: str, prompt: str | None,
        user_feedback: str | None, reason: str,
    ) -> None:
        self.conn.execute(
            t.view_revision_history.insert().values(
                approval_id=approval.id, user_id=approval.user_id, view_type=view.value,
                image_key=image_key, prompt=prompt, user_feedback=user_feedback, reason=reason,
            )
        )

    def list_history(self, approval_id: str) -> list[HistoryEntry]:
        self.get_approval(approval_id)
        h = t.view_revision_history
        stmt = select(h).where(h.c.approval_id == approval_id).order_by(h.c.created_at, h.c.id)
        return [
            HistoryEntry(
                id=r.id, approval_id=r.approval_id, view_type=ViewType(r.view_type),
                image_key=r.image_key, prompt=r.prompt, user_feedback=r.user_feedback,
                created_at=r.created_at, reason=r.reason,
            )
            for r in self.conn.execute(stmt)
        ]

    # -- revisions ----------------------------------------------------------------
    def insert_revision(
        self, approval: Approval, *, user_prompt: str | None, image_data: dict[str, Any],
        changes_made: dict[str, Any],
    ) -> Revision:
        r = t.revisions
        if self._locks_rows:  # serialise numbering per project
            self.conn.execute(
                select(t.projects.c.id).where(t.projects.c.id == approval.project_id)
                .with_for_update()
            )
        number = self.conn.execute(
            select(func.coalesce(func.max(r.c.revision_number), 0)).where(
                r.c.project_id == approval.project_id
            )
        ).scalar_one() + 1
        rid = self.conn.execute(
            r.insert().values(
                project_id=approval.project_id, approval_id=approval.id,
                user_id=approval.user_id, revision_number=number, user_prompt=user_prompt,
                image_data=image_data, changes_made=changes_made,
            ).returning(r.c.id)
        ).scalar_one()
        row = self.conn.execute(select(r).where(r.c.id == rid)).one()
        return _revision(row)

    def list_revisions(self, project_id: str) -> list[Revision]:
        r = t.revisions
        stmt = self._scope(
            r, select(r).where(r.c.project_id == project_id).order_by(r.c.revision_number)
        )
        return [_revision(row) for row in self.conn.execute(stmt)]

    def revisions_for(self, approval_id: str) -> list[Revision]:
        r = t.revisions
        stmt = self._scope(
            r, select(r).where(r.c.approval_id == approval_id).order_by(r.c.revision_number)
        )
        return [_revision(row) for row in self.conn.execute(stmt)]

    # -- provider calls -----------------------------------------------------------
    def insert_call(self, *, approval: Approval | None, view: ViewType | None, kind: str,
                    provider: str, model: str, attempts: int, latency_ms: float,
                    outcome: str, error: str | None = None, input_tokens: int | None = None,
                    output_tokens: int | None = None, images: int = 0,
                    cost_usd: float = 0.0, step_key: str | None = None,
                    charged: bool = True, qa_ok: bool | None = None,
                    qa_reasons: list[str] | None = None) -> None:
        self.conn.execute(
            t.generation_calls.insert().values(
                approval_id=approval.id if approval else None,
                user_id=approval.user_id if approval else self.actor.id,
                view_type=view.value if view else None, kind=kind, provider=provider,
                model=model, attempts=attempts, latency_ms=latency_ms, outcome=outcome,
                error=error, input_tokens=input_tokens, output_tokens=output_tokens,
                images=images, cost_usd=cost_usd, step_key=step_key, charged=charged,
                qa_ok=qa_ok, qa_reasons=qa_reasons,
            )
        )

    def call_for_step(self, step_key: str) -> dict[str, Any] | None:
        """The call a workflow step recorded, if it got that far (replay guard)."""
        c = t.generation_calls
        row = self.conn.execute(self._scope(c, select(c).where(c.c.step_key == step_key))).first()
        return dict(row._mapping) if row else None

    def list_calls(self, approval_id: str) -> list[dict[str, Any]]:
        c = t.generation_calls
        stmt = self._scope(c, select(c).where(c.c.approval_id == approval_id).order_by(c.c.id))
        return [dict(r._mapping) for r in self.conn.execute(stmt)]

    # -- blobs --------------------------------------------------------------------
    def owns_key(self, key: str) -> bool:
        """Whether ``key`` belongs to an approval this actor may see."""
        if self.sees_all:
            return True
        return key.split("/", 1)[0] == self.actor.id

    def approval_exists(self, approval_id: str) -> bool:
        a = t.product_view_approvals
        return self.conn.execute(
            self._scope(a, select(a.c.id).where(and_(a.c.id == approval_id)))
        ).first() is not None

"""The credit ledger: grant, reserve -> commit | refund, and the balance.

Balance = sum of granted, committed and reserved rows, so a reservation already
counts against the balance while its provider call runs. ``reserve`` runs inside a
write transaction that holds the user's lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT
... FOR UPDATE`` on the user's row on PostgreSQL), so two concurrent requests can never
both spend the last credits. Prices come from settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from viewgen.domain import LedgerEntry, LedgerState
from viewgen.errors import InsufficientCredits, InvalidInput
from viewgen.settings import Settings
from viewgen.store import schema as t
from viewgen.store.repository import Tx

COUNTED = (LedgerState.GRANTED.value, LedgerState.COMMITTED.value, LedgerState.RESERVED.value)


@dataclass(frozen=True)
class Prices:
    front: int
    retry: int
    view: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Prices:
        return cls(front=settings.price_front, retry=settings.price_retry, view=settings.price_view)

    def for_front(self, *, after_rejection: bool) -> int:
        return self.retry if after_rejection else self.front

    def for_views(self, count: int) -> int:
        return self.view * count

    def whole_product(self) -> int:
        return self.front + 4 * self.view


def balance(tx: Tx, user_id: str) -> int:
    ledger = t.credit_ledger
    stmt = select(func.coalesce(func.sum(ledger.c.delta), 0)).where(
        ledger.c.user_id == user_id, ledger.c.state.in_(COUNTED)
    )
    return int(tx.conn.execute(stmt).scalar_one())


def grant(tx: Tx, user_id: str, amount: int, reason: str = "grant") -> int:
    if amount <= 0:
        raise InvalidInput("A grant must be a positive number of credits.")
    tx.lock_user(user_id)
    return _insert(tx, user_id, amount, reason, None, LedgerState.GRANTED)


def reserve(tx: Tx, user_id: str, amount: int, reason: str, approval_id: str | None) -> int:
    """Hold ``amount`` credits; raises ``InsufficientCredits`` and writes nothing if short."""
    if amount <= 0:
        raise InvalidInput("A price must be a positive number of credits.")
    tx.lock_user(user_id)
    available = balance(tx, user_id)
    if available < amount:
        raise InsufficientCredits(
            f"This needs {amount} credits and you have {available}. "
            "Ask an admin for more credits.",
            needed=amount,
            balance=available,
        )
    return _insert(tx, user_id, -amount, reason, approval_id, LedgerState.RESERVED)


def commit(tx: Tx, entry_id: int) -> None:
    _settle(tx, entry_id, LedgerState.COMMITTED)


def refund(tx: Tx, entry_id: int) -> None:
    _settle(tx, entry_id, LedgerState.REFUNDED)


def _settle(tx: Tx, entry_id: int, state: LedgerState) -> None:
    ledger = t.credit_ledger
    result = tx.conn.execute(
        ledger.update()
        .where(ledger.c.id == entry_id, ledger.c.state == LedgerState.RESERVED.value)
        .values(state=state.value)
    )
    if result.rowcount != 1:
        raise InvalidInput(f"Ledger entry {entry_id} is not an open reservation.")


def open_reservations(tx: Tx, approval_id: str) -> list[int]:
    ledger = t.credit_ledger
    stmt = select(ledger.c.id).where(
        ledger.c.approval_id == approval_id, ledger.c.state == LedgerState.RESERVED.value
    )
    return list(tx.conn.execute(stmt).scalars())


def entries(tx: Tx, user_id: str, limit: int = 200) -> list[LedgerEntry]:
    ledger = t.credit_ledger
    stmt = (
        select(ledger)
        .where(ledger.c.user_id == user_id)
        .order_by(ledger.c.created_at.desc(), ledger.c.id.desc())
        .limit(limit)
    )
    if not tx.sees_all and user_id != tx.actor.id:
        return []
    return [
        LedgerEntry(
            id=r.id, user_id=r.user_id, delta=r.delta, reason=r.reason,
            approval_id=r.approval_id, state=LedgerState(r.state), created_at=r.created_at,
        )
        for r in tx.conn.execute(stmt)
    ]


def _insert(tx: Tx, user_id: str, delta: int, reason: str, approval_id: str | None,
            state: LedgerState) -> int:
    ledger = t.credit_ledger
    return int(
        tx.conn.execute(
            ledger.insert()
            .values(user_id=user_id, delta=delta, reason=reason, approval_id=approval_id,
                    state=state.value)
            .returning(ledger.c.id)
        ).scalar_one()
    )


def settle(tx: Tx, entry_id: int | None, *, commit: bool) -> None:
    """Commit or refund a reservation; ``None`` (nothing was reserved, a zero price) is
    a no-op, and so is an entry already settled (a replayed workflow step)."""
    if not entry_id:
        return
    ledger = t.credit_ledger
    tx.conn.execute(
        ledger.update()
        .where(ledger.c.id == entry_id, ledger.c.state == LedgerState.RESERVED.value)
        .values(state=(LedgerState.COMMITTED if commit else LedgerState.REFUNDED).value)
    )


def attach(tx: Tx, entry_id: int | None, approval_id: str) -> None:
    """Point an open reservation (a batch row's, made up front) at the product it pays for."""
    if not entry_id:
        return
    ledger = t.credit_ledger
    tx.conn.execute(
        ledger.update()
        .where(ledger.c.id == entry_id, ledger.c.state == LedgerState.RESERVED.value)
        .values(approval_id=approval_id)
    )

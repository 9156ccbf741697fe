"""The credit ledger: grant, reserve -> commit | refund, the balance, and the prices.

Balance = sum of granted, committed and reserved rows, so a reservation already
counts against the balance while its provider call runs. ``reserve`` runs inside a
write transaction that holds the user's lock (``BEGIN IMMEDIATE`` on SQLite, ``SELECT
... FOR NO KEY UPDATE`` on the user's row on PostgreSQL), so two concurrent requests
can never both spend the last credits. Every helper acts only for the transaction's
actor (a member touching another user's id or entry gets *not found*, as if it did not
exist); admins and ``SYSTEM`` may act for anyone, and only they may grant. A price of 0
is valid: ``reserve`` then writes no row and returns ``FREE``, which ``commit`` and
``refund`` accept and ignore, so the ledger's rule "a spending row has delta < 0" and
every existing ledger stay valid. ``Prices`` (from settings) answers "what does the next
step cost?" the same way for the UI, the CLI and the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import func, select

from viewgen.domain import OTHER_VIEWS, Approval, LedgerEntry, LedgerState, Status, ViewType
from viewgen.errors import InsufficientCredits, InvalidInput, NotFound, PermissionDenied
from viewgen.settings import Settings
from viewgen.store import schema as t
from viewgen.store.repository import Tx

COUNTED = (LedgerState.GRANTED.value, LedgerState.COMMITTED.value, LedgerState.RESERVED.value)

FREE: Final = 0
"""What ``reserve`` returns for a zero price: no ledger row; commit and refund ignore it.
Ledger ids start at 1 on SQLite and PostgreSQL, so 0 never names a real entry."""

Action = Literal["front", "retry", "views", "regenerate", "none"]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Quote:
    """The price of one next action, as every surface shows it."""

    action: Action
    credits: int
    views: tuple[ViewType, ...] = ()

    @property
    def free(self) -> bool:
        return self.credits == 0

    def text(self) -> str:
        """``"3 credits"``, ``"1 credit"``, ``"free"``: the words before a button."""
        if self.credits == 0:
            return "free"
        return f"{self.credits} credit{'s' if self.credits != 1 else ''}"

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "credits": self.credits,
                "views": [v.value for v in self.views]}


@dataclass(frozen=True)
class Prices:
    """Prices in credits. ``view`` is a view's first image (included in the product by
    default: 0); ``regenerate`` is each later image of a view that already has one;
    ``hero`` is the optional three-quarter hero view's first image (an add-on: 1 by
    default), and a hero that exists is regenerated at ``regenerate`` like any view."""

    front: int
    retry: int
    view: int
    regenerate: int = 1
    hero: int = 1

    def __post_init__(self) -> None:
        for name in ("front", "retry", "view", "regenerate", "hero"):
            value = getattr(self, name)
            if not _whole(value) or value < 0:
                raise InvalidInput(
                    f"The {name} price must be a whole number of credits, 0 or more; "
                    f"got {value!r}.")

    @classmethod
    def from_settings(cls, settings: Settings) -> Prices:
        return cls(front=settings.price_front, retry=settings.price_retry,
                   view=settings.price_view, regenerate=settings.price_regenerate,
                   hero=settings.price_hero)

    # -- one price ------------------------------------------------------------------
    def for_front(self, *, after_rejection: bool) -> int:
        return self.retry if after_rejection else self.front

    def for_view(self, approval: Approval | None, view: ViewType) -> int:
        """A view's price: ``regenerate`` if it has an image already, else ``view`` (the
        hero's first image: ``hero``)."""
        if view == ViewType.FRONT:
            raise InvalidInput("The front is priced by for_front, not as a view.")
        if approval is not None and approval.key(view):
            return self.regenerate
        return self.hero if view == ViewType.HERO else self.view

    def for_views(self, count: int, *, regenerating: bool = False) -> int:
        """``count`` views at the first-time price, or at the regenerate price."""
        return (self.regenerate if regenerating else self.view) * count

    def whole_product(self) -> int:
        """A product's front and its four other views, without rejections."""
        return self.front + len(OTHER_VIEWS) * self.view

    # -- quotes: the price of the next action -----------------------------------------
    def quote_front(self) -> Quote:
        return Quote("front", self.front)

    def quote_retry(self, approval: Approval | None = None) -> Quote:
        """A new front: ``retry`` when it follows a rejection (or the rejection about to
        be made in front review); a front that failed before any rejection is charged
        at the front price again, as ``Studio.retry_front`` does."""
        after_rejection = not (approval is not None and approval.status == Status.FAILED
                               and approval.rejection_count == 0)
        return Quote("retry", self.for_front(after_rejection=after_rejection))

    def quote_views(self, approval: Approval,
                    views: Iterable[ViewType] | None = None) -> Quote:
        """The other views (default: every one still missing), each at its own price."""
        chosen = tuple(approval.missing_views if views is None else views)
        total = sum(self.for_view(approval, v) for v in chosen)
        regenerating = bool(chosen) and all(approval.key(v) for v in chosen)
        return Quote("regenerate" if regenerating else "views", total, chosen)

    def quote_regenerate(self, count: int) -> Quote:
        """``count`` existing views regenerated later."""
        return Quote("regenerate", self.regenerate * count)

    def next_quote(self, approval: Approval | None) -> Quote:
        """What the next paid step of ``approval`` (None: a new product) costs."""
        if approval is None:
            return self.quote_front()
        status = approval.status
        front_approved = approval.extracted_features is not None
        if status == Status.INPUT:
            return self.quote_front()
        if status == Status.REVISION_REQUESTED or (
                status == Status.FAILED and not front_approved):
            return self.quote_retry(approval)
        if status in (Status.FRONT_REVIEW, Status.APPROVED) or (
                status == Status.FAILED and front_approved):
            # approving is free; the views it leads to are what the person pays next
            return self.quote_views(approval)
        if status == Status.COMPLETE:
            return self.quote_regenerate(1)
        return Quote("none", 0)  # generating: nothing to pay until it ends

    def as_json(self) -> dict[str, int]:
        return {"front": self.front, "retry": self.retry, "view": self.view,
                "regenerate": self.regenerate, "hero": self.hero,
                "product": self.whole_product()}


# -- the ledger -----------------------------------------------------------------------


def _act_for(tx: Tx, user_id: str) -> None:
    """Members act only for themselves; another user's id is not found."""
    if not tx.sees_all and user_id != tx.actor.id:
        raise NotFound("That user was not found.")


def balance(tx: Tx, user_id: str) -> int:
    _act_for(tx, user_id)
    ledger = t.credit_ledger
    stmt = select(func.coalesce(func.sum(ledger.c.delta), 0)).where(
        ledger.c.user_id == user_id, ledger.c.state.in_(COUNTED)
    )
    return int(tx.conn.execute(stmt).scalar_one())


def grant(tx: Tx, user_id: str, amount: int, reason: str = "grant") -> int:
    if not tx.sees_all:
        raise PermissionDenied("Only an admin can grant credits.")
    if not _whole(amount) or amount <= 0:
        raise InvalidInput("A grant must be a positive whole number of credits.")
    tx.lock_user(user_id)
    return _insert(tx, user_id, amount, reason, None, LedgerState.GRANTED)


def reserve(tx: Tx, user_id: str, amount: int, reason: str, approval_id: str | None) -> int:
    """Hold ``amount`` credits and return the entry id (``FREE`` for 0, writing nothing).

    Raises ``InsufficientCredits`` and writes nothing if the balance is short.
    """
    if not _whole(amount) or amount < 0:
        raise InvalidInput("A price must be a whole number of credits, 0 or more.")
    _act_for(tx, user_id)
    if amount == 0:
        return FREE
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
    if entry_id == FREE:
        return  # a free step: nothing was reserved
    ledger = t.credit_ledger
    stmt = ledger.update().where(
        ledger.c.id == entry_id, ledger.c.state == LedgerState.RESERVED.value)
    if not tx.sees_all:  # another user's entry reads as no open reservation at all
        stmt = stmt.where(ledger.c.user_id == tx.actor.id)
    if tx.conn.execute(stmt.values(state=state.value)).rowcount != 1:
        raise InvalidInput(f"Ledger entry {entry_id} is not an open reservation.")


def open_reservations(tx: Tx, approval_id: str) -> list[int]:
    ledger = t.credit_ledger
    stmt = select(ledger.c.id).where(
        ledger.c.approval_id == approval_id, ledger.c.state == LedgerState.RESERVED.value
    )
    if not tx.sees_all:
        stmt = stmt.where(ledger.c.user_id == tx.actor.id)
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

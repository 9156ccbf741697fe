"""The credit ledger on SQLite and PostgreSQL: grant, reserve -> commit | refund, the
balance, free (zero-price) steps, a member confined to their own credits, atomic
reservation under 50 concurrent threads, and a property test that no sequence of
operations overdraws or unbalances the ledger."""

from __future__ import annotations

import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from viewgen import credits
from viewgen.auth import create_account
from viewgen.domain import InputType, LedgerState, Role, Status, User
from viewgen.errors import InsufficientCredits, InvalidInput, NotFound, PermissionDenied
from viewgen.settings import Settings
from viewgen.store import SYSTEM, Repository
from viewgen.store import schema as t


def _user(repo: Repository, amount: int = 0) -> User:
    return create_account(repo, Settings(), f"{uuid.uuid4().hex[:12]}@example.com",
                          password_hash=None, role=Role.MEMBER, credits_granted=amount)


def _ledger(repo: Repository, user: User) -> list[tuple[int, str]]:
    ledger = t.credit_ledger
    with repo.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(ledger.c.delta, ledger.c.state).where(ledger.c.user_id == user.id)
            .order_by(ledger.c.id))]


def _balance(repo: Repository, user: User) -> int:
    with repo.tx(user) as tx:
        return credits.balance(tx, user.id)


def test_grant_reserve_commit_refund_balance(repo: Repository) -> None:
    user = _user(repo)
    with repo.tx(SYSTEM, write=True) as tx:
        credits.grant(tx, user.id, 10, "welcome")
    with repo.tx(user, write=True) as tx:
        first = credits.reserve(tx, user.id, 3, "front view", None)
        second = credits.reserve(tx, user.id, 2, "retry", None)
        assert credits.balance(tx, user.id) == 5  # reserved credits are already spent
    with repo.tx(user, write=True) as tx:
        credits.commit(tx, first)
        credits.refund(tx, second)
    assert _balance(repo, user) == 7
    assert _ledger(repo, user) == [(10, "granted"), (-3, "committed"), (-2, "refunded")]
    with repo.tx(user) as tx:
        entries = credits.entries(tx, user.id)
    assert [e.state for e in entries] == [LedgerState.REFUNDED, LedgerState.COMMITTED,
                                          LedgerState.GRANTED]


def test_a_reservation_settles_once(repo: Repository) -> None:
    user = _user(repo, 5)
    with repo.tx(user, write=True) as tx:
        entry = credits.reserve(tx, user.id, 2, "front view", None)
        credits.commit(tx, entry)
        with pytest.raises(InvalidInput, match="not an open reservation"):
            credits.refund(tx, entry)
        with pytest.raises(InvalidInput, match="not an open reservation"):
            credits.commit(tx, entry)
    assert _balance(repo, user) == 3


def test_insufficient_credits_writes_nothing(repo: Repository) -> None:
    user = _user(repo, 2)
    before = _ledger(repo, user)
    with pytest.raises(InsufficientCredits) as caught, repo.tx(user, write=True) as tx:
        credits.reserve(tx, user.id, 3, "front view", None)
    assert caught.value.needed == 3 and caught.value.balance == 2
    assert "3 credits" in str(caught.value)
    assert _ledger(repo, user) == before
    for bad in (-1, 2.5, True, "3"):
        with pytest.raises(InvalidInput, match="whole number"), \
                repo.tx(user, write=True) as tx:
            credits.reserve(tx, user.id, bad, "nothing", None)  # type: ignore[arg-type]
    for bad in (-5, 0, 1.5):
        with pytest.raises(InvalidInput), repo.tx(SYSTEM, write=True) as tx:
            credits.grant(tx, user.id, bad)  # type: ignore[arg-type]
    assert _ledger(repo, user) == before


def test_a_zero_price_writes_no_row_and_settles_as_nothing(repo: Repository) -> None:
    # the seed's pricing makes the four other views free: reserve(0) must just work,
    # even with an empty balance, and leave the ledger exactly as it was
    user = _user(repo, 0)
    with repo.tx(user, write=True) as tx:
        entry = credits.reserve(tx, user.id, 0, "back view", None)
        assert entry == credits.FREE
        credits.commit(tx, entry)
        credits.refund(tx, credits.reserve(tx, user.id, 0, "side view", None))
        assert credits.open_reservations(tx, "no-such-approval") == []
    assert _ledger(repo, user) == [] and _balance(repo, user) == 0


def test_a_member_cannot_touch_another_users_credits(repo: Repository) -> None:
    mine, theirs = _user(repo, 5), _user(repo, 9)
    with repo.tx(theirs, write=True) as tx:
        their_entry = credits.reserve(tx, theirs.id, 2, "front view", None)
    before = _ledger(repo, theirs)
    with repo.tx(mine, write=True) as tx:
        with pytest.raises(NotFound):
            credits.balance(tx, theirs.id)
        with pytest.raises(NotFound):
            credits.reserve(tx, theirs.id, 1, "spend theirs", None)
        with pytest.raises(NotFound):  # not even a free step in their name
            credits.reserve(tx, theirs.id, 0, "spend theirs", None)
        for settle in (credits.commit, credits.refund):
            with pytest.raises(InvalidInput, match="not an open reservation"):
                settle(tx, their_entry)
        assert credits.entries(tx, theirs.id) == []
    for who in (mine, theirs):  # a member grants nothing, not even to themselves
        with pytest.raises(PermissionDenied), repo.tx(mine, write=True) as tx:
            credits.grant(tx, who.id, 100)
    assert _ledger(repo, theirs) == before
    assert _ledger(repo, mine) == [(5, "granted")]
    # their own transaction still settles it; an admin and SYSTEM act for anyone
    with repo.tx(theirs, write=True) as tx:
        credits.refund(tx, their_entry)
    boss = create_account(repo, Settings(), f"boss-{uuid.uuid4().hex[:8]}@example.com",
                          password_hash=None, role=Role.ADMIN, credits_granted=0)
    with repo.tx(boss, write=True) as tx:
        credits.grant(tx, mine.id, 3, "admin grant")
        entry = credits.reserve(tx, theirs.id, 4, "front view", None)
        assert credits.balance(tx, theirs.id) == 5
        credits.commit(tx, entry)
    with repo.tx(SYSTEM, write=True) as tx:
        credits.grant(tx, theirs.id, 1)
        assert (credits.balance(tx, mine.id), credits.balance(tx, theirs.id)) == (8, 6)


def test_a_members_open_reservations_list_only_their_own(repo: Repository) -> None:
    mine, theirs = _user(repo, 5), _user(repo, 5)
    with repo.tx(theirs, write=True) as tx:
        project = tx.insert_project("theirs")
        approval = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                      input_text="a mug", status=Status.INPUT, seed=1)
        entry = credits.reserve(tx, theirs.id, 3, "front view", approval.id)
    with repo.tx(mine) as tx:
        assert credits.open_reservations(tx, approval.id) == []
    with repo.tx(theirs) as tx:
        assert credits.open_reservations(tx, approval.id) == [entry]


def test_a_member_sees_only_their_own_entries(repo: Repository) -> None:
    mine, theirs = _user(repo, 4), _user(repo, 9)
    with repo.tx(mine) as tx:
        assert credits.entries(tx, theirs.id) == []
        assert [e.delta for e in credits.entries(tx, mine.id)] == [4]


def test_fifty_threads_reserving_at_once_never_overdraw(repo: Repository) -> None:
    user = _user(repo, 30)
    barrier = threading.Barrier(50, timeout=60)
    outcomes: list[str] = []
    lock = threading.Lock()

    def reserve() -> None:
        try:
            barrier.wait()
            with repo.tx(user, write=True) as tx:
                credits.reserve(tx, user.id, 1, "view", None)
            result = "ok"
        except InsufficientCredits:
            result = "short"
        except BaseException as exc:  # anything else fails the test below
            result = repr(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=reserve) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert sorted(outcomes) == ["ok"] * 30 + ["short"] * 20, outcomes
    assert _balance(repo, user) == 0
    rows = _ledger(repo, user)
    assert rows.count((-1, "reserved")) == 30
    assert sum(d for d, _ in rows) == 0


# a random walk of grant / reserve / commit / refund, checked against a model
_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), st.integers(1, 10)),
        st.tuples(st.just("reserve"), st.integers(1, 10)),
        st.tuples(st.just("commit"), st.integers(0, 30)),
        st.tuples(st.just("refund"), st.integers(0, 30)),
    ),
    min_size=1, max_size=14,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_random_ledger_walks_never_go_negative_and_always_balance(repo: Repository,
                                                                 ops) -> None:
    user = _user(repo)
    granted = 0
    reservations: list[tuple[int, int]] = []  # (entry id, amount)
    state: dict[int, str] = {}
    for op, n in ops:
        model = granted - sum(a for e, a in reservations if state[e] != "refunded")
        if op == "grant":
            with repo.tx(SYSTEM, write=True) as tx:
                credits.grant(tx, user.id, n)
            granted += n
        elif op == "reserve":
            try:
                with repo.tx(user, write=True) as tx:
                    entry = credits.reserve(tx, user.id, n, "walk", None)
            except InsufficientCredits:
                assert model < n
            else:
                assert model >= n
                reservations.append((entry, n))
                state[entry] = "reserved"
        elif reservations:
            entry, _ = reservations[n % len(reservations)]
            try:
                with repo.tx(user, write=True) as tx:
                    (credits.commit if op == "commit" else credits.refund)(tx, entry)
            except InvalidInput:
                assert state[entry] != "reserved"
            else:
                assert state[entry] == "reserved"
                state[entry] = "committed" if op == "commit" else "refunded"
        model = granted - sum(a for e, a in reservations if state[e] != "refunded")
        balance = _balance(repo, user)
        assert balance == model >= 0
    rows = _ledger(repo, user)
    assert sum(d for d, s in rows if s != "refunded") == _balance(repo, user)
    assert all((d > 0) == (s == "granted") for d, s in rows)
    with repo.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.credit_ledger).where(
            t.credit_ledger.c.user_id == user.id)).scalar() == len(rows)

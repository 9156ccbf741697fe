"""Durable execution across worker processes: a SIGKILLed worker's products still run
exactly once, one provider rate limit holds for two workers, one user's long batch does
not starve another's single product, and a dead worker's work moves to a live one.

Each test runs the loopback Gemini double in this process, real ``python -m viewgen
worker`` subprocesses against one database (a SQLite file shared on this machine, or
a PostgreSQL database of the test's own), and enqueues from an enqueue-only Studio.
No timed asserts: waits poll with generous deadlines; times are printed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_conftest import (
    Cluster,
    RateLimitedGemini,
    audit,
    build_batch_plan,
    enqueue_only_studio,
    new_member,
    pg_url_or_skip,
    scratch_pg_database,
    settings_values,
    wait_until,
)
from sqlalchemy import select

from viewgen.store import schema as t

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path,
              pg_server_url: str | None) -> Iterator[str]:
    """A database every process of the test opens: SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'viewgen.db'}"
        return
    with scratch_pg_database(pg_url_or_skip(pg_server_url)) as url:
        yield url


@pytest.fixture
def pg_db(tmp_path: Path, pg_server_url: str | None) -> Iterator[str]:
    with scratch_pg_database(pg_url_or_skip(pg_server_url)) as url:
        yield url


def _cluster(tmp_path: Path, db: str, server: RateLimitedGemini, **extra) -> tuple:
    values = settings_values(tmp_path / "data", db, server.url, **extra)
    studio = enqueue_only_studio(values)
    return Cluster(values, tmp_path / "logs"), studio


def _batch_done(studio, user, batch_id: str):
    view = studio.batch(user, batch_id)
    return view if view.done else None


def _assert_exactly_once(studio, products: int) -> None:
    report = audit(studio.repo.engine, studio.settings.blob_dir, prices=studio.prices)
    assert report.problems == []
    assert report.complete == products == report.approvals
    # the front committed once (its four views are included at the seed's prices), and
    # five charged images per product: front and four views, each called once
    assert report.committed == products
    assert report.committed_credits == products * studio.prices.front
    assert report.ok_image_calls == 5 * products


@pytest.mark.parametrize("restart_same_id", [False, True], ids=["takeover", "restart"])
def test_killed_worker_products_complete_exactly_once(
        tmp_path: Path, shared_db: str, restart_same_id: bool) -> None:
    products = 4
    with RateLimitedGemini(latency_s=1.5) as server:
        cluster, studio = _cluster(tmp_path, shared_db, server)
        try:
            user = new_member(studio, "kill@example.com")
            start_balance = studio.balance(user)
            victim = cluster.start("victim")
            cluster.wait_ready(studio.repo.engine, victim)
            batch_id = studio.start_batch(user, build_batch_plan(products))
            # kill while the views are being generated: some image calls are in flight,
            # some products have committed views and some have not
            wait_until(lambda: len(server.image_posts()) >= products + 2
                       and server.in_flight > 0, timeout=120,
                       what="the victim to be mid-way through the views")
            calls_before = server.count
            victim.kill()
            killed_at = time.monotonic()
            if restart_same_id:
                # a live process keeps its id to itself; once the dead one's heartbeat
                # is stale the id is free again, and DBOS resumes its pending work
                wait_until(lambda: _heartbeat_age(studio, "victim") >
                           studio.settings.worker_dead_after_s, timeout=60,
                           what="the victim's heartbeat to go stale")
            rescuer = cluster.start("victim" if restart_same_id else "rescuer")
            view = wait_until(lambda: _batch_done(studio, user, batch_id), timeout=180,
                              what="the batch to finish after the kill")
            print(f"\nresumed and finished {time.monotonic() - killed_at:.1f} s after the "
                  f"kill; {server.count - calls_before} provider calls after it")
            assert [r.status for r in view.rows] == ["complete"] * products
            _assert_exactly_once(studio, products)
            assert view.charged == studio.settings.price_front * products + \
                studio.settings.price_view * 4 * products
            assert view.refunded == 0
            assert studio.balance(user) == start_balance - view.charged
            with studio.repo.engine.connect() as conn:
                row = conn.execute(t.workers.select().where(
                    t.workers.c.id == "victim")).first()
            if restart_same_id:  # the same id, resumed by DBOS itself, not taken over
                assert (row.pid, row.recovered_by) == (rescuer.proc.pid, None)
            else:
                assert row.recovered_by == rescuer.id
        finally:
            cluster.stop_all()
            studio.close()


def test_two_workers_share_one_provider_rate_limit(tmp_path: Path, pg_db: str) -> None:
    """12 fronts at a limit of 8 per minute: the provider never sees a 9th in a window.

    The provider double counts a rolling window 3 s shorter than our 60 s limiter's, the
    margin an operator leaves for the time between a workflow's start and its request
    reaching the provider; a limit kept per process would let all 12 through at once.
    """
    fronts, rpm = 12, 8
    with RateLimitedGemini(latency_s=0.2, limit=rpm, window_s=57.0) as server:
        cluster, studio = _cluster(tmp_path, pg_db, server, provider_rpm=rpm)
        try:
            user = new_member(studio, "rate@example.com")
            workers = [cluster.start("rate-a"), cluster.start("rate-b")]
            for w in workers:
                cluster.wait_ready(studio.repo.engine, w)
            started = time.monotonic()
            ids = [studio.start_front(user, text=f"A ceramic mug number {i}", wait=False).id
                   for i in range(fronts)]

            def all_reviewed() -> bool:
                return all(studio.get(user, i).status.value == "front_review" for i in ids)

            wait_until(all_reviewed, timeout=200, what="every front to be generated")
            print(f"\n{fronts} fronts at {rpm}/min took {time.monotonic() - started:.1f} s; "
                  f"{len(server.over)} requests over the provider's limit")
            ran_on = sorted(_ran_on(studio, user, i) for i in ids)
            print(f"fronts per worker: { {w: ran_on.count(w) for w in set(ran_on)} }")
            assert server.count == fronts
            assert server.over == []
        finally:
            cluster.stop_all()
            studio.close()


def test_a_single_product_is_not_starved_by_a_long_batch(tmp_path: Path,
                                                        shared_db: str) -> None:
    with RateLimitedGemini(latency_s=0.3) as server:
        cluster, studio = _cluster(tmp_path, shared_db, server, batch_rows_per_user=2,
                                   view_workers=4)
        try:
            a = new_member(studio, "bulk@example.com")
            b = new_member(studio, "one@example.com")
            big = studio.start_batch(a, build_batch_plan(30, prefix="A"))
            small = studio.start_batch(b, build_batch_plan(1, prefix="B"))
            worker = cluster.start("fair")
            cluster.wait_ready(studio.repo.engine, worker)
            view = wait_until(lambda: _batch_done(studio, b, small), timeout=180,
                              what="user B's one product")
            assert view.rows[0].status == "complete"
            a_done = sum(1 for r in studio.batch(a, big).rows if r.status == "complete")
            print(f"\nB's product completed when A had {a_done} of 30 complete")
            assert a_done < 15
        finally:
            cluster.stop_all()
            studio.close()


def test_a_dead_workers_work_is_taken_over_by_a_live_one(tmp_path: Path,
                                                        shared_db: str) -> None:
    with RateLimitedGemini(latency_s=1.0) as server:
        cluster, studio = _cluster(tmp_path, shared_db, server, worker_dead_after_s=2.0,
                                   heartbeat_s=0.5)
        try:
            user = new_member(studio, "dead@example.com")
            live = cluster.start("live", view_workers=1)
            doomed = cluster.start("doomed")
            for w in (live, doomed):
                cluster.wait_ready(studio.repo.engine, w)
            approval = studio.start_front(user, text="A leather wallet", wait=False)
            with studio.repo.engine.connect() as conn:
                def running_on() -> str | None:
                    return conn.execute(
                        t.product_view_approvals.select().where(
                            t.product_view_approvals.c.id == approval.id)).first() and \
                        _executor_of(studio, approval.workflow_id)
                owner = wait_until(lambda: server.in_flight > 0 and running_on(), timeout=60,
                                   what="the front to be in flight")
            victim = doomed if owner == "doomed" else live
            survivor = live if victim is doomed else doomed
            victim.kill()
            killed = time.monotonic()
            wait_until(lambda: studio.get(user, approval.id).status.value == "front_review",
                       timeout=120, what="the survivor to finish the front")
            took = time.monotonic() - killed
            with studio.repo.engine.connect() as conn:
                row = conn.execute(t.workers.select().where(
                    t.workers.c.id == victim.id)).first()
            print(f"\n{survivor.id} took over {victim.id}'s front and finished it {took:.1f} s "
                  "after the kill (dead after 2 s, heartbeat 0.5 s, L = 1 s)")
            assert row.recovered_by == survivor.id
            _assert_front_once(studio, approval.id)
        finally:
            cluster.stop_all()
            studio.close()


def _heartbeat_age(studio, worker_id: str) -> float:
    from datetime import UTC, datetime

    with studio.repo.engine.connect() as conn:
        beat = conn.execute(select(t.workers.c.heartbeat_at).where(
            t.workers.c.id == worker_id)).scalar_one()
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (datetime.now(UTC) - beat).total_seconds()


def _ran_on(studio, user, approval_id: str) -> str:
    from dbos import DBOS

    found = DBOS.get_workflow_status(studio.get(user, approval_id).workflow_id)
    return found.executor_id if found is not None else "?"


def _executor_of(studio, workflow_id: str | None) -> str | None:
    from dbos import DBOS

    if not workflow_id:
        return None
    found = DBOS.get_workflow_status(workflow_id)
    return found.executor_id if found is not None and found.status == "PENDING" else None


def _assert_front_once(studio, approval_id: str) -> None:
    with studio.repo.engine.connect() as conn:
        ledger = conn.execute(t.credit_ledger.select().where(
            t.credit_ledger.c.approval_id == approval_id)).all()
        calls = conn.execute(t.generation_calls.select().where(
            t.generation_calls.c.approval_id == approval_id,
            t.generation_calls.c.outcome == "ok")).all()
    assert [r.state for r in ledger] == ["committed"]
    assert len(calls) == 1
    report = audit(studio.repo.engine, studio.settings.blob_dir, prices=studio.prices)
    assert report.orphan_blobs == [] and report.missing_blobs == []

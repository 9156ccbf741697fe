"""Durable execution in one process (the embedded executor), on SQLite and PostgreSQL:
starts are idempotent, a replayed step never calls, stores or charges twice, and a
batch can be paused, resumed, cancelled (refunding exactly what did not run) and its
failed rows retried; ``jobs show --json`` gives the documented shape.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from dbos import DBOS
from durable_conftest import ROOT, audit, build_batch_plan, wait_until
from sqlalchemy import func, select

from viewgen.domain import OTHER_VIEWS, Status, User, ViewType
from viewgen.errors import IllegalTransition, ProviderError
from viewgen.settings import Settings
from viewgen.store import schema as t
from viewgen.workflow import Studio

FINAL = ("SUCCESS", "ERROR", "CANCELLED")


@pytest.fixture
def settings(tmp_path: Path, db_url: str, request) -> Settings:
    """Small images (the offline renderer's CPU time is not what these tests are about)
    and two rows per user at a time, so a batch of six has rows waiting. A test marked
    ``view_price(n)`` charges ``n`` credits per view (an operator's setting; the seed's
    prices include the views), so that a view's own reservation is there to replay."""
    marker = request.node.get_closest_marker("view_price")
    return Settings(data_dir=tmp_path / "data", database_url=db_url, image_size=192,
                    starting_credits=500, batch_rows_per_user=2, queue_poll_s=0.05,
                    price_view=marker.args[0] if marker else Settings().price_view)


def _problems(studio: Studio) -> list[str]:
    return audit(studio.repo.engine, studio.settings.blob_dir, prices=studio.prices).problems


def _count(studio: Studio, table, *where) -> int:
    with studio.repo.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _workflows(prefix: str) -> list:
    return DBOS.list_workflows(workflow_id_prefix=prefix, load_input=False, load_output=False)


def _batch_settled(batch_id: str) -> bool:
    """Every row workflow of the batch (and so every child it waited for) has ended."""
    return all(w.status in FINAL for w in _workflows(f"batch:{batch_id}:"))


class _CountingGenerator:
    """Wraps the offline generator: counts calls, and fails the texts told to fail."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0
        self.fail_texts: set[str] = set()
        self._lock = threading.Lock()

    def generate(self, request):
        with self._lock:
            self.calls += 1
        if request.text in self.fail_texts:
            raise ProviderError("The image service is down (test).", provider=self.name,
                                retryable=False)
        return self.inner.generate(request)

    def __getattr__(self, name: str):
        return getattr(self.inner, name)


# --------------------------------------------------------------------------- starts
def test_twenty_concurrent_approvals_extract_once(studio: Studio, member: User) -> None:
    approval = studio.start_front(member, text="A walnut desk lamp with a brass hinge")
    results: list[object] = []
    barrier = threading.Barrier(20)

    def click() -> None:
        barrier.wait()
        try:
            results.append(studio.approve(member, approval.id).status)
        except IllegalTransition as exc:  # arrived after the approval had finished
            results.append(exc)

    threads = [threading.Thread(target=click) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert len(results) == 20
    assert Status.APPROVED in results
    assert all(r == Status.APPROVED or isinstance(r, IllegalTransition) for r in results)
    assert _count(studio, t.generation_calls, t.generation_calls.c.approval_id == approval.id,
                  t.generation_calls.c.kind == "features") == 1
    assert len(_workflows(f"{approval.id}:approve:")) == 1
    assert studio.get(member, approval.id).status == Status.APPROVED


# --------------------------------------------------------------------------- replays
def test_a_replayed_front_step_calls_stores_and_charges_once(studio: Studio,
                                                              member: User) -> None:
    counting = _CountingGenerator(studio.generator)
    studio.generator = counting
    before = studio.balance(member)
    approval_id, reservation = studio.create_product(
        member, text="A green glass vase", reference=None, logo=None)
    first = studio.run_front_step(member.id, approval_id, reservation, "replay-test:front")
    second = studio.run_front_step(member.id, approval_id, reservation, "replay-test:front")
    assert first["ok"] and second["ok"]
    assert counting.calls == 1
    ledger = t.credit_ledger
    assert _count(studio, ledger, ledger.c.approval_id == approval_id,
                  ledger.c.state == "committed") == 1
    assert _count(studio, ledger, ledger.c.approval_id == approval_id) == 1
    assert _count(studio, t.generation_calls,
                  t.generation_calls.c.approval_id == approval_id) == 1
    blobs = list((studio.settings.blob_dir / member.id / approval_id).glob("*"))
    assert [b.name for b in blobs] == ["front-1.png"]
    assert studio.balance(member) == before - studio.prices.front
    assert studio.get(member, approval_id).status == Status.FRONT_REVIEW


@pytest.mark.view_price(1)
def test_a_replayed_view_step_calls_stores_and_charges_once(studio: Studio,
                                                             member: User) -> None:
    approval = studio.start_front(member, text="A red enamel kettle")
    studio.approve(member, approval.id)
    counting = _CountingGenerator(studio.generator)
    studio.generator = counting
    with studio.repo.tx(member, write=True) as tx:
        _, reservations, _, _, feedback = studio._reserve_views(
            tx, approval.id, [ViewType.BACK], None)
    before = studio.balance(member)
    for _ in range(2):
        out = studio.run_view_step(member.id, approval.id, "back", reservations["back"],
                                   feedback, None, "replay-test:back")
        assert out["ok"] and out["key"]
    assert counting.calls == 1
    ledger = t.credit_ledger
    assert _count(studio, ledger, ledger.c.approval_id == approval.id,
                  ledger.c.reason == "back view", ledger.c.state == "committed") == 1
    calls = t.generation_calls
    assert _count(studio, calls, calls.c.approval_id == approval.id,
                  calls.c.view_type == "back") == 1
    backs = list((studio.settings.blob_dir / member.id / approval.id).glob("back-*"))
    assert [b.name for b in backs] == ["back-1.png"]
    assert studio.balance(member) == before  # the reservation already counted


@pytest.mark.view_price(1)
def test_a_replayed_batch_row_step_finds_the_views_it_reserved(studio: Studio,
                                                                member: User) -> None:
    """The row's decision step committed (views reserved, product views_generating) but
    the crash came before DBOS checkpointed its result: the replay must start the same
    views workflow with the same reservations, not call the row failed."""
    approval = studio.start_front(member, text="A copper watering can")
    studio.approve(member, approval.id)
    first = studio.batch_row_next(member.id, approval.id, True, False)
    replay = studio.batch_row_next(member.id, approval.id, True, False)
    assert first["action"] == replay["action"] == "views"
    assert replay["workflow_id"] == first["workflow_id"]
    assert replay["reservations"] == first["reservations"]
    assert sorted(replay["views"]) == sorted(first["views"]) == sorted(
        v.value for v in OTHER_VIEWS)
    ledger = t.credit_ledger
    assert _count(studio, ledger, ledger.c.approval_id == approval.id,
                  ledger.c.state == "reserved") == 4  # reserved once, not twice


# --------------------------------------------------------------------------- batches
def test_pause_keeps_rows_queued_and_resume_runs_them(studio: Studio, member: User) -> None:
    start = studio.balance(member)
    batch_id = studio.start_batch(member, build_batch_plan(6))
    studio.pause_batch(member, batch_id)
    wait_until(lambda: _batch_settled(batch_id), timeout=180, what="the running rows")
    paused = studio.batch(member, batch_id)
    statuses = [r.status for r in paused.rows]
    assert paused.status == "paused"
    assert set(statuses) <= {"queued", "complete"}
    # two rows per user at a time: at most two can have started before the pause
    assert statuses.count("queued") >= 4
    queued = statuses.count("queued")
    assert paused.held == queued * studio.prices.front
    assert studio.resume_batch(member, batch_id) == queued
    done = wait_until(lambda: (v := studio.batch(member, batch_id)).done and
                      _batch_settled(batch_id) and v, timeout=300, what="the resumed batch")
    assert [r.status for r in done.rows] == ["complete"] * 6
    per_product = studio.prices.front + 4 * studio.prices.view
    assert done.as_dict()["credits"] == {"charged": 6 * per_product, "refunded": 0, "held": 0}
    assert studio.balance(member) == start - 6 * per_product
    assert _problems(studio) == []


def test_cancel_refunds_exactly_the_rows_that_did_not_run(studio: Studio,
                                                          member: User) -> None:
    start = studio.balance(member)
    batch_id = studio.start_batch(member, build_batch_plan(6))
    cancelled = studio.cancel_batch(member, batch_id)
    wait_until(lambda: _batch_settled(batch_id), timeout=180, what="the rows already running")
    view = studio.batch(member, batch_id)
    statuses = [r.status for r in view.rows]
    assert view.status == "cancelled"
    assert statuses.count("cancelled") == cancelled >= 4
    assert set(statuses) <= {"cancelled", "complete"}
    ran = statuses.count("complete")
    per_product = studio.prices.front + 4 * studio.prices.view
    assert view.refunded == cancelled * studio.prices.front
    assert view.charged == ran * per_product
    assert view.held == 0
    assert studio.balance(member) == start - ran * per_product
    assert all(r.approval_id is None for r in view.rows if r.status == "cancelled")
    assert _problems(studio) == []


def test_retry_runs_the_failed_rows_again(studio: Studio, member: User) -> None:
    counting = _CountingGenerator(studio.generator)
    studio.generator = counting
    plan = build_batch_plan(3)
    broken = plan.rows[1].text
    counting.fail_texts.add(broken)
    start = studio.balance(member)
    batch_id = studio.start_batch(member, plan)
    first = wait_until(lambda: (v := studio.batch(member, batch_id)).done and
                       _batch_settled(batch_id) and v, timeout=300, what="the first run")
    assert [r.status for r in first.rows] == ["complete", "failed", "complete"]
    assert first.rows[1].error
    assert first.refunded == studio.prices.front  # the failed front came back
    counting.fail_texts.clear()
    assert studio.retry_batch(member, batch_id) == 1
    done = wait_until(lambda: (v := studio.batch(member, batch_id)).done and
                      _batch_settled(batch_id) and v, timeout=300, what="the retried row")
    assert [r.status for r in done.rows] == ["complete"] * 3
    per_product = studio.prices.front + 4 * studio.prices.view
    assert done.charged == 3 * per_product
    assert studio.balance(member) == start - 3 * per_product
    assert _problems(studio) == []


def test_jobs_show_json_shape(studio: Studio, auth, admin: User) -> None:
    user = auth.sign_up("cli@example.com", "correct horse", "Command line")
    plan = build_batch_plan(2)
    batch_id = studio.start_batch(user, plan)
    wait_until(lambda: studio.batch(user, batch_id).done and _batch_settled(batch_id),
               timeout=300, what="the batch")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update({"PYTHONPATH": str(ROOT),
                "VIEWGEN_SECRETS_FILE": os.environ["VIEWGEN_SECRETS_FILE"],
                "VIEWGEN_DATABASE_URL": studio.settings.resolved_database_url,
                "VIEWGEN_DATA_DIR": str(studio.settings.data_dir)})
    done = subprocess.run([sys.executable, "-m", "viewgen", "jobs", "show", batch_id, "--json",
                           "--user", "cli@example.com"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout)
    assert shown["status"] == "complete"
    assert shown["counts"] == {"complete": 2}
    per_product = studio.prices.front + 4 * studio.prices.view
    assert shown["credits"]["charged"] == 2 * per_product
    assert shown["credits"]["refunded"] == 0
    assert [set(r) for r in shown["rows"]] == [
        {"row", "sku", "status", "approval_id", "error"}] * 2
    assert [(r["row"], r["sku"], r["status"], r["error"]) for r in shown["rows"]] == [
        (2, "SKU-0001", "complete", None), (3, "SKU-0002", "complete", None)]
    assert all(r["approval_id"] for r in shown["rows"])

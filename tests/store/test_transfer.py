"""``python -m viewgen migrate-data``: SQLite -> SQLite and SQLite -> PostgreSQL, rows and
images, idempotent (a second run copies nothing), conflicts reported, never overwritten."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from viewgen import cli, credits
from viewgen.auth import LocalAuth
from viewgen.blobs import LocalBlobStore
from viewgen.domain import (
    CallUsage,
    ExtractedFeatures,
    ExtractionResult,
    GeneratedImage,
    GenerationRequest,
    Status,
    User,
    ViewType,
)
from viewgen.settings import Settings
from viewgen.store import Repository, open_repository
from viewgen.store import schema as t
from viewgen.store.engine import make_engine
from viewgen.store.transfer import TABLES, image_keys, transfer


class _Generator:
    name = "stub"
    model = "stub-1"

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        data = f"PNG {request.view.value} {len(request.feedback)}".encode()
        return GeneratedImage(data=data, usage=CallUsage(provider="stub", model="stub-1",
                                                         images=1, cost_usd=0.04))


class _Extractor:
    name = "stub"
    model = "stub-1"

    def extract(self, image: bytes) -> ExtractionResult:
        features = ExtractedFeatures.model_validate({
            "colors": [{"hex": "#112233", "name": "navy"}], "materials": ["felt"],
            "description": "a navy felt hat"})
        return ExtractionResult(features=features,
                                usage=CallUsage(provider="stub", model="stub-1"))


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, User]]]:
    """A SQLite installation with two people, a finished product, a rejection, a failed
    call's refund, and the images in a local folder."""
    from viewgen import tokens
    from viewgen.workflow import Studio

    url = f"sqlite:///{tmp_path / 'old' / 'viewgen.db'}"
    blob_dir = tmp_path / "old" / "blobs"
    settings = Settings(data_dir=tmp_path / "old", database_url=url)
    repo = open_repository(url)
    auth = LocalAuth(repo, settings)
    people = {"ada": auth.sign_up("ada@example.com", "long enough", "Ada"),
              "max": auth.sign_up("max@example.com", "long enough", "Max")}
    studio = Studio(settings, repo, LocalBlobStore(blob_dir), _Generator(), _Extractor())
    try:
        for name, user in people.items():
            approval = studio.start_front(user, text=f"{name}'s navy felt hat", seed=5)
            studio.reject_and_retry(user, approval.id, "make the brim wider")
            studio.approve(user, approval.id)
            done = studio.run_views(user, approval.id)
            studio.wait_for_analysis(done.id)
            assert done.status == Status.COMPLETE
            tokens.create(repo, user, "script")  # API tokens move with their owners
        from viewgen.batch_input import plan_batch

        batch = studio.start_batch(people["ada"], plan_batch(b"sku,text\nHAT-9,a red hat\n"))
        deadline = time.monotonic() + 120
        while not studio.batch(people["ada"], batch).done:  # a batch with its row, copied too
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        studio.close()
        repo.engine.dispose()
    yield url, blob_dir, people


def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = make_engine(url)
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        with engine.connect() as conn:
            for table in TABLES:
                pk = table.primary_key.columns.values()[0]
                rows = conn.execute(select(table).order_by(pk)).mappings()
                out[table.name] = [
                    {k: (v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None
                         else v.astimezone(UTC) if isinstance(v, datetime) else v)
                     for k, v in row.items()}
                    for row in rows
                ]
    finally:
        engine.dispose()
    return out


def _check_copy(source_url: str, target_url: str, report) -> None:
    before, after = _rows(source_url), _rows(target_url)
    for table in TABLES:
        assert after[table.name] == before[table.name], table.name
        assert report.tables[table.name].copied == len(before[table.name]) > 0, table.name
        assert report.tables[table.name].skipped == 0


def _second_run_copies_nothing(source_url: str, target_url: str, **kw: Any) -> None:
    again = transfer(source_url, target_url, **kw)
    assert all(c.copied == 0 and c.conflicts == 0 for c in again.tables.values())
    assert {n: c.skipped for n, c in again.tables.items()} == {
        n: len(rows) for n, rows in _rows(source_url).items()}
    if again.images is not None:
        assert again.images.copied == 0 and again.images.skipped > 0


def test_sqlite_to_sqlite_copies_rows_and_images_once(source, tmp_path: Path) -> None:
    url, blob_dir, people = source
    target = f"sqlite:///{tmp_path / 'new' / 'viewgen.db'}"
    new_blobs = LocalBlobStore(tmp_path / "new" / "blobs")
    report = transfer(url, target, source_blobs=LocalBlobStore(blob_dir), target_blobs=new_blobs)
    _check_copy(url, target, report)
    engine = make_engine(target)
    with engine.connect() as conn:
        keys = image_keys(conn)
    engine.dispose()
    assert report.images is not None and report.images.copied == len(keys) > 10
    assert report.images.missing == 0
    for key in keys:
        assert new_blobs.get(key) == LocalBlobStore(blob_dir).get(key)
    _second_run_copies_nothing(url, target, source_blobs=LocalBlobStore(blob_dir),
                               target_blobs=new_blobs)
    # the new installation carries on: its integer ids continue after the copied ones
    repo = open_repository(target)
    with repo.tx(people["ada"], write=True) as tx:
        credits.reserve(tx, people["ada"].id, 1, "after the move", None)
        assert credits.balance(tx, people["ada"].id) > 0
    repo.engine.dispose()


@pytest.mark.postgres
def test_sqlite_to_postgres_and_the_app_carries_on(source, fresh_pg_url: str,
                                                   tmp_path: Path) -> None:
    url, _, people = source
    report = transfer(url, fresh_pg_url)
    _check_copy(url, fresh_pg_url, report)
    assert report.images is None
    _second_run_copies_nothing(url, fresh_pg_url)
    back = f"sqlite:///{tmp_path / 'back' / 'viewgen.db'}"  # and the way back, unchanged
    _check_copy(url, back, transfer(fresh_pg_url, back))

    from viewgen.store.postgres import open_postgres_repository

    repo: Repository = open_postgres_repository(fresh_pg_url, Settings(db_pool="null"))
    try:
        ada, max_ = people["ada"], people["max"]  # Ada was the first: the admin
        with repo.tx(max_, write=True) as tx:  # under RLS, as Max
            [mine] = tx.list_approvals()
            assert mine.user_id == max_.id and mine.status == Status.COMPLETE
            assert [h.view_type for h in tx.list_history(mine.id)] == [ViewType.FRONT]
            # the sequences were moved past the copied ids: new rows just work
            credits.reserve(tx, max_.id, 1, "after the move", mine.id)
            tx.insert_revision(mine, user_prompt="later", image_data={}, changes_made={})
            tx.insert_history(mine, ViewType.BACK, mine.key(ViewType.BACK) or "", None,
                              None, "replaced")
            tx.insert_call(approval=mine, view=ViewType.BACK, kind="image", provider="stub",
                           model="m", attempts=1, latency_ms=1.0, outcome="ok")
            assert [r.revision_number for r in tx.list_revisions(mine.project_id)] == [1, 2]
        with repo.tx(ada) as tx:
            assert {a.user_id for a in tx.list_approvals()} == {ada.id, max_.id}
    finally:
        repo.engine.dispose()


def test_a_different_row_under_the_same_id_is_a_conflict_and_kept(source,
                                                                  tmp_path: Path) -> None:
    url, _, _ = source
    target = f"sqlite:///{tmp_path / 'new' / 'viewgen.db'}"
    transfer(url, target)
    engine = make_engine(target)
    with engine.begin() as conn:
        conn.execute(update(t.generation_calls).where(t.generation_calls.c.id == 1)
                     .values(provider="someone else"))
        # a later state change of a copied row is not a conflict
        conn.execute(update(t.credit_ledger).where(t.credit_ledger.c.state == "committed")
                     .values(state="refunded"))
    again = transfer(url, target)
    assert again.tables["generation_calls"].conflicts == 1
    assert again.conflicts == 1
    with engine.connect() as conn:
        kept = conn.execute(select(t.generation_calls.c.provider)
                            .where(t.generation_calls.c.id == 1)).scalar()
    engine.dispose()
    assert kept == "someone else"


def test_the_cli_prints_a_summary_and_is_idempotent(source, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    url, blob_dir, _ = source
    target = f"sqlite:///{tmp_path / 'cli' / 'viewgen.db'}"
    args = ["migrate-data", "--from", url, "--to", target, "--from-blobs", str(blob_dir),
            "--to-blobs", str(tmp_path / "cli" / "blobs")]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert cli.main(args) == 0
    second = capsys.readouterr().out
    for table in TABLES:
        assert table.name in first
    users_first = next(line for line in first.splitlines() if line.startswith("users "))
    users_second = next(line for line in second.splitlines() if line.startswith("users "))
    assert users_first.split()[1:] == ["2", "0", "0"]  # copied, skipped, conflicts
    assert users_second.split()[1:] == ["0", "2", "0"]
    images = next(line for line in second.splitlines() if line.startswith("images "))
    assert images.split()[1] == "0"


def test_cli_refuses_bad_arguments_with_a_message(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    code = cli.main(["migrate-data", "--from", missing, "--to", f"sqlite:///{tmp_path}/x.db"])
    assert code == 1
    assert "no SQLite database" in capsys.readouterr().err
    code = cli.main(["migrate-data", "--from", missing, "--to", missing])
    assert code == 1 and "same database" in capsys.readouterr().err
    assert not (tmp_path / "nothing.db").exists()


def test_only_the_source_is_read(source, tmp_path: Path) -> None:
    url, _, _ = source
    before = _rows(url)
    transfer(url, f"sqlite:///{tmp_path / 'new.db'}")
    assert _rows(url) == before
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_migrations")).scalar() >= 1
    engine.dispose()

"""Migration 0006 on SQLite and PostgreSQL: rows written the old way (dimensions as text,
no extracted original) become the seed's ``{width, height, depth, unit}``, text no parser
reads is kept as a note, the original is kept beside the approved record, and a second
run changes nothing. Then corrections keep the extracted original (``Tx.set_approved_features``)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, select, text

from viewgen.auth import create_account
from viewgen.domain import ExtractedFeatures, InputType, Role, Status, User
from viewgen.errors import IllegalTransition, InvalidInput, NotFound
from viewgen.settings import Settings
from viewgen.store import Repository
from viewgen.store import schema as t

OLD_ROWS = {  # estimatedDimensions as the extractors wrote it before 0006
    "labelled": ("Width: 28cm, Height: 22cm", ["keyElements"]),
    "series": ("28 x 22 x 12 cm", []),
    "inches": ("11 in wide", []),
    "offline": ("about 32 × 24 × 12 cm (W × H × D)", []),
    "prose": ("roughly the size of a shoebox", []),
    "none": (None, ["estimatedDimensions"]),
}


def _user(repo: Repository) -> User:
    return create_account(repo, Settings(), f"{uuid.uuid4().hex[:10]}@example.com",
                          password_hash=None, role=Role.MEMBER, credits_granted=5)


def _old_database(repo: Repository, user: User) -> dict[str, str]:
    """The shape before 0006, with approvals as the old code stored them."""
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project("old products")
    ids: dict[str, str] = {}
    with repo.engine.begin() as conn:
        conn.execute(text("ALTER TABLE product_view_approvals "
                          "DROP COLUMN extracted_features_original"))
        conn.execute(t.schema_migrations.delete().where(
            t.schema_migrations.c.name == "0006_dimensions"))
        for name, (dims, not_measured) in OLD_ROWS.items():
            ids[name] = str(uuid.uuid4())
            features = {
                "colors": [{"hex": "#1F2A44", "name": "navy", "usage": "primary",
                            "share": 0.7}],
                "materials": ["leather"], "keyElements": [] if not_measured else ["strap"],
                "estimatedDimensions": dims, "description": f"a {name} bag",
                "not_measured": not_measured,
            }
            conn.execute(t.product_view_approvals.insert().values(
                id=ids[name], user_id=user.id, project_id=project.id,
                input_type=InputType.TEXT.value, input_text=name, status="complete",
                extracted_features=features, feedback_history=[], view_errors={},
                consistency={}, seed=1))
        ids["review"] = str(uuid.uuid4())  # a front still in review: no features yet
        conn.execute(t.product_view_approvals.insert().values(
            id=ids["review"], user_id=user.id, project_id=project.id,
            input_type="text", input_text="review", status="front_review",
            feedback_history=[], view_errors={}, consistency={}, seed=1))
    return ids


def _stored(repo: Repository, approval_id: str) -> tuple[dict | None, dict | None]:
    a = t.product_view_approvals
    with repo.engine.connect() as conn:
        row = conn.execute(select(a.c.extracted_features, a.c.extracted_features_original)
                           .where(a.c.id == approval_id)).one()
    return row[0], row[1]


def test_0006_converts_old_rows_and_keeps_what_it_cannot_parse(repo: Repository) -> None:
    user = _user(repo)
    ids = _old_database(repo, user)
    a = t.product_view_approvals
    with repo.engine.connect() as conn:
        before_updated = dict(conn.execute(select(a.c.id, a.c.updated_at)).all())
    assert repo.migrate() == ["0006_dimensions"]
    with repo.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns(a.name)}
        after_updated = dict(conn.execute(select(a.c.id, a.c.updated_at)).all())
    assert "extracted_features_original" in columns
    assert after_updated == before_updated  # a format change, not an edit

    expected = {
        "labelled": ({"width": 28.0, "height": 22.0, "depth": None, "unit": "cm",
                      "note": None}, ["keyElements", "estimatedDimensions.depth"]),
        "series": ({"width": 28.0, "height": 22.0, "depth": 12.0, "unit": "cm",
                    "note": None}, []),
        "inches": ({"width": 11.0, "height": None, "depth": None, "unit": "in",
                    "note": None}, ["estimatedDimensions.height", "estimatedDimensions.depth"]),
        "offline": ({"width": 32.0, "height": 24.0, "depth": 12.0, "unit": "cm",
                     "note": None}, []),
        "prose": ({"width": None, "height": None, "depth": None, "unit": "cm",
                   "note": "roughly the size of a shoebox"}, ["estimatedDimensions"]),
        "none": (None, ["estimatedDimensions"]),
    }
    for name, (dims, not_measured) in expected.items():
        approved, original = _stored(repo, ids[name])
        assert approved is not None and approved["estimatedDimensions"] == dims, name
        assert approved["not_measured"] == not_measured, name
        assert original == approved, name  # as extracted = as approved, before any edit
        assert approved["colors"][0]["share"] == 0.7  # nothing else touched
    assert _stored(repo, ids["review"]) == (None, None)

    # the app reads them as the new record, and a second run changes nothing
    with repo.tx(user) as tx:
        series = tx.get_approval(ids["series"]).extracted_features
        prose = tx.get_approval(ids["prose"]).extracted_features
    assert series is not None and series.dimensions_text == "28 × 22 × 12 cm"
    assert prose is not None and prose.dimensions_text == "roughly the size of a shoebox"
    snapshot = {name: _stored(repo, i) for name, i in ids.items()}
    assert repo.migrate() == []
    from viewgen.store.migrations import MIGRATIONS

    with repo.engine.begin() as conn:  # run again by hand: idempotent on converted rows
        dict(MIGRATIONS)["0006_dimensions"](conn)
    assert {name: _stored(repo, i) for name, i in ids.items()} == snapshot


def _approved(repo: Repository, user: User, status: Status = Status.APPROVED) -> str:
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project("bag")
        approval = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                      input_text="bag", status=status, seed=1)
        tx.update_approval(approval.id, extracted_features=ExtractedFeatures(
            colors=[{"hex": "#1F2A44", "name": "navy", "usage": "primary"}],
            materials=["canvas"], estimatedDimensions="30 x 45 x 15 cm",
            description="a navy bag").model_dump(mode="json"))
        return approval.id


def test_corrections_keep_the_extracted_original(repo: Repository) -> None:
    user = _user(repo)
    approval_id = _approved(repo, user)
    with repo.tx(user) as tx:
        extracted, approved = tx.feature_versions(approval_id)
    assert extracted == approved and extracted is not None
    first = extracted.model_copy(update={"materials": ["leather"]})
    second = first.model_copy(update={"description": "a navy leather bag"})
    with repo.tx(user, write=True) as tx:
        tx.set_approved_features(approval_id, first)
    with repo.tx(user, write=True) as tx:
        tx.set_approved_features(approval_id, second.model_dump(mode="json"))
    with repo.tx(user) as tx:
        kept, now = tx.feature_versions(approval_id)
        assert tx.get_approval(approval_id).extracted_features == second  # the views use it
    assert kept == extracted  # the second correction did not overwrite the original
    assert now == second


def test_a_correction_is_refused_when_bad_late_or_not_yours(repo: Repository) -> None:
    user, other = _user(repo), _user(repo)
    approval_id = _approved(repo, user)
    with repo.tx(user) as tx:
        before = tx.feature_versions(approval_id)
    good = before[1].model_dump(mode="json")
    for bad, where in (({**good, "colors": [{"hex": "#12345", "name": "x"}]}, "colors"),
                       ({**good, "estimatedDimensions": {"width": -2, "unit": "cm"}},
                        "estimatedDimensions.width")):
        with pytest.raises(InvalidInput, match=where.replace(".", r"\.")), \
                repo.tx(user, write=True) as tx:
            tx.set_approved_features(approval_id, bad)
    with pytest.raises(NotFound), repo.tx(other, write=True) as tx:
        tx.set_approved_features(approval_id, good)
    with repo.tx(other) as tx, pytest.raises(NotFound):
        tx.feature_versions(approval_id)
    done = _approved(repo, user, Status.COMPLETE)
    with pytest.raises(IllegalTransition, match="before the other views"), \
            repo.tx(user, write=True) as tx:
        tx.set_approved_features(done, good)
    with repo.tx(user) as tx:
        assert tx.feature_versions(approval_id) == before
        assert tx.feature_versions(done)[0] == tx.feature_versions(done)[1]

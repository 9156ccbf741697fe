"""How often people correct features, on SQLite and PostgreSQL: the share of approved
products whose approved features differ from the extracted ones, overall and per field,
counted in SQL and checked against the same comparison in Python."""

from __future__ import annotations

import pytest

from viewgen.analytics import Filters
from viewgen.analytics_features import changed_fields, feature_corrections
from viewgen.domain import ExtractedFeatures, InputType, Status, User
from viewgen.errors import PermissionDenied
from viewgen.store import Repository

BASE = ExtractedFeatures.model_validate({
    "colors": [{"hex": "#1F2A44", "name": "navy", "usage": "primary", "share": 0.7}],
    "materials": ["canvas"], "keyElements": ["zip"],
    "estimatedDimensions": {"width": 30, "height": 45, "depth": None, "unit": "cm"},
    "description": "A navy backpack.", "not_measured": ["estimatedDimensions.depth"],
})


def _product(repo: Repository, user: User, correction: dict | None = None,
             *, approved: bool = True) -> str:
    with repo.tx(user, write=True) as tx:
        project = tx.insert_project("p")
        approval = tx.insert_approval(project_id=project.id, input_type=InputType.TEXT,
                                      input_text="bag", status=Status.APPROVED, seed=1)
        if approved:
            tx.update_approval(approval.id, extracted_features=BASE.model_dump(mode="json"))
        if correction is not None:
            tx.set_approved_features(approval.id, BASE.model_copy(update=correction))
    return approval.id


def test_corrections_are_counted_per_field(repo: Repository, admin: User, member: User,
                                           other_member: User) -> None:
    dims = BASE.estimatedDimensions.model_copy(update={"depth": 15.0})
    corrections = [
        None, None,
        {},  # saved unchanged: not a correction
        {"colors": [BASE.colors[0].model_copy(update={"name": "midnight blue"})],
         "estimatedDimensions": dims, "not_measured": []},
        {"description": "A navy canvas backpack with a zip."},
    ]
    ids = [_product(repo, member, c) for c in corrections]
    _product(repo, member, approved=False)  # front not approved: not counted
    _product(repo, other_member, {"materials": ["leather"]})

    result = feature_corrections(repo, admin)
    assert (result.approved, result.corrected) == (6, 3)
    assert result.share == pytest.approx(0.5)
    by_field = dict(zip(result.by_field["field"], result.by_field["corrected"], strict=True))
    assert by_field == {"colors": 1, "materials": 1, "keyElements": 0,
                        "estimatedDimensions": 1, "description": 1}
    assert list(result.by_field["label"]) == ["Colours", "Materials", "Key elements",
                                              "Dimensions", "Description"]
    # the SQL agrees with the comparison in Python, product by product
    with repo.tx(admin) as tx:
        changed = [changed_fields(*tx.feature_versions(i)) for i in ids]
    assert changed == [[], [], [], ["colors", "estimatedDimensions"], ["description"]]

    mine = feature_corrections(repo, admin, Filters(user_id=member.id))
    assert (mine.approved, mine.corrected) == (5, 2)
    with pytest.raises(PermissionDenied):
        feature_corrections(repo, member)


def test_no_approved_products_is_no_share(repo: Repository, admin: User) -> None:
    result = feature_corrections(repo, admin)
    assert (result.approved, result.corrected, result.share) == (0, 0, None)
    assert list(result.by_field["corrected"]) == [0] * 5

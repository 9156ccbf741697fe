"""How often people correct the extracted features before the other views.

A product's features are kept twice once the person corrects them (migration 0006):
``extracted_features_original`` as the extractor returned them, ``extracted_features``
as approved. ``feature_corrections`` answers, for the Admin page, what share of the
products whose front was approved had their features corrected, overall and per field
(colours, materials, key elements, dimensions, description), in one SQL query on SQLite
and PostgreSQL: each field of the two JSON records is compared in the database (``->``
on PostgreSQL's jsonb; ``json_extract`` on SQLite, whose stored JSON both sides write
the same way). ``changed_fields`` is the same comparison on two records in Python.
Admins only, like the rest of ``viewgen.analytics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import case, func, or_, select

from viewgen.analytics import Filters, _read, _where
from viewgen.domain import ExtractedFeatures, User
from viewgen.store import Repository, Tx
from viewgen.store import schema as t

FIELDS: dict[str, str] = {
    "colors": "Colours",
    "materials": "Materials",
    "keyElements": "Key elements",
    "estimatedDimensions": "Dimensions",
    "description": "Description",
}


def changed_fields(extracted: ExtractedFeatures, approved: ExtractedFeatures) -> list[str]:
    """The fields (of ``FIELDS``) the person changed between extraction and approval."""
    before, after = extracted.model_dump(mode="json"), approved.model_dump(mode="json")
    return [name for name in FIELDS if before.get(name) != after.get(name)]


@dataclass(frozen=True)
class Corrections:
    """Products with approved features, how many were corrected, and by which field."""

    approved: int
    corrected: int
    by_field: pd.DataFrame  # field, label, corrected, share

    @property
    def share(self) -> float | None:
        return self.corrected / self.approved if self.approved else None


def feature_corrections(repo: Repository, actor: User,
                        filters: Filters = Filters()) -> Corrections:
    """Share of approved products whose approved features differ from the extracted."""
    a = t.product_view_approvals
    approved, original = a.c.extracted_features, a.c.extracted_features_original

    def work(tx: Tx, dialect: str) -> Corrections:
        differs = {name: original[name].is_distinct_from(approved[name]) for name in FIELDS}
        kept = original.is_not(None)  # NULL: never corrected

        def count(condition) -> object:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        row = tx.conn.execute(_where(select(
            func.count(),
            count(kept & or_(*differs.values())),
            *(count(kept & condition) for condition in differs.values()),
        ).where(approved.is_not(None)), a, filters, dialect)).one()
        total, corrected, per_field = int(row[0]), int(row[1]), [int(v) for v in row[2:]]
        frame = pd.DataFrame({
            "field": list(FIELDS),
            "label": list(FIELDS.values()),
            "corrected": per_field,
            "share": [n / total if total else 0.0 for n in per_field],
        })
        return Corrections(approved=total, corrected=corrected, by_field=frame)

    return _read(repo, actor, work)

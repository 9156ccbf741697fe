"""The workflow's state machine: the one place that says which transitions are legal.

``input -> front_generating -> front_review -> (revision_requested -> front_generating)*
-> approved -> views_generating -> complete``, plus ``failed`` with a reason. A view
batch that leaves some views missing returns to ``approved`` so the failed views can be
retried alone; a finished product goes back to ``views_generating`` when the user
regenerates views later; a front the QA gate flagged can go from ``front_review`` back
to ``front_generating`` ("try again, free"). ``failed`` can be retried: the front again if it was never
approved, the views if it was. An illegal transition raises ``IllegalTransition``.
"""

from __future__ import annotations

from viewgen.domain import Status
from viewgen.errors import IllegalTransition

S = Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.INPUT: frozenset({S.FRONT_GENERATING}),
    S.FRONT_GENERATING: frozenset({S.FRONT_REVIEW, S.FAILED}),
    S.FRONT_REVIEW: frozenset({S.APPROVED, S.REVISION_REQUESTED, S.FRONT_GENERATING}),
    S.REVISION_REQUESTED: frozenset({S.FRONT_GENERATING}),
    S.APPROVED: frozenset({S.VIEWS_GENERATING}),
    S.VIEWS_GENERATING: frozenset({S.COMPLETE, S.APPROVED, S.FAILED}),
    S.COMPLETE: frozenset({S.VIEWS_GENERATING}),
    S.FAILED: frozenset({S.FRONT_GENERATING, S.VIEWS_GENERATING}),
}

GENERATING = frozenset({S.FRONT_GENERATING, S.VIEWS_GENERATING})

_WHAT_TO_DO: dict[Status, str] = {
    S.FRONT_GENERATING: "the front view is still being generated",
    S.FRONT_REVIEW: "the front view is waiting for your review",
    S.REVISION_REQUESTED: "the front view was rejected; generate a new front first",
    S.APPROVED: "the front view is already approved",
    S.VIEWS_GENERATING: "the views are still being generated",
    S.COMPLETE: "this product is already complete",
    S.FAILED: "the last generation failed; retry it first",
    S.INPUT: "nothing has been generated yet",
}


def can_move(current: Status, target: Status) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check(current: Status, target: Status, *, action: str = "") -> None:
    """Raise ``IllegalTransition`` unless ``current -> target`` is allowed."""
    if not can_move(current, target):
        doing = action or f"move to {target.value.replace('_', ' ')}"
        raise IllegalTransition(
            f"Can't {doing} now: {_WHAT_TO_DO.get(current, current.value)}.",
            detail=f"{current.value} -> {target.value}",
        )


def require(current: Status, wanted: Status, *, action: str) -> None:
    """Raise ``IllegalTransition`` unless the product is in ``wanted`` (an action that
    only makes sense there), saying what the product is doing instead."""
    if current != wanted:
        raise IllegalTransition(
            f"Can't {action} now: {_WHAT_TO_DO.get(current, current.value)}.",
            detail=f"{current.value}, not {wanted.value}",
        )

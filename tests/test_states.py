"""The state machine: every legal move allowed, everything else an error."""

from __future__ import annotations

import itertools

import pytest

from viewgen import states
from viewgen.domain import Status
from viewgen.errors import IllegalTransition

LEGAL = {
    ("input", "front_generating"), ("front_generating", "front_review"),
    ("front_generating", "failed"), ("front_review", "approved"),
    ("front_review", "revision_requested"), ("revision_requested", "front_generating"),
    ("approved", "views_generating"), ("views_generating", "complete"),
    ("views_generating", "approved"), ("views_generating", "failed"),
    ("complete", "views_generating"), ("failed", "front_generating"),
    ("failed", "views_generating"),
    ("front_review", "front_generating"),  # a flagged front tried again, free
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_transitions(current: Status, target: Status) -> None:
    if (current.value, target.value) in LEGAL:
        states.check(current, target)
    else:
        with pytest.raises(IllegalTransition) as info:
            states.check(current, target, action="do it")
        assert "Can't do it now" in str(info.value)

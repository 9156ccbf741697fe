"""Shape words change the model and what every view shows: round, cylindrical,
spherical and square bodies, tall / slim / flat proportions, and counts of legs and
wheels ("a five-wheeled office chair", "a three-legged stool")."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from viewgen import imaging
from viewgen.domain import ViewType
from viewgen.providers.offline.model import parse_description
from viewgen.providers.offline.render import build_scene, render_view

SIZE = (200, 200)


def _view(text: str, view: ViewType):
    return render_view(build_scene(parse_description(text)), view, SIZE)


def _fill(mask: np.ndarray) -> float:
    """Share of the silhouette's bounding box it covers (a disc: π/4, a square: ~1)."""
    box = imaging.bbox(mask)
    assert box is not None
    x0, y0, x1, y1 = box
    return float(mask[y0:y1, x0:x1].mean())


def _aspect(mask: np.ndarray) -> float:
    x0, y0, x1, y1 = imaging.bbox(mask)  # type: ignore[misc]
    return (x1 - x0) / (y1 - y0)


def _runs_above_ground(mask: np.ndarray, lift: int = 6) -> int:
    """Separate columns of product just above the lowest row (legs seen from the front)."""
    rows = np.flatnonzero(mask.any(axis=1))
    row = mask[rows[-1] - lift]
    return int(ndimage.label(row)[1])


def test_words_give_shapes_and_counts() -> None:
    cases = {"a round oak table": ("round", 0, 0), "a cylindrical vase": ("cylinder", 0, 0),
             "a spherical speaker": ("sphere", 0, 0), "a square box": ("square", 0, 0),
             "a five-wheeled office chair": ("", 0, 5), "a three-legged stool": ("", 3, 0),
             "a chair on 3 legs": ("", 3, 0), "a table with six legs": ("", 6, 0)}
    for text, (shape, legs, wheels) in cases.items():
        m = parse_description(text)
        assert (m.shape, m.legs, m.wheels) == (shape, legs, wheels), text


def test_a_round_table_is_round_from_above_and_a_plain_one_is_not() -> None:
    assert _fill(_view("a round oak table", ViewType.TOP).mask) < 0.82
    assert _fill(_view("an oak table", ViewType.TOP).mask) > 0.95


@pytest.mark.parametrize("text", ["a spherical speaker", "a spherical teal gadget"])
def test_a_sphere_is_a_disc_from_every_side(text: str) -> None:
    for view in (ViewType.FRONT, ViewType.SIDE, ViewType.TOP):
        mask = _view(text, view).mask
        assert 0.72 < _fill(mask) < 0.86, view
        assert 0.9 < _aspect(mask) < 1.12, view


def test_a_cylindrical_vase_is_straight_sided() -> None:
    assert _fill(_view("a cylindrical sage vase", ViewType.FRONT).mask) > 0.93
    assert _fill(_view("a sage vase", ViewType.FRONT).mask) < 0.85
    assert _fill(_view("a cylindrical sage vase", ViewType.TOP).mask) < 0.82


def test_square_and_round_boxes() -> None:
    square = parse_description("a square box")
    assert square.width == pytest.approx(square.depth, rel=0.02)
    assert _fill(_view("a round kraft box", ViewType.TOP).mask) < 0.82
    assert _fill(_view("a kraft box", ViewType.TOP).mask) > 0.95


def test_tall_slim_and_flat_change_proportions() -> None:
    base = _aspect(_view("a black vase", ViewType.FRONT).mask)
    assert _aspect(_view("a tall slim black vase", ViewType.FRONT).mask) < base * 0.75
    gadget = _aspect(_view("a grey gadget", ViewType.FRONT).mask)
    assert _aspect(_view("a flat grey gadget", ViewType.FRONT).mask) > gadget * 1.6


def test_a_three_legged_stool_shows_three_legs_in_front_and_four_shows_two() -> None:
    assert _runs_above_ground(_view("a three-legged oak stool", ViewType.FRONT).mask) == 3
    assert _runs_above_ground(_view("an oak stool", ViewType.FRONT).mask) == 2


def test_a_five_wheeled_office_chair_has_five_wheels() -> None:
    five = build_scene(parse_description("a black five-wheeled office chair"))
    four = build_scene(parse_description("a black four-wheeled office chair"))
    assert sum(p.part == "wheels" for p in five.prims) == 5
    assert sum(p.part == "wheels" for p in four.prims) == 4
    # the front sees separate wheels on the ground, not one block
    assert _runs_above_ground(_view("a black five-wheeled office chair", ViewType.FRONT).mask, 2) >= 3

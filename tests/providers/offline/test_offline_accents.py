"""Accents the words name are parts the front camera sees, and the seed's own example
("Black leather handbag with gold accents") shows and measures black and gold."""

from __future__ import annotations

import numpy as np
import pytest

from viewgen.color import rgb_to_lab
from viewgen.domain import GenerationRequest, ViewType
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.providers.offline.model import parse_description
from viewgen.providers.offline.render import build_scene, render_view

SEED_EXAMPLE = "Black leather handbag with gold accents"
SIZE = (200, 200)


def _red_share(text: str) -> float:
    """Share of the front's product pixels that are a clear red."""
    front = render_view(build_scene(parse_description(text)), ViewType.FRONT, SIZE)
    lab = rgb_to_lab(front.image[front.mask].astype(float))
    return float(((lab[:, 1] > 35) & (lab[:, 0] > 20)).mean())


@pytest.mark.parametrize(("phrase", "part"), [
    ("gold accents", "hardware"), ("brass hardware", "hardware"), ("a silver buckle", "buckle"),
    ("a gold clasp", "buckle"), ("black trim", "trim"), ("white stitching", "stitching"),
    ("a gold rim", "trim"), ("a silver zip", "zipper"),
])
def test_accent_words_are_parts(phrase: str, part: str) -> None:
    model = parse_description(f"a navy leather bag with {phrase}")
    found = model.part(part)
    assert found is not None and found.explicit
    assert found.color_name == phrase.split()[-2]
    assert model.color_name == "navy"  # the accent never repaints the product


BOXY = ["white leather handbag", "white messenger bag", "white backpack", "white box", "white gadget",
        "white phone", "white laptop", "white smartwatch", "white duffel bag"]
ROUND = ["white mug", "white bottle", "white vase", "white lamp", "white watch", "white tumbler",
         "white stool", "white speaker"]
OTHER = ["white sneaker", "white chair", "white table", "white headphones"]


@pytest.mark.parametrize("text", BOXY)
@pytest.mark.parametrize("accent", ["red accents", "red hardware", "a red buckle", "a red clasp",
                                    "red trim", "red stitching", "a red zip"])
def test_accents_show_on_the_front_of_boxy_products(text: str, accent: str) -> None:
    assert _red_share(text) == 0.0
    assert _red_share(f"{text} with {accent}") > 0.003, accent


@pytest.mark.parametrize("text", ROUND + OTHER)
@pytest.mark.parametrize("accent", ["red accents", "red trim", "a red rim"])
def test_accents_show_on_the_front_of_round_and_open_products(text: str, accent: str) -> None:
    assert _red_share(text) == 0.0
    assert _red_share(f"{text} with {accent}") > 0.003, accent


def test_the_seed_example_shows_and_measures_black_and_gold() -> None:
    request = GenerationRequest(view=ViewType.FRONT, prompt="", text=SEED_EXAMPLE, size=(512, 512))
    image = OfflineGenerator().generate(request)
    colors = OfflineExtractor().extract(image.data).features.colors
    names = [c.name for c in colors]
    assert names[0] == "black"
    assert "gold" in names[:3], colors
    gold = next(c for c in colors if c.name == "gold")
    assert gold.share >= 0.015  # on the front, where a person sees it
    # and every other view still agrees the bag is black
    for view in (ViewType.BACK, ViewType.SIDE, ViewType.TOP):
        other = OfflineGenerator().generate(
            GenerationRequest(view=view, prompt="", text=SEED_EXAMPLE, size=(256, 256)))
        assert OfflineExtractor().extract(other.data).features.colors[0].name == "black"


def test_gold_hardware_is_metal_and_listed_as_a_key_element() -> None:
    model = parse_description(SEED_EXAMPLE)
    hardware = model.part("hardware")
    assert hardware is not None and hardware.material == "metal"
    assert any("gold" in e and "hardware" in e for e in model.key_elements())
    assert np.array_equal(model.color, (0, 0, 0))

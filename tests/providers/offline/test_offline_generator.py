"""OfflineGenerator: the ImageGenerator protocol, deterministic PNG bytes, the
``viewgen:model`` metadata the extractor reads, sizes, feedback, logo and errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from viewgen import imaging
from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.errors import InvalidInput
from viewgen.providers import ImageGenerator
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.providers.offline.extract import META_KEY, read_model_meta

V = ViewType
BAG = "navy leather messenger bag with a tan strap"
SIZE = (256, 256)


def request(view: ViewType = V.FRONT, text: str | None = BAG, **kw: object) -> GenerationRequest:
    kw.setdefault("size", SIZE)
    return GenerationRequest(view=view, prompt="ignored by the offline provider", text=text, **kw)  # type: ignore[arg-type]


def pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"))


def logo_png() -> bytes:
    img = Image.new("RGBA", (80, 40), (0, 0, 0, 0))
    img.paste((250, 200, 0, 255), (5, 5, 75, 35))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_it_is_an_image_generator() -> None:
    gen = OfflineGenerator()
    assert isinstance(gen, ImageGenerator)
    assert gen.name == "offline" and gen.model == "procedural-v1"


def test_generates_a_png_with_usage_and_metadata() -> None:
    result = OfflineGenerator().generate(request(V.FRONT, seed=3, logo=logo_png()))
    assert result.mime_type == "image/png"
    assert result.data.startswith(b"\x89PNG")
    assert (result.usage.provider, result.usage.model) == ("offline", "procedural-v1")
    assert result.usage.images == 1 and result.usage.cost_usd == 0.0
    with Image.open(io.BytesIO(result.data)) as img:
        assert img.size == SIZE and img.mode == "RGB"
        raw = img.text[META_KEY]
    meta = json.loads(raw)
    assert raw == json.dumps(result.meta, sort_keys=True)
    assert meta == read_model_meta(result.data)
    assert meta["category"] == "bag" and meta["view"] == "front"
    assert meta["materials"] == ["leather", "metal"]
    assert any("tan" in e and "strap" in e for e in meta["key_elements"])
    assert any("logo" in e for e in meta["key_elements"])
    dims = meta["dimensions_cm"]
    assert set(dims) == {"width", "height", "depth"} and all(v > 0 for v in dims.values())
    assert "navy" in meta["description"] and "messenger bag" in meta["description"]


def test_every_view_carries_its_own_view_name() -> None:
    gen = OfflineGenerator()
    for view in ALL_VIEWS:
        meta = read_model_meta(gen.generate(request(view, seed=1)).data)
        assert meta is not None and meta["view"] == view.value
        assert not any("logo" in e for e in meta["key_elements"])  # no logo given


def test_same_request_same_bytes_and_seed_or_text_changes_them() -> None:
    gen = OfflineGenerator()
    a = gen.generate(request(V.FRONT, seed=7)).data
    assert a == gen.generate(request(V.FRONT, seed=7)).data
    assert a == OfflineGenerator().generate(request(V.FRONT, seed=7)).data
    assert a != gen.generate(request(V.FRONT, seed=8)).data
    assert a != gen.generate(request(V.FRONT, text="burgundy ceramic mug", seed=7)).data


def test_default_size_is_1024_and_size_is_honoured() -> None:
    gen = OfflineGenerator()
    req = GenerationRequest(view=V.SIDE, prompt="", text="burgundy ceramic mug")
    with Image.open(io.BytesIO(gen.generate(req).data)) as img:
        assert img.size == (1024, 1024)
    with Image.open(io.BytesIO(gen.generate(request(V.TOP, size=(300, 200))).data)) as img:
        assert img.size == (300, 200)


def test_feedback_rebuilds_the_model() -> None:
    gen = OfflineGenerator()
    plain = gen.generate(request(V.FRONT, seed=2))
    red = gen.generate(request(V.FRONT, seed=2, feedback=("make the strap red",)))
    assert plain.data != red.data
    assert any("red" in e and "strap" in e for e in red.meta["key_elements"])
    taller = gen.generate(request(V.FRONT, seed=2, feedback=("make the strap red", "taller")))
    assert taller.meta["dimensions_cm"]["height"] > red.meta["dimensions_cm"]["height"]
    gone = gen.generate(request(V.FRONT, seed=2, feedback=("no strap",)))
    assert not any("strap" in e for e in gone.meta["key_elements"])


def test_logo_shows_on_the_front_only() -> None:
    gen = OfflineGenerator()
    for view in ALL_VIEWS:
        plain = pixels(gen.generate(request(view, seed=4)).data)
        logo = pixels(gen.generate(request(view, seed=4, logo=logo_png())).data)
        if view == V.FRONT:
            assert np.abs(plain.astype(int) - logo.astype(int)).sum(axis=-1).max() > 100
        else:
            assert np.array_equal(plain, logo), view


def test_five_views_agree_in_extents_through_the_png() -> None:
    gen = OfflineGenerator()
    boxes = {}
    for view in ALL_VIEWS:
        rgb = pixels(gen.generate(request(view, seed=5)).data)
        x0, y0, x1, y1 = imaging.bbox(imaging.foreground_mask(rgb))
        boxes[view] = (x1 - x0, y1 - y0)
    assert abs(boxes[V.FRONT][0] - boxes[V.TOP][0]) <= 3
    assert abs(boxes[V.FRONT][1] - boxes[V.SIDE][1]) <= 3
    assert abs(boxes[V.SIDE][0] - boxes[V.TOP][1]) <= 3


def test_the_extractor_reads_the_render() -> None:
    front = OfflineGenerator().generate(request(V.FRONT, seed=9)).data
    features = OfflineExtractor().extract(front).features
    assert "navy" in [c.name for c in features.colors]
    assert "leather" in features.materials
    assert features.estimatedDimensions is not None
    assert features.estimatedDimensions.unit == "cm" and not features.estimatedDimensions.missing
    assert features.not_measured == []


@pytest.mark.parametrize("text", ["", "   ", "12345", None])
def test_nothing_usable_is_invalid_input(text: str | None) -> None:
    with pytest.raises(InvalidInput):
        OfflineGenerator().generate(request(V.FRONT, text=text))


def test_bad_sizes_are_invalid_input() -> None:
    for size in ((0, 100), (100000, 100)):
        with pytest.raises(InvalidInput):
            OfflineGenerator().generate(request(V.FRONT, size=size))

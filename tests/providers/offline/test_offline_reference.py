"""Views from a reference photo: the product cut out of a synthetic photo (a shaded
shape on a noisy light or dark background), the other views built from its silhouette
and palette, the orthographic extent rules, metadata and errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from viewgen import imaging
from viewgen.color import ciede2000, palette, rgb_to_lab
from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.errors import InvalidInput
from viewgen.providers.offline import OfflineExtractor, OfflineGenerator
from viewgen.providers.offline.reference import clean_mask, prepare, render_reference

V = ViewType
SIZE = (256, 256)
TEAL = (20, 130, 140)


def synthetic_photo(color: tuple[int, int, int] = TEAL, *, dark: bool = False, shape: str = "ellipse",
                    size: tuple[int, int] = (480, 400), box: tuple[int, int, int, int] = (150, 90, 330, 330),
                    seed: int = 0, alpha: bool = False) -> tuple[bytes, np.ndarray]:
    """A product photo: a shaded shape on a noisy background, and the true mask."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 40.0 if dark else 228.0
    bg = base + (8.0 if not dark else 6.0) * (yy / h) + rng.normal(0, 2.5, (h, w))
    img = np.repeat(bg[..., None], 3, axis=-1)
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    if shape == "ellipse":
        d = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2
        truth = d <= 1.0
        shading = 1.1 - 0.35 * np.clip(d, 0, 1) - 0.15 * (xx - cx) / rx
    else:
        truth = (xx >= x0) & (xx < x1) & (yy >= y0) & (yy < y1)
        shading = 1.05 - 0.2 * (xx - x0) / (x1 - x0)
    product = np.array(color, dtype=np.float32)[None, None, :] * shading[..., None]
    product += rng.normal(0, 2.0, product.shape)
    img = np.where(truth[..., None], product, img)
    arr = np.clip(img, 0, 255).astype(np.uint8)
    if alpha:
        rgba = np.dstack([arr, np.where(truth, 255, 0).astype(np.uint8)])
        pil = Image.fromarray(rgba, mode="RGBA")
    else:
        pil = Image.fromarray(arr, mode="RGB")
    out = io.BytesIO()
    pil.save(out, format="PNG")
    return out.getvalue(), truth


def crop_resize(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    x0, y0, x1, y1 = imaging.bbox(mask)
    img = Image.fromarray((mask[y0:y1, x0:x1] * 255).astype(np.uint8))
    return np.asarray(img.resize((shape[1], shape[0]), Image.Resampling.BILINEAR)) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def views_of(photo: bytes, text: str | None = None) -> dict[ViewType, np.ndarray]:
    return {v: render_reference(photo, v, SIZE, text=text)[0] for v in ALL_VIEWS}  # type: ignore[misc]


def extents(views: dict) -> dict[ViewType, tuple[int, int]]:
    out = {}
    for view, rendered in views.items():
        x0, y0, x1, y1 = imaging.bbox(rendered.mask)
        out[view] = (x1 - x0, y1 - y0)
    return out


@pytest.mark.parametrize("dark", [False, True])
@pytest.mark.parametrize("shape", ["ellipse", "rect"])
def test_front_is_the_cut_out_product(dark: bool, shape: str) -> None:
    photo, truth = synthetic_photo(dark=dark, shape=shape)
    front = render_reference(photo, V.FRONT, SIZE)[0]
    x0, y0, x1, y1 = imaging.bbox(truth)
    assert iou(crop_resize(front.mask, (y1 - y0, x1 - x0)), truth[y0:y1, x0:x1]) >= 0.9
    fx0, fy0, fx1, fy1 = imaging.bbox(front.mask)
    # centred, scaled to fit with the margin, proportions kept
    assert abs((fx0 + fx1) / 2 - SIZE[0] / 2) <= 2 and abs((fy0 + fy1) / 2 - SIZE[1] / 2) <= 2
    assert max(fx1 - fx0, fy1 - fy0) <= 0.76 * SIZE[0] + 2
    assert abs((fx1 - fx0) / (fy1 - fy0) - (x1 - x0) / (y1 - y0)) < 0.06
    # the mask the renderer reports is what a reader of the PNG finds
    found = imaging.foreground_mask(front.image)
    assert iou(found, front.mask) >= 0.9
    # the background is the studio backdrop, not the photo's
    assert front.image[3, 3].min() > 200


def test_views_follow_the_extent_rules() -> None:
    photo, _ = synthetic_photo(shape="rect", box=(120, 140, 360, 300))
    e = extents(views_of(photo))
    widths = [e[V.FRONT][0], e[V.BACK][0], e[V.TOP][0], e[V.BOTTOM][0]]
    heights = [e[V.FRONT][1], e[V.BACK][1], e[V.SIDE][1]]
    depths = [e[V.SIDE][0], e[V.TOP][1], e[V.BOTTOM][1]]
    for values in (widths, heights, depths):
        assert max(values) - min(values) <= 2, e
    # depth about 0.4 x the width when nothing says otherwise
    assert depths[0] == pytest.approx(0.4 * widths[0], abs=3)


def test_the_description_sets_the_depth() -> None:
    photo, _ = synthetic_photo(shape="rect", box=(120, 140, 360, 300))
    bag = extents(views_of(photo, text="a leather messenger bag"))
    assert bag[V.SIDE][0] == pytest.approx(bag[V.FRONT][0] * 11 / 36, abs=3)
    box = extents(views_of(photo, text="a cardboard box"))
    assert box[V.SIDE][0] == pytest.approx(box[V.FRONT][0] * 16 / 22, abs=3)


def test_tall_round_products_get_a_cylinder() -> None:
    photo, _ = synthetic_photo(shape="rect", box=(200, 60, 280, 360))
    views = views_of(photo)
    e = extents(views)
    assert abs(e[V.TOP][0] - e[V.TOP][1]) <= 2  # a disc from above
    top = views[V.TOP].mask
    x0, y0, x1, y1 = imaging.bbox(top)
    assert top[y0:y1, x0:x1].mean() == pytest.approx(np.pi / 4, abs=0.05)


def test_palette_follows_the_photo() -> None:
    photo, _ = synthetic_photo(color=(180, 40, 40))
    ref = rgb_to_lab(np.array([180, 40, 40], dtype=np.float64))
    for view, rendered in views_of(photo).items():
        main = palette(rendered.image[rendered.mask], k=3)[0][0]
        delta = float(ciede2000(rgb_to_lab(np.array(main, dtype=np.float64)), ref))
        # a round body's top is a shaded dome (lit on one side, in shadow on the other)
        assert delta < (12 if view in (V.FRONT, V.BACK, V.SIDE) else 16), (view, main, delta)


def test_back_is_the_mirrored_silhouette_without_front_details() -> None:
    photo, _ = synthetic_photo(shape="ellipse", box=(100, 90, 330, 330))
    views = views_of(photo)
    front, back = views[V.FRONT], views[V.BACK]
    assert iou(front.mask[:, ::-1], back.mask) > 0.97 or iou(np.roll(front.mask[:, ::-1], 1, axis=1),
                                                             back.mask) > 0.97


def test_transparent_reference_uses_its_alpha() -> None:
    photo, truth = synthetic_photo(shape="ellipse", alpha=True)
    front = render_reference(photo, V.FRONT, SIZE)[0]
    x0, y0, x1, y1 = imaging.bbox(truth)
    assert iou(crop_resize(front.mask, (y1 - y0, x1 - x0)), truth[y0:y1, x0:x1]) >= 0.95


def test_metadata_says_what_is_unknown() -> None:
    photo, _ = synthetic_photo(color=(180, 40, 40))
    _, meta = render_reference(photo, V.SIDE, SIZE)
    assert meta["category"] == "product" and meta["view"] == "side"
    assert meta["materials"] == [] and meta["key_elements"] == []
    assert meta.get("dimensions_cm") is None
    assert meta["description"].startswith("A product photographed by the user, mostly ")
    _, meta = render_reference(photo, V.FRONT, SIZE, text="a leather messenger bag")
    assert meta["category"] == "bag"


def test_generator_uses_the_photo_and_the_extractor_marks_the_gaps() -> None:
    photo, _ = synthetic_photo(color=(180, 40, 40))
    gen = OfflineGenerator()
    req = GenerationRequest(view=V.FRONT, prompt="", reference=photo, seed=1, size=SIZE)
    result = gen.generate(req)
    assert result.data == gen.generate(req).data
    features = OfflineExtractor().extract(result.data).features
    assert set(features.not_measured) >= {"materials", "keyElements", "estimatedDimensions"}
    assert any(c.name in ("red", "crimson", "scarlet", "dark red", "brick red", "rust", "burgundy")
               for c in features.colors)


def test_an_empty_photo_is_invalid_input() -> None:
    rng = np.random.default_rng(1)
    arr = np.clip(230 + rng.normal(0, 2, (200, 200, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    with pytest.raises(InvalidInput, match="could not find a product"):
        prepare(out.getvalue(), SIZE)


def test_clean_mask_drops_specks_and_fills_pinholes() -> None:
    mask = np.zeros((100, 100), dtype=bool)
    mask[20:80, 20:80] = True
    mask[50, 50] = False  # a pinhole
    mask[5, 5] = True  # a speck
    cleaned = clean_mask(mask)
    assert cleaned[50, 50] and not cleaned[5, 5]
    assert cleaned.sum() == pytest.approx(60 * 60, rel=0.02)

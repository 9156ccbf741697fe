"""viewgen.color: conversions, CIEDE2000 against the published test data, names, palettes."""

from __future__ import annotations

import numpy as np
import pytest

from viewgen.color import (
    COLOR_HEX,
    MATERIAL_TONES,
    NAMED_COLORS,
    ciede2000,
    color_rgb,
    hex_to_rgb,
    lab_to_rgb,
    nearest_name,
    palette,
    photographed,
    rgb_to_hex,
    rgb_to_lab,
    usage_for,
)
from viewgen.domain import ColorUsage

# Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula: implementation
# notes, supplementary test data, and mathematical observations", Table 1: all 34 pairs
SHARMA_PAIRS = [
((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
]


def test_ciede2000_matches_all_sharma_pairs_vectorised_and_symmetric() -> None:
    a = np.array([p[0] for p in SHARMA_PAIRS])
    b = np.array([p[1] for p in SHARMA_PAIRS])
    expected = np.array([p[2] for p in SHARMA_PAIRS])
    np.testing.assert_allclose(ciede2000(a, b), expected, atol=1e-4)
    np.testing.assert_allclose(ciede2000(b, a), expected, atol=1e-4)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_PAIRS)
def test_ciede2000_single_pair(lab1, lab2, expected) -> None:
    assert float(ciede2000(lab1, lab2)) == pytest.approx(expected, abs=1e-4)


def test_ciede2000_broadcasts_and_is_zero_on_identity() -> None:
    labs = rgb_to_lab(np.array([[0, 0, 0], [255, 255, 255], [31, 42, 68]], dtype=float))
    d = ciede2000(labs[:, None, :], labs[None, :, :])
    assert d.shape == (3, 3)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-9)
    np.testing.assert_allclose(d, d.T, atol=1e-9)
    assert d[0, 1] == pytest.approx(100.0, abs=0.01)  # black to white


def test_kl_weights_lightness() -> None:
    light, dark = (80.0, 5.0, 5.0), (50.0, 5.0, 5.0)
    assert float(ciede2000(light, dark, kL=2)) == pytest.approx(float(ciede2000(light, dark)) / 2)


def test_hex_round_trip_and_forms() -> None:
    assert hex_to_rgb("#1F2A44") == (31, 42, 68)
    assert hex_to_rgb("1f2a44") == (31, 42, 68)
    assert hex_to_rgb("#abc") == (170, 187, 204)
    assert rgb_to_hex((31, 42, 68)) == "#1F2A44"
    assert rgb_to_hex(np.array([300.0, -4.0, 127.6])) == "#FF0080"
    with pytest.raises(ValueError):
        hex_to_rgb("#12345")
    with pytest.raises(ValueError):
        hex_to_rgb("#GGGGGG")


def test_rgb_to_lab_reference_values_and_inverse() -> None:
    np.testing.assert_allclose(rgb_to_lab([255, 255, 255]), [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(rgb_to_lab([0, 0, 0]), [0.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(rgb_to_lab([255, 0, 0]), [53.24, 80.09, 67.20], atol=0.01)
    np.testing.assert_allclose(rgb_to_lab([0, 0, 255]), [32.30, 79.19, -107.86], atol=0.01)
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(500, 3)).astype(float)
    lab = rgb_to_lab(rgb)
    assert lab.shape == (500, 3)
    np.testing.assert_allclose(lab_to_rgb(lab), rgb, atol=1e-6)
    image = rng.integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
    assert rgb_to_lab(image).shape == (4, 5, 3)


def test_name_table_is_sized_and_unique() -> None:
    assert 150 <= len(NAMED_COLORS) <= 220
    hexes = [h.upper() for h in NAMED_COLORS.values()]
    assert len(set(hexes)) == len(hexes)
    for needed in ("black", "white", "ivory", "cream", "beige", "tan", "camel", "brown", "chocolate",
                   "walnut", "burgundy", "maroon", "red", "coral", "orange", "rust", "gold", "mustard",
                   "yellow", "olive", "lime", "green", "forest green", "mint", "teal", "turquoise",
                   "sky blue", "blue", "royal blue", "navy", "indigo", "purple", "lavender", "plum",
                   "pink", "blush", "magenta", "silver", "light grey", "grey", "slate", "charcoal",
                   "gunmetal", "rose gold", "bronze", "copper", "brass", "khaki", "sand", "taupe"):
        assert needed in NAMED_COLORS


def test_the_vocabulary_is_the_xkcd_survey_plus_material_tones() -> None:
    from matplotlib.colors import XKCD_COLORS

    survey = {k.removeprefix("xkcd:").replace("'", ""): v.upper() for k, v in XKCD_COLORS.items()}
    from_survey = [n for n in COLOR_HEX if n not in MATERIAL_TONES and n in survey]
    assert len(from_survey) > 850
    for name in from_survey:
        assert COLOR_HEX[name] == survey[name]
    strays = [n for n in COLOR_HEX if n not in MATERIAL_TONES and n not in survey]
    assert set(strays) <= {"gray", "light gray", "dark gray", "off-white", "space gray"}
    assert "puke" not in COLOR_HEX and "pale" not in COLOR_HEX  # insults and modifiers are no names
    # the parser and the extractor read the same table
    from viewgen.providers.offline.model import COLORS

    assert set(COLORS) == set(COLOR_HEX)
    assert all(COLORS[n] == hex_to_rgb(COLOR_HEX[n]) for n in COLORS)
    assert set(NAMED_COLORS) <= set(COLOR_HEX)


def test_every_table_colour_names_itself_as_photographed() -> None:
    for name, hex_value in NAMED_COLORS.items():
        assert nearest_name(photographed(hex_to_rgb(hex_value))) == name


@pytest.mark.parametrize(("value", "names"), [
    ("#1F2A44", {"navy"}),
    ("#1C2841", {"navy"}),
    ("#000000", {"black"}),
    ("#262628", {"black"}),  # a black product as photographed
    ("#FFFFFF", {"white"}),
    ("#F0F0EE", {"white"}),
    ("#D2B48C", {"tan"}),
    ((212, 175, 55), {"gold"}),
    ("#C0C0C0", {"silver"}),
    ("#808080", {"grey"}),
    ((200, 30, 40), {"red", "scarlet", "crimson"}),
])
def test_nearest_names(value, names) -> None:
    assert nearest_name(value) in names


@pytest.mark.parametrize(("name", "hue"), [("olive", "green"), ("forest green", "green"),
                                         ("sky blue", "blue"), ("light grey", "grey"),
                                         ("dark green", "green")])
def test_multi_word_and_modified_names_are_their_own_colour(name: str, hue: str) -> None:
    rgb = color_rgb(name)
    assert rgb == hex_to_rgb(COLOR_HEX[name])
    assert float(ciede2000(rgb_to_lab(rgb), rgb_to_lab(color_rgb(hue)))) > 10  # not the plain hue
    assert nearest_name(photographed(rgb)) == name


def test_modifiers_move_lightness_and_saturation() -> None:
    sage = rgb_to_lab(color_rgb("sage"))
    pale, deep = rgb_to_lab(color_rgb("pale sage")), rgb_to_lab(color_rgb("deep sage"))
    assert pale[0] > sage[0] + 10 and deep[0] < sage[0] - 10
    muted, bright = color_rgb("muted teal"), color_rgb("bright teal")
    assert np.ptp(muted) < np.ptp(color_rgb("teal")) <= np.ptp(bright)
    assert color_rgb("matte navy") == color_rgb("navy")  # a finish, not a colour change
    assert color_rgb("no such colour") is None


def _pixels(parts: list[tuple[tuple[int, int, int], int]], noise: float = 0.0, seed: int = 0) -> np.ndarray:
    px = np.concatenate([np.tile(np.array(c, dtype=float), (n, 1)) for c, n in parts])
    if noise:
        px = px + np.random.default_rng(seed).normal(0, noise, px.shape)
    return np.clip(np.rint(px), 0, 255).astype(np.uint8)


def test_palette_shares_and_order() -> None:
    px = _pixels([((31, 42, 68), 7000), ((210, 180, 140), 2000), ((212, 175, 55), 1000)], noise=2.0)
    result = palette(px, k=5)
    assert [nearest_name(c) for c, _ in result] == ["navy", "tan", "gold"]
    shares = [s for _, s in result]
    np.testing.assert_allclose(shares, [0.7, 0.2, 0.1], atol=0.02)
    assert shares == sorted(shares, reverse=True)
    assert sum(shares) <= 1.0 + 1e-9


def test_palette_is_deterministic_and_subsamples() -> None:
    px = _pixels([((200, 30, 40), 40_000), ((20, 20, 20), 25_000), ((240, 240, 240), 5_000)], noise=6.0)
    first = palette(px, k=5)
    assert first == palette(px, k=5)
    assert [nearest_name(c) for c, _ in first][:2] in (["red", "black"], ["scarlet", "black"])
    np.testing.assert_allclose([s for _, s in first][:2], [40 / 70, 25 / 70], atol=0.03)


def test_palette_merges_close_shades_and_respects_k() -> None:
    # two navies about ΔE 2 apart are one colour
    px = _pixels([((31, 42, 68), 5000), ((34, 46, 72), 5000)])
    result = palette(px, k=5)
    assert len(result) == 1
    assert result[0][1] == pytest.approx(1.0)
    many = _pixels([(tuple(int(v) for v in c), 500) for c in
                    [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 0, 0), (255, 255, 255),
                     (128, 0, 128)]])
    assert len(palette(many, k=3)) == 3


def test_palette_of_nothing_is_empty() -> None:
    assert palette(np.zeros((0, 3), dtype=np.uint8)) == []


def test_usage_for() -> None:
    assert usage_for(0, 0.05) == ColorUsage.PRIMARY
    assert usage_for(1, 0.30) == ColorUsage.SECONDARY
    assert usage_for(1, 0.15) == ColorUsage.SECONDARY
    assert usage_for(2, 0.08) == ColorUsage.ACCENT

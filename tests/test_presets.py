"""viewgen.presets, viewgen.cutout and the preset renderer in viewgen.export: every
preset's size, background, fill, framing, colour profile and file size; cut-outs that
are exact on offline renders, clean on provider images and free of the studio halo."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageDraw, ImageFilter

from viewgen import export
from viewgen.cutout import cutout
from viewgen.domain import GenerationRequest, ViewType
from viewgen.errors import InvalidInput
from viewgen.presets import (
    PRESETS,
    TRANSPARENT,
    WHITE,
    Preset,
    background_warnings,
    get_preset,
    parse_background,
    preset_names,
    resolve_presets,
    with_background,
)
from viewgen.providers.offline.generator import OfflineGenerator
from viewgen.providers.offline.model import build_model
from viewgen.providers.offline.render import build_scene, render_view

BAG = "a red leather messenger bag with a brass buckle"
SIZE = 384


@pytest.fixture(scope="module")
def offline_front() -> bytes:
    request = GenerationRequest(view=ViewType.FRONT, prompt=BAG, text=BAG, seed=3, size=(SIZE, SIZE))
    return OfflineGenerator().generate(request).data


def provider_photo(size: int = 360) -> bytes:
    """A 'provider' picture: no offline metadata, a studio gradient, a tall blue bottle
    with a red cap, and a soft shadow under it."""
    y = np.linspace(0, 1, size)[:, None, None]
    backdrop = (np.array([236, 234, 228]) * (1 - y) + np.array([214, 211, 204]) * y)
    image = Image.fromarray(np.broadcast_to(backdrop, (size, size, 3)).astype(np.uint8))
    shadow = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shadow).ellipse((110, 300, 250, 318), fill=90)
    image.paste((150, 148, 140), mask=shadow.filter(ImageFilter.GaussianBlur(6)))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((130, 90, 230, 308), radius=26, fill=(30, 60, 170))
    draw.rectangle((160, 50, 200, 92), fill=(200, 30, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def product_pixels(image: Image.Image, preset: Preset) -> np.ndarray:
    """Where the product is: opaque pixels on a transparent canvas; elsewhere pixels
    clearly unlike the background (the faint contact shadow does not count)."""
    arr = np.asarray(image.convert("RGBA")).astype(int)
    if preset.background == TRANSPARENT:
        return arr[..., 3] > 8
    return (np.abs(arr[..., :3] - 255).max(axis=-1) > 110)


# --------------------------------------------------------------------------- the table


def test_the_table_has_every_marketplace_asked_for() -> None:
    names = preset_names()
    assert len(names) == len(set(names))
    for name in ("amazon", "amazon-additional", "shopify", "ebay", "etsy", "etsy-4x3", "instagram-4x5",
                 "instagram-story", "cutout", "original"):
        assert name in names
    amazon = get_preset("amazon")
    assert (amazon.size, amazon.background, amazon.fill, amazon.format) == ((2000, 2000), WHITE, 0.85, "JPEG")
    assert get_preset("shopify").size == (2048, 2048)
    assert get_preset("ebay").size == (1600, 1600)
    assert get_preset("etsy-4x3").aspect == "4:3"
    assert get_preset("instagram-4x5").size == (1080, 1350)
    assert get_preset("instagram-story").aspect == "9:16"
    assert get_preset("cutout").background == TRANSPARENT and get_preset("cutout").format == "PNG"
    assert "pure white" in amazon.describe() and "85%" in amazon.describe()


def test_names_are_forgiving_and_unknown_ones_say_what_exists() -> None:
    assert get_preset(" Instagram 4x5 ").name == "instagram-4x5"
    assert get_preset("AMAZON").name == "amazon"
    with pytest.raises(InvalidInput) as err:
        get_preset("walmart")
    assert "walmart" in err.value.user_message and "amazon" in err.value.user_message
    assert [p.name for p in resolve_presets(["cutout", "amazon", "amazon"])] == ["amazon", "cutout"]
    with pytest.raises(InvalidInput):
        resolve_presets([])


def test_a_preset_that_cannot_exist_is_refused() -> None:
    with pytest.raises(ValueError):
        Preset("x", "x", (10, 10), TRANSPARENT, 0.8, "JPEG")
    with pytest.raises(ValueError):
        Preset("x", "x", (10, 10), "white-ish", 0.8, "PNG")
    with pytest.raises(ValueError):
        Preset("x", "x", (10, 10), WHITE, 1.5, "PNG")


# --------------------------------------------------------------------------- every preset


def check_preset_file(data: bytes, preset: Preset, source: tuple[int, int]) -> None:
    assert len(data) <= preset.max_bytes
    image = decode(data)
    assert image.format == preset.format
    icc = image.info.get("icc_profile")
    assert icc, f"{preset.name}: no colour profile"
    description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    assert "sRGB" in description
    if preset.size is not None:
        assert image.size == preset.size
    elif preset.fill is None:
        assert image.size == source
    if preset.fill is None:
        return
    arr = np.asarray(image.convert("RGBA"))
    corners = [arr[:8, :8], arr[:8, -8:], arr[-8:, :8], arr[-8:, -8:]]
    for corner in corners:
        if preset.background == TRANSPARENT:
            assert (corner[..., 3] == 0).all()
        elif preset.background == WHITE:
            assert (corner[..., :3] == 255).all(), f"{preset.name}: corner not pure white"
    product = product_pixels(image, preset)
    W, H = image.size
    assert not (product[0].any() or product[-1].any() or product[:, 0].any() or product[:, -1].any()), \
        f"{preset.name}: the product touches the edge"
    ys, xs = np.nonzero(product)
    fill = max((xs.max() - xs.min() + 1) / W, (ys.max() - ys.min() + 1) / H)
    assert abs(fill - preset.fill) <= 0.03, f"{preset.name}: fill {fill:.3f} vs {preset.fill}"


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_each_preset_on_an_offline_render(preset: Preset, offline_front: bytes) -> None:
    item = export.render_preset(offline_front, preset, view=ViewType.FRONT)
    check_preset_file(item.data, preset, (SIZE, SIZE))
    assert item.filename == f"front.{preset.extension}"


@pytest.mark.parametrize("name", ["amazon", "instagram-story", "etsy-4x3", "cutout"])
def test_presets_on_a_provider_image(name: str) -> None:
    preset = get_preset(name)
    item = export.render_preset(provider_photo(), preset, view=ViewType.FRONT)
    check_preset_file(item.data, preset, (360, 360))


def test_a_wide_product_is_padded_top_and_bottom_never_cropped() -> None:
    image = Image.new("RGB", (600, 300), (230, 228, 222))
    ImageDraw.Draw(image).rectangle((40, 120, 560, 200), fill=(20, 120, 60))
    out = io.BytesIO()
    image.save(out, format="PNG")
    preset = get_preset("instagram-story")  # tall canvas, wide product: width limits
    check_preset_file(export.render_preset(out.getvalue(), preset).data, preset, (600, 300))


def test_the_shadow_darkens_only_under_the_product(offline_front: bytes) -> None:
    plain = Preset("plain", "plain", (800, 800), WHITE, 0.8, "PNG")
    shaded = Preset("shaded", "shaded", (800, 800), WHITE, 0.8, "PNG", shadow=True)
    a = np.asarray(decode(export.render_preset(offline_front, plain, view=ViewType.FRONT).data)).astype(int)
    b = np.asarray(decode(export.render_preset(offline_front, shaded, view=ViewType.FRONT).data)).astype(int)
    darker = (a - b).max(axis=-1) > 3
    ys, _ = np.nonzero(darker)
    product_bottom = np.nonzero(product_pixels(decode(export.render_preset(
        offline_front, plain).data), plain))[0].max()
    assert darker.sum() > 500 and ys.min() > product_bottom - 40  # a band at the base
    # top and bottom views are not standing on anything: no shadow
    top = np.asarray(decode(export.render_preset(offline_front, shaded, view=ViewType.TOP).data))
    assert np.array_equal(top, a.astype(np.uint8))


def test_a_file_too_big_is_made_smaller_or_refused(offline_front: bytes) -> None:
    roomy = Preset("q", "Q", (1200, 1200), WHITE, 0.85, "JPEG", 95, 10 * 1024 * 1024)
    big = len(export.render_preset(offline_front, roomy).data)
    tight = Preset("q", "Q", (1200, 1200), WHITE, 0.85, "JPEG", 95, int(big * 0.7))
    smaller = export.render_preset(offline_front, tight).data
    assert len(smaller) <= int(big * 0.7)
    impossible = Preset("q", "Impossible", (1200, 1200), WHITE, 0.85, "JPEG", 95, 2000)
    with pytest.raises(InvalidInput) as err:
        export.render_preset(offline_front, impossible)
    assert "Impossible" in err.value.user_message and "limit" in err.value.user_message


# --------------------------------------------------------------------------- cut-outs


def test_an_offline_cutout_is_the_renderers_own_silhouette(offline_front: bytes) -> None:
    cut = cutout(offline_front)
    assert cut.method == "backdrop"
    scene = build_scene(build_model(BAG, (), 3))
    truth = render_view(scene, ViewType.FRONT, (SIZE, SIZE)).mask
    alpha = np.zeros((SIZE, SIZE), dtype=np.uint8)
    x0, y0, x1, y1 = cut.box
    alpha[y0:y1, x0:x1] = cut.rgba[..., 3]
    mine = alpha >= 128
    assert (mine ^ truth).sum() <= 0.01 * truth.sum()  # edge pixels at most
    # the see-through gap under the handle is transparent, and so is the contact shadow
    assert (~truth[y0:y1, x0:x1]).sum() > 2000
    assert (alpha[~truth] == 0).mean() > 0.99
    # edges are anti-aliased: partial alpha exists along the outline
    assert ((alpha > 0) & (alpha < 255)).sum() > 0.5 * np.sqrt(truth.sum())


def test_cutout_edges_carry_no_studio_halo(offline_front: bytes) -> None:
    """The studio backdrop is a warm grey (max - min channel about 11); the bag is red.
    An edge pixel cut naively keeps some grey; ours are decontaminated to the red."""
    cut = cutout(offline_front)
    rgba = cut.rgba.astype(int)
    edge = (rgba[..., 3] > 0) & (rgba[..., 3] < 255)
    spread = rgba[..., :3].max(axis=-1) - rgba[..., :3].min(axis=-1)
    assert spread[edge].min() >= 35
    source = np.asarray(decode(offline_front).convert("RGB")).astype(int)
    x0, y0, x1, y1 = cut.box
    naive = source[y0:y1, x0:x1]
    naive_spread = naive.max(axis=-1) - naive.min(axis=-1)
    assert naive_spread[edge].min() < 25  # what the halo would have been


def test_a_provider_image_is_cut_out_by_segmentation() -> None:
    cut = cutout(provider_photo())
    assert cut.method == "segmented"
    x0, y0, x1, y1 = cut.box
    assert abs(x0 - 130) <= 3 and abs(x1 - 231) <= 3 and abs(y0 - 50) <= 3 and abs(y1 - 309) <= 4
    rgba = cut.rgba.astype(int)
    opaque = rgba[..., 3] > 0
    # no grey studio or shadow pixels inside the cut-out: blue body or red cap only
    spread = rgba[..., :3].max(axis=-1) - rgba[..., :3].min(axis=-1)
    assert spread[opaque].min() >= 60


def test_an_image_with_alpha_keeps_it() -> None:
    image = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse((50, 40, 150, 170), fill=(10, 200, 90, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    cut = cutout(out.getvalue())
    assert cut.method == "alpha" and cut.box == (50, 40, 151, 171)


def test_an_empty_picture_has_nothing_to_cut_out() -> None:
    out = io.BytesIO()
    Image.new("RGB", (120, 120), (230, 230, 230)).save(out, format="PNG")
    with pytest.raises(InvalidInput):
        cutout(out.getvalue())


# --------------------------------------------------------------------------- any background


def test_a_background_is_read_from_what_a_person_types() -> None:
    assert parse_background("#f5f5f0") == "#F5F5F0"
    assert parse_background(" F5F5F0 ") == "#F5F5F0"
    assert parse_background("#abc") == "#AABBCC"
    assert parse_background("White") == WHITE
    assert parse_background("studio") == "studio"
    for bad in ("#12345", "#GGGGGG", "red", "", "#1234567", "rgb(1,2,3)"):
        with pytest.raises(InvalidInput) as err:
            parse_background(bad)
        assert "#RRGGBB" in err.value.user_message
    with pytest.raises(InvalidInput) as err:
        parse_background("transparent")
    assert "cut-out" in err.value.user_message


def test_a_chosen_background_replaces_only_opaque_ones() -> None:
    chosen = with_background(resolve_presets(["amazon", "instagram-story", "cutout", "original"]), "#102030")
    by_name = {p.name: p for p in chosen}
    assert by_name["amazon"].background == "#102030" and by_name["instagram-story"].background == "#102030"
    assert by_name["cutout"].background == TRANSPARENT
    assert by_name["original"] == get_preset("original")
    assert "background #102030" in by_name["amazon"].describe()
    # Amazon's main image must be pure white: the person is told
    warnings = background_warnings(chosen)
    assert len(warnings) == 1 and "Amazon main image" in warnings[0] and "pure white" in warnings[0]
    assert background_warnings(with_background(resolve_presets(["amazon"]), "white")) == []
    assert with_background(chosen, None) == chosen
    # a preset given as such is kept, not swapped for the table's row of that name
    assert resolve_presets([by_name["amazon"], "ebay"])[0].background == "#102030"


def test_a_set_on_a_hex_background(offline_front: bytes) -> None:
    images = {ViewType.FRONT: offline_front, ViewType.TOP: offline_front}
    light = "#F5E6CC"
    rendered = export.render_set(images, ["etsy-4x3", "cutout", "original"], background=light, workers=2)
    assert [(i.preset.name, i.view) for i in rendered] == [
        ("etsy-4x3", ViewType.FRONT), ("etsy-4x3", ViewType.TOP), ("cutout", ViewType.FRONT),
        ("cutout", ViewType.TOP), ("original", ViewType.FRONT), ("original", ViewType.TOP)]
    colour = np.array([0xF5, 0xE6, 0xCC])
    etsy = rendered[0]
    check_preset_file(etsy.data, etsy.preset, (SIZE, SIZE))
    arr = np.asarray(decode(etsy.data).convert("RGB")).astype(int)
    for corner in (arr[:8, :8], arr[:8, -8:], arr[-8:, :8], arr[-8:, -8:]):
        assert np.abs(corner - colour).max() <= 2  # JPEG keeps a flat colour within a level or two
    product = np.abs(arr - colour).max(axis=-1) > 110
    ys, xs = np.nonzero(product)
    W, H = decode(etsy.data).size
    assert abs(max((xs.max() - xs.min() + 1) / W, (ys.max() - ys.min() + 1) / H) - 0.80) <= 0.03
    assert not (product[0].any() or product[-1].any() or product[:, 0].any() or product[:, -1].any())
    # the transparent cut-out stays transparent; the original stays as generated
    check_preset_file(rendered[2].data, rendered[2].preset, (SIZE, SIZE))
    original = np.asarray(decode(rendered[4].data).convert("RGB"))
    assert np.array_equal(original, np.asarray(decode(offline_front).convert("RGB")))
    # a dark hex on a lossless PNG is exact
    dark = Preset("d", "Dark", (600, 600), WHITE, 0.8, "PNG")
    item = export.render_set(images, [dark], background="#102030")[0]
    assert decode(item.data).getpixel((0, 0))[:3] == (0x10, 0x20, 0x30)


def test_a_bad_background_renders_nothing(offline_front: bytes) -> None:
    with pytest.raises(InvalidInput) as err:
        export.export_set({ViewType.FRONT: offline_front}, ["amazon"], background="#12G")
    assert "“#12G” is not a colour" in err.value.user_message


# --------------------------------------------------------------------------- fast and the same


def test_the_original_is_relabelled_without_touching_its_pixels(offline_front: bytes) -> None:
    item = export.render_preset(offline_front, get_preset("original"), view=ViewType.FRONT)
    assert item.encodes == 0 and item.size == (SIZE, SIZE)
    check_preset_file(item.data, get_preset("original"), (SIZE, SIZE))
    assert np.array_equal(np.asarray(decode(item.data)), np.asarray(decode(offline_front)))
    assert b"viewgen:model" not in item.data  # the renderer's private text is left out
    # a damaged PNG is not passed through: it is decoded, and refused
    broken = offline_front[:60] + bytes([offline_front[60] ^ 0xFF]) + offline_front[61:]
    with pytest.raises(InvalidInput):
        export.render_preset(broken, get_preset("original"))


def test_alike_presets_share_one_rendering_and_the_order_is_the_tables(offline_front: bytes) -> None:
    images = {ViewType.FRONT: offline_front, ViewType.BOTTOM: offline_front}
    rendered = export.render_set(images, ["etsy", "amazon-additional", "cutout"], workers=2)
    assert [i.preset.name for i in rendered] == ["amazon-additional"] * 2 + ["etsy"] * 2 + ["cutout"] * 2
    assert rendered[0].data == rendered[2].data  # same canvas, fill, shadow, format and cap
    assert export.render_set(images, ["etsy", "cutout"], workers=1)[0].data == rendered[2].data


def test_the_highest_quality_that_fits_is_chosen(offline_front: bytes) -> None:
    roomy = Preset("q", "Q", (1200, 1200), WHITE, 0.85, "JPEG", 95, 10 * 1024 * 1024)
    image = export.frame_cutout(cutout(offline_front), roomy)
    sizes = {}
    for quality in range(50, 96):
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=quality, icc_profile=export.srgb_profile())
        sizes[quality] = out.tell()
    cap = (sizes[80] + sizes[81]) // 2  # 80 fits, 81 does not
    tight = Preset("q", "Q", (1200, 1200), WHITE, 0.85, "JPEG", 95, cap)
    item = export.render_preset(offline_front, tight)
    assert len(item.data) == sizes[80] and 1 < item.encodes <= 7

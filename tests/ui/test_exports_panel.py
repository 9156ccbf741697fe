"""The exports panel in AppTest: presets chosen, one previewed, "Download set", and the
spin (offline products through the renderer, provider products through their views)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.providers.offline.generator import OfflineGenerator

MUG = "a blue ceramic mug with a yellow handle"


def panel_script(images, model_args) -> None:
    from viewgen.ui import exports_panel

    exports_panel.SPIN_FRAMES = 8
    exports_panel.SPIN_SIZE = 160
    exports_panel.exports_panel(images, name="mug", key="t", model_args=model_args)


@pytest.fixture(scope="module")
def mug_views() -> dict[ViewType, bytes]:
    generator = OfflineGenerator()
    return {v: generator.generate(GenerationRequest(view=v, prompt=MUG, text=MUG, seed=3,
                                                    size=(192, 192))).data for v in ALL_VIEWS}


def provider_views() -> dict[ViewType, bytes]:
    out = {}
    for i, view in enumerate(ALL_VIEWS):
        image = Image.new("RGB", (200, 200), (236, 234, 228))
        ImageDraw.Draw(image).rectangle((50, 40 + 5 * i, 150, 170), fill=(30 + 40 * i, 60, 170))
        buf = io.BytesIO()
        image.save(buf, format="PNG")
        out[view] = buf.getvalue()
    return out


def run(images, model_args=None) -> AppTest:
    at = AppTest.from_function(panel_script, args=(images, model_args), default_timeout=120)
    return at.run()


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_presets_preview_and_download_set(mug_views) -> None:
    at = run(mug_views, (MUG, (), 3))
    assert not at.exception
    assert at.multiselect(key="t_presets").value == ["amazon", "shopify", "instagram-4x5", "cutout"]
    preview = at.get("image")
    assert len(preview) == 1
    assert preview[0].proto.imgs[0].caption.startswith("Amazon main image · 2000×2000 · ")
    assert preview[0].proto.imgs[0].url.endswith(".jpg")
    assert any("pure white" in c and "85%" in c for c in captions(at))
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download set · 20 images" in labels

    at.selectbox(key="t_preview").select("instagram-4x5").run()
    at.selectbox(key="t_preview_view").select("side").run()
    assert not at.exception
    assert any("1080×1350 (4:5)" in c for c in captions(at))

    at.multiselect(key="t_presets").set_value(["ebay"]).run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download set · 5 images" in labels
    assert at.selectbox(key="t_preview").options == ["eBay"]

    at.multiselect(key="t_presets").set_value([]).run()
    assert "Choose at least one preset to preview and download." in captions(at)
    assert not any(b.proto.label.startswith("Download set") for b in at.get("download_button"))


def test_the_spin_turns_through_the_model_for_an_offline_product(mug_views) -> None:
    at = run(mug_views, (MUG, (), 3))
    assert not at.get("iframe")  # the spin is only rendered when asked for
    at.toggle(key="t_spin").set_value(True).run()
    assert not at.exception
    frames = at.get("iframe")
    assert len(frames) == 1
    page = frames[0].proto.srcdoc
    assert page.count('class="f"') == 8 and "315°" in page and "3 of 4" not in page
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"WebP", "GIF", "MP4"} <= set(labels)


def test_a_provider_products_spin_says_a_side_is_missing() -> None:
    at = run(provider_views())
    at.toggle(key="t_spin").set_value(True).run()
    assert not at.exception
    page = at.get("iframe")[0].proto.srcdoc
    assert page.count('class="f"') == 3
    assert "3 of 4 sides" in page and "Front" in page and "Back" in page


def test_a_custom_hex_background_is_previewed_or_refused_clearly(mug_views) -> None:
    at = run(mug_views)
    assert at.selectbox(key="t_background").value == "preset"
    at.selectbox(key="t_background").select("custom").run()
    assert not at.exception
    assert at.text_input(key="t_background_hex").value == "#F5F5F0"
    assert any("background #F5F5F0" in c for c in captions(at))
    # Amazon's main image must be pure white: said, not hidden
    assert any("Amazon main image" in w.value and "pure white" in w.value for w in at.warning)

    at.text_input(key="t_background_hex").input("#12G45").run()
    assert not at.exception
    assert any("“#12G45” is not a colour" in e.value and "#RRGGBB" in e.value for e in at.error)
    # nothing previewed or offered
    assert not at.get("image")
    assert not any(b.proto.label.startswith("Download set") for b in at.get("download_button"))

    at.text_input(key="t_background_hex").input("203040").run()
    assert not at.error
    assert any("background #203040" in c for c in captions(at))
    assert len(at.get("image")) == 1
    assert "Download set · 20 images" in [b.proto.label for b in at.get("download_button")]

    at.selectbox(key="t_background").select("studio").run()
    assert any("studio grey" in c for c in captions(at)) and len(at.warning) == 1
    at.selectbox(key="t_background").select("white").run()
    assert not at.warning
    cutout_only = at.multiselect(key="t_presets").set_value(["cutout"]).run()
    assert any("transparent" in c for c in captions(cutout_only))

"""Exports with the optional three-quarter hero view: the ZIP, the marketplace preset
sets and the contact sheet carry it after the five views; a provider spin does not (it
is not a turntable frame); five-view exports are unchanged."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from PIL import Image, ImageDraw

from tests.test_export import FEATURES, all_views
from viewgen import export
from viewgen.domain import ALL_VIEWS, ViewType

HERO_BODY = (180, 30, 150)  # a colour no other test view uses


def hero_png(size=(320, 320)) -> bytes:
    image = Image.new("RGB", size, (244, 244, 242))
    ImageDraw.Draw(image).polygon([(60, 120), (200, 80), (280, 130), (260, 270), (80, 270)],
                                  fill=HERO_BODY)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def with_hero() -> dict[ViewType, bytes]:
    return {**all_views(), ViewType.HERO: hero_png()}


def test_the_zip_holds_the_hero_after_the_five_views() -> None:
    images = with_hero()
    with zipfile.ZipFile(io.BytesIO(export.zip_bundle(images, FEATURES))) as archive:
        assert archive.namelist() == ["front.png", "back.png", "side.png", "top.png", "bottom.png",
                                      "hero.png", "features.json", "manifest.json"]
        assert archive.read("hero.png") == images[ViewType.HERO]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["views"] == [*(v.value for v in ALL_VIEWS), "hero"]


def test_preset_sets_include_the_hero_with_its_shadow() -> None:
    data = export.export_set(with_hero(), ["amazon", "cutout"], workers=1)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        hero = Image.open(io.BytesIO(archive.read("amazon/hero.jpg")))
        cut = Image.open(io.BytesIO(archive.read("cutout/hero.png")))
    assert [n for n in names if n.startswith("amazon/")] == [
        f"amazon/{v}.jpg" for v in ("front", "back", "side", "top", "bottom", "hero")]
    assert hero.size == (2000, 2000) and cut.mode == "RGBA"
    body = np.abs(np.asarray(hero.convert("RGB")).astype(int) - HERO_BODY).sum(axis=-1) < 40
    assert body.mean() > 0.1  # the hero's product fills the marketplace frame


def test_the_contact_sheet_gets_a_hero_card_and_five_views_keep_their_grid() -> None:
    five = Image.open(io.BytesIO(export.contact_sheet(all_views(), title="bag", features=FEATURES)))
    six = Image.open(io.BytesIO(export.contact_sheet(with_hero(), title="bag", features=FEATURES)))
    assert six.height == five.height and six.width > five.width  # a fourth column
    arr = np.asarray(six).astype(int)
    assert (np.abs(arr - HERO_BODY).sum(axis=-1) <= 6).sum() > 1000
    for index, _ in enumerate(ALL_VIEWS):  # every catalogue view is still on it
        assert (np.abs(arr - [40 + 40 * index, 42, 68]).sum(axis=-1) <= 6).any()


def test_a_provider_spin_leaves_the_hero_out() -> None:
    spin = export.spin_from_views(with_hero(), size=128)
    assert spin.labels == ["Front", "Side", "Back"]
    assert export.spin_from_views(with_hero(), size=128).frames == export.spin_from_views(
        all_views(), size=128).frames

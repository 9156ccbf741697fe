"""viewgen.export: the ZIP bundle, the contact sheet and the turntable GIF."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image, ImageDraw

from viewgen import export
from viewgen.domain import ALL_VIEWS, Color, ColorUsage, ExtractedFeatures, ViewType

FEATURES = ExtractedFeatures(
    colors=[
        Color(hex="#1F2A44", name="navy", usage=ColorUsage.PRIMARY, share=0.7),
        Color(hex="#D2B48C", name="tan", usage=ColorUsage.SECONDARY, share=0.25),
        Color(hex="#FAFAFA", name="white", usage=ColorUsage.ACCENT, share=0.05),
    ],
    materials=["leather", "brass"],
    keyElements=["front flap"],
    estimatedDimensions="about 32 × 24 × 12 cm (W × H × D)",
    description="A navy leather messenger bag with tan accents.",
)


def view_png(view: ViewType, size=(320, 320), fmt: str = "PNG", mode: str = "RGB") -> bytes:
    """A distinct, asymmetric picture per view so mirroring and order can be checked."""
    shade = 40 + 40 * list(ALL_VIEWS).index(view)
    image = Image.new(mode, size, (244, 244, 242) if mode == "RGB" else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 80, 200, 260), fill=(shade, 42, 68))
    draw.rectangle((210, 200, 280, 260), fill=(210, 180, 140))  # off to the right
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def all_views(**kwargs) -> dict[ViewType, bytes]:
    return {view: view_png(view, **kwargs) for view in ALL_VIEWS}


# --------------------------------------------------------------------------- zip


def test_zip_holds_the_views_features_and_manifest_in_order() -> None:
    images = all_views()
    data = export.zip_bundle(images, FEATURES, extra={"approval_id": "a1", "prompt": "navy bag"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == ["front.png", "back.png", "side.png", "top.png", "bottom.png", "features.json",
                         "manifest.json"]
        for view in ALL_VIEWS:
            png = archive.read(f"{view.value}.png")
            assert png == images[view]
            Image.open(io.BytesIO(png)).verify()
        features = json.loads(archive.read("features.json"))
        assert ExtractedFeatures.model_validate(features) == FEATURES
        assert features["keyElements"] == ["front flap"]
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["views"] == [v.value for v in ALL_VIEWS]
        assert manifest["info"] == {"approval_id": "a1", "prompt": "navy bag"}
        for entry in manifest["files"]:
            assert entry["sha256"] == hashlib.sha256(archive.read(entry["name"])).hexdigest()


def test_zip_is_deterministic_and_handles_partial_sets() -> None:
    images = all_views()
    assert export.zip_bundle(images, FEATURES) == export.zip_bundle(dict(reversed(images.items())), FEATURES)
    partial = {ViewType.SIDE: images[ViewType.SIDE], ViewType.FRONT: images[ViewType.FRONT]}
    with zipfile.ZipFile(io.BytesIO(export.zip_bundle(partial, None))) as archive:
        assert archive.namelist() == ["front.png", "side.png", "manifest.json"]
        assert json.loads(archive.read("manifest.json"))["info"] == {}


def test_zip_converts_other_formats_to_png() -> None:
    images = {ViewType.FRONT: view_png(ViewType.FRONT, fmt="JPEG")}
    with zipfile.ZipFile(io.BytesIO(export.zip_bundle(images, FEATURES))) as archive:
        assert Image.open(io.BytesIO(archive.read("front.png"))).format == "PNG"


# --------------------------------------------------------------------------- contact sheet


def test_contact_sheet_is_a_clean_png_with_every_view() -> None:
    images = all_views()
    data = export.contact_sheet(images, title="A navy leather messenger bag", features=FEATURES)
    sheet = Image.open(io.BytesIO(data))
    assert sheet.format == "PNG"
    assert sheet.mode == "RGB"
    assert 1500 <= sheet.width <= 2000 and 1200 <= sheet.height <= 1700
    arr = np.asarray(sheet)
    # each view's distinct body colour appears somewhere on the sheet
    for index, _ in enumerate(ALL_VIEWS):
        shade = 40 + 40 * index
        assert (np.abs(arr.astype(int) - [shade, 42, 68]).sum(axis=-1) <= 6).any()
    # the swatches are drawn
    for hex_value in ("#1F2A44", "#D2B48C"):
        rgb = [int(hex_value[i:i + 2], 16) for i in (1, 3, 5)]
        assert (np.abs(arr.astype(int) - rgb).sum(axis=-1) == 0).sum() > 1000


def test_contact_sheet_copes_with_missing_views_long_titles_and_no_features() -> None:
    images = all_views(size=(640, 480), mode="RGBA")
    del images[ViewType.BOTTOM]
    title = "Un sac besace en cuir bleu marine, rabat camel × boucles laiton — édition café " * 4
    data = export.contact_sheet(images, title=title)
    sheet = Image.open(io.BytesIO(data))
    assert sheet.width >= 1500
    assert export._drawable("32 × 24 — café") == "32 x 24 - cafe"


def test_contact_sheet_is_deterministic() -> None:
    images = all_views()
    assert export.contact_sheet(images, title="x", features=FEATURES) == export.contact_sheet(
        images, title="x", features=FEATURES)


# --------------------------------------------------------------------------- turntable


def test_turntable_loops_front_side_back_side_mirrored() -> None:
    images = all_views()
    data = export.turntable_gif(images, frame_ms=250)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    assert gif.n_frames == 4
    assert gif.info.get("loop") == 0
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        assert gif.info.get("duration") == 250
        frames.append(np.asarray(gif.convert("RGB")).astype(int))

    def body(frame: np.ndarray) -> int:
        return int(np.median(frame[150:200, 80:160, 0]))

    assert [body(f) for f in frames[:3]] == pytest.approx([40, 120, 80], abs=6)  # front, side, back
    mirrored = frames[3]
    assert np.abs(mirrored - frames[1][:, ::-1]).mean() < 3  # the side, mirrored
    assert np.abs(mirrored - frames[1]).mean() > 10


def test_turntable_skips_missing_views_and_needs_one() -> None:
    gif = Image.open(io.BytesIO(export.turntable_gif({ViewType.FRONT: view_png(ViewType.FRONT)})))
    assert gif.n_frames == 1
    with pytest.raises(ValueError):
        export.turntable_gif({ViewType.TOP: view_png(ViewType.TOP)})


def test_turntable_downscales_large_views() -> None:
    images = {v: view_png(v, size=(1600, 1200)) for v in (ViewType.FRONT, ViewType.BACK)}
    gif = Image.open(io.BytesIO(export.turntable_gif(images)))
    assert gif.size == (512, 384)
    assert gif.n_frames == 2

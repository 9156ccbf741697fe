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
from viewgen.domain import ALL_VIEWS, Color, ColorUsage, ExtractedFeatures, GenerationRequest, ViewType

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


def test_turntable_turns_front_side_back_without_a_mirrored_side() -> None:
    images = all_views()
    data = export.turntable_gif(images, frame_ms=250)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    assert gif.n_frames == 3
    assert gif.info.get("loop") == 0
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        assert gif.info.get("duration") == 250
        frames.append(np.asarray(gif.convert("RGB")).astype(int))

    def body(frame: np.ndarray) -> int:
        return int(np.median(frame[150:200, 80:160, 0]))

    assert [body(f) for f in frames] == pytest.approx([40, 120, 80], abs=6)  # front, side, back
    for frame in frames:  # the tan block stays on the right: nothing is mirrored
        assert np.abs(frame[230, 245] - [210, 180, 140]).max() <= 12


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


# --------------------------------------------------------------------------- preset sets


def test_export_set_has_a_folder_per_preset_and_a_manifest() -> None:
    images = all_views()
    data = export.export_set(images, ["instagram-4x5", "amazon", "cutout"], features=FEATURES,
                             extra={"approval_id": "a1"}, workers=2)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        expected = [f"{preset}/{view.value}.{ext}" for preset, ext in
                    (("amazon", "jpg"), ("instagram-4x5", "jpg"), ("cutout", "png")) for view in ALL_VIEWS]
        assert names == [*expected, "features.json", "manifest.json"]
        assert Image.open(io.BytesIO(archive.read("amazon/front.jpg"))).size == (2000, 2000)
        assert Image.open(io.BytesIO(archive.read("instagram-4x5/side.jpg"))).size == (1080, 1350)
        assert Image.open(io.BytesIO(archive.read("cutout/top.png"))).mode == "RGBA"
        manifest = json.loads(archive.read("manifest.json"))
        assert [p["name"] for p in manifest["presets"]] == ["amazon", "instagram-4x5", "cutout"]
        assert "85%" in manifest["presets"][0]["rules"]
        assert manifest["info"] == {"approval_id": "a1"}
        for entry in manifest["files"]:
            assert entry["sha256"] == hashlib.sha256(archive.read(entry["name"])).hexdigest()
    assert export.export_set(images, ["cutout", "amazon"], workers=1) == export.export_set(
        images, ["amazon", "cutout"], workers=2)


def test_export_set_refuses_unknown_presets_and_no_views() -> None:
    from viewgen.errors import InvalidInput

    with pytest.raises(InvalidInput):
        export.export_set(all_views(), ["amazon", "walmart"])
    with pytest.raises(InvalidInput):
        export.export_set({}, ["amazon"])


# --------------------------------------------------------------------------- spin


def test_a_provider_spin_is_front_side_back_and_says_the_other_side_is_missing() -> None:
    spin = export.spin_from_views(all_views(), size=256)
    assert spin.labels == ["Front", "Side", "Back"]
    assert spin.degrees == [0.0, 90.0, 180.0]
    assert "3 of 4 sides" in spin.note and "mirrored" in spin.note
    bodies = [int(np.median(np.asarray(Image.open(io.BytesIO(f)).convert("RGB"))[120:160, 60:120, 0]))
              for f in spin.frames]
    assert bodies == pytest.approx([40, 120, 80], abs=8)
    partial = export.spin_from_views({ViewType.BACK: view_png(ViewType.BACK),
                                      ViewType.FRONT: view_png(ViewType.FRONT)})
    assert partial.labels == ["Front", "Back"] and "2 of 4 sides" in partial.note and "side" in partial.note


def test_spin_encodings_keep_every_frame(tmp_path) -> None:
    frames = []
    for i in range(6):
        image = Image.new("RGB", (96, 96), (255, 255, 255))
        ImageDraw.Draw(image).rectangle((10 + 12 * i, 30, 30 + 12 * i, 60), fill=(200, 40, 40))
        out = io.BytesIO()
        image.save(out, format="PNG")
        frames.append(out.getvalue())
    gif = Image.open(io.BytesIO(export.spin_gif(frames, frame_ms=50)))
    assert gif.n_frames == 6 and gif.info.get("loop") == 0
    webp = Image.open(io.BytesIO(export.spin_webp(frames, frame_ms=50)))
    assert webp.n_frames == 6
    positions = []
    for i in range(6):
        webp.seek(i)
        red = np.asarray(webp.convert("RGB")).astype(int)
        cols = np.nonzero(((red[..., 0] - red[..., 1]) > 100).any(axis=0))[0]
        positions.append(int(cols.min()))
    assert positions == sorted(positions) and positions[-1] - positions[0] >= 50  # in order
    mp4 = export.spin_mp4(frames, fps=10, turns=2)
    assert mp4[4:8] == b"ftyp"
    import imageio_ffmpeg

    path = tmp_path / "spin.mp4"
    path.write_bytes(mp4)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    assert tuple(meta["size"]) == (96, 96)
    assert sum(1 for _ in reader) == 12



# --------------------------------------------------------------------------- offline spin

MUG = "a blue ceramic mug with a yellow handle"


def yellow(png: bytes) -> np.ndarray:
    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return (im[..., 0] > 150) & (im[..., 1] > 110) & (im[..., 2] < 90)


@pytest.fixture(scope="module")
def mug_spin() -> export.Spin:
    from viewgen.providers.offline.model import build_model

    return export.spin_from_model(build_model(MUG, (), 3), frames=8, size=160)


def test_an_offline_spin_has_every_frame_in_turning_order(mug_spin: export.Spin) -> None:
    assert len(mug_spin.frames) == 8
    assert mug_spin.degrees == [i * 45.0 for i in range(8)]
    assert mug_spin.labels[2] == "90°" and mug_spin.note == ""
    assert {Image.open(io.BytesIO(f)).size for f in mug_spin.frames} == {(160, 160)}
    # the handle sticks out to the right at the front, to the left at the back
    def handle_x(i: int) -> float:
        return float(np.nonzero(yellow(mug_spin.frames[i]))[1].mean())

    assert handle_x(0) > 100 and handle_x(4) < 60


def test_an_asymmetric_products_two_sides_differ(mug_spin: export.Spin) -> None:
    """Right side (90°): the handle faces the camera. Left side (270°): it is hidden
    behind the mug. A mirrored right side would show the handle on both."""
    right, left = yellow(mug_spin.frames[2]), yellow(mug_spin.frames[6])
    assert right.sum() > 100 and left.sum() == 0
    assert yellow(export.spin_gif([mug_spin.frames[2]])).sum() > 100


def test_offline_model_only_for_described_offline_products() -> None:
    from viewgen.providers.offline.generator import OfflineGenerator

    front = OfflineGenerator().generate(GenerationRequest(view=ViewType.FRONT, prompt=MUG, text=MUG, seed=3,
                                                          size=(96, 96))).data
    model = export.offline_model(MUG, [], 3, front)
    assert model is not None and model.category == "mug"
    assert export.offline_model(MUG, [], 3, view_png(ViewType.FRONT)) is None  # a provider's image
    assert export.offline_model(None, [], 3, front) is None


# --------------------------------------------------------------------------- command line


def cli(tmp_path, *args: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIEWGEN_")}
    env.update(VIEWGEN_DATA_DIR=str(tmp_path / "data"), VIEWGEN_SECRETS_FILE=str(tmp_path / "none.toml"),
               PYTHONPATH=str(root))
    return subprocess.run([sys.executable, "-m", "viewgen", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_lists_presets_and_refuses_unknown_ones(tmp_path) -> None:
    listed = cli(tmp_path, "export", "--list-presets")
    assert listed.returncode == 0
    assert "amazon" in listed.stdout and "2000×2000" in listed.stdout and "instagram-story" in listed.stdout
    names = [p["name"] for p in json.loads(cli(tmp_path, "export", "--list-presets", "--json").stdout)]
    assert names[:2] == ["amazon", "amazon-additional"] and "cutout" in names
    bad = cli(tmp_path, "export", "some-id", "--preset", "walmart")
    assert bad.returncode == 1 and "no export preset called “walmart”" in bad.stderr
    assert "Traceback" not in bad.stderr
    none = cli(tmp_path, "export")
    assert none.returncode == 1 and "--list-presets" in none.stderr
    for bad in ("#12345", "navy", "transparent"):
        refused = cli(tmp_path, "export", "some-id", "--background", bad, "--out", str(tmp_path / "out"))
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert "#RRGGBB" in refused.stderr or "cut-out" in refused.stderr
        assert not (tmp_path / "out").exists()  # nothing written


def test_cli_exports_a_product_for_two_presets_and_its_spin(tmp_path) -> None:
    made = cli(tmp_path, "generate", "--text", "a blue ceramic mug with a yellow handle", "--auto-approve",
               "--seed", "3", "--json", "--out", str(tmp_path / "views"))
    assert made.returncode == 0, made.stderr
    approval_id = json.loads(made.stdout)["approval_id"]
    out = tmp_path / "export"
    done = cli(tmp_path, "export", approval_id, "--preset", "amazon", "--preset", "instagram-4x5",
               "--spin", "--frames", "6", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout)["files"]
    assert sorted(files) == ["amazon", "instagram-4x5", "spin"]
    assert Image.open(out / "amazon" / "front.jpg").size == (2000, 2000)
    assert Image.open(out / "instagram-4x5" / "bottom.jpg").size == (1080, 1350)
    assert Image.open(out / "spin.gif").n_frames == 6
    assert (out / "spin.mp4").read_bytes()[4:8] == b"ftyp"
    coloured = cli(tmp_path, "export", approval_id, "--preset", "ebay", "--preset", "amazon",
                   "--preset", "cutout", "--background", "#203040", "--out", str(tmp_path / "coloured"))
    assert coloured.returncode == 0, coloured.stderr
    assert "Amazon main image" in coloured.stderr and "pure white" in coloured.stderr  # a note, not a refusal
    corner = np.asarray(Image.open(tmp_path / "coloured" / "ebay" / "front.jpg").convert("RGB"))[:8, :8]
    assert np.abs(corner.astype(int) - [0x20, 0x30, 0x40]).max() <= 2
    assert Image.open(tmp_path / "coloured" / "cutout" / "front.png").getpixel((0, 0))[3] == 0
    missing = cli(tmp_path, "export", "no-such-product", "--preset", "ebay")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr

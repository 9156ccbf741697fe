"""viewgen.batch_output: the batch download ZIP, its folders and its manifest."""

from __future__ import annotations

import csv
import io
import json
import sys
import weakref
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from viewgen.batch_output import (
    MANIFEST_COLUMNS,
    ManifestRow,
    batch_zip,
    manifest_csv,
    write_batch_folder,
    write_batch_zip,
)
from viewgen.domain import ALL_VIEWS, Color, ColorUsage, ExtractedFeatures, ViewType

VIEW_FILES = ["front.png", "back.png", "side.png", "top.png", "bottom.png"]
FEATURES = ExtractedFeatures(
    colors=[Color(hex="#1F2A44", name="navy", usage=ColorUsage.PRIMARY, share=0.7),
            Color(hex="#D2B48C", name="tan", usage=ColorUsage.ACCENT)],
    materials=["leather", "brass"],
    estimatedDimensions="32 × 24 × 12 cm",
    description="A navy messenger bag.",
)


def png(shade: int, fmt: str = "PNG") -> bytes:
    image = Image.new("RGB", (64, 48), (240, 240, 240))
    ImageDraw.Draw(image).rectangle((10, 10, 40, 40), fill=(shade, 40, 90))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def views(seed: int) -> dict[ViewType, bytes]:
    return {view: png((seed * 37 + i * 41) % 256) for i, view in enumerate(ALL_VIEWS)}


def manifest_rows(archive: zipfile.ZipFile) -> list[dict[str, str]]:
    raw = archive.read("manifest.csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the accents
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_the_zip_has_a_folder_per_product_with_five_pngs_features_and_a_manifest() -> None:
    bag, lamp = views(1), views(2)
    rows = [
        ManifestRow(row=2, sku="BAG-1", status="complete", approval_id="ap-1", images=bag,
                    features=FEATURES, credits=7, cost_usd=0.2),
        ManifestRow(row=3, sku="LAMP-2", status="complete", approval_id="ap-2",
                    images={v.value: data for v, data in lamp.items()},
                    features=FEATURES.public_json(), credits=7, cost_usd=None),
        ManifestRow(row=4, sku="MUG-3", status="failed", error="The provider refused: unsafe content.",
                    credits=0),
    ]
    data = batch_zip(rows)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == [f"BAG-1/{n}" for n in [*VIEW_FILES, "features.json"]] + [
            f"LAMP-2/{n}" for n in [*VIEW_FILES, "features.json"]] + ["manifest.csv"]
        for view in ALL_VIEWS:
            assert archive.read(f"BAG-1/{view.value}.png") == bag[view]
            assert archive.read(f"LAMP-2/{view.value}.png") == lamp[view]
        for info in archive.infolist():
            expected = zipfile.ZIP_STORED if info.filename.endswith(".png") else zipfile.ZIP_DEFLATED
            assert info.compress_type == expected, info.filename
        assert ExtractedFeatures.model_validate(json.loads(archive.read("BAG-1/features.json"))) == FEATURES
        assert json.loads(archive.read("LAMP-2/features.json")) == FEATURES.public_json()
        manifest = manifest_rows(archive)
    assert list(manifest[0]) == list(MANIFEST_COLUMNS)
    assert manifest == [
        {"row": "2", "sku": "BAG-1", "folder": "BAG-1", "status": "complete", "approval_id": "ap-1",
         "error": "", "colors": "navy #1F2A44 (primary, 70%); tan #D2B48C (accent)",
         "materials": "leather; brass", "dimensions": "32 × 24 × 12 cm", "credits_charged": "7",
         "cost_usd": "0.2000"},
        {"row": "3", "sku": "LAMP-2", "folder": "LAMP-2", "status": "complete", "approval_id": "ap-2",
         "error": "", "colors": "navy #1F2A44 (primary, 70%); tan #D2B48C (accent)",
         "materials": "leather; brass", "dimensions": "32 × 24 × 12 cm", "credits_charged": "7",
         "cost_usd": ""},
        {"row": "4", "sku": "MUG-3", "folder": "", "status": "failed", "approval_id": "",
         "error": "The provider refused: unsafe content.", "colors": "", "materials": "",
         "dimensions": "", "credits_charged": "0", "cost_usd": ""},
    ]


def test_formula_cells_are_neutralised_and_plain_numbers_kept() -> None:
    rows = [
        ManifestRow(row=2, sku='=HYPERLINK("http://evil.example","x")', status="failed",
                    error="+cmd|' /C calc'!A0", credits=0),
        ManifestRow(row=3, sku="@SUM(A1)", status="review", error="-2+3", credits=3, cost_usd=0.01),
        ManifestRow(row=4, sku="-5", status="\tcomplete", error="\rboom", images={"front": png(9)}),
    ]
    with zipfile.ZipFile(io.BytesIO(batch_zip(rows))) as archive:
        manifest = manifest_rows(archive)
        assert archive.namelist() == ["5/front.png", "manifest.csv"]
    assert manifest[0]["sku"] == '\'=HYPERLINK("http://evil.example","x")'
    assert manifest[0]["error"] == "'+cmd|' /C calc'!A0"
    assert manifest[1]["sku"] == "'@SUM(A1)"
    assert manifest[1]["error"] == "'-2+3"
    assert manifest[2]["sku"] == "-5"  # a number cannot be a formula
    assert manifest[2]["status"] == "'\tcomplete"
    assert manifest[2]["error"] == "'\rboom"
    assert manifest[2]["folder"] == "5"


def test_folder_names_are_safe_and_unique_on_case_insensitive_disks() -> None:
    skus = ["a/b:c*?", "AB", "ab", "CON", "..", "", "manifest.csv", "Ä ö", "x" * 200, "ab-row-4"]
    rows = [ManifestRow(row=i + 2, sku=sku, status="complete", images={"front": png(i)})
            for i, sku in enumerate(skus)]
    with zipfile.ZipFile(io.BytesIO(batch_zip(rows))) as archive:
        folders = [name.split("/")[0] for name in archive.namelist() if name != "manifest.csv"]
        manifest = manifest_rows(archive)
    assert folders[:8] == ["a_b_c", "AB", "ab-row-4", "_CON", "row-6", "row-7", "manifest.csv-row-8", "Ä_ö"]
    assert folders[8] == "x" * 80
    assert folders[9] == "ab-row-4-row-11"  # the name a duplicate took is not taken twice
    assert len({f.casefold() for f in folders}) == len(folders)
    assert [m["folder"] for m in manifest] == folders


def test_rows_arrive_in_any_order_but_the_manifest_is_sorted_by_row() -> None:
    rows = [ManifestRow(row=n, sku=f"S{n}", status="complete") for n in (5, 2, 9, 3)]
    manifest = list(csv.DictReader(io.StringIO(manifest_csv(rows).decode("utf-8-sig"))))
    assert [m["row"] for m in manifest] == ["2", "3", "5", "9"]


def test_other_formats_become_png_and_an_unreadable_view_is_noted_not_fatal() -> None:
    rows = [ManifestRow(row=2, sku="A", status="complete",
                        images={ViewType.FRONT: png(10, "JPEG"), ViewType.BACK: b"not an image"})]
    with zipfile.ZipFile(io.BytesIO(batch_zip(rows))) as archive:
        assert archive.namelist() == ["A/front.png", "manifest.csv"]
        front = Image.open(io.BytesIO(archive.read("A/front.png")))
        assert front.format == "PNG" and front.size == (64, 48)
        assert manifest_rows(archive)[0]["error"] == (
            "the back image could not be read, so it is not in the download")


def test_an_unknown_view_name_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown view 'left'"):
        batch_zip([ManifestRow(row=2, sku="A", status="complete", images={"left": png(1)})])


def test_the_zip_is_deterministic() -> None:
    def rows() -> list[ManifestRow]:
        return [ManifestRow(row=2, sku="A", status="complete", images=views(3), features=FEATURES)]

    assert batch_zip(rows()) == batch_zip(rows())


class _Images(dict):
    """A dict that can be watched with a weak reference."""


def test_products_are_streamed_one_at_a_time(tmp_path: Path) -> None:
    out = io.BytesIO()
    alive: list[weakref.ref] = []
    earlier: list[bytes] = []  # the image bytes of products already handed over
    written_before: list[int] = []

    def produce() -> Iterator[ManifestRow]:
        for n in range(6):
            # every earlier product is in the file already, and nothing in the writer holds it:
            # not the row's dict, not one of its images (only this list still refers to them)
            assert all(ref() is None for ref in alive), f"product {n - 1}'s images are still held"
            assert all(sys.getrefcount(earlier[i]) == 2 for i in range(len(earlier))), (
                f"an image of product {n - 1} is still held")
            written_before.append(out.tell())
            images = _Images(views(n))
            alive.append(weakref.ref(images))
            earlier.extend(images.values())
            yield ManifestRow(row=n + 2, sku=f"P{n}", status="complete", images=images)
            del images

    assert write_batch_zip(produce(), out) == 6
    png_sizes = [sum(len(b) for b in views(n).values()) for n in range(6)]
    for n in range(1, 6):
        assert written_before[n] >= sum(png_sizes[:n])  # stored PNGs were written before the next row
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        assert len(archive.namelist()) == 6 * 5 + 1


def test_the_folder_layout_matches_the_zip(tmp_path: Path) -> None:
    def rows() -> list[ManifestRow]:
        return [
            ManifestRow(row=2, sku="Mug/1", status="complete", images=views(4), features=FEATURES, credits=7),
            ManifestRow(row=3, sku="Lamp", status="failed", error="=bad", credits=0),
        ]

    assert write_batch_folder(rows(), tmp_path / "out") == 1
    root = tmp_path / "out"
    on_disk = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    with zipfile.ZipFile(io.BytesIO(batch_zip(rows()))) as archive:
        assert on_disk == sorted(archive.namelist())
        for name in on_disk:
            assert (tmp_path / "out" / name).read_bytes() == archive.read(name)
    assert (tmp_path / "out" / "Mug_1" / "front.png").read_bytes() == views(4)[ViewType.FRONT]


def test_write_batch_zip_accepts_a_path(tmp_path: Path) -> None:
    target = tmp_path / "batch.zip"
    write_batch_zip([ManifestRow(row=2, sku="A", status="complete", images=views(1))], target)
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == [f"A/{n}" for n in VIEW_FILES] + ["manifest.csv"]


def test_presets_add_a_folder_per_preset_inside_each_product(tmp_path: Path) -> None:
    rows = [ManifestRow(row=2, sku="BAG-1", status="complete", approval_id="ap-1",
                        images=views(1), features=FEATURES, credits=3),
            ManifestRow(row=3, sku="CUP-2", status="failed", error="The image service is down.")]
    data = batch_zip(rows, presets=["amazon", "cutout"], background=None)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        for view in ALL_VIEWS:
            assert f"BAG-1/{view.value}.png" in names
            with Image.open(io.BytesIO(archive.read(f"BAG-1/amazon/{view.value}.jpg"))) as shot:
                assert (shot.format, shot.size) == ("JPEG", (2000, 2000))
                assert shot.getpixel((0, 0)) == (255, 255, 255)  # the marketplace's white
            with Image.open(io.BytesIO(archive.read(f"BAG-1/cutout/{view.value}.png"))) as cut:
                assert cut.mode == "RGBA" and cut.getpixel((0, 0))[3] == 0
        assert not any(n.startswith("CUP-2/") for n in names)  # a failed row has no folder
    # the folder layout has the same preset folders
    write_batch_folder(rows, tmp_path / "out", presets=["ebay"], background="#203040")
    with Image.open(tmp_path / "out" / "BAG-1" / "ebay" / "front.jpg") as shot:
        r, g, b = shot.convert("RGB").getpixel((0, 0))
        assert abs(r - 0x20) <= 2 and abs(g - 0x30) <= 2 and abs(b - 0x40) <= 2


def test_a_bad_preset_or_colour_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    from viewgen.errors import InvalidInput

    rows = [ManifestRow(row=2, sku="BAG-1", status="complete", approval_id="ap-1", images=views(1))]
    with pytest.raises(InvalidInput, match="preset"):
        write_batch_folder(rows, tmp_path / "out", presets=["no-such-market"])
    with pytest.raises(InvalidInput):
        write_batch_zip(rows, tmp_path / "bad.zip", presets=["amazon"], background="#12345")
    assert not (tmp_path / "out").exists() and not (tmp_path / "bad.zip").exists()

"""viewgen.batch_input: a batch CSV and its images checked whole, every bad row named."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from viewgen.batch_input import BatchLimits, BatchPlan, plan_batch
from viewgen.errors import InvalidInput
from viewgen.imaging import sniff_format
from viewgen.settings import Settings


def picture(fmt: str = "PNG", size: tuple[int, int] = (96, 64), colour=(200, 40, 40)) -> bytes:
    image = Image.new("RGB", size, (245, 245, 243))
    ImageDraw.Draw(image).rectangle((20, 12, 70, 50), fill=colour)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def make_zip(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def only_error(plan: BatchPlan):
    assert len(plan.errors) == 1, plan.error_messages()
    return plan.errors[0]


# --------------------------------------------------------------------------- happy path


def test_a_valid_batch_with_a_zip_of_real_images_plans_every_row() -> None:
    images = make_zip({
        "mug.png": picture(),
        "lamp.jpg": picture("JPEG", colour=(30, 90, 200)),
        "brand/logo.webp": picture("WEBP", size=(64, 64), colour=(10, 10, 10)),
    })
    data = csv_bytes(
        "sku,name,text,image,logo,auto_approve",
        "MUG-1,Red mug,A red ceramic mug,mug.png,brand/logo.webp,",
        "LAMP-2,,A desk lamp,lamp.jpg,brand/logo.webp,no",
        'BAG-3,Bag,"A navy bag, leather",,,TRUE',
        "SHOE-4,,,mug.png,,0",
    )
    plan = plan_batch(data, images_zip=images)

    assert plan.ok and plan.errors == [] and plan.warnings == []
    assert [r.row for r in plan.rows] == [2, 3, 4, 5]  # the header is row 1, as a spreadsheet shows
    assert [r.sku for r in plan.rows] == ["MUG-1", "LAMP-2", "BAG-3", "SHOE-4"]
    assert [r.name for r in plan.rows] == ["Red mug", "LAMP-2", "Bag", "SHOE-4"]
    assert [r.text for r in plan.rows] == ["A red ceramic mug", "A desk lamp", "A navy bag, leather", None]
    assert [r.auto_approve for r in plan.rows] == [True, False, True, False]
    mug, lamp, bag, shoe = plan.rows
    for png in (mug.image, mug.logo, lamp.image, lamp.logo, shoe.image):
        assert png is not None and sniff_format(png) == "PNG"
    assert Image.open(io.BytesIO(lamp.image)).size == (96, 64)
    assert mug.logo == lamp.logo and mug.image == shoe.image  # one file, read and normalised once
    assert bag.image is None and bag.logo is None
    assert (mug.image_name, mug.logo_name) == ("mug.png", "brand/logo.webp")
    assert plan.price(7) == 28


def test_without_normalising_the_checked_originals_are_kept_and_bad_ones_still_refused() -> None:
    jpeg = picture("JPEG")
    images = make_zip({"a.jpg": jpeg, "b.png": picture()[:150]})
    plan = plan_batch(csv_bytes("sku,image", "A,a.jpg", "B,b.png"), images_zip=images, normalise=False)
    assert plan.rows[0].image == jpeg
    assert only_error(plan).message.startswith("Row 3: the image 'b.png' cannot be used.")


def test_a_zipped_folder_and_differently_cased_names_are_found() -> None:
    images = make_zip({
        "photos/": b"",
        "photos/Mug.PNG": picture(),
        "__MACOSX/photos/._Mug.PNG": b"\x00\x05\x16\x07 resource fork",
        "photos/.DS_Store": b"junk",
    })
    plan = plan_batch(csv_bytes("sku,image", "M1,mug.png", "M2,photos/Mug.PNG"), images_zip=images)
    assert plan.ok, plan.error_messages()
    assert all(row.image is not None for row in plan.rows)


def test_bom_header_spelling_blank_rows_and_multi_line_cells_keep_spreadsheet_row_numbers() -> None:
    data = "\ufeffSKU , Text,Auto Approve\r\n\r\nA1,\"two\r\nlines\",yes\r\n,,\r\nA2,plain,\r\n".encode()
    plan = plan_batch(data)
    assert plan.ok
    assert [(r.row, r.sku, r.text) for r in plan.rows] == [(3, "A1", "two\r\nlines"), (5, "A2", "plain")]


def test_a_name_column_alone_identifies_rows_and_unknown_columns_are_reported_not_refused() -> None:
    plan = plan_batch(csv_bytes("Name,text,price", "Blue mug,A blue mug,12", "Lamp,A lamp,30"))
    assert plan.ok
    assert [(r.sku, r.name) for r in plan.rows] == [("Blue mug", "Blue mug"), ("Lamp", "Lamp")]
    assert plan.warnings == [
        "The column 'price' is not used (viewgen reads sku, name, text, image, logo, auto_approve)."
    ]


def test_semicolon_separated_files_from_european_excel_are_read() -> None:
    plan = plan_batch(csv_bytes("", "sku;text;auto_approve", "A1;Stuhl aus Eiche, geölt;nein", "A2;Tisch;"))
    assert [r.text for r in plan.rows] == ["Stuhl aus Eiche, geölt", "Tisch"]
    assert only_error(plan).message.startswith("Row 3: auto_approve is 'nein'")


def test_images_from_a_folder_for_the_cli(tmp_path: Path) -> None:
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    (tmp_path / "imgs" / "sub" / "a.png").write_bytes(picture())
    plan = plan_batch(csv_bytes("sku,image", "A,sub/a.png", "B,./sub/a.png"), images_dir=tmp_path / "imgs")
    assert plan.ok and plan.rows[0].image == plan.rows[1].image is not None


# --------------------------------------------------------------------------- bad rows


def test_every_bad_row_is_named_with_its_column_and_good_rows_stay() -> None:
    images = make_zip({"a.png": picture(), "b.png": picture(colour=(0, 200, 0)),
                       "broken.png": picture()[:200], "anim.gif": picture("GIF"),
                       "notes.png": b"these are not pixels"})
    data = csv_bytes(
        "sku,text,image,auto_approve",
        "OK-1,fine,a.png,",                          # row 2
        "NO-INPUT,,,",                               # row 3
        "UNKNOWN,,mug.jpg,",                         # row 4
        "TRUNCATED,,broken.png,",                    # row 5
        "GIF,,anim.gif,",                            # row 6
        "TEXTFILE,,notes.png,",                      # row 7
        "FLAG,fine,,maybe",                          # row 8
        " ok-1 ,dup,,",                              # row 9
        "OK-2,fine,b.png,false",                     # row 10
    )
    plan = plan_batch(data, images_zip=images)
    assert not plan.ok
    by_row = {(e.row, e.column): e.message for e in plan.errors}
    assert set(by_row) == {(3, "text"), (4, "image"), (5, "image"), (6, "image"), (7, "image"),
                           (8, "auto_approve"), (9, "sku")}
    assert by_row[3, "text"] == ("Row 3: the text and the image are both empty; give a description, "
                                 "an image or both.")
    assert by_row[4, "image"] == ("Row 4: the image 'mug.jpg' is not in the ZIP (it has: a.png, anim.gif, "
                                  "b.png, broken.png, notes.png).")
    assert by_row[5, "image"].startswith("Row 5: the image 'broken.png' cannot be used.")
    assert "incomplete or damaged" in by_row[5, "image"]
    assert by_row[6, "image"].startswith("Row 6: the image 'anim.gif' cannot be used. GIF files are not")
    assert by_row[7, "image"].startswith(
        "Row 7: the image 'notes.png' cannot be used. That file is not an image")
    assert by_row[8, "auto_approve"].startswith("Row 8: auto_approve is 'maybe'; write true or false")
    assert by_row[9, "sku"] == ("Row 9: the sku 'ok-1' is already used by row 2; each sku must be unique "
                                "in the file.")
    assert [e.row for e in plan.errors] == sorted(e.row for e in plan.errors)

    assert plan.error_table()[0] == {"row": 3, "sku": "NO-INPUT", "column": "text",
                                     "problem": by_row[3, "text"]}

    kept = plan.without_bad_rows()
    assert kept.ok and [r.sku for r in kept.rows] == ["OK-1", "OK-2"]
    assert kept.skipped == [3, 4, 5, 6, 7, 8, 9]
    assert plan.price(7) == kept.price(7) == 14
    assert kept.rows[1].auto_approve is False


def test_a_close_file_name_is_suggested() -> None:
    images = make_zip({"mug-red.png": picture()})
    plan = plan_batch(csv_bytes("sku,image", "A,mug_red.png"), images_zip=images)
    assert only_error(plan).message == (
        "Row 2: the image 'mug_red.png' is not in the ZIP (it has: mug-red.png); did you mean 'mug-red.png'?"
    )


def test_a_long_listing_of_zip_contents_is_cut_short() -> None:
    images = make_zip({f"p{i:02}.png": b"x" for i in range(14)})
    message = only_error(plan_batch(csv_bytes("sku,image", "A,zzz.png"), images_zip=images)).message
    assert message.endswith("p09.png and 4 more).")


def test_a_logo_problem_names_the_logo_column() -> None:
    plan = plan_batch(csv_bytes("sku,text,logo", "A,mug,logo.png"), images_zip=make_zip({"a.png": picture()}))
    error = only_error(plan)
    assert (error.row, error.column) == (2, "logo")
    assert error.message.startswith("Row 2: the logo 'logo.png' is not in the ZIP")


@pytest.mark.parametrize("name", ["/etc/passwd", "C:\\images\\a.png", "\\\\server\\share\\a.png"])
def test_absolute_paths_are_refused(name: str) -> None:
    images = make_zip({"a.png": picture()})
    error = only_error(plan_batch(csv_bytes("sku,image", f"A,{name}"), images_zip=images))
    assert error.column == "image"
    assert error.message == (f"Row 2: the image '{name}' is an absolute path; give a name relative to "
                             "the images.")


def test_dot_dot_escapes_are_refused_in_a_zip_and_a_folder(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "secret.png").write_bytes(picture())
    data = csv_bytes("sku,image", "A,../secret.png", "B,sub/../../secret.png")
    for plan in (plan_batch(data, images_dir=tmp_path / "imgs"),
                 plan_batch(data, images_zip=make_zip({"a.png": picture()}))):
        assert [e.message for e in plan.errors] == [
            "Row 2: the image '../secret.png' reaches outside the images with '..'.",
            "Row 3: the image 'sub/../../secret.png' reaches outside the images with '..'.",
        ]


def test_a_link_out_of_the_images_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "imgs").mkdir()
    (tmp_path / "secret.png").write_bytes(picture())
    (tmp_path / "imgs" / "innocent.png").symlink_to(tmp_path / "secret.png")
    error = only_error(plan_batch(csv_bytes("sku,image", "A,innocent.png"), images_dir=tmp_path / "imgs"))
    assert error.message == ("Row 2: the image 'innocent.png' leads outside the images folder "
                             "(through a link).")


def test_a_missing_file_in_the_folder_lists_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(picture())
    (tmp_path / "b.png").write_bytes(picture())
    error = only_error(plan_batch(csv_bytes("sku,image", "A,c.png"), images_dir=tmp_path))
    assert error.message == "Row 2: the image 'c.png' is not in the images folder (it has: a.png, b.png)."


def test_an_image_named_without_any_zip_is_a_row_error() -> None:
    error = only_error(plan_batch(csv_bytes("sku,text,image", "A,mug,mug.png", "B,lamp,")))
    assert error.message == "Row 2: the image 'mug.png' is named but no ZIP of images was given with the CSV."


def test_text_over_the_limit_names_its_length() -> None:
    plan = plan_batch(csv_bytes("sku,text", "A," + "x" * 51, "B," + "y" * 50),
                      limits=BatchLimits(max_text_chars=50))
    assert only_error(plan).message == "Row 2: the text is 51 characters long; the limit is 50. Shorten it."


def test_nul_characters_are_named_per_cell() -> None:
    plan = plan_batch(b"sku,text\nA,red\x00mug\nB\x00,lamp\n")
    assert [(e.row, e.column) for e in plan.errors] == [(2, "text"), (3, "sku")]
    assert plan.errors[0].message == ("Row 2: the text contains a NUL character (\\0), which text cannot "
                                      "hold; the file may be damaged.")


def test_an_empty_text_in_a_file_without_images_and_an_empty_sku() -> None:
    plan = plan_batch(csv_bytes("sku,text", "A,", ",a lamp"))
    assert [e.message for e in plan.errors] == [
        "Row 2: the text is empty; describe the product.",
        "Row 3: the sku is empty; every row needs one.",
    ]


def test_duplicate_names_when_names_identify_rows() -> None:
    plan = plan_batch(csv_bytes("name,text", "Mug,a", "Lamp,b", "MUG ,c"))
    assert only_error(plan).message == (
        "Row 4: the name 'MUG' is already used by row 2; each name must be unique in the file."
    )


def test_a_row_with_more_cells_than_the_header_is_named() -> None:
    plan = plan_batch(csv_bytes("sku,text", "A,red, ceramic mug", "B,lamp,,"))
    error = only_error(plan)
    assert (error.row, error.column) == (2, None)
    assert error.message == ("Row 2: it has 3 cells but the header names 2 columns; a comma inside a "
                             "description needs the cell in double quotes.")


def test_an_image_larger_unpacked_than_the_limit_is_refused_before_it_is_read() -> None:
    big = picture(size=(400, 400))
    limits = BatchLimits(max_image_bytes=len(big) - 1)
    error = only_error(plan_batch(csv_bytes("sku,image", "A,big.png"), images_zip=make_zip({"big.png": big}),
                                  limits=limits))
    assert error.message.startswith("Row 2: the image 'big.png' is ")
    assert "unpacked; the limit is" in error.message


def test_an_image_with_too_many_pixels_is_refused() -> None:
    images = make_zip({"a.png": picture()})
    error = only_error(plan_batch(csv_bytes("sku,image", "A,a.png"), images_zip=images,
                                  limits=BatchLimits(max_image_pixels=1000)))
    assert error.message.startswith("Row 2: the image 'a.png' cannot be used. The image is 96 × 64 pixels")


# --------------------------------------------------------------------------- bad files


def test_a_csv_that_is_not_utf8_is_refused_naming_the_line() -> None:
    data = "sku,text\nA,mug\nB,café crème\n".encode("latin-1")
    with pytest.raises(InvalidInput) as caught:
        plan_batch(data)
    assert str(caught.value) == ("The CSV is not UTF-8 text (byte 0xE9 on line 3 is not valid UTF-8). "
                                 "Save it as 'CSV UTF-8 (comma delimited)' and upload it again.")


def test_a_utf16_csv_is_refused_with_how_to_save_it() -> None:
    with pytest.raises(InvalidInput, match="saved as UTF-16"):
        plan_batch("sku,text\nA,mug\n".encode("utf-16"))


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\r\n  \n"])
def test_an_empty_csv_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match="The CSV file is empty"):
        plan_batch(data)


def test_a_header_without_rows_is_refused() -> None:
    with pytest.raises(InvalidInput, match="has a header but no product rows"):
        plan_batch(csv_bytes("sku,text", ",", ""))


def test_a_csv_without_a_header_is_refused_quoting_its_first_row() -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_batch(csv_bytes("MUG-1,A red mug", "LAMP-2,A lamp"))
    assert str(caught.value) == (
        "The first row must be a header naming the columns: sku or name, and text or image "
        "(optional: logo, auto_approve). It reads: MUG-1, A red mug."
    )


@pytest.mark.parametrize(("header", "needs"), [
    ("sku,description", "a text or image column"),
    ("text,image", "a sku or name column"),
    ("auto_approve,logo", "a sku or name column and a text or image column"),
])
def test_a_header_missing_required_columns_is_refused(header: str, needs: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_batch(csv_bytes(header, "a,b"))
    assert str(caught.value).startswith(f"The header needs {needs} (it has: ")


def test_a_column_named_twice_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names the column 'text' twice"):
        plan_batch(csv_bytes("sku,text,Text", "A,b,c"))


def test_quotes_inside_cells_are_read_as_a_spreadsheet_writes_them() -> None:
    plan = plan_batch(b'sku,text\nA,5" wide frame\nB,"a ""quoted"" word"\n')
    assert [r.text for r in plan.rows] == ['5" wide frame', 'a "quoted" word']


def test_an_unclosed_quote_is_refused_naming_the_row() -> None:
    with pytest.raises(InvalidInput, match=r"^Row 3 of the CSV \(near line \d+\) cannot be read"):
        plan_batch(csv_bytes("sku,text", "A,mug", 'B,"a lamp', "C,chair"))


def test_ten_thousand_rows_are_accepted_and_ten_thousand_and_one_refused() -> None:
    rows = [f"SKU-{i},product {i}" for i in range(10_000)]
    plan = plan_batch(csv_bytes("sku,text", *rows))
    assert plan.ok and len(plan.rows) == 10_000 and plan.rows[-1].row == 10_001
    with pytest.raises(InvalidInput) as caught:
        plan_batch(csv_bytes("sku,text", *rows, "SKU-X,one too many"))
    assert str(caught.value) == ("The CSV has more than 10,000 product rows (row 10,002 is one too many). "
                                 "Split it into files of at most 10,000 rows.")


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a ZIP archive"):
        plan_batch(csv_bytes("sku,image", "A,a.png"), images_zip=picture())


def test_a_zip_bomb_is_refused_from_its_declared_sizes() -> None:
    bomb = make_zip({"a.png": picture(), "zeros.bin": bytes(4 * 1024 * 1024)})
    assert len(bomb) < 64 * 1024  # tiny on the wire
    with pytest.raises(InvalidInput) as caught:
        plan_batch(csv_bytes("sku,image", "A,a.png"), images_zip=bomb,
                   limits=BatchLimits(max_images_total_bytes=1024 * 1024))
    assert str(caught.value).startswith(
        "The ZIP would unpack to 4.0 MB, more than the 1.0 MB a batch may hold.")


def test_a_zip_entry_whose_header_lies_about_its_size_is_refused() -> None:
    payload = picture(size=(300, 300))
    archive = bytearray(make_zip({"a.png": payload}, compression=zipfile.ZIP_STORED))
    # rewrite the declared size (local header and central directory) to 100 bytes
    real = len(payload).to_bytes(4, "little")
    assert archive.count(real) == 4  # compressed and uncompressed size, in both headers
    archive = archive.replace(real, (100).to_bytes(4, "little"))
    plan = plan_batch(csv_bytes("sku,image", "A,a.png"), images_zip=bytes(archive),
                      limits=BatchLimits(max_image_bytes=1000))
    error = only_error(plan)
    assert error.message.startswith("Row 2: the image 'a.png' ")
    assert plan.rows[0].image is None


def test_zip_and_folder_together_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        plan_batch(csv_bytes("sku,text", "A,b"), images_zip=make_zip({}), images_dir=tmp_path)


def test_a_missing_images_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        plan_batch(csv_bytes("sku,image", "A,a.png"), images_dir=tmp_path / "nope")


def test_limits_follow_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_text_chars=123, max_upload_mb=3, max_image_pixels=5_000_000)
    limits = BatchLimits.from_settings(settings)
    assert (limits.max_text_chars, limits.max_image_bytes, limits.max_image_pixels, limits.max_rows) == (
        123, 3 * 1024 * 1024, 5_000_000, 10_000)


def test_an_empty_plan_is_not_ok_and_negative_prices_are_refused() -> None:
    plan = plan_batch(csv_bytes("sku,text", "A,"))
    assert not plan.ok and not plan.without_bad_rows().ok
    assert plan.without_bad_rows().rows == []
    with pytest.raises(ValueError):
        plan.price(-1)

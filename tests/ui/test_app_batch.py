"""The Batch page in AppTest: a CSV with a bad row is refused whole until the person
chooses to skip it, the price is shown first, the rows run in the background and the
table follows them, a review-mode row is approved in the grid with one click, and a
batch the balance cannot cover is not offered."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from ui_helpers import no_exceptions, settled, signed_in, texts

from viewgen import credits
from viewgen.auth import create_account
from viewgen.ui import state

CSV = (
    b"sku,text,image,auto_approve\n"
    b"MUG-1,a teal ceramic mug,,true\n"
    b"BAG-2,a navy leather backpack,,false\n"
    b"BAD-3,,,true\n"  # neither text nor image
    b"LAMP-4,a brass desk lamp,lamp.png,yes\n"
)


def _png() -> bytes:
    image = Image.new("RGB", (200, 200), (240, 240, 240))
    image.paste((200, 40, 40), (60, 40, 140, 170))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _zip() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("lamp.png", _png())
    return out.getvalue()


def _open_batch_page(app, user):
    signed_in(app, user)
    app.switch_page("pages/batch.py").run()
    no_exceptions(app)
    return app


def _upload(app, csv: bytes = CSV, images: bytes | None = None):
    app.file_uploader(key="batch_csv").set_value(("products.csv", csv, "text/csv"))
    if images is not None:
        app.file_uploader(key="batch_zip").set_value(("images.zip", images, "application/zip"))
    return app.button(key="batch_check").click().run()


def _studio():
    from viewgen.ui.services import services

    return services().studio


def test_bad_rows_block_the_batch_until_skipped_then_it_runs(app, app_member,
                                                             app_settings) -> None:
    _open_batch_page(app, app_member)
    _upload(app, images=_zip())
    no_exceptions(app)
    assert any("1 row has problems" in e for e in texts(app, "error"))
    table = app.dataframe[0].value
    assert list(table["row"]) == [4]  # the spreadsheet row of BAD-3
    assert "text" in " ".join(table["problem"]).lower()
    assert _studio().list_batches(app_member) == []  # nothing queued, nothing held
    whole = _studio().prices.whole_product()
    start = app.button(key="batch_start")
    assert start.label == f"Skip the bad rows and start 3 · {3 * whole} credits"

    start.click().run()
    no_exceptions(app)
    assert any(f"Started: 3 products for {3 * whole} credits." in s
               for s in texts(app, "success"))
    settled(app)
    [batch] = _studio().list_batches(app_member)
    view = _studio().batch(app_member, batch["id"])
    assert {r.sku: r.status for r in view.rows} == {
        "MUG-1": "complete", "BAG-2": "review", "LAMP-4": "complete"}
    assert "Review queue (1)" in texts(app, "subheader")

    app.button(key="approve_3").click().run()  # BAG-2 is spreadsheet row 3
    settled(app)
    no_exceptions(app)
    view = _studio().batch(app_member, batch["id"])
    assert all(r.status == "complete" for r in view.rows)
    assert view.charged == 3 * whole and view.refunded == 0
    with _studio().repo.tx(app_member) as tx:
        assert credits.balance(tx, app_member.id) == app_settings.starting_credits - 3 * whole
    # the download can carry marketplace presets, chosen by their names
    presets = app.multiselect(key="batch_zip_presets")
    assert presets.options[:2] == ["Amazon main image", "Amazon additional image"]
    assert presets.value == []  # by default the ZIP holds the five PNGs per product
    presets.select("amazon").run()
    no_exceptions(app)
    assert app.multiselect(key="batch_zip_presets").value == ["amazon"]


@pytest.mark.parametrize("granted", [5])  # under two whole products at any default price
def test_a_batch_the_balance_cannot_cover_is_not_offered(app, app_repo, app_settings,
                                                         app_admin, granted) -> None:
    poor = create_account(app_repo, app_settings, "poor@example.com", password_hash=None,
                          credits_granted=granted)
    _open_batch_page(app, poor)
    _upload(app, csv=b"sku,text\nA,a red mug\nB,a blue mug\n")
    no_exceptions(app)
    assert any("Not enough credits for the whole batch" in w for w in texts(app, "warning"))
    assert not [b for b in app.button if b.key == "batch_start"]
    assert _studio().list_batches(poor) == []


def test_a_csv_that_is_not_utf8_is_refused_with_a_reason(app, app_member) -> None:
    _open_batch_page(app, app_member)
    _upload(app, csv="sku,text\nA,une tasse bleue café\n".encode("latin-1"))
    no_exceptions(app)
    [error] = texts(app, "error")
    assert "UTF-8" in error
    assert state.BATCH_PLAN not in app.session_state

"""A person's journeys in real Chromium against ``streamlit run``: from text (sign up,
generate, reject with feedback, approve, five views, ZIP) with an admin then seeing the
product and its credits in Admin; and from a reference photo upload."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from e2e_helpers import click_settled, make_account, settle, sign_in, sign_up

pytestmark = pytest.mark.e2e

ADMIN = ("boss@example.com", "admin password", "Bea Boss")
MEMBER = ("maker@example.com", "maker password", "Milo Maker")
SLOW = 120_000  # ms: a generation step on a slow CI machine


@pytest.fixture(scope="module")
def server(start_server):
    return start_server(lambda settings: make_account(settings, *ADMIN, admin=True))


def _png(colour=(200, 40, 60)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 640), (236, 236, 236))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle([170, 150, 470, 520], radius=40, fill=colour)
    draw.rectangle([250, 90, 390, 150], fill=(40, 40, 40))
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def _approve_then_views(page, shots=None, name: str = "") -> None:
    """Approve: the features appear as a form to correct; then generate the views."""
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Check the features").wait_for(timeout=SLOW)
    settle(page)
    if shots is not None:
        shots(page, name)
    page.get_by_role("button", name="Generate the other views").click()


def _wait_done(page) -> None:
    page.get_by_text("Your product is ready").wait_for(timeout=SLOW)
    settle(page, timeout=SLOW)


def test_text_journey_and_admin_sees_it(server, new_page, shots, tmp_path) -> None:
    page = new_page()
    sign_up(page, server.url, *MEMBER)
    page.get_by_role("textbox", name="Product description").wait_for()
    settle(page)
    shots(page, "01-generate-input")

    description = page.get_by_role("textbox", name="Product description")
    description.fill("navy leather messenger bag with a tan strap")
    page.get_by_role("button", name="Generate the front view").click()
    page.get_by_text("Review the front view").wait_for(timeout=SLOW)
    settle(page)
    shots(page, "02-review")

    page.get_by_role("textbox", name="Not right? Say what should change").fill("make the strap red")
    page.get_by_role("button", name="Reject and try again").click()
    page.get_by_text("Rejected versions (1)").wait_for(timeout=SLOW)
    page.get_by_text("Review the front view").wait_for()
    settle(page)
    shots(page, "03-review-after-reject")

    _approve_then_views(page, shots, "04a-features-to-check")
    _wait_done(page)
    shots(page, "04-done")
    for label in ("Front", "Back", "Side", "Top", "Bottom"):
        assert page.get_by_role("tab", name=label).is_visible()
    page.get_by_role("tab", name="Top").click()
    shots(page, "05-done-top-tab")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    path = tmp_path / "views.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as bundle:
        names = set(bundle.namelist())
        pngs = {n for n in names if n.lower().endswith(".png")}
        assert len(pngs) == 5, names
        for view in ("front", "back", "side", "top", "bottom"):
            assert any(view in n for n in pngs), (view, names)
        for name in pngs:
            assert bundle.read(name)[:8] == b"\x89PNG\r\n\x1a\n", name
        assert "features.json" in names

    # the admin sees the approval and the credits
    admin = new_page()
    admin.goto(server.url + "/admin")
    sign_in(admin, ADMIN[0], ADMIN[1])
    admin.get_by_text("Products per day").wait_for()
    settle(admin)
    admin.locator(".vega-embed").first.wait_for()
    shots(admin, "06-admin-charts")
    metrics = {
        m.get_by_test_id("stMetricLabel").inner_text().strip():
            m.get_by_test_id("stMetricValue").inner_text().strip()
        for m in admin.get_by_test_id("stMetric").all()
    }
    assert metrics["Products"] == "1", metrics
    assert metrics["Credits spent"] == "5", metrics  # 3 a product (views included) + 2 retry
    assert metrics["Credits granted"] == "100", metrics  # two accounts x 50
    assert metrics["Approved on first try"] == "0%", metrics

    admin.get_by_role("tab", name="Approvals").click()
    admin.get_by_role("button", name="Download CSV").wait_for()
    settle(admin)
    shots(admin, "07-admin-approvals")
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [(r["user"], r["status"], r["rejections"]) for r in rows] == [
        (MEMBER[0], "complete", "1")]

    admin.get_by_role("tab", name="Credit ledger").click()
    admin.get_by_role("button", name="Download CSV").wait_for()
    settle(admin)
    with admin.expect_download() as download:
        admin.get_by_role("button", name="Download CSV").click()
    ledger = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    spent = sum(-int(r["credits"]) for r in ledger
                if r["user"] == MEMBER[0] and r["state"] == "committed")
    assert spent == 5, ledger  # 3 a product (its views included) + 2 the retry
    shots(admin, "08-admin-ledger")


def test_reference_photo_journey(server, new_page, shots, tmp_path) -> None:
    page = new_page()
    sign_up(page, server.url, "photo@example.com", "photo password", "Pia Photo")
    photo = tmp_path / "reference.png"
    photo.write_bytes(_png())
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Reference photo")
    uploader.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_text("reference.png").first.wait_for()
    settle(page)
    shots(page, "11-photo-input")
    click_settled(page.get_by_role("button", name="Generate the front view"))
    page.get_by_text("Review the front view").wait_for(timeout=SLOW)
    settle(page)
    shots(page, "12-photo-review")
    _approve_then_views(page)
    _wait_done(page)
    shots(page, "13-photo-done")
    assert page.get_by_text("Extracted features").is_visible()

    page.get_by_role("link", name="History").first.click()
    page.get_by_text("Timeline").first.wait_for()
    settle(page)
    shots(page, "14-history")

    page.get_by_role("tab", name="Download").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="ZIP of revision 1").click()
    path = tmp_path / "revision.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as bundle:
        assert {f"{v}.png" for v in ("front", "back", "side", "top", "bottom")} <= set(
            bundle.namelist())
        manifest = json.loads(bundle.read("manifest.json"))
        assert manifest["info"]["revision"] == 1

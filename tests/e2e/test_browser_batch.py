"""A batch in real Chromium: upload a CSV, see the price, start it, reload the page in
the middle (the work goes on; the page finds the batch again from the database) and
watch every row finish."""

from __future__ import annotations

import pytest
from e2e_helpers import make_account, settle, sign_up

pytestmark = pytest.mark.e2e

MEMBER = ("batcher@example.com", "batcher password", "Bo Batch")
SLOW = 180_000  # ms
ROWS = [("MUG-1", "a teal ceramic mug"), ("BAG-2", "a navy leather backpack"),
        ("LAMP-3", "a brass desk lamp"), ("SHOE-4", "a white leather sneaker")]


ADMIN = ("lead@example.com", "lead password", "Lee Lead")


@pytest.fixture(scope="module")
def server(start_server):
    return start_server(lambda settings: make_account(settings, *ADMIN, admin=True))


def test_upload_a_batch_reload_and_watch_it_finish(server, new_page, shots, tmp_path) -> None:
    csv_path = tmp_path / "catalogue.csv"
    csv_path.write_text("sku,text\n" + "".join(f"{s},{t}\n" for s, t in ROWS))
    page = new_page()
    sign_up(page, server.url, *MEMBER)
    page.goto(f"{server.url}/batch")
    page.get_by_text("New batch").wait_for()
    settle(page)
    page.locator('[data-testid="stFileUploader"]').first.locator(
        'input[type="file"]').set_input_files(str(csv_path))
    page.get_by_text("catalogue.csv").wait_for(timeout=SLOW)  # the upload has landed
    settle(page)
    page.get_by_role("button", name="Check the batch").click()
    settle(page)
    shots(page, "19-batch-after-check")
    start = page.get_by_role("button", name="Start the batch")
    start.wait_for(timeout=SLOW)
    settle(page)
    shots(page, "20-batch-checked")
    assert "4 products" in page.locator('[data-testid="stMarkdown"]').all_inner_texts().__str__()
    start.click()
    page.get_by_text("Started: 4 products").wait_for(timeout=SLOW)
    settle(page)
    shots(page, "21-batch-running")

    page.reload()  # a new Streamlit session: the batch is found again in the database
    page.get_by_text("Your batches").wait_for(timeout=SLOW)  # a member sees only theirs
    page.get_by_text("4 of 4 rows finished").wait_for(timeout=SLOW)
    settle(page, timeout=SLOW)
    download = page.get_by_role("button", name="Download ZIP")
    download.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # the progress bar's width eases in
    shots(page, "22-batch-finished-after-reload")
    body = page.locator("body").inner_text()
    assert "4 complete" in body, body[-800:]
    assert download.is_enabled()

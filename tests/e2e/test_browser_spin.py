"""The 360° spin viewer in real Chromium on the Done step: a product is made, the spin
is asked for, and dragging across it, then the slider's arrow keys, turn the product
(a different frame shows, and the picture on screen changes)."""

from __future__ import annotations

import pytest
from e2e_helpers import make_account, settle, sign_up

pytestmark = pytest.mark.e2e

MEMBER = ("spinner@example.com", "spin password", "Sam Spinner")
SLOW = 180_000  # ms: generation and 36 spin frames on a slow CI machine


@pytest.fixture(scope="module")
def server(start_server):
    # an admin exists, so the person below signs up as a member on the usual screen
    return start_server(lambda settings: make_account(settings, "spin-admin@example.com",
                                                      "admin password", "Ada", admin=True))


def test_dragging_and_the_slider_turn_the_spin(server, new_page, shots) -> None:
    page = new_page()
    sign_up(page, server.url, *MEMBER)
    page.get_by_role("textbox", name="Product description").fill("a blue ceramic mug with a yellow handle")
    page.get_by_role("button", name="Generate the front view").click()
    page.get_by_text("Review the front view").wait_for(timeout=SLOW)
    settle(page)
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Check the features").wait_for(timeout=SLOW)  # correctable first
    settle(page)
    page.get_by_role("button", name="Generate the other views").click()
    page.get_by_text("Your product is ready").wait_for(timeout=SLOW)
    settle(page, timeout=SLOW)
    page.get_by_text("Download set · 20 images").wait_for()

    page.get_by_text("Show the 360° spin").click()
    settle(page, timeout=SLOW)
    frame = page.frame_locator('iframe[title="st.iframe"], iframe').last
    stage = frame.locator("#stage")
    stage.wait_for(timeout=SLOW)
    frame.locator('#stage[data-ready="1"]').wait_for(timeout=SLOW)
    stage.scroll_into_view_if_needed()
    assert frame.locator("#stage img.f").count() == 36
    assert stage.get_attribute("data-frame") == "0"
    assert frame.locator("#label").inner_text() == "0°"
    before = stage.screenshot()
    shots(page, "spin-01-front")

    box = stage.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 40, y)
    page.mouse.down()
    page.mouse.move(box["x"] + 40 + box["width"] / 4, y, steps=12)  # a quarter turn
    page.mouse.up()
    turned = int(stage.get_attribute("data-frame"))
    assert 7 <= turned <= 11, turned  # about 90°: the right side, handle towards us
    assert frame.locator("#label").inner_text() == f"{turned * 10}°"
    after = stage.screenshot()
    assert after != before
    shots(page, "spin-02-dragged")

    slider = frame.locator("#slider")
    slider.focus()
    for _ in range(3):
        slider.press("ArrowRight")
    assert int(stage.get_attribute("data-frame")) == turned + 3
    assert int(slider.input_value()) == turned + 3
    shots(page, "spin-03-slider")

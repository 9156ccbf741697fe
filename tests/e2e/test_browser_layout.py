"""The layout a new user met, in real Chromium: a deep link to /generate, success
banners below the top bar, and a 390 px phone where the sidebar must not cover the page
(issue 12, item 18). Screenshots are saved for a person to look at."""

from __future__ import annotations

import pytest
from e2e_helpers import make_account, settle, sign_in

pytestmark = pytest.mark.e2e

MEMBER = ("walker@example.com", "walker password", "Wes Walker")
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(start_server):
    def prepare(settings) -> None:
        make_account(settings, "head@example.com", "admin password", "Hal Head", admin=True)
        make_account(settings, *MEMBER)

    return start_server(prepare)


def _below_the_top_bar(page, locator) -> None:
    header = page.get_by_test_id("stHeader").bounding_box()
    box = locator.bounding_box()
    assert header is not None and box is not None
    assert box["y"] >= header["y"] + header["height"] - 1, (box, header)


def test_generate_opens_by_its_address_and_banners_clear_the_top_bar(server, new_page,
                                                                      shots) -> None:
    page = new_page()
    page.goto(server.url + "/generate")
    page.get_by_text("Sign in to continue.").wait_for()
    settle(page)
    assert page.get_by_text("Page not found").count() == 0
    sign_in(page, MEMBER[0], MEMBER[1])
    assert page.get_by_text("Page not found").count() == 0
    assert page.url.rstrip("/").endswith("/generate")
    page.get_by_text("What are we making?").wait_for()
    banner = page.get_by_test_id("stAlert").filter(has_text="Welcome back").first
    shots(page, "40-generate-deep-link-banner")
    _below_the_top_bar(page, banner)

    page.goto(server.url + "/")  # the root opens Generate by its own address
    page.get_by_text("What are we making?").wait_for()
    settle(page)
    assert page.url.rstrip("/").endswith("/generate")
    assert page.get_by_text("Page not found").count() == 0


def test_at_390_px_the_sidebar_does_not_cover_the_page(server, browser, shots) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(30_000)
    try:
        page = context.new_page()
        page.goto(server.url + "/generate")
        page.get_by_text("Sign in to continue.").wait_for()
        settle(page)
        sign_in(page, MEMBER[0], MEMBER[1])
        page.get_by_text("What are we making?").wait_for()
        settle(page)
        shots(page, "41-phone-390-generate")
        sidebar = page.get_by_test_id("stSidebar")
        box = sidebar.bounding_box()
        assert box is None or box["x"] + box["width"] <= 1, box  # off screen, not over it
        heading = page.get_by_text("What are we making?")
        heading.click()  # reachable: nothing lies over it
        _below_the_top_bar(page, page.get_by_test_id("stAlert").filter(
            has_text="Welcome back").first)
    finally:
        context.close()

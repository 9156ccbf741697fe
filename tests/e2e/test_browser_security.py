"""Every page guards itself, checked in real Chromium against fresh servers.

With a ``pages/`` folder beside ``app.py``, the first request of a fresh server to a
deep link runs that page without running ``app.py``; it must still show only the
sign-in prompt. A signed-in member who reaches ``/admin`` gets a refusal and no data.
"""

from __future__ import annotations

import pytest
from e2e_helpers import make_account, settle, sign_in

pytestmark = pytest.mark.e2e

ADMIN = ("chief@example.com", "admin password", "Chief Admin")
MEMBER = ("member@example.com", "member password", "Mia Member")


def _prepare(settings) -> None:
    from viewgen.demo import seed
    from viewgen.store import open_repository

    make_account(settings, *ADMIN, admin=True)
    make_account(settings, *MEMBER)
    repo = open_repository(settings.resolved_database_url)
    try:
        seed(repo, settings, approvals=200, users=5, days=30, seed=3)
    finally:
        repo.engine.dispose()


def _assert_no_data(page) -> None:
    from viewgen.demo import DEMO_DOMAIN

    text = page.locator("body").inner_text()
    for secret in (ADMIN[0], DEMO_DOMAIN, "Credits granted", "Products per day"):
        assert secret not in text, secret
    main = page.get_by_test_id("stMain")  # the sidebar may show the member's own credits
    assert main.get_by_test_id("stMetric").count() == 0
    assert page.get_by_test_id("stDataFrame").count() == 0
    assert page.get_by_test_id("stVegaLiteChart").count() == 0


@pytest.mark.parametrize("path", ["/admin", "/history"])
def test_first_request_to_a_deep_link_shows_only_sign_in(start_server, new_page, shots,
                                                         path: str) -> None:
    server = start_server(_prepare)
    page = new_page()
    page.goto(server.url + path)  # the server's very first request
    page.get_by_text("Sign in to continue.").wait_for()
    page.get_by_role("button", name="Sign in").wait_for()
    settle(page)
    shots(page, f"21-first-request-{path.strip('/')}")
    _assert_no_data(page)
    assert MEMBER[0] not in page.locator("body").inner_text()

    # signing in there lands on the page asked for, with the navigation in place
    sign_in(page, MEMBER[0], MEMBER[1])
    expected = "The Admin page is for admins only" if path == "/admin" else "No products yet"
    page.get_by_text(expected).wait_for()
    page.get_by_role("link", name="Generate").first.wait_for()
    settle(page)
    shots(page, f"23-signed-in-after-{path.strip('/')}")
    assert page.url.rstrip("/").endswith(path)


def test_a_member_is_refused_on_admin(start_server, new_page, shots) -> None:
    server = start_server(_prepare)
    page = new_page()
    page.goto(server.url + "/admin")
    page.get_by_text("Sign in to continue.").wait_for()
    sign_in(page, MEMBER[0], MEMBER[1])
    page.get_by_text("The Admin page is for admins only").wait_for()
    settle(page)
    shots(page, "22-member-refused-on-admin")
    _assert_no_data(page)
    page.get_by_role("link", name="History").first.wait_for()
    assert page.get_by_role("link", name="Admin").count() == 0

    # and again by URL once signed in somewhere else in the app
    page.goto(server.url + "/")  # a new page load: still signed in (the cookie)
    page.get_by_role("link", name="History").first.wait_for()
    settle(page)
    assert page.get_by_role("link", name="Admin").count() == 0
    page.goto(server.url + "/admin")  # a new page load: still signed in (the cookie)
    page.get_by_text("The Admin page is for admins only").wait_for()
    settle(page)
    _assert_no_data(page)


def test_stay_signed_in_across_reloads_until_signing_out(start_server, new_page,
                                                         shots) -> None:
    server = start_server(_prepare)
    page = new_page()
    page.goto(server.url + "/history")
    page.get_by_text("Sign in to continue.").wait_for()
    sign_in(page, MEMBER[0], MEMBER[1])
    page.get_by_text("No products yet").wait_for()
    [cookie] = [c for c in page.context.cookies() if c["name"] == "viewgen_session"]
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > 0

    page.reload()  # a reload starts a new Streamlit session: the cookie signs it in
    page.get_by_text("No products yet").wait_for()
    settle(page)
    shots(page, "24-after-reload")
    assert page.get_by_text("Sign in to continue.").count() == 0
    assert MEMBER[2] in page.get_by_test_id("stSidebar").inner_text()
    page.goto(server.url + "/admin")  # and it is still the member: refused
    page.get_by_text("The Admin page is for admins only").wait_for()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.get_by_text("Sign in to continue.").wait_for()
    settle(page)
    page.wait_for_function(
        "() => !document.cookie.includes('viewgen_session=') "
        "|| document.cookie.includes('viewgen_session=;')")
    page.reload()
    page.get_by_text("Sign in to continue.").wait_for()
    settle(page)
    _assert_no_data(page)

    # "stay signed in" unticked (a shared computer): a reload asks again
    form = page.locator('[data-testid="stForm"]').filter(
        has=page.get_by_role("button", name="Sign in"))
    form.get_by_text("Stay signed in on this browser").click()
    sign_in(page, MEMBER[0], MEMBER[1])
    page.reload()
    page.get_by_text("Sign in to continue.").wait_for()
    assert [c for c in page.context.cookies()
            if c["name"] == "viewgen_session" and c["value"]] == []

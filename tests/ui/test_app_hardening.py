"""Security fixes seen through the app: user text is never markup, and a person can sign
out of every browser at once (AppTest)."""

from __future__ import annotations

from ui_helpers import PASSWORD, no_exceptions, signed_in, texts

from viewgen.auth import create_account, hash_password, recall, remember
from viewgen.ui import state

MARKDOWN_EMAIL = "![p](http://host/p.png)@x.example"


def test_a_markdown_email_is_shown_as_text_in_the_grant_message(app, app_admin, app_repo,
                                                                app_settings) -> None:
    # sign-up refuses this address now; an account made before (or elsewhere) may have it
    odd = create_account(app_repo, app_settings, MARKDOWN_EMAIL,
                         password_hash=hash_password(PASSWORD))
    signed_in(app, app_admin)
    app.switch_page("pages/admin.py").run()
    app.query_params[state.W_ADMIN_TAB] = "Users & credits"
    app.run()
    app.selectbox(key=state.W_GRANT_USER).select(odd.id)
    app.number_input(key=state.W_GRANT_AMOUNT).set_value(5)
    app.text_input(key=state.W_GRANT_REASON).input("test")
    app.button(key="grant_submit").click().run()
    no_exceptions(app)
    [message] = [m for m in texts(app, "success") if m.startswith("Granted 5 credits")]
    assert r"!\[p\](http://host/p.png)@x.example" in message
    assert "![p](" not in message  # no image for the admin's browser to fetch


def test_sign_up_refuses_a_markdown_email(app, app_admin) -> None:
    app.run()
    app.text_input(key=state.W_SIGNUP_NAME).input("Eve")
    app.text_input(key=state.W_SIGNUP_EMAIL).input(MARKDOWN_EMAIL)
    app.text_input(key=state.W_SIGNUP_PASSWORD).input(PASSWORD)
    app.text_input(key=state.W_SIGNUP_CONFIRM).input(PASSWORD)
    app.button(key="sign_up_submit").click().run()
    no_exceptions(app)
    [error] = texts(app, "error")
    assert error.startswith("That email address cannot be used")
    assert state.USER not in app.session_state


def test_sign_out_everywhere_ends_other_browsers_too(app, app_member, app_repo,
                                                     app_settings) -> None:
    phone = remember(app_repo, app_settings, app_member)  # another device, still signed in
    app.run()
    app.text_input(key=state.W_SIGNIN_EMAIL).input("max@example.com")
    app.text_input(key=state.W_SIGNIN_PASSWORD).input(PASSWORD)
    app.button(key="sign_in_submit").click().run()
    here = app.session_state[state.SESSION_TOKEN]
    assert recall(app_repo, here).id == app_member.id
    app.button(key="sign_out_everywhere").click().run()
    no_exceptions(app)
    assert state.USER not in app.session_state
    assert recall(app_repo, here) is None
    assert recall(app_repo, phone) is None
    assert any(m.startswith("Signed out everywhere") and "2 remembered sessions ended" in m
               for m in texts(app, "success"))
    assert "Sign in to continue." in texts(app, "info")

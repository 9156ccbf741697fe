"""Sign-up, sign-in and sign-out through the app's own forms (AppTest)."""

from __future__ import annotations

from ui_helpers import PASSWORD, no_exceptions, texts

from viewgen.auth import recall
from viewgen.domain import Role
from viewgen.ui import state


def _sign_up(at, name: str, email: str, password: str, confirm: str | None = None):
    at.text_input(key=state.W_SIGNUP_NAME).input(name)
    at.text_input(key=state.W_SIGNUP_EMAIL).input(email)
    at.text_input(key=state.W_SIGNUP_PASSWORD).input(password)
    at.text_input(key=state.W_SIGNUP_CONFIRM).input(confirm if confirm is not None else password)
    return at.button(key="sign_up_submit").click().run()


def _sign_in(at, email: str, password: str):
    at.text_input(key=state.W_SIGNIN_EMAIL).input(email)
    at.text_input(key=state.W_SIGNIN_PASSWORD).input(password)
    return at.button(key="sign_in_submit").click().run()


def test_a_fresh_database_opens_on_creating_the_first_account(app) -> None:
    app.run()
    no_exceptions(app)
    assert texts(app, "subheader") == ["Create the first account (admin)"]
    assert "Sign in to continue." not in texts(app, "info")
    assert not app.tabs  # nobody can sign in yet: no Sign in tab to land on
    assert [b.label for b in app.button] == ["Create the admin account"]
    assert not app.metric and not app.dataframe
    assert any("first account" in c for c in texts(app, "caption"))


def test_signed_out_app_shows_only_the_sign_in_prompt(app, app_admin) -> None:
    app.run()
    no_exceptions(app)
    assert "Sign in to continue." in texts(app, "info")
    assert [t.label for t in app.tabs] == ["Sign in", "Create an account"]
    assert not app.metric and not app.dataframe
    assert not any("first account" in c for c in texts(app, "caption"))


def test_sign_up_first_account_is_admin_with_starting_credits(app, app_settings) -> None:
    app.run()
    _sign_up(app, "Ada", "ada@example.com", PASSWORD)
    no_exceptions(app)
    user = app.session_state[state.USER]
    assert user.role == Role.ADMIN
    assert f"Welcome, Ada! Your account has {app_settings.starting_credits} credits." in texts(
        app, "success")
    assert [m.value for m in app.sidebar.metric] == [str(app_settings.starting_credits)]
    assert "Generate" in texts(app, "title")


def test_second_sign_up_is_a_member_and_errors_are_readable(app, app_admin) -> None:
    app.run()
    _sign_up(app, "Max", "max@example.com", PASSWORD, confirm="something else")
    assert texts(app, "error") == ["The two passwords are different: type the same one twice."]
    _sign_up(app, "Max", "max@example.com", "short")
    assert texts(app, "error") == ["Choose a password of at least 8 characters."]
    _sign_up(app, "Max", "ada@example.com", PASSWORD)
    assert texts(app, "error") == ["An account for ada@example.com already exists."]
    _sign_up(app, "Max", "max@example.com", PASSWORD)
    no_exceptions(app)
    assert app.session_state[state.USER].role == Role.MEMBER


def test_sign_in_and_sign_out(app, app_member, app_repo) -> None:
    app.run()
    _sign_in(app, "max@example.com", "wrong password")
    assert texts(app, "error") == ["That email and password don't match an account."]
    assert state.USER not in app.session_state
    _sign_in(app, "MAX@example.com ", PASSWORD)
    no_exceptions(app)
    assert app.session_state[state.USER].id == app_member.id
    assert "Welcome back, Max Member." in texts(app, "success")
    token = app.session_state[state.SESSION_TOKEN]  # "stay signed in" was ticked
    assert recall(app_repo, token).id == app_member.id
    app.button(key="sign_out").click().run()
    assert state.USER not in app.session_state
    assert recall(app_repo, token) is None  # the browser's cookie signs nobody in now
    assert "You are signed out." in texts(app, "info")
    assert "Sign in to continue." in texts(app, "info")

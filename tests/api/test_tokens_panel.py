"""The account panel's API tokens in a real Streamlit run (AppTest): shown once, revocable."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from viewgen import tokens
from viewgen.auth import create_account
from viewgen.settings import Settings
from viewgen.store import open_repository


def _panel() -> None:
    from viewgen.settings import Settings
    from viewgen.store import SYSTEM, open_repository
    from viewgen.tokens import Tokens
    from viewgen.ui.tokens_panel import tokens_panel

    repo = open_repository(Settings().resolved_database_url)
    with repo.tx(SYSTEM) as tx:
        user = tx.user_credentials("max@example.com")[0]
    tokens_panel(Tokens(repo), user, expanded=True)


def test_a_token_is_shown_once_and_can_be_revoked(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIEWGEN_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    repo = open_repository(settings.resolved_database_url)
    create_account(repo, settings, "root@example.com", password_hash=None)
    max_user = create_account(repo, settings, "max@example.com", password_hash=None)

    at = AppTest.from_function(_panel, default_timeout=60).run()
    assert not at.exception
    assert "No tokens yet." in [c.value for c in at.caption]
    at.text_input(key="w_tok_name").input("*shop* <b>office</b>")
    at.button(key="tok_create").click().run()
    shown = [c.value for c in at.code]
    assert len(shown) == 1 and shown[0].startswith("vg_")
    user, _ = tokens.authenticate(repo, shown[0])
    assert user.id == max_user.id
    assert "*shop* <b>office</b>" in [t.value for t in at.text]  # as typed, not rendered

    at.run()  # any later run: the token is gone from the screen for good
    assert [c.value for c in at.code] == []
    (listed,) = tokens.list_tokens(repo, max_user)
    at.button(key=f"tok_revoke_{listed.id}").click().run()
    assert tokens.authenticate(repo, shown[0]) is None
    assert any("revoked" in t.value for t in at.text)
    repo.engine.dispose()

"""Sign out everywhere on Supabase: Supabase ends every session (scope "global") and
viewgen forgets the account's remembered browsers; other accounts keep theirs."""

from __future__ import annotations

from test_supabase_adapters import (  # noqa: F401 - fixtures
    FakeSupabase,
    fake,
    sb_settings,
)

from viewgen.auth import build_auth, recall, remember
from viewgen.settings import Settings
from viewgen.store import Repository


def test_sign_out_everywhere_ends_supabase_sessions_globally(
        repo: Repository, sb_settings: Settings, fake: FakeSupabase) -> None:  # noqa: F811
    ada_auth = build_auth(repo, sb_settings)
    ada = ada_auth.sign_up("ada@example.com", "a long password", "Ada")
    bob = build_auth(repo, sb_settings).sign_up("bob@example.com", "another long one")
    laptop, phone = remember(repo, sb_settings, ada), remember(repo, sb_settings, ada)
    bobs = remember(repo, sb_settings, bob)
    assert ada_auth.sign_out_everywhere(ada) == 2
    [logout] = fake.requests("POST", "/auth/v1/logout")
    assert logout.query == {"scope": ["global"]}
    assert recall(repo, laptop) is None and recall(repo, phone) is None
    assert recall(repo, bobs).id == bob.id

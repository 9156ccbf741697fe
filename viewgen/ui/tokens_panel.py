"""The account panel's API tokens: create one (shown once), list them, revoke one.

``tokens_panel(studio.api_tokens, user)`` draws an expander, meant for the sidebar under the
account (``components.sidebar``). A new token is kept in session state only until the
run that shows it, then dropped: it is on screen once, with a reminder to copy it, and
the database keeps only its hash (``viewgen.tokens``). The list shows each token's
name, when it was made and last used, and a Revoke button for the active ones.
"""

from __future__ import annotations

import streamlit as st

from viewgen import tokens
from viewgen.domain import User
from viewgen.errors import ViewgenError
from viewgen.tokens import Tokens

# session-state keys of this panel (the lead may move them into viewgen/ui/state.py)
NEW_TOKEN = "tok_new"  # (name, token) created on the last run, shown once then dropped
TOKEN_ERROR = "tok_error"  # the last error's user_message
W_TOKEN_NAME = "w_tok_name"


def _create(ops: Tokens, user: User) -> None:
    try:
        row, secret = ops.create(user, st.session_state.get(W_TOKEN_NAME))
    except ViewgenError as exc:
        st.session_state[TOKEN_ERROR] = exc.user_message
        return
    st.session_state[NEW_TOKEN] = (row.name, secret)
    st.session_state[W_TOKEN_NAME] = ""


def _revoke(ops: Tokens, user: User, token_id: str) -> None:
    try:
        ops.revoke(user, token_id)
    except ViewgenError as exc:
        st.session_state[TOKEN_ERROR] = exc.user_message


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "never"


def tokens_panel(ops: Tokens, user: User, *, expanded: bool = False) -> None:
    """API tokens for ``user``: create (shown once), list, revoke."""
    new = st.session_state.pop(NEW_TOKEN, None)
    with st.expander("API tokens", icon=":material/key:", expanded=expanded or bool(new)):
        st.caption("For scripts and other tools calling the HTTP API "
                   "(`Authorization: Bearer <token>`).")
        if error := st.session_state.pop(TOKEN_ERROR, None):
            st.error(error)
        if new:
            name, secret = new
            st.success("Token created. Copy it now: it is not shown again.")
            st.text(name)  # a person's text: never rendered as Markdown
            st.code(secret, language=None)
        st.text_input("Name", key=W_TOKEN_NAME, placeholder="e.g. shop back office",
                      max_chars=tokens.MAX_NAME)
        st.button("Create token", key="tok_create", on_click=_create, args=(ops, user),
                  icon=":material/add:")
        try:
            mine = ops.list(user)
        except ViewgenError as exc:
            st.error(exc.user_message)
            return
        if not mine:
            st.caption("No tokens yet.")
        for token in mine:
            # st.text, not markdown: the name is the person's own text
            line = (f"{token.name} · made {_when(token.created_at)} · "
                    f"last used {_when(token.last_used_at)}")
            if token.active:
                left, right = st.columns([3, 1], vertical_alignment="center")
                left.text(line)
                right.button("Revoke", key=f"tok_revoke_{token.id}", on_click=_revoke,
                             args=(ops, user, token.id))
            else:
                st.text(f"{line} · revoked {_when(token.revoked_at)}")

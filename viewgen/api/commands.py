"""The API's command-line subcommands: ``serve`` and ``tokens create|list|revoke``.

Registered by ``viewgen.cli`` like the other modules' subcommands. ``tokens create``
prints the new token once (it is not stored, only its hash); ``--json`` prints one
JSON object instead of the table or sentence.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from viewgen import tokens
from viewgen.settings import Settings


def _repo(settings: Settings):
    # tokens need the database only: no providers, no executor
    from viewgen.compose import open_repo

    return open_repo(settings)


def _row(token: tokens.ApiToken) -> dict[str, Any]:
    return {"id": token.id, "name": token.name,
            "created_at": token.created_at.isoformat() if token.created_at else None,
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen.api import serve

    serve(args.host, args.port, settings)
    return 0


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    repo = _repo(settings)
    user = tokens.user_by_email(repo, args.email)
    token, secret = tokens.create(repo, user, args.name)
    if args.json:
        print(json.dumps({**_row(token), "token": secret, "email": user.email}, indent=2))
    else:
        print(f"Created API token '{token.name}' ({token.id}) for {user.email}.")
        print("Copy it now; it is not shown again:")
        print(secret)
    return 0


def cmd_tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    repo = _repo(settings)
    user = tokens.user_by_email(repo, args.email)
    rows = tokens.list_tokens(repo, user)
    if args.json:
        print(json.dumps([_row(t) for t in rows], indent=2))
        return 0
    if not rows:
        print(f"{user.email} has no API tokens.")
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
        print(f"{t.id}  {t.name:<24} {state:<18} {used}")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    repo = _repo(settings)
    user = tokens.user_by_email(repo, args.email)
    token = tokens.revoke(repo, user, tokens.resolve(repo, user, args.token))
    if args.json:
        print(json.dumps(_row(token), indent=2))
    else:
        print(f"Revoked API token '{token.name}' ({token.id}) of {user.email}.")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAPI docs at /docs)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(func=cmd_serve)

    tok = sub.add_parser("tokens", help="API tokens of an account")
    tok_sub = tok.add_subparsers(dest="tokens_command", required=True)
    create = tok_sub.add_parser("create", help="create a token (printed once)")
    create.add_argument("email")
    create.add_argument("name", nargs="?", default=None, help="a name to recognise it by")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=cmd_tokens_create)
    lst = tok_sub.add_parser("list", help="list an account's tokens")
    lst.add_argument("email")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_tokens_list)
    revoke = tok_sub.add_parser("revoke", help="revoke a token by its id or name")
    revoke.add_argument("email")
    revoke.add_argument("token", help="the token's id, or its name if no other active "
                        "token has it")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(func=cmd_tokens_revoke)

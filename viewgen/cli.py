"""The command line: ``python -m viewgen ...`` for scripting and operations.

``generate`` runs the whole flow as a local CLI user and writes the views as PNGs;
``approve`` / ``reject`` continue a flow started without ``--auto-approve``; ``users``
manages local accounts and credits; other subcommands come from the modules that
own them (``doctor``, ``demo-data``, ``migrate-data``). Errors go to stderr with a
non-zero exit and never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from viewgen import credits
from viewgen.auth import check_email, create_account, hash_password
from viewgen.domain import Approval, Role, User, ViewType
from viewgen.errors import ViewgenError
from viewgen.settings import Settings, load_settings
from viewgen.store import SYSTEM

CLI_USER = "cli@viewgen.local"

EXIT_ERROR = 1
EXIT_USAGE = 2


def _studio(settings: Settings, executor: str | None = None):
    from viewgen.compose import build_studio

    return build_studio(settings, executor=executor)


def _cli_user(studio, email: str) -> User:
    email = check_email(email)
    with studio.repo.tx(SYSTEM) as tx:
        found = tx.user_credentials(email)
    if found:
        return found[0]
    return create_account(studio.repo, studio.settings, email, password_hash=None,
                          display_name="Command line", role=Role.MEMBER)


def _read(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ViewgenError(f"Could not read the {what} file {path}: {exc.strerror}.") from exc


def _write_views(studio, user: User, approval: Approval, out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for view, data in studio.view_images(user, approval).items():
        path = out / f"{view.value}.png"
        path.write_bytes(data)
        written[view.value] = str(path)
    return written


def _summary(studio, user: User, approval: Approval, out: Path, before: int) -> dict[str, Any]:
    """The JSON the CLI prints: the API's shapes (views with their prompt, the features
    with the dimensions object, prices and the price of the next action)."""
    paths = _write_views(studio, user, approval, out)
    balance = studio.balance(user)
    features = approval.extracted_features
    prices = studio.prices
    summary: dict[str, Any] = {
        "approval_id": approval.id,
        "status": approval.status.value,
        "views": {view: {"path": path, "prompt": approval.prompt(ViewType(view))}
                  for view, path in paths.items()},
        "features": features.public_json() if features else None,
        "consistency": {
            view: round(float(score.get("score", 0)), 1)
            for view, score in approval.consistency.items()
        },
        "view_errors": approval.view_errors,
        "credits": {"charged": before - balance, "balance": balance},
        "prices": prices.as_json(),
        "next": prices.next_quote(approval).as_json(),
    }
    if approval.status.value == "front_review":
        summary["retry"] = prices.quote_retry(approval).as_json()
    return summary


def _print(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(f"Product {summary['approval_id']}: {summary['status'].replace('_', ' ')}")
    for view, written in summary["views"].items():
        path = written["path"]
        score = summary["consistency"].get(view)
        note = f"  (consistency {score:.0f}/100)" if score is not None else ""
        print(f"  {view:<6} {path}{note}")
    for view, error in summary.get("view_errors", {}).items():
        print(f"  {view:<6} FAILED: {error}")
    features = summary["features"]
    if features:
        colours = ", ".join(f"{c['name']} {c['hex']}" for c in features["colors"])
        print(f"  colours: {colours}")
        if features["materials"]:
            print(f"  materials: {', '.join(features['materials'])}")
        print(f"  {features['description']}")
    c = summary["credits"]
    print(f"Charged {c['charged']} credits; balance {c['balance']}.")


def _checked_out(args: argparse.Namespace) -> Path:
    """``--out`` checked before anything is charged (an existing file, no write access)."""
    from viewgen.domain import ALL_VIEWS, STORED_VIEWS
    from viewgen.validation import output_dir

    views = STORED_VIEWS if getattr(args, "hero", False) else ALL_VIEWS
    return output_dir(args.out, files=[f"{v.value}.png" for v in views])


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    _checked_out(args)
    studio = _studio(settings)
    user = _cli_user(studio, args.user)
    before = studio.balance(user)
    approval = studio.generate_multi_view(
        user, text=args.text, image=_read(args.image, "image"), logo=_read(args.logo, "logo"),
        auto_approve=args.auto_approve, seed=args.seed, hero=args.hero,
    )
    summary = _summary(studio, user, approval, Path(args.out), before)
    if not args.auto_approve and not args.json:
        print("Review front.png, then run one of:")
        print(f"  python -m viewgen approve {approval.id} --out {args.out}")
        print(f"  python -m viewgen reject {approval.id} --feedback \"what to change\"")
    _print(summary, args.json)
    return 0 if approval.status.value in ("complete", "front_review") else EXIT_ERROR


def cmd_approve(args: argparse.Namespace, settings: Settings) -> int:
    _checked_out(args)
    studio = _studio(settings)
    user = _cli_user(studio, args.user)
    before = studio.balance(user)
    studio.approve(user, args.approval_id)
    approval = studio.start_views(user, args.approval_id, hero=args.hero).wait()
    studio.wait_for_analysis(approval.id)
    approval = studio.get(user, approval.id)
    _print(_summary(studio, user, approval, Path(args.out), before), args.json)
    return 0 if approval.status.value == "complete" else EXIT_ERROR


def cmd_reject(args: argparse.Namespace, settings: Settings) -> int:
    _checked_out(args)
    studio = _studio(settings)
    user = _cli_user(studio, args.user)
    before = studio.balance(user)
    approval = studio.reject_and_retry(user, args.approval_id, args.feedback)
    _print(_summary(studio, user, approval, Path(args.out), before), args.json)
    return 0


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    studio = _studio(settings, executor="off")
    password = args.password
    if password is None and sys.stdin.isatty() and not args.no_password:
        password = getpass.getpass("Password (empty for a command-line-only account): ") or None
    user = create_account(
        studio.repo, settings, args.email,
        password_hash=hash_password(password) if password else None,
        display_name=args.name or "", role=Role.ADMIN if args.admin else None,
        credits_granted=args.credits,
    )
    with studio.repo.tx(SYSTEM) as tx:
        balance = credits.balance(tx, user.id)
    print(f"Added {user.email} ({user.role.value}) with {balance} credits.")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    studio = _studio(settings, executor="off")
    with studio.repo.tx(SYSTEM) as tx:
        rows = [(u, credits.balance(tx, u.id)) for u in tx.list_users()]
    for user, balance in rows:
        print(f"{user.email:<40} {user.role.value:<7} {balance:>6} credits")
    return 0


def cmd_users_grant(args: argparse.Namespace, settings: Settings) -> int:
    studio = _studio(settings, executor="off")
    with studio.repo.tx(SYSTEM, write=True) as tx:
        found = tx.user_credentials(check_email(args.email))
        if found is None:
            raise ViewgenError(f"No account for {args.email}.")
        credits.grant(tx, found[0].id, args.credits, args.reason)
        balance = credits.balance(tx, found[0].id)
    print(f"Granted {args.credits} credits to {args.email}; balance {balance}.")
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen.compose import build_studio

    studio = build_studio(settings, reconcile=False, executor="off")
    fixed = studio.reconcile(args.older_than)
    n = len(fixed)
    print(f"Failed and refunded {n} interrupted {'generation' if n == 1 else 'generations'}; "
          "workflows of dead executors were handed to live ones to resume.")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """``export APPROVAL_ID --preset NAME ... [--background '#RRGGBB']``: each view for
    each preset, written as ``OUT/<preset>/<view>.<ext>``; ``--spin`` adds the 360° spin;
    ``--list-presets``. A bad preset or background is refused before anything is written."""
    from viewgen import export
    from viewgen.presets import (
        DEFAULT_PRESETS,
        PRESETS,
        background_warnings,
        resolve_presets,
        with_background,
    )

    if args.list_presets:
        if args.json:
            print(json.dumps([{"name": p.name, "label": p.label, "rules": p.describe()} for p in PRESETS],
                             indent=2))
        else:
            for p in PRESETS:
                print(f"{p.name:<18} {p.label}: {p.describe()}")
        return 0
    if not args.approval_id:
        raise ViewgenError("Name the product to export (its approval id), or use --list-presets.")
    presets = with_background(resolve_presets(args.preset or DEFAULT_PRESETS), args.background)
    for warning in background_warnings(presets):
        print(f"note: {warning}", file=sys.stderr)
    studio = _studio(settings)
    user = _cli_user(studio, args.user)
    approval = studio.get(user, args.approval_id)
    images = studio.view_images(user, approval)
    out = Path(args.out)
    written: dict[str, list[str]] = {}
    for item in export.render_set(images, presets):
        path = out / item.preset.name / item.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(item.data)
        written.setdefault(item.preset.name, []).append(str(path))
    note = ""
    if args.spin:
        model = None
        if approval.input_text and not approval.reference_key:
            model = export.offline_model(approval.input_text, approval.feedback_history, approval.seed,
                                         images.get(ViewType.FRONT))
        spin = (export.spin_from_model(model, frames=args.frames) if model is not None
                else export.spin_from_views(images))
        note = spin.note
        out.mkdir(parents=True, exist_ok=True)
        for name, encoder in (("spin.webp", export.spin_webp), ("spin.gif", export.spin_gif),
                              ("spin.mp4", export.spin_mp4)):
            (out / name).write_bytes(encoder(spin.frames))
            written.setdefault("spin", []).append(str(out / name))
    if args.json:
        print(json.dumps({"approval_id": approval.id, "files": written, "spin_note": note}, indent=2))
    else:
        for name, paths in written.items():
            print(f"{name}: {len(paths)} file(s) in {Path(paths[0]).parent}")
        if note:
            print(f"spin: {note}")
    return 0


def _register_export(sub: argparse._SubParsersAction) -> None:
    exp = sub.add_parser("export", help="export a product's views for marketplaces (presets) and as a spin")
    exp.add_argument("approval_id", nargs="?")
    exp.add_argument("--preset", action="append", metavar="NAME",
                     help="a preset (repeatable; default amazon, shopify, instagram-4x5, cutout)")
    exp.add_argument("--background", metavar="COLOUR",
                     help="behind the product in every preset with an opaque background: a hex "
                          "colour (#RRGGBB), white or studio (the cut-out stays transparent)")
    exp.add_argument("--list-presets", action="store_true", help="list the presets and their rules")
    exp.add_argument("--spin", action="store_true", help="also write spin.webp, spin.gif and spin.mp4")
    exp.add_argument("--frames", type=int, default=36, help="frames of an offline product's spin")
    exp.add_argument("--user", default=CLI_USER, help="local account to act as")
    exp.add_argument("--out", default="out", help="folder for the files (default ./out)")
    exp.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    exp.set_defaults(func=cmd_export)


Extension = Callable[[argparse._SubParsersAction], None]


def _extensions() -> list[Extension]:
    """Subcommands owned by other modules, registered if those modules are present."""
    found: list[Extension] = []
    for module, attr in (
        ("viewgen.providers.doctor", "register_cli"),
        ("viewgen.demo", "register_cli"),
        ("viewgen.store.transfer", "register_cli"),
        ("viewgen.cli_jobs", "register_cli"),
        ("viewgen.api.commands", "register_cli"),  # serve, tokens create|list|revoke
    ):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        if hasattr(mod, attr):
            found.append(getattr(mod, attr))
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m viewgen", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--user", default=CLI_USER, help="local account to act as")
        p.add_argument("--out", default="out", help="folder for the PNGs (default ./out)")
        p.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    gen = sub.add_parser("generate", help="generate a product's five views")
    gen.add_argument("--text", help="product description")
    gen.add_argument("--image", help="reference photo (PNG, JPEG or WebP)")
    gen.add_argument("--logo", help="logo image placed on the front")
    gen.add_argument("--auto-approve", action="store_true",
                     help="approve the front without review and generate all five views")
    gen.add_argument("--seed", type=int, help="seed for a reproducible result")
    gen.add_argument("--hero", action="store_true",
                     help="with --auto-approve: add the optional three-quarter hero view "
                          "(hero.png, priced as VIEWGEN_PRICE_HERO)")
    common(gen)
    gen.set_defaults(func=cmd_generate)

    approve = sub.add_parser("approve", help="approve a reviewed front and generate the views")
    approve.add_argument("approval_id")
    approve.add_argument("--hero", action="store_true",
                         help="add the optional three-quarter hero view (hero.png)")
    common(approve)
    approve.set_defaults(func=cmd_approve)

    reject = sub.add_parser("reject", help="reject a front with feedback and generate a new one")
    reject.add_argument("approval_id")
    reject.add_argument("--feedback", required=True)
    common(reject)
    reject.set_defaults(func=cmd_reject)

    users = sub.add_parser("users", help="manage local accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add an account")
    add.add_argument("email")
    add.add_argument("--admin", action="store_true")
    add.add_argument("--credits", type=int, default=None, help="starting credits")
    add.add_argument("--name", default="")
    add.add_argument("--password", default=None, help="password (prompted if omitted)")
    add.add_argument("--no-password", action="store_true", help="command-line-only account")
    add.set_defaults(func=cmd_users_add)
    lst = users_sub.add_parser("list", help="list accounts and balances")
    lst.set_defaults(func=cmd_users_list)
    grant = users_sub.add_parser("grant", help="grant credits")
    grant.add_argument("email")
    grant.add_argument("credits", type=int)
    grant.add_argument("--reason", default="admin grant")
    grant.set_defaults(func=cmd_users_grant)

    rec = sub.add_parser("reconcile", help="fail and refund generations stuck by a dead session")
    rec.add_argument("--older-than", type=float, default=None, help="seconds (default: settings)")
    rec.set_defaults(func=cmd_reconcile)

    _register_export(sub)
    for register in _extensions():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(args, settings) or 0)
    except ViewgenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... --json | head`: the reader left; the work is done
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no flush error at exit
        return 0

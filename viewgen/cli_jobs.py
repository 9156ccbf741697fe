"""Command line for durable execution: ``worker``, ``batch`` and ``jobs``.

``python -m viewgen worker [--until-idle]`` runs a standalone executor that dequeues
and runs workflows (any number of them, on any machines sharing a PostgreSQL
database). ``batch FILE.csv`` validates a CSV batch and queues it; ``jobs`` lists,
shows, pauses, resumes, cancels and retries batches. With ``--json`` stdout carries
JSON only (JSON lines for ``batch``: first ``{"batch_id": ...}``, then one line per row
as it ends, last a summary).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from viewgen.errors import InvalidInput
from viewgen.settings import Settings

FINAL = ("complete", "failed", "cancelled", "skipped", "review")


def _studio(settings: Settings, executor: str | None = None):
    from viewgen.compose import build_studio

    return build_studio(settings, executor=executor)


# --------------------------------------------------------------------------- worker
def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen import durable

    if args.id:
        settings = settings.model_copy(update={"worker_id": args.id})
    studio = _studio(settings, executor="worker")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"viewgen worker {studio.executor_id} running "
          f"({'until idle' if args.until_idle else 'Ctrl-C to stop'})", file=sys.stderr,
          flush=True)
    idle_since: float | None = None
    while not stop.wait(0.5):
        if not args.until_idle:
            continue
        if durable.queued_or_running() == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= args.idle_s:
                break
        else:
            idle_since = None
    studio.close()
    return 0


# --------------------------------------------------------------------------- batch
def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen.batch_input import BatchLimits, plan_batch
    from viewgen.batch_output import chosen_presets
    from viewgen.cli import _cli_user

    if (args.preset or args.background) and not args.out:
        raise InvalidInput("--preset and --background shape what --out writes: add --out DIR.")
    chosen_presets(args.preset or (), args.background)  # refused before anything is spent
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Could not read {path}: {exc.strerror}.") from exc
    images = Path(args.images) if args.images else path.parent
    plan = plan_batch(data, images_dir=images, limits=BatchLimits.from_settings(settings),
                      normalise=False)
    if plan.errors and not args.skip_bad_rows:
        if args.json:
            print(json.dumps({"errors": plan.error_table()}))
        else:
            print("The batch was not queued; fix these rows (or pass --skip-bad-rows):",
                  file=sys.stderr)
            for line in plan.error_messages():
                print(f"  {line}", file=sys.stderr)
        return 1
    if plan.errors:
        plan = plan.without_bad_rows()
    studio = _studio(settings)
    user = _cli_user(studio, args.user)
    batch_id = studio.start_batch(user, plan, name=args.name or path.stem,
                                  skip_invalid=True)
    if args.json:
        print(json.dumps({"batch_id": batch_id, "rows": len(plan.rows),
                          "price": studio.prices.front * len(plan.rows)}), flush=True)
    else:
        print(f"Queued batch {batch_id}: {len(plan.rows)} products, "
              f"{studio.prices.front * len(plan.rows)} credits held.", flush=True)
    if args.detach:
        studio.close()
        return 0
    view = _follow(studio, user, batch_id, args.json)
    if args.out:
        _write_outputs(studio, user, view, Path(args.out), presets=args.preset or (),
                       background=args.background)
    summary = view.as_dict()
    if args.json:
        print(json.dumps({"summary": {k: summary[k] for k in ("batch_id", "status", "counts",
                                                               "credits")}}), flush=True)
    else:
        print(f"Batch {batch_id}: {_counts(view.counts)}; charged {view.charged} credits, "
              f"refunded {view.refunded}.")
    studio.close(drain_s=60)
    return 0 if not view.counts.get("failed") else 1


def _follow(studio, user, batch_id: str, as_json: bool):
    reported: set[int] = set()
    poll = max(0.1, studio.settings.queue_poll_s * 4)
    while True:
        view = studio.batch(user, batch_id)
        for row in view.rows:
            if row.status in FINAL and row.row not in reported:
                reported.add(row.row)
                if as_json:
                    print(json.dumps(row.as_dict()), flush=True)
                else:
                    note = f": {row.error}" if row.error else ""
                    print(f"  row {row.row} {row.sku}: {row.status}{note}", flush=True)
        if view.done or (view.status == "cancelled" and all(
                r.status != "generating" for r in view.rows)):
            return view
        time.sleep(poll)


def _write_outputs(studio, user, view, out: Path, *, presets=(),
                   background: str | None = None) -> None:
    from viewgen.batch_output import write_batch_folder
    from viewgen.batches import manifest_rows

    write_batch_folder(manifest_rows(studio, user, view), out, presets=presets,
                       background=background)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counts.items()) or "no rows"


# --------------------------------------------------------------------------- jobs
def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from viewgen.cli import _cli_user

    studio = _studio(settings, executor="off")
    user = _cli_user(studio, args.user)
    action = args.jobs_command
    out: Any
    if action == "list":
        out = [{**b, "created_at": b["created_at"].isoformat() if b["created_at"] else None}
               for b in studio.list_batches(user)]
        if not args.json:
            for b in out:
                print(f"{b['id']}  {b['status']:<9} {b['started']:>5}/{b['total']:<5} "
                      f"{b['name']}")
            studio.close()
            return 0
    elif action == "show":
        view = studio.batch(user, args.id)
        out = view.as_dict()
        if not args.json:
            print(f"Batch {view.id} ({view.name}): {view.status}; {_counts(view.counts)}; "
                  f"charged {view.charged}, refunded {view.refunded}, held {view.held}")
            for r in view.rows:
                note = f"  {r.error}" if r.error else ""
                print(f"  {r.row:>5} {r.sku:<24} {r.status:<10} {r.approval_id or ''}{note}")
            studio.close()
            return 0
    else:
        result = {"pause": studio.pause_batch, "resume": studio.resume_batch,
                  "cancel": studio.cancel_batch, "retry": studio.retry_batch}[action](
                      user, args.id)
        out = {"batch_id": args.id, "action": action,
               "rows": result if isinstance(result, int) else None}
        if not args.json:
            extra = f" ({result} rows)" if isinstance(result, int) else ""
            print(f"Batch {args.id}: {action} done{extra}.")
            studio.close()
            return 0
    print(json.dumps(out, default=str))
    studio.close()
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser("worker", help="run a standalone executor for queued generations")
    worker.add_argument("--until-idle", action="store_true",
                        help="exit once no workflow is queued or running")
    worker.add_argument("--idle-s", type=float, default=2.0,
                        help="with --until-idle: how long the queues must stay empty")
    worker.add_argument("--id", default=None, help="executor id (default VIEWGEN_WORKER_ID)")
    worker.set_defaults(func=cmd_worker)

    batch = sub.add_parser("batch", help="queue a CSV batch of products")
    batch.add_argument("file", help="CSV with sku|name, text, image, logo, auto_approve")
    batch.add_argument("--images", help="folder the image/logo columns are relative to "
                                        "(default: the CSV's folder)")
    batch.add_argument("--out", help="write a folder per SKU and manifest.csv here")
    batch.add_argument("--preset", action="append", metavar="NAME",
                       help="also write each product's views for this marketplace preset "
                            "(repeatable; `python -m viewgen export --list-presets`)")
    batch.add_argument("--background", metavar="COLOUR",
                       help="with --preset: a hex colour (#RRGGBB), white or studio behind the "
                            "product in every preset with an opaque background")
    batch.add_argument("--name", default="", help="a name for the batch")
    batch.add_argument("--skip-bad-rows", action="store_true",
                       help="queue the valid rows even if some rows are invalid")
    batch.add_argument("--detach", action="store_true", help="queue and exit at once")
    batch.add_argument("--json", action="store_true", help="JSON lines on stdout")
    batch.add_argument("--user", default="cli@viewgen.local", help="local account to act as")
    batch.set_defaults(func=cmd_batch)

    jobs = sub.add_parser("jobs", help="list and control batches")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    for name, text in (("list", "your batches"), ("show", "one batch, row by row"),
                       ("pause", "pause a batch"), ("resume", "resume a batch"),
                       ("cancel", "cancel what has not run and refund it"),
                       ("retry", "run the failed rows again")):
        p = jobs_sub.add_parser(name, help=text)
        if name != "list":
            p.add_argument("id")
        p.add_argument("--json", action="store_true")
        p.add_argument("--user", default="cli@viewgen.local")
        p.set_defaults(func=cmd_jobs)

"""Benchmark: one whole offline product, per stage, and the four views in parallel vs
one after another, measured side by side in one run.

    python bench/offline_pipeline.py [--runs 5] [--size 1024]

Each run makes a fresh product (front, approve with feature extraction, four views,
stored in SQLite and the local blob store). The same products are then generated with
one view worker (sequential) and with four (parallel), interleaved so machine noise
hits both alike. Each configuration runs in its own child process: a process has one
durable-workflow engine (DBOS), launched for one studio. The last line is the headline
ratio. The stages include the durable queues' polling (``VIEWGEN_QUEUE_POLL_S``, 0.25 s
by default): a waiting call learns its workflow's result at the next poll.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewgen.auth import create_account
from viewgen.compose import build_studio
from viewgen.settings import Settings

PRODUCTS = [
    "navy leather messenger bag with a tan strap",
    "matte black steel water bottle with a bamboo cap",
    "white running shoe with red laces",
    "walnut wood chair with black metal legs",
    "charcoal fabric bluetooth speaker",
    "burgundy ceramic mug",
    "gold smartwatch with a teal band",
]


def one_product(studio, user, text: str, seed: int) -> dict[str, float]:
    t0 = time.perf_counter()
    approval = studio.start_front(user, text=text, seed=seed)
    t1 = time.perf_counter()
    studio.approve(user, approval.id)
    t2 = time.perf_counter()
    final = studio.run_views(user, approval.id)
    t3 = time.perf_counter()
    assert final.status.value == "complete", final.view_errors
    # the consistency scores are filled in the background after the views land; wait
    # for them so they do not steal the CPU from the next product's stages
    studio.wait_for_analysis(approval.id)
    t4 = time.perf_counter()
    return {"front": t1 - t0, "approve": t2 - t1, "views": t3 - t2, "total": t3 - t0,
            "analysis": t4 - t3}


def child(label: str, workers: int, size: int, data: str, conn) -> None:
    """One configuration in its own process: make a product per request from the parent."""
    settings = Settings(data_dir=Path(data) / label, view_workers=workers, image_size=size,
                        starting_credits=10_000)
    studio = build_studio(settings)
    user = create_account(studio.repo, settings, "bench@example.com", password_hash=None)
    one_product(studio, user, "warm up box", 1)  # imports, first allocations, model caches
    conn.send("ready")
    while (job := conn.recv()) is not None:
        conn.send(one_product(studio, user, *job))
    studio.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()

    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        pipes, procs = {}, []
        for label, workers in (("parallel", 4), ("sequential", 1)):
            mine, theirs = spawn.Pipe()
            proc = spawn.Process(target=child, args=(label, workers, args.size, tmp, theirs))
            proc.start()
            pipes[label] = mine
            procs.append(proc)
        for pipe in pipes.values():
            if pipe.recv() != "ready":
                raise SystemExit("a bench process did not start")
        times: dict[str, list[dict[str, float]]] = {"parallel": [], "sequential": []}
        try:
            for i in range(args.runs):
                text = PRODUCTS[i % len(PRODUCTS)]
                for label in ("parallel", "sequential") if i % 2 == 0 else ("sequential", "parallel"):
                    pipes[label].send((text, 100 + i))
                    times[label].append(pipes[label].recv())
        finally:
            for pipe in pipes.values():
                pipe.send(None)
            for proc in procs:
                proc.join(timeout=60)

    def med(label: str, stage: str) -> float:
        return statistics.median(r[stage] for r in times[label]) * 1000

    print(f"offline pipeline, {args.size}x{args.size}, {args.runs} products each, median ms")
    print(f"{'stage':<28}{'parallel (4 workers)':>22}{'sequential (1)':>18}")
    for stage, label in (("front", "front view (generate+store)"),
                         ("approve", "approve (extract features)"),
                         ("views", "four other views"), ("total", "whole product"),
                         ("analysis", "then consistency (bg)")):
        print(f"{label:<28}{med('parallel', stage):>22.1f}{med('sequential', stage):>18.1f}")
    whole = med("parallel", "total")
    print(f"whole product under 1 s (median {whole:.0f} ms): {'yes' if whole < 1000 else 'NO'}")
    ratio = med("parallel", "views") / med("sequential", "views")
    print(f"four views parallel/sequential time ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()

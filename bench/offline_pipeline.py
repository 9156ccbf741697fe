"""Benchmark: one whole offline product, per stage, and the four views in parallel vs
one after another, measured side by side in one run.

    python bench/offline_pipeline.py [--runs 5] [--size 1024]

Each run makes a fresh product (front, approve with feature extraction, four views,
stored in SQLite and the local blob store). The same products are then generated with
one view worker (sequential) and with four (parallel), interleaved so machine noise
hits both alike. The last line is the headline ratio.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        studios = {}
        users = {}
        for label, workers in (("parallel", 4), ("sequential", 1)):
            settings = Settings(data_dir=Path(tmp) / label, view_workers=workers,
                                image_size=args.size, starting_credits=10_000)
            studios[label] = build_studio(settings)
            users[label] = create_account(studios[label].repo, settings, "bench@example.com",
                                          password_hash=None)
        # warm-up: imports, first allocations, model caches
        for label in studios:
            one_product(studios[label], users[label], "warm up box", 1)

        times: dict[str, list[dict[str, float]]] = {"parallel": [], "sequential": []}
        for i in range(args.runs):
            text = PRODUCTS[i % len(PRODUCTS)]
            for label in ("parallel", "sequential") if i % 2 == 0 else ("sequential", "parallel"):
                times[label].append(one_product(studios[label], users[label], text, 100 + i))
        for studio in studios.values():
            studio.close()

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

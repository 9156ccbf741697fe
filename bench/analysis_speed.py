"""Benchmark: feature extraction and consistency scoring, by image size, side by side.

    python bench/analysis_speed.py [--runs 5]

The offline renderer draws a few products at 256, 512 and 1024 px; each size's front is
measured by ``OfflineExtractor.extract`` and its four other views scored against it by
``consistency.score_views``, best of ``--runs``, interleaved so machine noise hits every
size alike. These were once wall-clock asserts in the test suite (extraction under 2 s
and scoring under 3 s at 1024 px); the budgets are printed for reference, and the last
line is the headline ratio: how much 1024 px costs against 512 px.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewgen.consistency import score_views
from viewgen.domain import ViewType
from viewgen.providers.offline.extract import OfflineExtractor
from viewgen.providers.offline.model import parse_description
from viewgen.providers.offline.render import render_views

PRODUCTS = ["a navy leather messenger bag with a tan flap", "a red ceramic coffee mug",
            "a white sneaker with a black sole"]
SIZES = (256, 512, 1024)
BUDGET_S = {"extract": 2.0, "score": 3.0}  # the old asserts, at 1024 px


def png(image) -> bytes:
    if isinstance(image, bytes | bytearray):
        return bytes(image)
    from PIL import Image

    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    views = {(text, size): {v: png(r.image) for v, r in
                            render_views(parse_description(text), size).items()}
             for text in PRODUCTS for size in SIZES}
    extractor = OfflineExtractor()
    best = {(stage, size): float("inf") for stage in BUDGET_S for size in SIZES}
    for _ in range(args.runs):
        for size in SIZES:  # interleaved: every size sees the same machine
            for text in PRODUCTS:
                images = views[text, size]
                started = time.perf_counter()
                features = extractor.extract(images[ViewType.FRONT]).features
                extracted = time.perf_counter()
                score_views(images[ViewType.FRONT],
                            {v: d for v, d in images.items() if v != ViewType.FRONT}, features)
                scored = time.perf_counter()
                for stage, took in (("extract", extracted - started), ("score", scored - extracted)):
                    best[stage, size] = min(best[stage, size], took)
    print(f"{'stage':<10}" + "".join(f"{size:>9} px" for size in SIZES)
          + f"{'1024/512':>10}{'old budget':>12}")
    for stage, budget in BUDGET_S.items():
        cells = "".join(f"{best[stage, size] * 1000:>9.0f} ms" for size in SIZES)
        ratio = best[stage, 1024] / best[stage, 512]
        print(f"{stage:<10}{cells}{ratio:>9.1f}x{budget * 1000:>9.0f} ms")
    both = {size: best["extract", size] + best["score", size] for size in SIZES}
    print(f"headline: extraction + scoring at 1024 px take {both[1024]:.2f} s, "
          f"{both[1024] / both[512]:.1f}x the 512 px time")


if __name__ == "__main__":
    main()

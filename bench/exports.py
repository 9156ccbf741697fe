"""Benchmark: marketplace exports for one product and for a batch, side by side in one run.

    python bench/exports.py [--size 1024] [--products 100] [--batch-presets amazon,instagram-4x5]

One offline product's five views (rendered first, not timed) go through every preset
in ``viewgen.presets`` (5 views × 10 presets = 50 files): the cut-outs alone, then the
preset files with one worker and with two (cut-outs cached, so both rows time the same
work), then the whole set from cold (cut-outs included) as the Done step's "Download
set" does it. Per preset: milliseconds and bytes per image. Then a batch ZIP of
``--products`` products (``export_batch``) on the batch presets: four distinct
products are rendered and reused round-robin, each copy's bytes made distinct so it
pays its full cut-out as a new product would. The last line is
the headline: the whole set against the one-second goal, and the two-worker speed-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from viewgen import export
from viewgen.cutout import _cutout, cutout
from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.presets import PRESETS, resolve_presets
from viewgen.providers.offline.generator import OfflineGenerator

PRODUCTS = [
    "navy leather messenger bag with a tan strap",
    "a blue ceramic mug with a yellow handle",
    "white running shoe with red laces",
    "matte black steel water bottle with a bamboo cap",
]


def views(text: str, size: int, seed: int) -> dict[ViewType, bytes]:
    generator = OfflineGenerator()
    return {v: generator.generate(GenerationRequest(view=v, prompt=text, text=text, seed=seed,
                                                    size=(size, size))).data for v in ALL_VIEWS}


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def cpu_of(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all this process's threads) of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="side of the generated views")
    parser.add_argument("--products", type=int, default=100, help="products in the batch ZIP")
    parser.add_argument("--batch-presets", default="amazon,instagram-4x5")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the one-product rows")
    args = parser.parse_args()

    catalogue = [views(text, args.size, seed) for seed, text in enumerate(PRODUCTS, start=1)]
    images = catalogue[0]
    n_files = len(PRESETS) * len(images)

    rows: list[tuple[str, str, str]] = []
    cold_cut, seq, par, cold_all, cold_cpu = [], [], [], [], []
    for _ in range(args.runs):  # interleaved so machine noise hits every row alike
        _cutout.cache_clear()
        cold_cut.append(cpu_of(lambda: [cutout(images[v]) for v in ALL_VIEWS])[0])
        seq.append(cpu_of(lambda: export.render_set(images, PRESETS, workers=1))[0])
        par.append(cpu_of(lambda: export.render_set(images, PRESETS, workers=2))[0])
        _cutout.cache_clear()
        wall, cpu = cpu_of(lambda: export.export_set(images, PRESETS, workers=2))
        cold_all.append(wall)
        cold_cpu.append(cpu)
    med = statistics.median
    rows.append(("cut-outs, 5 views (cold)", f"{med(cold_cut):.2f} s",
                 f"{med(cold_cut) / 5 * 1000:.0f} ms/view"))

    per_preset = []
    for preset in PRESETS:
        t, rendered = timed(lambda p=preset: export.render_set(images, [p], workers=1))
        size = statistics.mean(len(item.data) for item in rendered)
        per_preset.append((preset, t / len(rendered), size))
    for preset, seconds, size in per_preset:
        rows.append((f"  {preset.name} ({preset.format})", f"{seconds * 1000:.0f} ms/image",
                     f"{size / 1024:.0f} KB/image"))
    rows.append((f"preset files, {n_files}, 1 worker (cut-outs cached)", f"{med(seq):.2f} s",
                 f"{med(seq) / n_files * 1000:.0f} ms/image"))
    rows.append((f"preset files, {n_files}, 2 workers (cut-outs cached)", f"{med(par):.2f} s",
                 f"{med(par) / n_files * 1000:.0f} ms/image"))
    rows.append((f"whole set ZIP from cold, {n_files} files, 2 workers", f"{med(cold_all):.2f} s",
                 f"{med(cold_cpu):.2f} CPU s"))

    batch_presets = resolve_presets(args.batch_presets.split(","))
    # bytes after a PNG's end are ignored by decoders but make each product's images
    # distinct to the cut-out cache, so every product pays for its own cut-outs
    products = {f"product {i + 1}": {v: data + f"#{i}".encode() for v, data in
                                     catalogue[i % len(catalogue)].items()}
                for i in range(args.products)}
    _cutout.cache_clear()
    t0, c0 = time.perf_counter(), time.process_time()
    data = export.export_batch(products, batch_presets, workers=2)
    t_batch, c_batch = time.perf_counter() - t0, time.process_time() - c0
    n_batch = args.products * len(ALL_VIEWS) * len(batch_presets)
    rows.append((f"batch ZIP, {args.products} products × 5 views × {len(batch_presets)} presets "
                 f"({', '.join(p.name for p in batch_presets)})", f"{t_batch:.1f} s",
                 f"{t_batch / args.products * 1000:.0f} ms/product, {t_batch / n_batch * 1000:.0f} ms/image, "
                 f"{len(data) / 2**20:.0f} MB, {c_batch:.0f} CPU s"))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'export (views ' + str(args.size) + ' px, median of ' + str(args.runs) + ')':<{width}}"
          f"{'time':>12}  per item")
    print("-" * (width + 34))
    for name, t, per in rows:
        print(f"{name:<{width}}{t:>12}  {per}")
    print("-" * (width + 34))
    goal = "met" if med(cold_all) < 1.0 else "not met"
    print(f"machine load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(other work on the machine stretches wall times; CPU seconds are this process's own)")
    print(f"headline: whole preset set ({n_files} files) {med(cold_all):.2f} s from cold on 2 workers, "
          f"{med(cold_cpu):.2f} CPU s (goal < 1 s: {goal}); "
          f"2 workers {med(seq) / med(par):.2f}× faster than 1")


if __name__ == "__main__":
    main()

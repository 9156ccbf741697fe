"""Benchmark: a product's whole marketplace preset set, before and after, side by side in one run.

    python bench/exports.py [--size 1024] [--runs 3] [--products 20]

One offline product's five views (rendered first, not timed) go through every preset
in ``viewgen.presets`` (5 views × 10 presets = 50 files) twice in each run, turn about:
through the export path as it was before it was made fast (``bench/exports_baseline.py``,
kept verbatim) and through ``viewgen.export`` now. Rows: the five cut-outs from cold;
the whole set as the Done step's "Download set" makes it (cut-outs from cold, every
file, the ZIP) on one worker and on two; per preset, milliseconds and bytes per image
now, bytes before, and how close the new files are to the old ones (the lowest PSNR
over the five views; above 45 dB the difference cannot be seen); then a batch ZIP of
``--products`` products on the batch presets, before and after. Wall seconds on a
shared machine stretch with its load, so CPU seconds (all threads of this process) are
printed beside them. The last line is the headline: the whole set on two workers,
before against after, and against the one-second goal.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import exports_baseline as before

from viewgen import cutout as cutouts
from viewgen import export
from viewgen.domain import ALL_VIEWS, GenerationRequest, ViewType
from viewgen.presets import PRESETS, resolve_presets
from viewgen.providers.offline.generator import OfflineGenerator

PRODUCTS = [
    "navy leather messenger bag with a tan strap",
    "a blue ceramic mug with a yellow handle",
    "white running shoe with red laces",
    "matte black steel water bottle with a bamboo cap",
]
Render = Callable[..., list]


def views(text: str, size: int, seed: int) -> dict[ViewType, bytes]:
    generator = OfflineGenerator()
    return {v: generator.generate(GenerationRequest(view=v, prompt=text, text=text, seed=seed,
                                                    size=(size, size))).data for v in ALL_VIEWS}


def measure(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of all this process's threads, result) of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t0, time.process_time() - c0, result


def whole_set(render_set: Render, images: Mapping[ViewType, bytes], presets, workers: int) -> bytes:
    """The "Download set" ZIP, its files made by ``render_set``."""
    rendered = render_set(images, presets, workers=workers)
    files = export._set_files(rendered)
    files.append(("manifest.json", export._json(export._manifest(rendered, files, {}))))
    return export._zip(files)


def batch(render_set: Render, products: Mapping[str, Mapping[ViewType, bytes]], presets) -> int:
    total = 0
    for images in products.values():
        total += len(whole_set(render_set, images, presets, 2))
    return total


def psnr(a: bytes, b: bytes) -> float:
    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGBA"), dtype=np.float64)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGBA"), dtype=np.float64)
    if x.shape != y.shape:
        return float("nan")
    mse = float(((x - y) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="side of the generated views")
    parser.add_argument("--runs", type=int, default=3, help="repeats of the one-product rows")
    parser.add_argument("--products", type=int, default=20, help="products in the batch ZIP")
    parser.add_argument("--batch-presets", default="amazon,instagram-4x5")
    args = parser.parse_args()

    catalogue = [views(text, args.size, seed) for seed, text in enumerate(PRODUCTS, start=1)]
    images = catalogue[0]
    n_files = len(PRESETS) * len(images)
    paths = {"before": (before.render_set, before._cutout, before.cutout),
             "now": (export.render_set, cutouts._cutout, cutouts.cutout)}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.runs):  # turn about, so the machine's load hits both paths alike
        for name, (render_set, cache, cut) in paths.items():
            cache.cache_clear()
            wall, cpu, _ = measure(lambda cut=cut: [cut(images[v]) for v in ALL_VIEWS])
            times.setdefault((name, "cut"), []).append((wall, cpu))
            for workers in (1, 2):
                cache.cache_clear()
                wall, cpu, _ = measure(lambda r=render_set, w=workers: whole_set(r, images, PRESETS, w))
                times.setdefault((name, f"set{workers}"), []).append((wall, cpu))

    def med(name: str, row: str) -> tuple[float, float]:
        runs = times[(name, row)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    rows: list[tuple[str, str, str, str]] = []

    def pair(label: str, row: str, per: Callable[[float], str]) -> None:
        for name in paths:
            wall, cpu = med(name, row)
            rows.append((f"{label}, {name}", f"{wall:.2f} s", f"{cpu:.2f} CPU s", per(wall)))

    pair("cut-outs, 5 views, from cold", "cut", lambda t: f"{t / 5 * 1000:.0f} ms/view")
    pair(f"whole set ZIP, {n_files} files, 1 worker", "set1", lambda t: f"{t / n_files * 1000:.0f} ms/image")
    pair(f"whole set ZIP, {n_files} files, 2 workers", "set2", lambda t: f"{t / n_files * 1000:.0f} ms/image")

    old_files = {(i.preset.name, i.view): i.data for i in before.render_set(images, PRESETS, workers=2)}
    for preset in PRESETS:
        wall, cpu, rendered = measure(lambda p=preset: export.render_set(images, [p], workers=1))
        size = statistics.mean(len(item.data) for item in rendered)
        old_size = statistics.mean(len(old_files[(preset.name, item.view)]) for item in rendered)
        closest = min(psnr(old_files[(preset.name, item.view)], item.data) for item in rendered)
        rows.append((f"  {preset.name} ({preset.format}), cut-outs cached",
                     f"{wall / len(rendered) * 1000:.0f} ms",
                     f"{size / 1024:.0f} KB/image",
                     f"before {old_size / 1024:.0f} KB; PSNR vs before {closest:.1f} dB"))

    batch_presets = resolve_presets(args.batch_presets.split(","))
    # bytes after a PNG's end are ignored by decoders but make each product's images
    # distinct to the cut-out caches, so every product pays for its own cut-outs
    products = {f"product {i + 1}": {v: data + f"#{i}".encode() for v, data in
                                     catalogue[i % len(catalogue)].items()}
                for i in range(args.products)}
    for name, (render_set, cache, _) in paths.items():
        cache.cache_clear()
        wall, cpu, total = measure(lambda r=render_set: batch(r, products, batch_presets))
        rows.append((f"batch, {args.products} products × 5 views × {len(batch_presets)} presets, {name}",
                     f"{wall:.1f} s", f"{cpu:.1f} CPU s",
                     f"{wall / args.products * 1000:.0f} ms/product, {total / 2**20:.0f} MB"))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'export (views ' + str(args.size) + ' px, median of ' + str(args.runs) + ')':<{width}}"
          f"{'wall':>10}{'CPU / bytes':>16}  per item")
    print("-" * (width + 70))
    for label, wall_text, cpu_text, per in rows:
        print(f"{label:<{width}}{wall_text:>10}{cpu_text:>16}  {per}")
    print("-" * (width + 70))
    (old_wall, old_cpu), (new_wall, new_cpu) = med("before", "set2"), med("now", "set2")
    serial_wall = med("now", "set1")[0]
    print(f"machine: {export.cores()} cores, load average {os.getloadavg()[0]:.1f} when done (other work "
          "stretches wall times; CPU seconds are this process's own); two workers now "
          f"{serial_wall / new_wall:.2f}× faster than one")
    goal = "met" if new_wall < 1.0 else (
        f"not met; {new_cpu:.2f} CPU s shared by 2 cores is {new_cpu / 2:.2f} s at best")
    print(f"headline: whole preset set ({n_files} files) on 2 workers, before {old_wall:.2f} s "
          f"({old_cpu:.2f} CPU s), now {new_wall:.2f} s ({new_cpu:.2f} CPU s): "
          f"{old_wall / new_wall:.1f}× faster, {old_cpu / new_cpu:.1f}× less CPU; "
          f"goal < 1 s: {goal}")


if __name__ == "__main__":
    main()

"""``OfflineGenerator``: the embedded image provider (no key, no network, no cost).

A description (after every feedback note, oldest first) becomes one ``ProductModel``
(``model.build_model``) and one 3D scene (``render.build_scene``), cached per (text,
feedback, seed) so the five views of a product share the work; each request renders
one orthographic view of that scene at the requested size (the optional hero view
through ``camera.render_at`` at ``camera.HERO``, 45° round and 20° up). A reference photo (see
``reference.py``) is cut out for the front and the other views are built from its
silhouette and palette. The PNG is written with fixed options (no timestamps) and a
``viewgen:model`` text chunk (JSON: category, materials, key elements, dimensions,
description, view) that the offline feature extractor reads, so the same request and
seed always give the same bytes.
"""

from __future__ import annotations

import io
import json
import re
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, PngImagePlugin

from viewgen.domain import CallUsage, GeneratedImage, GenerationRequest, ViewType
from viewgen.errors import InvalidInput
from viewgen.providers.offline import reference as photo
from viewgen.providers.offline.camera import HERO, render_at
from viewgen.providers.offline.extract import META_KEY
from viewgen.providers.offline.model import ProductModel, build_model
from viewgen.providers.offline.render import Scene, build_scene, render_view

PROVIDER = "offline"
MODEL = "procedural-v1"
PNG_COMPRESS_LEVEL = 1
PNG_STRATEGY = 3  # zlib Z_RLE: as fast as the default at level 1, a quarter smaller
MIN_SIDE, MAX_SIDE = 16, 4096


class OfflineGenerator:
    """Procedural product views rendered from one 3D model per product."""

    name = PROVIDER
    model = MODEL

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        view = ViewType(request.view)
        size = _size(request.size)
        text = (request.text or "").strip()
        feedback = tuple(str(f) for f in (request.feedback or ()))
        seed = int(request.seed or 0)
        if request.reference:
            rendered, meta = photo.render_reference(request.reference, view, size, text=text or None,
                                                    seed=seed, feedback=feedback, logo=request.logo)
        elif text and re.search(r"[A-Za-z]", text):
            product = build_model(text, feedback, seed)
            scene = _scene(text, feedback, seed)
            if view == ViewType.HERO:  # the three-quarter camera: ray marched, same scene
                rendered = render_at(scene, *HERO, size, logo=request.logo)
            else:
                rendered = render_view(scene, view, size,
                                       request.logo if view == ViewType.FRONT else None)
            meta = model_meta(product, view, logo=bool(request.logo))
        else:
            raise InvalidInput("Describe the product in words or upload a reference photo to start.")
        data = encode_png(rendered.image, meta)
        usage = CallUsage(provider=PROVIDER, model=MODEL, images=1, cost_usd=0.0)
        return GeneratedImage(data=data, usage=usage, mime_type="image/png", meta=meta)


@lru_cache(maxsize=64)
def _scene(text: str, feedback: tuple[str, ...], seed: int) -> Scene:
    return build_scene(build_model(text, feedback, seed))


def model_meta(product: ProductModel, view: ViewType, *, logo: bool) -> dict[str, Any]:
    """The ``viewgen:model`` metadata for a view of a described product."""
    return {
        "category": product.category,
        "materials": list(product.materials),
        "key_elements": product.key_elements(logo_decal=logo),
        "dimensions_cm": {"width": product.width, "height": product.height, "depth": product.depth},
        "description": product.summary(),
        "view": view.value,
    }


def encode_png(image: np.ndarray, meta: dict[str, Any]) -> bytes:
    """RGB pixels as PNG with the metadata chunk; fixed options, so identical input
    gives identical bytes."""
    info = PngImagePlugin.PngInfo()
    info.add_text(META_KEY, json.dumps(meta, sort_keys=True))
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image), mode="RGB").save(
        out, format="PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=PNG_STRATEGY, pnginfo=info)
    return out.getvalue()


def _size(size: Any) -> tuple[int, int]:
    try:
        if isinstance(size, int):
            w = h = size
        else:
            w, h = (int(v) for v in size)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("The image size must be two whole numbers (width, height).") from exc
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise InvalidInput(f"The image size must be between {MIN_SIDE} and {MAX_SIDE} pixels a side.")
    return (w, h)

"""Exports of a finished product: presets, a ZIP bundle, a contact sheet and the spin.

``zip_bundle`` packs ``front.png`` … ``bottom.png``, ``features.json`` and a
``manifest.json`` (file list with SHA-256, view order and any extra information)
with fixed timestamps and ordering, so the same inputs give byte-identical archives.
``contact_sheet`` draws the five views in a labelled grid with a title and the
colour swatches (hex, name, usage, share). ``render_preset`` frames one view for
a shop (``viewgen.presets``: size, background, fill, format, sRGB profile, file-size
cap) from its cut-out (``viewgen.cutout``); ``export_set`` packs every chosen preset
of a product into a ZIP with a folder per preset (a batch's ZIP is
``viewgen.batch_output``'s, which calls ``render_set`` per product). ``spin_frames``
lists the frames of a 360° spin in true turning order (never a mirrored side);
``spin_webp``, ``spin_gif`` and ``spin_mp4`` encode them and ``turntable_gif`` is the
four-view spin of a product as a GIF. Pure functions from bytes to bytes; no I/O.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageFont, ImageOps

from viewgen.cutout import Cutout, cutout
from viewgen.domain import ALL_VIEWS, STORED_VIEWS, Color, ExtractedFeatures, ViewType
from viewgen.errors import InvalidInput
from viewgen.imaging import open_png
from viewgen.presets import MB, STUDIO, STUDIO_HEX, TRANSPARENT, Preset, resolve_presets, with_background

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- helpers


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _as_png(data: bytes) -> bytes:
    """The bytes unchanged when they are a PNG, else re-encoded as one."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data
    out = io.BytesIO()
    image = _open(data)
    image.convert("RGBA" if "A" in image.getbands() else "RGB").save(out, format="PNG")
    return out.getvalue()


def _on_white(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- zip


def zip_bundle(images: dict[ViewType, bytes], features: ExtractedFeatures | None, *,
               extra: dict[str, Any] | None = None) -> bytes:
    """A deterministic ZIP: the views as ``<view>.png`` in front, back, side, top, bottom
    (then the optional hero) order, ``features.json`` (when there are features) and
    ``manifest.json``."""
    files: list[tuple[str, bytes]] = [
        (f"{view.value}.png", _as_png(images[view])) for view in STORED_VIEWS if view in images
    ]
    if features is not None:
        files.append(("features.json", _json(features.public_json())))
    manifest = {
        "generator": "viewgen",
        "format": 1,
        "views": [view.value for view in STORED_VIEWS if view in images],
        "files": [
            {"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in files
        ],
        "info": extra or {},
    }
    files.append(("manifest.json", _json(manifest)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


# --------------------------------------------------------------------------- contact sheet

_PAGE = (246, 245, 242)
_CARD = (255, 255, 255)
_LINE = (226, 224, 219)
_INK = (28, 30, 34)
_MUTED = (112, 114, 120)
_FAINT = (168, 170, 174)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


_SUBSTITUTES = {"×": "x", "—": "-", "–": "-", "Δ": "d", "→": "->", "•": "·", "\u00a0": " "}


@lru_cache(maxsize=1024)
def _has_glyph(char: str) -> bool:
    font = _font(20)
    return bytes(font.getmask(char)) != bytes(font.getmask("\u0378")) or char.isspace()


def _drawable(text: str) -> str:
    """Text the embedded font can draw: accents stripped and a few symbols replaced
    where it has no glyph (it covers basic Latin only), never a box."""
    out = []
    for char in text:
        if _has_glyph(char):
            out.append(char)
            continue
        if char in _SUBSTITUTES:
            out.append(_SUBSTITUTES[char])
            continue
        plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
        out.append(plain if plain and all(_has_glyph(c) for c in plain) else "?")
    return "".join(out)


def _fit_line(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap into at most ``max_lines`` lines, the last one ellipsised if cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    rest = 0
    for i, word in enumerate(words):
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines:
            rest = i
            break
    if len(lines) < max_lines:
        if current:
            lines.append(current)
    elif rest:
        lines[-1] = _fit_line(draw, lines[-1] + " " + " ".join(words[rest:]), font, width)
    return [_fit_line(draw, line, font, width) for line in lines]


def _swatch_colors(features: ExtractedFeatures | None) -> list[Color]:
    return list(features.colors)[:5] if features is not None else []


def contact_sheet(images: dict[ViewType, bytes], *, title: str = "",
                  features: ExtractedFeatures | None = None) -> bytes:
    """A PNG: title, the five views in a labelled 3 × 2 grid, and a sixth card with the
    colour swatches (hex, name, usage, share), materials, size and description; with the
    optional hero view, a 4 × 2 grid (the hero after the bottom, then the colour card)."""
    shown = [*ALL_VIEWS, *(v for v in STORED_VIEWS if v not in ALL_VIEWS and v in images)]
    cell, gap, margin, label_h, inset = 520, 28, 56, 58, 14
    cols, rows = (3, 2) if len(shown) <= 5 else (4, 2)
    width = margin * 2 + cols * cell + (cols - 1) * gap
    title_font, sub_font, label_font, tag_font = _font(42), _font(21), _font(22), _font(18)

    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    heading = _drawable(" ".join((title or "Product views").split()))
    heading = heading[:1].upper() + heading[1:]
    title_lines = _wrap(probe, heading, title_font, width - 2 * margin, 2)
    header_h = margin + 52 * len(title_lines) + 40 + 36
    height = header_h + rows * (cell + label_h) + (rows - 1) * gap + margin
    sheet = Image.new("RGB", (width, height), _PAGE)
    draw = ImageDraw.Draw(sheet)

    y = margin
    for line in title_lines:
        draw.text((margin, y), line, font=title_font, fill=_INK)
        y += 52
    present = [view.label for view in shown if view in images]
    subtitle = " · ".join(present) if present else "No views yet"
    draw.text((margin, y + 4), subtitle, font=sub_font, fill=_MUTED)
    draw.text((width - margin, y + 4), "viewgen", font=sub_font, fill=_FAINT, anchor="ra")
    draw.line([(margin, header_h - 22), (width - margin, header_h - 22)], fill=_LINE, width=2)

    for index, view in enumerate([*shown, None]):
        r, c = divmod(index, cols)
        x = margin + c * (cell + gap)
        y = header_h + r * (cell + label_h + gap)
        draw.rounded_rectangle((x, y, x + cell, y + cell + label_h), radius=18, fill=_CARD,
                               outline=_LINE, width=2)
        if view is None:
            _colour_panel(draw, (x, y, x + cell, y + cell + label_h), features)
            continue
        data = images.get(view)
        area = cell - 2 * inset
        picture = None
        if data is not None:
            try:
                picture = _on_white(_open(data))
            except Exception:
                picture = None
        if picture is not None:
            picture = ImageOps.contain(picture, (area, area), Image.Resampling.LANCZOS)
            mask = Image.new("L", picture.size, 0)
            ImageDraw.Draw(mask).rounded_rectangle((0, 0, picture.width - 1, picture.height - 1),
                                                   radius=10, fill=255)
            sheet.paste(picture, (x + inset + (area - picture.width) // 2,
                                  y + inset + (area - picture.height) // 2), mask)
        else:
            draw.text((x + cell // 2, y + cell // 2), "Not generated", font=label_font, fill=_FAINT,
                      anchor="mm")
        mid = y + cell + label_h // 2 - 6
        draw.text((x + 24, mid), view.label.upper(), font=label_font, fill=_INK, anchor="lm")
        if view == ViewType.FRONT:
            draw.text((x + cell - 24, mid), "approved reference", font=tag_font, fill=_MUTED,
                      anchor="rm")

    out = io.BytesIO()
    sheet.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _colour_panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int],
                  features: ExtractedFeatures | None) -> None:
    x0, y0, x1, y1 = box
    pad = 32
    x, y = x0 + pad, y0 + pad - 4
    right = x1 - pad
    head, body, small = _font(26), _font(21), _font(17)
    draw.text((x, y), "Colours", font=head, fill=_INK)
    y += 50
    colors = _swatch_colors(features)
    if not colors:
        draw.text((x, y), "Measured once the front is approved", font=body, fill=_FAINT)
        y += 40
    for color in colors:
        draw.rounded_rectangle((x, y, x + 50, y + 50), radius=10, fill=color.hex,
                               outline=_shade(color.hex), width=2)
        name = _drawable(color.name[:1].upper() + color.name[1:])
        draw.text((x + 68, y + 2), _fit_line(draw, name, body, right - x - 68 - 110), font=body, fill=_INK)
        draw.text((x + 68, y + 29), color.hex, font=small, fill=_MUTED)
        draw.text((right, y + 4), color.usage.value, font=small, fill=_MUTED, anchor="ra")
        if color.share is not None:
            draw.text((right, y + 29), f"{color.share * 100:.0f}%", font=small, fill=_MUTED, anchor="ra")
        y += 64
    if features is None:
        return
    facts = []
    if features.materials:
        facts.append(("Materials", ", ".join(features.materials), 2))
    if features.dimensions_text:
        facts.append(("Size", features.dimensions_text, 2))
    if features.description:
        facts.append(("Description", features.description, 4))
    y += 8
    for label, text, max_lines in facts:
        room = (y1 - pad - (y + 24)) // 27
        if room < 1:
            break
        draw.line([(x, y), (right, y)], fill=_LINE, width=1)
        y += 12
        draw.text((x, y), label.upper(), font=small, fill=_MUTED)
        y += 24
        for line in _wrap(draw, _drawable(text), body, right - x, min(max_lines, room)):
            draw.text((x, y), line, font=body, fill=_INK)
            y += 27
        y += 12


def _shade(hex_color: str) -> tuple[int, int, int]:
    """A slightly darker edge so a white swatch still shows on a white card."""
    value = hex_color.lstrip("#")
    rgb = np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64)
    r, g, b = (int(v) for v in np.clip(rgb * 0.85, 0, 255))
    return r, g, b


# --------------------------------------------------------------------------- presets


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """An sRGB ICC profile (Little CMS's built-in one), embedded in every preset file."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@dataclass(frozen=True)
class ExportedImage:
    """One encoded file of a preset: the bytes, the preset, the view it shows, its size
    in pixels and how many encodes it took to fit under the preset's file-size cap."""

    data: bytes
    preset: Preset
    view: ViewType | None
    size: tuple[int, int]
    encodes: int = 1

    @property
    def filename(self) -> str:
        return f"{self.view.value if self.view else 'image'}.{self.preset.extension}"


def _hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _canvas_size(preset: Preset, product: tuple[int, int]) -> tuple[int, int]:
    if preset.size is not None:
        return preset.size
    fill = preset.fill or 1.0
    w, h = product
    return max(1, round(w / fill)), max(1, round(h / fill))


def _shadow(canvas: tuple[int, int], box: tuple[int, int, int, int]
            ) -> tuple[Image.Image, tuple[int, int]] | None:
    """A soft contact shadow under a product standing in ``box``: an "L" patch of how
    much to darken (0..255) and where it goes: a flat ellipse at the base, blurred,
    kept clear of the canvas edges."""
    W, H = canvas
    x0, _, x1, y1 = box
    width = x1 - x0
    half_h = max(2.0, 0.035 * width)
    blur = max(1.5, 0.012 * max(W, H))
    pad = int(3 * blur + 2)
    margin = max(2, round(0.01 * min(W, H)))
    left, top = max(margin, int(x0 - pad)), max(margin, int(y1 - half_h - pad))
    right, bottom = min(W - margin, int(x1 + pad)), min(H - margin, int(y1 + half_h + pad))
    if right <= left or bottom <= top:
        return None
    patch = Image.new("L", (right - left, bottom - top), 0)
    cx = (x0 + x1) / 2 - left
    cy = y1 - top
    ImageDraw.Draw(patch).ellipse([cx - 0.47 * width, cy - half_h, cx + 0.47 * width, cy + half_h * 0.6],
                                  fill=170)
    patch = patch.filter(ImageFilter.GaussianBlur(blur)).point(lambda v: round(v * 0.7))
    return patch, (left, top)


#: views a product stands on the ground in (a contact shadow goes under them)
_STANDING = (None, ViewType.FRONT, ViewType.BACK, ViewType.SIDE, ViewType.HERO)
#: shrinking by this factor or more first averages whole blocks of pixels (Pillow's
#: ``reduce``), then resamples with Lanczos from at most this many times the final
#: size: the same picture as Lanczos from full size, for a fraction of the work
REDUCING_GAP = 3.0


def _scaled(cut: Cutout, size: tuple[int, int]) -> np.ndarray:
    """The cut-out's premultiplied pixels at ``size``: Lanczos to shrink, bicubic
    (OpenCV's, as sharp and several times faster than Pillow's) to enlarge; colour is
    kept at or below alpha where the filters overshoot (premultiplied pixels with more
    colour than alpha would overflow when composited)."""
    if size == cut.size:
        return cut.premultiplied_array
    if size[0] > cut.size[0]:
        out = cv2.resize(cut.premultiplied_array, size, interpolation=cv2.INTER_CUBIC)
    else:
        out = np.asarray(cut.premultiplied.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP))
    alpha = cv2.cvtColor(cv2.extractChannel(out, 3), cv2.COLOR_GRAY2RGBA)  # (a, a, a, 255)
    return cv2.min(out, alpha)


def frame_cutout(cut: Cutout, preset: Preset, *, view: ViewType | None = None) -> Image.Image:
    """The product placed for ``preset``: scaled (Lanczos to shrink, bicubic to enlarge,
    premultiplied) so its box fits ``fill`` of the canvas on both axes and centred,
    never cropped; on the preset's background, with the contact shadow under standing
    views when the preset asks. RGBA for a transparent background, else RGB."""
    fill = preset.fill or 1.0
    w, h = cut.size
    W, H = _canvas_size(preset, (w, h))
    scale = min(fill * W / w, fill * H / h)
    nw, nh = max(1, min(W, round(w * scale))), max(1, min(H, round(h * scale)))
    x, y = (W - nw) // 2, (H - nh) // 2
    shadow = _shadow((W, H), (x, y, x + nw, y + nh)) if preset.shadow and view in _STANDING else None
    if preset.background == TRANSPARENT:
        if (nw, nh) == (w, h):
            product = cut.image()
        else:
            product = Image.frombuffer("RGBa", (nw, nh), _scaled(cut, (nw, nh)), "raw", "RGBa", 0, 1
                                       ).convert("RGBA")
        canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        if shadow is None:
            canvas.paste(product, (x, y))  # onto nothing: a copy
            return canvas
        patch, at = shadow
        layer = Image.new("RGBA", patch.size, (0, 0, 0, 0))
        layer.putalpha(patch)
        canvas.paste(layer, at)
        canvas.alpha_composite(product, (x, y))
        return canvas
    colour = _hex_rgb(STUDIO_HEX if preset.background == STUDIO else preset.background)
    canvas = Image.new("RGB", (W, H), colour)
    if shadow is not None:
        patch, at = shadow
        canvas.paste(tuple(round(c * 0.62) for c in colour), (*at, at[0] + patch.width, at[1] + patch.height),
                     patch)
    # premultiplied "over" in one pass: canvas × (1 - alpha) + product
    product = Image.frombuffer("RGBa", (nw, nh), _scaled(cut, (nw, nh)), "raw", "RGBa", 0, 1)
    canvas.paste(product, (x, y), product)
    return canvas


#: the lowest JPEG / WebP quality tried to fit a file under its cap
MIN_QUALITY = 50


def encode(image: Image.Image, preset: Preset) -> bytes:
    """The image in the preset's format with the sRGB profile embedded, under
    ``max_bytes``: at the preset's quality when that fits (nearly always), else at the
    highest quality that fits (JPEG, WebP: found by bisection, down to
    ``MIN_QUALITY``) or a stronger compression (PNG); ``InvalidInput`` when nothing fits."""
    return _encode(image, preset)[0]


def _encode(image: Image.Image, preset: Preset) -> tuple[bytes, int]:
    """``encode``'s bytes and how many encodes it took."""
    icc = srgb_profile()
    if preset.format == "JPEG" and image.mode != "RGB":
        image = image.convert("RGB")
    tried: list[int] = []

    def save(**options: Any) -> bytes | None:
        out = io.BytesIO()
        image.save(out, format=preset.format, icc_profile=icc, **options)
        tried.append(out.tell())
        return out.getvalue() if out.tell() <= preset.max_bytes else None

    if preset.format == "PNG":
        # level 1 is several times faster than 6 for a few percent more bytes; the
        # stronger levels only when the file would not fit
        for level in (1, 6, 9):
            if (data := save(compress_level=level)) is not None:
                return data, len(tried)
    else:
        extra = {"method": 4} if preset.format == "WEBP" else {}
        if (data := save(quality=preset.quality, **extra)) is not None:
            return data, 1
        best, low, high = None, MIN_QUALITY, preset.quality - 1
        while low <= high:
            quality = (low + high) // 2
            if (data := save(quality=quality, **extra)) is not None:
                best, low = data, quality + 1
            else:
                high = quality - 1
        if best is not None:
            return best, len(tried)
    raise InvalidInput(f"The {preset.label} image would be {min(tried) / MB:.1f} MB, over that preset's "
                       f"{preset.max_bytes / MB:.0f} MB limit.")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: the chunks that make a PNG's pixels; the others (text, gamma, a profile) are left out
_PNG_PIXELS = (b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND")


def _png_in_srgb(data: bytes) -> tuple[bytes, tuple[int, int]] | None:
    """A stored PNG with its pixels untouched and the sRGB profile embedded, and its
    size: the original is re-labelled, not decoded and re-encoded. None when ``data`` is
    not a sound PNG or names a colour profile of its own (those are decoded instead)."""
    if not data.startswith(_PNG_SIGNATURE):
        return None
    chunks: list[bytes] = []
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, end = data[pos + 4:pos + 8], pos + 12 + length
        if end > len(data) or zlib.crc32(data[pos + 4:end - 4]) != int.from_bytes(data[end - 4:end], "big"):
            return None
        if kind == b"iCCP" or (not chunks and kind != b"IHDR"):
            return None
        if kind in _PNG_PIXELS:
            chunks.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    else:
        return None
    name = b"ICC Profile\0\0"  # a name, then compression method 0 (deflate)
    iccp = name + zlib.compress(srgb_profile())
    chunk = len(iccp).to_bytes(4, "big") + b"iCCP" + iccp + zlib.crc32(b"iCCP" + iccp).to_bytes(4, "big")
    header = chunks[0]
    size = int.from_bytes(header[8:12], "big"), int.from_bytes(header[12:16], "big")
    return b"".join([_PNG_SIGNATURE, header, chunk, *chunks[1:]]), size


def render_preset(data: bytes, preset: Preset, *, view: ViewType | None = None) -> ExportedImage:
    """One stored view rendered for one preset."""
    encoded, size, encodes = _render(data, preset, view, None)
    return ExportedImage(encoded, preset, view, size, encodes)


def _render(data: bytes, preset: Preset, view: ViewType | None, cut: Future[Cutout] | None
            ) -> tuple[bytes, tuple[int, int], int]:
    """The encoded file, its size and how many encodes it took; ``cut`` is the view's
    cut-out being made on another thread (else it is made, or taken from the cache)."""
    if preset.fill is None:  # "original": as generated, in sRGB
        if preset.format == "PNG" and (found := _png_in_srgb(data)) is not None \
                and len(found[0]) <= preset.max_bytes:
            return found[0], found[1], 0
        image = open_png(data)
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    else:
        image = frame_cutout(cut.result() if cut is not None else cutout(data), preset, view=view)
    encoded, encodes = _encode(image, preset)
    return encoded, image.size, encodes


def _zip(files: Sequence[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            stored = name.endswith((".png", ".jpg", ".webp", ".gif", ".mp4"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else min(8, cores()))


def _same_file(preset: Preset, view: ViewType | None) -> tuple[Any, ...]:
    """What a preset's file of a view depends on: presets alike in all of it (Amazon's
    additional image and Etsy's square) share one rendering."""
    return (preset.size, preset.background, preset.fill, preset.shadow and view in _STANDING,
            preset.format, preset.quality, preset.max_bytes, view)


def render_set(images: Mapping[ViewType, bytes], presets: Iterable[str | Preset], *,
               workers: int | None = None, background: str | None = None) -> list[ExportedImage]:
    """Every view × every preset (the hero after the five when there is one), in
    preset-table then view order; ``background`` (white, studio or a hex colour) replaces
    the presets' own opaque backgrounds. Each view's cut-out is made once, first; files
    alike are rendered once; the work runs on ``workers`` threads (default: one per core;
    Pillow, OpenCV and numpy release the GIL)."""
    chosen = with_background(resolve_presets(presets), background)
    views = [v for v in STORED_VIEWS if v in images]
    if not views:
        raise InvalidInput("There are no views to export yet.")
    with ThreadPoolExecutor(_workers(workers)) as pool:
        # the cut-outs are queued before every file, so a file waiting for its view's
        # cut-out waits for one already being made (the queue is first in, first out)
        cuts = ({v: pool.submit(cutout, images[v]) for v in views}
                if any(p.fill is not None for p in chosen) else {})
        jobs: dict[tuple[Any, ...], Future[tuple[bytes, tuple[int, int], int]]] = {}
        for view in views:  # view by view: the first view's files start while others are cut out
            for preset in chosen:
                key = _same_file(preset, view)
                if key not in jobs:
                    jobs[key] = pool.submit(_render, images[view], preset, view, cuts.get(view))
        rendered = []
        for preset in chosen:
            for view in views:
                data, size, encodes = jobs[_same_file(preset, view)].result()
                rendered.append(ExportedImage(data, preset, view, size, encodes))
        return rendered


def _set_files(rendered: Sequence[ExportedImage], prefix: str = "") -> list[tuple[str, bytes]]:
    return [(f"{prefix}{item.preset.name}/{item.filename}", item.data) for item in rendered]


def export_set(images: Mapping[ViewType, bytes], presets: Iterable[str | Preset], *,
               features: ExtractedFeatures | None = None, extra: dict[str, Any] | None = None,
               workers: int | None = None, background: str | None = None) -> bytes:
    """A deterministic ZIP: a folder per preset (``amazon/front.jpg`` …), then
    ``features.json`` and a ``manifest.json`` naming each preset's rules (with the
    chosen ``background``, if any) and each file's size and SHA-256."""
    rendered = render_set(images, presets, workers=workers, background=background)
    files = _set_files(rendered)
    if features is not None:
        files.append(("features.json", _json(features.public_json())))
    files.append(("manifest.json", _json(_manifest(rendered, files, extra))))
    return _zip(files)


def _manifest(rendered: Sequence[ExportedImage], files: Sequence[tuple[str, bytes]],
              extra: dict[str, Any] | None) -> dict[str, Any]:
    presets: dict[str, Preset] = {}
    for item in rendered:
        presets.setdefault(item.preset.name, item.preset)
    return {
        "generator": "viewgen",
        "format": 2,
        "presets": [{"name": p.name, "label": p.label, "rules": p.describe()} for p in presets.values()],
        "files": [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files],
        "info": extra or {},
    }


# --------------------------------------------------------------------------- spin

#: the side views in the order a product turning on a turntable shows them; the
#: fourth side (the left, opposite ``SIDE``) is not one of viewgen's views
SPIN_VIEWS: tuple[ViewType, ...] = (ViewType.FRONT, ViewType.SIDE, ViewType.BACK)
SPIN_SIDES = 4


@dataclass
class Spin:
    """Frames of a 360° spin (PNG bytes, all one size) in turning order, a label per
    frame, and ``note``: what is missing, for the person, or empty."""

    frames: list[bytes]
    labels: list[str]
    note: str = ""
    degrees: list[float] = field(default_factory=list)


def _fit(image: Image.Image, size: int) -> Image.Image:
    rgb = _on_white(image)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    fitted = ImageOps.contain(rgb, (size, size), Image.Resampling.LANCZOS)
    canvas.paste(fitted, ((size - fitted.width) // 2, (size - fitted.height) // 2))
    return canvas


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def spin_from_views(images: Mapping[ViewType, bytes], *, size: int = 512) -> Spin:
    """A provider-made product's spin: front, right side, back, in that order, each at
    ``size`` square. There is no picture of the left side, so the spin has three of its
    four quarter turns and says so; a side is never mirrored to stand in for the other."""
    present = [v for v in SPIN_VIEWS if v in images]
    if not present:
        raise InvalidInput("A spin needs the front, side or back view.")
    frames = [_png(_fit(_open(images[v]), size)) for v in present]
    missing = [v.label.lower() for v in SPIN_VIEWS if v not in images]
    note = (f"{len(frames)} of {SPIN_SIDES} sides: there is no picture of the other side"
            + (f" or the {', '.join(missing)}" if missing else "")
            + ", so that quarter of the turn is left out rather than mirrored.")
    degrees = [{ViewType.FRONT: 0.0, ViewType.SIDE: 90.0, ViewType.BACK: 180.0}[v] for v in present]
    return Spin(frames=frames, labels=[v.label for v in present], note=note, degrees=degrees)


def spin_from_model(model: Any, *, frames: int = 36, size: int = 384, logo: bytes | None = None) -> Spin:
    """An offline product's real spin: the renderer's ``render_spin`` (``frames`` views
    around the vertical axis, frame 0 the front, turning towards the right side, one
    scale throughout), each frame PNG at ``size`` square."""
    from viewgen.providers.offline.camera import render_spin

    if not 1 <= frames <= 360:
        raise InvalidInput("A spin has between 1 and 360 frames.")
    views = render_spin(model, frames, (size, size), logo=logo)
    degrees = [float(v.meta.get("azimuth", i * 360.0 / frames)) for i, v in enumerate(views)]
    return Spin(frames=[_png(Image.fromarray(v.image, "RGB")) for v in views],
                labels=[f"{d:.0f}°" for d in degrees], degrees=degrees)


def offline_model(text: str | None, feedback: Sequence[str], seed: int,
                  front: bytes | None = None) -> Any | None:
    """The offline renderer's model of a described product, or None when the product
    was not made by it (a provider's images, or a reference photo): the front view must
    carry the renderer's metadata chunk with the model's dimensions."""
    if not text or front is None:
        return None
    try:
        meta = (getattr(_open(front), "text", None) or {}).get("viewgen:model")
    except Exception:
        return None
    try:
        described = isinstance(json.loads(meta).get("dimensions_cm"), dict) if meta else False
    except (ValueError, AttributeError):
        described = False
    if not described:  # a photo-based render has no model to turn
        return None
    from viewgen.providers.offline.model import build_model

    return build_model(text, tuple(str(f) for f in feedback), int(seed))


def _frames_rgb(frames: Sequence[bytes]) -> list[Image.Image]:
    if not frames:
        raise InvalidInput("A spin needs at least one frame.")
    images = [_on_white(_open(f)) for f in frames]
    size = images[0].size
    return [im if im.size == size else im.resize(size, Image.Resampling.LANCZOS) for im in images]


def spin_gif(frames: Sequence[bytes], *, frame_ms: int = 80) -> bytes:
    """The spin as a looping GIF (one shared palette, so colours do not flicker)."""
    images = _frames_rgb(frames)
    strip = Image.new("RGB", (images[0].width, images[0].height * len(images)))
    for i, im in enumerate(images):
        strip.paste(im, (0, i * im.height))
    palette = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    quantised = [im.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG) for im in images]
    out = io.BytesIO()
    quantised[0].save(out, format="GIF", save_all=True, append_images=quantised[1:], duration=frame_ms,
                      loop=0, disposal=1, optimize=False)
    return out.getvalue()


def spin_webp(frames: Sequence[bytes], *, frame_ms: int = 80, quality: int = 82) -> bytes:
    """The spin as a looping animated WebP."""
    images = _frames_rgb(frames)
    out = io.BytesIO()
    images[0].save(out, format="WEBP", save_all=True, append_images=images[1:], duration=frame_ms,
                   loop=0, quality=quality, method=4, icc_profile=srgb_profile())
    return out.getvalue()


def spin_mp4(frames: Sequence[bytes], *, fps: int = 12, turns: int = 2) -> bytes:
    """The spin as an H.264 MP4 (yuv420p, plays everywhere), ``turns`` times round, made
    with the ffmpeg that the imageio-ffmpeg wheel ships."""
    import imageio_ffmpeg

    images = _frames_rgb(frames)
    w, h = images[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sides
    raw = [np.ascontiguousarray(np.asarray(im)[:h2, :w2]) for im in images]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "spin.mp4")
        writer = imageio_ffmpeg.write_frames(path, (w2, h2), fps=fps, codec="libx264", quality=7,
                                             pix_fmt_out="yuv420p", macro_block_size=1,
                                             ffmpeg_log_level="error",
                                             output_params=["-movflags", "+faststart"])
        writer.send(None)
        for _ in range(max(1, turns)):
            for frame in raw:
                writer.send(frame)
        writer.close()
        with open(path, "rb") as handle:
            return handle.read()


def turntable_gif(images: dict[ViewType, bytes], *, frame_ms: int = 600, max_side: int = 512) -> bytes:
    """A looping GIF of the side views in turning order: front → side → back (views that
    are missing are skipped; a front alone gives a one-frame GIF). The other side is
    not one of the views, and mirroring a side would show a different product, so it is
    left out."""
    present = [v for v in SPIN_VIEWS if v in images]
    if not present:
        raise ValueError("turntable_gif needs at least one of the front, side or back views")
    base = _open(images[present[0]]).size
    scale = min(1.0, max_side / max(base))
    size = (max(1, round(base[0] * scale)), max(1, round(base[1] * scale)))
    frames = []
    for view in present:
        canvas = Image.new("RGB", size, (255, 255, 255))
        fitted = ImageOps.contain(_on_white(_open(images[view])), size, Image.Resampling.LANCZOS)
        canvas.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
        frames.append(_png(canvas))
    return spin_gif(frames, frame_ms=frame_ms)


__all__ = [
    "SPIN_VIEWS",
    "ExportedImage",
    "Spin",
    "contact_sheet",
    "cores",
    "encode",
    "export_set",
    "frame_cutout",
    "offline_model",
    "render_preset",
    "render_set",
    "spin_from_model",
    "spin_from_views",
    "spin_gif",
    "spin_mp4",
    "spin_webp",
    "srgb_profile",
    "turntable_gif",
    "zip_bundle",
]

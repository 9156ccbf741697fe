"""Exports of a finished product: a ZIP bundle, a contact sheet and a turntable GIF.

``zip_bundle`` packs ``front.png`` … ``bottom.png``, ``features.json`` and a
``manifest.json`` (file list with SHA-256, view order and any extra information)
with fixed timestamps and ordering, so the same inputs give byte-identical archives.
``contact_sheet`` draws the five views in a labelled grid with a title and the
colour swatches (hex, name, usage, share). ``turntable_gif`` loops front → side →
back → the side mirrored. Pure functions from bytes to bytes; no I/O.
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import zipfile
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from viewgen.domain import ALL_VIEWS, Color, ExtractedFeatures, ViewType

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
    order, ``features.json`` (when there are features) and ``manifest.json``."""
    files: list[tuple[str, bytes]] = [
        (f"{view.value}.png", _as_png(images[view])) for view in ALL_VIEWS if view in images
    ]
    if features is not None:
        files.append(("features.json", _json(features.public_json())))
    manifest = {
        "generator": "viewgen",
        "format": 1,
        "views": [view.value for view in ALL_VIEWS if view in images],
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
    colour swatches (hex, name, usage, share), materials, size and description."""
    cell, gap, margin, label_h, inset = 520, 28, 56, 58, 14
    cols, rows = 3, 2
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
    present = [view.label for view in ALL_VIEWS if view in images]
    subtitle = " · ".join(present) if present else "No views yet"
    draw.text((margin, y + 4), subtitle, font=sub_font, fill=_MUTED)
    draw.text((width - margin, y + 4), "viewgen", font=sub_font, fill=_FAINT, anchor="ra")
    draw.line([(margin, header_h - 22), (width - margin, header_h - 22)], fill=_LINE, width=2)

    for index, view in enumerate([*ALL_VIEWS, None]):
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


# --------------------------------------------------------------------------- turntable


def turntable_gif(images: dict[ViewType, bytes], *, frame_ms: int = 600, max_side: int = 512) -> bytes:
    """A looping GIF: front → side → back → side mirrored (views that are missing are
    skipped; a front alone gives a one-frame GIF)."""
    sequence: list[Image.Image] = []
    for view, mirror in ((ViewType.FRONT, False), (ViewType.SIDE, False), (ViewType.BACK, False),
                         (ViewType.SIDE, True)):
        data = images.get(view)
        if data is None:
            continue
        frame = _on_white(_open(data))
        sequence.append(ImageOps.mirror(frame) if mirror else frame)
    if not sequence:
        raise ValueError("turntable_gif needs at least one of the front, side or back views")
    base = sequence[0].size
    scale = min(1.0, max_side / max(base))
    size = (max(1, round(base[0] * scale)), max(1, round(base[1] * scale)))
    frames = []
    for frame in sequence:
        canvas = Image.new("RGB", size, (255, 255, 255))
        fitted = ImageOps.contain(frame, size, Image.Resampling.LANCZOS)
        canvas.paste(fitted, ((size[0] - fitted.width) // 2, (size[1] - fitted.height) // 2))
        frames.append(canvas.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                      dither=Image.Dither.FLOYDSTEINBERG))
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms,
                   loop=0, disposal=1, optimize=False)
    return out.getvalue()


__all__ = ["contact_sheet", "turntable_gif", "zip_bundle"]

"""viewgen.imaging: every way an upload can be bad, normalisation, and product masks."""

from __future__ import annotations

import io
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from viewgen import imaging
from viewgen.errors import InvalidInput

MB = 1024 * 1024
LIMITS = {"max_bytes": 10 * MB, "max_pixels": 40_000_000}


def encode(image: Image.Image, fmt: str = "PNG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def noisy(size: tuple[int, int] = (96, 64), mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size[1], size[0], len(mode)), dtype=np.uint8)
    return Image.fromarray(arr, mode)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def header_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A 100-byte PNG whose IHDR claims ``width`` × ``height`` RGB pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def refused(data: bytes, **overrides) -> str:
    with pytest.raises(InvalidInput) as info:
        imaging.load_image(data, **{**LIMITS, **overrides})
    message = str(info.value)
    assert message and "Traceback" not in message
    return message


# --------------------------------------------------------------------------- load_image: good


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_accepts_png_jpeg_webp(fmt: str) -> None:
    image = imaging.load_image(encode(noisy(), fmt), **LIMITS)
    assert image.size == (96, 64)
    assert image.mode == "RGB"


def test_keeps_real_transparency_and_converts_odd_modes() -> None:
    rgba = noisy(mode="RGBA")
    assert imaging.load_image(encode(rgba), **LIMITS).mode == "RGBA"
    grey_alpha = Image.new("LA", (40, 40), (128, 200))
    assert imaging.load_image(encode(grey_alpha), **LIMITS).mode == "RGBA"
    assert imaging.load_image(encode(Image.new("L", (40, 40), 90)), **LIMITS).mode == "RGB"
    cmyk = Image.new("CMYK", (40, 40), (0, 100, 200, 10))
    assert imaging.load_image(encode(cmyk, "JPEG"), **LIMITS).mode == "RGB"
    deep = Image.fromarray(np.full((40, 40), 40000, dtype=np.uint16))
    loaded = imaging.load_image(encode(deep), **LIMITS)
    assert loaded.mode == "RGB"
    assert 150 < np.asarray(loaded)[0, 0, 0] < 160


def test_applies_exif_orientation() -> None:
    image = noisy((64, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    loaded = imaging.load_image(encode(image, "JPEG", exif=exif.tobytes()), **LIMITS)
    assert loaded.size == (40, 64)


# --------------------------------------------------------------------------- load_image: bad


def test_refuses_empty_data() -> None:
    assert "empty" in refused(b"")


def test_refuses_files_over_the_byte_limit() -> None:
    message = refused(encode(noisy((200, 200))), max_bytes=10_000)
    assert "limit" in message and "MB" in message


def test_refuses_a_text_file_named_png() -> None:
    message = refused(b"name,price\nbag,12\n" * 10)
    assert message == "That file is not an image we can read (PNG, JPEG or WebP). Choose another image."


@pytest.mark.parametrize(("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")])
def test_refuses_other_image_formats_by_name(fmt: str, name: str) -> None:
    message = refused(encode(noisy(), fmt))
    assert message.startswith(f"{name} files are not supported")
    assert "PNG, JPEG or WebP" in message


def test_refuses_a_truncated_png() -> None:
    data = encode(noisy((128, 128)))
    message = refused(data[: len(data) * 2 // 3])
    assert "incomplete or damaged" in message


def test_refuses_a_truncated_jpeg() -> None:
    data = encode(noisy((128, 128)), "JPEG", quality=95)
    assert "incomplete or damaged" in refused(data[: len(data) // 2])


def test_refuses_a_png_with_corrupt_pixel_data() -> None:
    data = bytearray(encode(noisy((128, 128))))
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    assert "incomplete or damaged" in refused(bytes(data))


def test_refuses_a_header_bomb_before_decoding() -> None:
    data = header_bomb()
    assert len(data) < 200
    message = refused(data)
    assert "pixels" in message and "limit" in message


def test_refuses_too_many_pixels_from_the_header() -> None:
    # a real 1-bit 7000 × 7000 PNG: tiny on disk, 49 megapixels decoded
    big = encode(Image.new("1", (7000, 7000), 0))
    assert len(big) < 200_000
    message = refused(big)
    assert "7,000 × 7,000" in message
    assert "40 megapixels" in message


def test_pillow_bomb_warning_and_error_are_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "too many pixels" in refused(encode(noisy((40, 40)))).lower()  # warning zone
        assert "too many pixels" in refused(encode(noisy((64, 64)))).lower()  # error zone


def test_refuses_a_fully_transparent_image() -> None:
    clear = Image.new("RGBA", (64, 64), (255, 0, 0, 0))
    assert refused(encode(clear)).startswith("The image is fully transparent")
    clear_palette = Image.new("P", (64, 64), 0)
    clear_palette.info["transparency"] = 0
    assert "fully transparent" in refused(encode(clear_palette, transparency=0))


def test_refuses_tiny_images_and_names_the_thing() -> None:
    with pytest.raises(InvalidInput) as info:
        imaging.load_image(encode(noisy((20, 200))), what="logo", **LIMITS)
    message = str(info.value)
    assert message.startswith("The logo is only 20 × 200 pixels")
    assert "32" in message


def test_truncated_images_stay_refused_even_if_pillow_was_loosened(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(noisy((128, 128)))
    assert "incomplete or damaged" in refused(data[: len(data) * 2 // 3])


def test_sniff_format() -> None:
    assert imaging.sniff_format(encode(noisy(), "WEBP")) == "WEBP"
    assert imaging.sniff_format(b"%PDF-1.7 ...") == "PDF"
    assert imaging.sniff_format(b"  <svg xmlns='http://www.w3.org/2000/svg'/>") == "SVG"
    assert imaging.sniff_format(b"hello") is None


# --------------------------------------------------------------------------- normalise / arrays


def test_normalise_png_downscales_and_strips_needless_alpha() -> None:
    big = Image.new("RGBA", (3000, 1000), (10, 20, 30, 255))
    data = imaging.normalise_png(big)
    out = Image.open(io.BytesIO(data))
    assert out.format == "PNG"
    assert out.size == (2048, 683)
    assert out.mode == "RGB"


def test_normalise_png_keeps_transparency_and_small_images() -> None:
    image = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((50, 50, 250, 150), fill=(200, 30, 40, 255))
    out = Image.open(io.BytesIO(imaging.normalise_png(image, max_side=150)))
    assert out.mode == "RGBA"
    assert out.size == (150, 100)
    arr = np.asarray(out)
    assert arr[0, 0, 3] == 0 and arr[50, 75, 3] == 255
    # no dark fringe from the transparent black around the red
    assert arr[50, 75, :3].tolist() == [200, 30, 40]


def test_to_array_is_rgba_and_can_downscale() -> None:
    data = encode(noisy((300, 150)))
    arr = imaging.to_array(data)
    assert arr.shape == (150, 300, 4) and arr.dtype == np.uint8
    assert (arr[..., 3] == 255).all()
    assert imaging.to_array(data, max_side=100).shape == (50, 100, 4)
    assert imaging.image_size(data) == (300, 150)
    with pytest.raises(InvalidInput):
        imaging.to_array(b"not an image")


# --------------------------------------------------------------------------- masks


def studio_scene(size: int = 256, *, bg_top=(250, 250, 250), bg_bottom=(222, 222, 222),
                 body=(31, 42, 68), accent=(210, 180, 140), white: bool = False, shadow: float = 0.3,
                 box=(0.25, 0.22, 0.75, 0.72), handle: bool = False,
                 supersample: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A product on a studio backdrop (vertical gradient, soft contact shadow), drawn
    ``supersample`` times larger and box-filtered down so its edges are anti-aliased;
    returns (rgb, truth)."""
    s = size * supersample
    y = np.linspace(0, 1, s)[:, None, None]
    backdrop = (np.array(bg_top) * (1 - y) + np.array(bg_bottom) * y) * np.ones((s, s, 3))
    x0, y0, x1, y1 = (int(v * s) for v in box)
    soft = Image.new("L", (s, s), 0)
    ImageDraw.Draw(soft).ellipse([x0 - 0.05 * s, y1 - 0.04 * s, x1 + 0.05 * s, y1 + 0.05 * s], fill=255)
    darkening = np.asarray(soft.filter(ImageFilter.GaussianBlur(0.03 * s))) / 255.0
    backdrop = backdrop * (1 - shadow * darkening[..., None])
    shape = Image.new("L", (s, s), 0)
    draw = ImageDraw.Draw(shape)
    draw.rounded_rectangle([x0, y0, x1, y1], radius=int(0.05 * s), fill=255)
    if handle:
        draw.arc([x0 + 0.12 * s, y0 - 0.18 * s, x1 - 0.12 * s, y0 + 0.15 * s], 180, 360, fill=255,
                 width=int(0.02 * s))
    inside = np.asarray(shape) > 127
    if white:  # a white product, shaded darker towards its edges
        depth = np.asarray(shape.filter(ImageFilter.GaussianBlur(0.04 * s))) / 255.0
        shade = 0.72 + 0.28 * np.clip((depth - 0.5) * 2.2, 0, 1)
        colour = np.full((s, s, 3), 255.0) * shade[..., None]
    else:
        colour = np.ones((s, s, 3)) * np.array(body, dtype=float)
        colour[y0:int(y0 + 0.3 * (y1 - y0))] = accent
        colour = colour * (0.85 + 0.15 * np.linspace(1, 0, s))[None, :, None]
    pixels = np.where(inside[..., None], colour, backdrop)
    rgb = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).resize((size, size), Image.Resampling.BOX)
    truth = Image.fromarray(inside.astype(np.uint8) * 255).resize((size, size), Image.Resampling.BOX)
    return np.asarray(rgb), np.asarray(truth) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("case", [
    {},
    {"shadow": 0.5},
    {"bg_top": (255, 255, 255), "bg_bottom": (200, 200, 205)},
    {"body": (140, 140, 140), "accent": (120, 120, 120)},
    {"bg_top": (120, 160, 220), "bg_bottom": (90, 130, 200), "body": (200, 60, 40)},
    {"box": (0.2, 0.4, 0.8, 1.0)},
    {"box": (0.4, 0.05, 0.6, 0.9)},
], ids=["navy", "strong-shadow", "steep-gradient", "grey-product", "blue-backdrop", "cropped",
        "tall"])
def test_mask_ignores_contact_shadows_and_gradients(case: dict) -> None:
    rgb, truth = studio_scene(**case)
    mask = imaging.foreground_mask(rgb)
    assert iou(mask, truth) >= 0.95


@pytest.mark.parametrize("case", [
    {"bg_top": (245, 245, 245), "bg_bottom": (236, 236, 236)},
    {"bg_top": (255, 255, 255), "bg_bottom": (255, 255, 255)},
    {"bg_top": (246, 246, 246), "bg_bottom": (230, 230, 230), "handle": True},
], ids=["light-grey", "pure-white", "with-handle"])
def test_mask_keeps_a_white_product_with_shaded_edges(case: dict) -> None:
    rgb, truth = studio_scene(white=True, **case)
    assert iou(imaging.foreground_mask(rgb), truth) >= 0.95


def test_mask_leaves_the_gap_inside_a_handle_open() -> None:
    rgb, truth = studio_scene(handle=True)
    mask = imaging.foreground_mask(rgb)
    assert iou(mask, truth) >= 0.97
    gap = (slice(int(0.18 * 256), int(0.2 * 256)), slice(120, 136))  # under the arc, above the bag
    assert not truth[gap].any()
    assert not mask[gap].any()


def test_mask_survives_sensor_noise_and_jpeg() -> None:
    rgb, truth = studio_scene()
    rng = np.random.default_rng(1)
    grainy = np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    assert iou(imaging.foreground_mask(grainy), truth) >= 0.95
    jpeg = np.asarray(Image.open(io.BytesIO(encode(Image.fromarray(rgb), "JPEG", quality=80))))
    assert iou(imaging.foreground_mask(jpeg), truth) >= 0.95


def test_mask_uses_meaningful_alpha() -> None:
    rgb = np.full((100, 120, 3), 255, dtype=np.uint8)  # colour says nothing: white on white
    alpha = np.zeros((100, 120), dtype=np.uint8)
    alpha[20:80, 30:90] = 255
    alpha[5, 5] = 255  # a speck
    mask = imaging.foreground_mask(rgb, alpha)
    assert imaging.bbox(mask) == (30, 20, 90, 80)
    assert mask.sum() == 60 * 60


def test_opaque_alpha_is_ignored_and_empty_backdrop_gives_empty_mask() -> None:
    rgb, truth = studio_scene()
    alpha = np.full(truth.shape, 255, dtype=np.uint8)
    assert iou(imaging.foreground_mask(rgb, alpha), truth) >= 0.95
    empty = np.full((128, 128, 3), 240, dtype=np.uint8)
    assert not imaging.foreground_mask(empty).any()
    assert imaging.bbox(imaging.foreground_mask(empty)) is None


def test_bbox_is_exclusive() -> None:
    mask = np.zeros((10, 12), dtype=bool)
    mask[2:5, 3:9] = True
    assert imaging.bbox(mask) == (3, 2, 9, 5)


def test_mask_at_1024_is_accurate() -> None:
    rgb, truth = studio_scene(size=1024, handle=True, supersample=2)
    assert iou(imaging.foreground_mask(rgb), truth) >= 0.97

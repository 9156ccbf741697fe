"""Export presets: one table of data saying what each shop or feed accepts.

A ``Preset`` names a canvas (size, hence aspect), a background (white ``#FFFFFF``,
``transparent``, ``studio`` or any ``#RRGGBB``), how much of the canvas the product
fills (``fill``: the product's bounding box is scaled to fit inside ``fill`` × the
canvas, so its limiting side fills exactly that share and it is padded, never
cropped), an optional soft contact shadow, the file format and quality, and the
largest file the shop takes. Every file is written in sRGB with the profile embedded.
The sources beside each row are the pages its numbers were checked against; they are
vendors' own help pages where one was reachable, otherwise guides quoting them.
``PRESETS`` is the whole table; ``get_preset`` and ``resolve_presets`` turn names
typed by a person into presets, or raise ``InvalidInput`` saying which names exist.
``parse_background`` reads a background a person typed (white, studio or a hex colour)
and ``with_background`` puts it behind the product in every preset that has an opaque
background (the transparent cut-out stays transparent, the original as generated).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from viewgen.errors import InvalidInput

WHITE = "#FFFFFF"
TRANSPARENT = "transparent"
STUDIO = "studio"
#: the studio backdrop colour, the offline renderer's warm light grey
STUDIO_HEX = "#E6E3DB"
FORMATS = ("JPEG", "PNG", "WEBP")
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_SHORT_HEX = re.compile(r"^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
MB = 1024 * 1024


@dataclass(frozen=True)
class Preset:
    """One export target. ``size`` None keeps the product's own size (cut-out, original);
    ``fill`` None means "as generated" (the image is not re-framed)."""

    name: str
    label: str
    size: tuple[int, int] | None
    background: str
    fill: float | None
    format: str
    quality: int = 90
    max_bytes: int = 10 * MB
    shadow: bool = False
    note: str = ""
    #: the marketplace's rules ask for this exact background (Amazon's main image)
    required_background: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"{self.name}: format must be one of {FORMATS}")
        if self.background not in (TRANSPARENT, STUDIO) and not _HEX.match(self.background):
            raise ValueError(f"{self.name}: background must be transparent, studio or #RRGGBB")
        if self.background == TRANSPARENT and self.format == "JPEG":
            raise ValueError(f"{self.name}: JPEG has no transparency")
        if self.fill is not None and not 0.05 <= self.fill <= 1.0:
            raise ValueError(f"{self.name}: fill is a share of the canvas, 0.05 to 1")

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[self.format]

    @property
    def mime(self) -> str:
        return {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[self.format]

    @property
    def aspect(self) -> str:
        if self.size is None:
            return "as the product"
        w, h = self.size
        from math import gcd

        g = gcd(w, h)
        return f"{w // g}:{h // g}"

    def describe(self) -> str:
        """One line for a person: size, background, fill, format."""
        if self.size:
            size = f"{self.size[0]}×{self.size[1]} ({self.aspect})"
        else:
            size = "as generated" if self.fill is None else "the product's own size"
        fill = f", product {round(self.fill * 100)}% of the frame" if self.fill else ""
        shadow = ", soft contact shadow" if self.shadow else ""
        background = {WHITE: "pure white", TRANSPARENT: "transparent", STUDIO: "studio grey"}.get(
            self.background, f"background {self.background}")
        return f"{size}, {background}{fill}{shadow}, {self.format}, at most {self.max_bytes // MB} MB"


PRESETS: tuple[Preset, ...] = (
    # Amazon MAIN: pure white RGB 255,255,255; product fills 85% or more of the frame;
    # 1000 px+ on the longest side for zoom (2000 recommended), max 10,000 px; JPEG
    # preferred; sRGB or CMYK; no shadows beyond a soft contact shadow (we add none).
    # https://mercatuslab.com/blog/amazon-product-image-requirements
    # https://www.productpolish.ai/blog/glossar/main-image
    # https://m.zixin.com.cn/doc/7441306.html (a copy of Seller Central's "Adding Images")
    Preset("amazon", "Amazon main image", (2000, 2000), WHITE, 0.85, "JPEG", 90, 10 * MB,
           note="Pure white, product fills 85% of the frame, JPEG", required_background=WHITE),
    # Amazon additional images: same technical rules, background free; white with a
    # contact shadow reads as a studio shot. 10 MB cap per the seller checklist.
    # https://clawhub.ai/api/v1/skills/amazon-seller-central/file?path=templates%2Fimage-checklist.txt
    Preset("amazon-additional", "Amazon additional image", (2000, 2000), WHITE, 0.80, "JPEG", 90,
           10 * MB, shadow=True, note="Square, white, a soft contact shadow"),
    # Shopify: square 2048 × 2048 displays best; max 4472 × 4472 px / 20 MP; under 20 MB.
    # https://help.shopify.com/api/guides/media
    # https://www.pixfocal.com/guides/shopify-product-image-size
    Preset("shopify", "Shopify square", (2048, 2048), WHITE, 0.80, "JPEG", 88, 20 * MB, shadow=True),
    # eBay: at least 500 px on the longest side (policy), 1600 × 1600 recommended;
    # no added borders or text; max 12 MB; JPEG recommended.
    # https://www.ebay.com/help/policies/listing-policies/picture-policy?id=4370
    # https://plomz.com/guide/ebay-image-requirements-for-sellers-2026
    Preset("ebay", "eBay", (1600, 1600), WHITE, 0.85, "JPEG", 90, 12 * MB),
    # Etsy: 2000 px or more, square thumbnails (and 4:3 / 5:4 crops in places); max
    # 10 MB; JPEG, PNG or GIF.
    # https://hauld.app/blog/etsy-listing-photo-checklist
    # https://www.etsyshop.ai/to-sell-on-etsy/etsys-new-thumbnail-image-format-revealed-3538
    Preset("etsy", "Etsy square", (2000, 2000), WHITE, 0.80, "JPEG", 90, 10 * MB, shadow=True),
    Preset("etsy-4x3", "Etsy 4:3", (2000, 1500), WHITE, 0.80, "JPEG", 90, 10 * MB, shadow=True),
    # Instagram: uploads are at most 1080 px wide; portrait feed 4:5 = 1080 × 1350;
    # stories 9:16 = 1080 × 1920; photos up to 30 MB; JPEG or PNG.
    # https://recurpost.com/blog/instagram-post-size-guide
    # https://tacticsocial.com/social-media-sizes/instagram
    Preset("instagram-4x5", "Instagram feed 4:5", (1080, 1350), WHITE, 0.80, "JPEG", 92, 30 * MB,
           shadow=True),
    # the story keeps the product clear of the top and bottom UI bands (about 14% each)
    Preset("instagram-story", "Instagram story 9:16", (1080, 1920), WHITE, 0.70, "JPEG", 92, 30 * MB,
           shadow=True),
    # a transparent PNG cut-out on a canvas just larger than the product
    Preset("cutout", "Transparent PNG cut-out", None, TRANSPARENT, 0.94, "PNG", 100, 20 * MB,
           note="Anti-aliased edges, no studio halo"),
    # the view as generated, re-saved with the sRGB profile
    Preset("original", "Original", None, STUDIO, None, "PNG", 100, 20 * MB,
           note="The image as generated"),
)

_BY_NAME = {p.name: p for p in PRESETS}
DEFAULT_PRESETS: tuple[str, ...] = ("amazon", "shopify", "instagram-4x5", "cutout")


def preset_names() -> list[str]:
    return [p.name for p in PRESETS]


def get_preset(name: str) -> Preset:
    """The preset called ``name`` (case and spaces forgiven), or ``InvalidInput``."""
    key = re.sub(r"[\s_]+", "-", str(name).strip().lower())
    preset = _BY_NAME.get(key)
    if preset is None:
        raise InvalidInput(f"There is no export preset called “{name}”. "
                           f"Choose from: {', '.join(preset_names())}.")
    return preset


def resolve_presets(names: Iterable[str | Preset]) -> list[Preset]:
    """Presets for the given names, in table order without repeats; at least one. A
    ``Preset`` given as such is kept as it is (a table row with another background, or
    a preset of one's own, which follows the table's)."""
    given: dict[str, Preset] = {}
    for item in names:
        preset = item if isinstance(item, Preset) else get_preset(item)
        given.setdefault(preset.name, preset)
    if not given:
        raise InvalidInput("Choose at least one export preset.")
    order = {p.name: i for i, p in enumerate(PRESETS)}
    return sorted(given.values(), key=lambda p: order.get(p.name, len(order)))


#: the backgrounds a person can name instead of typing a hex colour
BACKGROUND_NAMES = {"white": WHITE, "studio": STUDIO, "studio grey": STUDIO, "studio gray": STUDIO}


def parse_background(value: str) -> str:
    """A background a person typed, as a preset holds it: ``#RRGGBB`` (from ``#RRGGBB``,
    ``RRGGBB`` or ``#RGB``, any case) or ``studio``; ``InvalidInput`` otherwise."""
    text = " ".join(str(value).split()).lower()
    if text in BACKGROUND_NAMES:
        return BACKGROUND_NAMES[text]
    if text == TRANSPARENT:
        raise InvalidInput("Only the cut-out preset is transparent (JPEG files cannot be): choose "
                           "white, studio or a hex colour such as #F5F5F0 for the background.")
    match = _SHORT_HEX.match(text)
    if match is None:
        shown = str(value).strip() or "an empty value"
        raise InvalidInput(f"“{shown}” is not a colour: type a hex colour as #RRGGBB (such as #F5F5F0), "
                           "or white or studio.")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits.upper()


def with_background(presets: Iterable[Preset], background: str | None) -> list[Preset]:
    """The presets with ``background`` (anything ``parse_background`` reads; None keeps
    each preset's own) behind the product in each one that has an opaque background;
    the transparent cut-out and the original (as generated) are left as they are."""
    presets = list(presets)
    if background is None:
        return presets
    colour = parse_background(background)
    return [replace(p, background=colour) if p.fill is not None and p.background != TRANSPARENT else p
            for p in presets]


def background_warnings(presets: Iterable[Preset]) -> list[str]:
    """A sentence for each preset whose marketplace asks for another background."""
    return [f"{p.label}: the marketplace asks for "
            f"{'pure white' if p.required_background == WHITE else p.required_background} "
            "behind the product, so this file may be refused there."
            for p in presets if p.required_background and p.background != p.required_background]


__all__ = [
    "BACKGROUND_NAMES",
    "DEFAULT_PRESETS",
    "PRESETS",
    "Preset",
    "background_warnings",
    "get_preset",
    "parse_background",
    "preset_names",
    "resolve_presets",
    "with_background",
]

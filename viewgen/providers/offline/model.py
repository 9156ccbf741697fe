"""The offline renderer's product model: a description parsed into category, colours,
materials, parts and dimensions, and rejection feedback applied to it.

Everything here is pure and deterministic. ``parse_description`` reads a product
description ("navy leather messenger bag with a tan strap") into a frozen
``ProductModel``: one of the known categories (or a generic rounded product), the
main colour and material, the parts with their own colours and materials ("tan strap",
"with a gold cap"), and dimensions in centimetres adjusted by words such as "tall",
"slim" or "mini". ``apply_feedback`` turns a reviewer's note ("make the strap red",
"taller", "no strap", "in leather") into a changed model, and ``build_model`` caches
the parse of (text, feedback, seed) so the five views of one product share one model.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from viewgen.color import COLOR_HEX, MODIFIERS, hex_to_rgb, modified, nearest_name, photographed
from viewgen.errors import InvalidInput

RGB = tuple[int, int, int]

# --------------------------------------------------------------------------- vocabulary

#: the colour vocabulary is ``viewgen.color``'s (the XKCD survey and material tones),
#: shared with the feature extractor; here as RGB
COLORS: dict[str, RGB] = {name: hex_to_rgb(value) for name, value in COLOR_HEX.items()}

#: colour words that imply a metallic finish when no material is named
METALLIC = {"gold", "silver", "rose gold", "champagne", "bronze", "copper", "brass", "chrome",
            "platinum", "gunmetal", "steel", "aluminium", "aluminum", "titanium", "iron"}

MATERIALS: tuple[str, ...] = ("leather", "metal", "wood", "plastic", "glass", "fabric", "ceramic",
                              "rubber", "cardboard")

#: material words: phrase -> (material, implied colour name or "")
MATERIAL_WORDS: dict[str, tuple[str, str]] = {
    "leather": ("leather", ""), "suede": ("leather", ""), "faux leather": ("leather", ""),
    "vegan leather": ("leather", ""), "pu leather": ("leather", ""), "nubuck": ("leather", ""),
    "metal": ("metal", ""), "metallic": ("metal", ""), "steel": ("metal", "steel"),
    "stainless": ("metal", "steel"), "stainless steel": ("metal", "steel"),
    "aluminium": ("metal", "aluminium"), "aluminum": ("metal", "aluminum"),
    "titanium": ("metal", "titanium"), "brass": ("metal", "brass"), "copper": ("metal", "copper"),
    "bronze": ("metal", "bronze"), "chrome": ("metal", "chrome"), "iron": ("metal", "iron"),
    "wood": ("wood", ""), "wooden": ("wood", ""), "timber": ("wood", ""),
    "walnut": ("wood", "walnut"), "oak": ("wood", "oak"), "bamboo": ("wood", "bamboo"),
    "maple": ("wood", "maple"), "teak": ("wood", "teak"), "mahogany": ("wood", "mahogany"),
    "birch": ("wood", "birch"), "pine": ("wood", "pine"), "ebony": ("wood", "ebony"),
    "plastic": ("plastic", ""), "acrylic": ("plastic", ""), "abs": ("plastic", ""),
    "polycarbonate": ("plastic", ""), "resin": ("plastic", ""), "vinyl": ("plastic", ""),
    "glass": ("glass", "clear"), "crystal": ("glass", "clear"), "frosted glass": ("glass", "frosted"),
    "fabric": ("fabric", ""), "cloth": ("fabric", ""), "canvas": ("fabric", ""),
    "nylon": ("fabric", ""), "polyester": ("fabric", ""), "cotton": ("fabric", ""),
    "linen": ("fabric", ""), "wool": ("fabric", ""), "felt": ("fabric", ""), "knit": ("fabric", ""),
    "mesh": ("fabric", ""), "denim": ("fabric", "denim"), "velvet": ("fabric", ""),
    "tweed": ("fabric", ""), "fleece": ("fabric", ""), "textile": ("fabric", ""),
    "upholstered": ("fabric", ""), "ceramic": ("ceramic", ""), "porcelain": ("ceramic", "white"),
    "stoneware": ("ceramic", ""), "earthenware": ("ceramic", ""), "clay": ("ceramic", "terracotta"),
    "terracotta": ("ceramic", "terracotta"), "marble": ("ceramic", "marble"),
    "concrete": ("ceramic", "concrete"), "rubber": ("rubber", ""), "silicone": ("rubber", ""),
    "rubberized": ("rubber", ""), "rubberised": ("rubber", ""), "foam": ("rubber", ""),
    "cardboard": ("cardboard", "kraft"), "paper": ("cardboard", "white"),
    "kraft": ("cardboard", "kraft"), "cork": ("cardboard", "cork"),
}

FINISH_WORDS: dict[str, str] = {
    "matte": "matte", "matt": "matte", "satin": "satin", "brushed": "satin", "frosted": "matte",
    "glossy": "glossy", "gloss": "glossy", "shiny": "glossy", "polished": "glossy",
    "lacquered": "glossy", "glazed": "glossy", "high gloss": "glossy",
}

TONE_WORDS: dict[str, str] = {
    "light": "light", "pale": "light", "pastel": "light", "soft": "light",
    "dark": "dark", "deep": "dark", "bright": "bright", "vivid": "bright", "neon": "bright",
    "muted": "muted", "dusty": "muted",
}

#: category nouns: phrase -> (category, variant)
CATEGORY_WORDS: dict[str, tuple[str, str]] = {
    "bag": ("bag", ""), "handbag": ("bag", "handbag"), "purse": ("bag", "handbag"),
    "clutch": ("bag", "handbag"), "tote": ("bag", "tote"), "shopper": ("bag", "tote"),
    "messenger": ("bag", "messenger"), "satchel": ("bag", "messenger"),
    "crossbody": ("bag", "messenger"), "shoulder bag": ("bag", "messenger"),
    "duffel": ("bag", "duffel"), "duffle": ("bag", "duffel"), "weekender": ("bag", "duffel"),
    "gym bag": ("bag", "duffel"), "briefcase": ("bag", "messenger"),
    "backpack": ("backpack", ""), "rucksack": ("backpack", ""), "knapsack": ("backpack", ""),
    "daypack": ("backpack", ""), "bottle": ("bottle", ""), "water bottle": ("bottle", ""),
    "flask": ("bottle", ""), "thermos": ("bottle", ""), "canteen": ("bottle", ""),
    "mug": ("mug", ""), "cup": ("mug", ""), "teacup": ("mug", ""), "coffee cup": ("mug", ""),
    "box": ("box", ""), "gift box": ("box", "gift"), "package": ("box", ""), "crate": ("box", ""),
    "carton": ("box", ""), "packaging": ("box", ""), "gift": ("box", "gift"),
    "shoe": ("shoe", "sneaker"), "shoes": ("shoe", "sneaker"), "sneaker": ("shoe", "sneaker"),
    "sneakers": ("shoe", "sneaker"), "trainer": ("shoe", "sneaker"), "trainers": ("shoe", "sneaker"),
    "runner": ("shoe", "sneaker"), "runners": ("shoe", "sneaker"), "boot": ("shoe", "boot"),
    "boots": ("shoe", "boot"), "loafer": ("shoe", "sneaker"), "footwear": ("shoe", "sneaker"),
    "chair": ("chair", ""), "armchair": ("chair", ""), "stool": ("chair", "stool"),
    "seat": ("chair", ""), "office chair": ("chair", "office"), "desk chair": ("chair", "office"),
    "swivel chair": ("chair", "office"), "gaming chair": ("chair", "office"), "lamp": ("lamp", ""),
    "desk lamp": ("lamp", "desk"),
    "table lamp": ("lamp", ""), "floor lamp": ("lamp", ""), "lampshade": ("lamp", ""),
    "lantern": ("lamp", ""), "night light": ("lamp", ""), "reading light": ("lamp", ""),
    "pendant light": ("lamp", ""), "watch": ("watch", ""),
    "smartwatch": ("watch", "smart"), "smart watch": ("watch", "smart"),
    "wristwatch": ("watch", ""), "phone": ("phone", ""), "smartphone": ("phone", ""),
    "cellphone": ("phone", ""), "mobile phone": ("phone", ""), "iphone": ("phone", ""),
    "headphones": ("headphones", ""), "headphone": ("headphones", ""),
    "headset": ("headphones", ""), "earphones": ("headphones", ""), "cans": ("headphones", ""),
    "speaker": ("speaker", ""), "speakers": ("speaker", ""), "boombox": ("speaker", ""),
    "smart speaker": ("speaker", "smart"), "soundbar": ("speaker", ""),
    "table": ("table", ""), "desk": ("table", ""), "coffee table": ("table", "coffee"),
    "side table": ("table", "side"), "laptop": ("laptop", ""), "notebook": ("laptop", ""),
    "macbook": ("laptop", ""), "vase": ("vase", ""), "planter": ("vase", ""), "pot": ("vase", ""),
    "jar": ("vase", ""), "tumbler": ("tumbler", ""), "travel mug": ("tumbler", ""),
    # categories from Google's product taxonomy (google.com/basepages/producttype/taxonomy.en-US.txt)
    "sofa": ("sofa", ""), "couch": ("sofa", ""), "settee": ("sofa", ""), "loveseat": ("sofa", ""),
    "kettle": ("kettle", ""), "electric kettle": ("kettle", ""), "teapot": ("kettle", ""),
    "suitcase": ("suitcase", ""), "luggage": ("suitcase", ""), "carry on": ("suitcase", ""),
    "trolley case": ("suitcase", ""), "t shirt": ("tshirt", ""), "tshirt": ("tshirt", ""),
    "tee": ("tshirt", ""), "shirt": ("tshirt", ""),
    "sunglasses": ("sunglasses", ""), "shades": ("sunglasses", ""), "glasses": ("sunglasses", ""),
    "eyeglasses": ("sunglasses", ""), "spectacles": ("sunglasses", ""),
    "camera": ("camera", ""), "digital camera": ("camera", ""), "dslr": ("camera", ""),
    "mirrorless camera": ("camera", ""), "toaster": ("toaster", ""), "wallet": ("wallet", ""),
    "billfold": ("wallet", ""), "card holder": ("wallet", ""),
    "baseball cap": ("hat", ""), "hat": ("hat", ""), "bowl": ("bowl", ""), "wine glass": ("glass", ""),
    "goblet": ("glass", ""), "champagne flute": ("glass", ""),
    "candle": ("candle", ""), "pillar candle": ("candle", ""), "monitor": ("monitor", ""),
    "computer monitor": ("monitor", ""), "television": ("monitor", ""), "tv": ("monitor", ""),
    "computer mouse": ("mouse", ""), "mouse": ("mouse", ""), "dumbbell": ("dumbbell", ""),
    "book": ("book", ""), "journal": ("book", ""), "hardcover": ("book", ""),
    "perfume": ("perfume", ""), "perfume bottle": ("perfume", ""), "cologne": ("perfume", ""),
    "fragrance": ("perfume", ""), "clock": ("clock", ""), "wall clock": ("clock", ""),
    "pillow": ("pillow", ""), "throw pillow": ("pillow", ""), "cushion": ("pillow", ""),
    "cap": ("hat", ""),
}

#: part nouns: phrase -> canonical part
PART_WORDS: dict[str, str] = {
    "strap": "strap", "straps": "strap", "shoulder strap": "strap", "band": "strap",
    "bands": "strap", "wristband": "strap", "bracelet": "strap", "belt": "strap",
    "handle": "handle", "handles": "handle", "grip": "handle", "top handle": "handle",
    "cap": "cap", "cork": "cap", "stopper": "cap", "lid": "lid", "cover": "lid",
    "laces": "laces", "lace": "laces", "shoelaces": "laces", "legs": "legs", "leg": "legs",
    "feet": "legs", "buttons": "buttons", "button": "buttons", "screen": "screen",
    "display": "screen", "touchscreen": "screen", "sole": "sole", "soles": "sole",
    "outsole": "sole", "midsole": "sole", "zipper": "zipper", "zippers": "zipper", "zip": "zipper",
    "zips": "zipper", "pocket": "pocket", "pockets": "pocket", "grille": "grille", "grill": "grille",
    "speaker grille": "grille", "ear cups": "ear_cups", "ear cup": "ear_cups", "earcups": "ear_cups",
    "earcup": "ear_cups", "ear pads": "ear_cups", "earpads": "ear_cups", "cushions": "ear_cups",
    "headband": "headband", "head band": "headband", "face": "face", "watch face": "face",
    "dial": "face", "lens": "lens", "lenses": "lens", "camera": "lens", "shade": "shade",
    "base": "base", "stand": "base", "pedestal": "base", "backrest": "backrest",
    "flap": "flap", "buckle": "buckle", "clasp": "buckle", "keyboard": "keyboard",
    "straw": "straw", "ribbon": "ribbon", "bow": "ribbon", "logo": "logo", "emblem": "logo",
    "badge": "logo", "monogram": "logo", "body": "body", "main body": "body",
    "wheels": "wheels", "wheel": "wheels", "casters": "wheels", "castors": "wheels",
    "brim": "brim", "visor": "brim", "peak": "brim",
    # small parts whose colour the words care about: each gets a place the front camera sees
    "accents": "hardware", "accent": "hardware", "hardware": "hardware", "fittings": "hardware",
    "studs": "hardware", "rivets": "hardware", "trim": "trim", "trims": "trim", "piping": "trim",
    "edging": "trim", "edges": "trim", "rim": "trim", "rims": "trim", "border": "trim",
    "binding": "trim", "bezel": "trim", "stitching": "stitching", "stitches": "stitching",
    "stitch": "stitching", "topstitching": "stitching", "contrast stitching": "stitching",
    "seams": "stitching",
    "frame": "body", "case": "body", "shell": "body", "cushion": "seat", "seat": "seat",
}

#: human labels for parts in key-element phrases, per category where it differs
PART_LABELS: dict[str, str] = {
    "strap": "strap", "handle": "handle", "cap": "cap", "lid": "lid", "laces": "laces",
    "legs": "legs", "buttons": "buttons", "screen": "screen", "sole": "sole", "zipper": "zipper",
    "pocket": "pocket", "grille": "speaker grille", "ear_cups": "ear cups", "headband": "headband",
    "face": "watch face", "lens": "camera lens", "shade": "shade", "base": "base",
    "backrest": "backrest", "flap": "flap", "buckle": "buckle", "keyboard": "keyboard",
    "straw": "straw", "ribbon": "ribbon", "seat": "seat", "hardware": "hardware", "trim": "trim",
    "wheels": "wheels", "stitching": "stitching", "brim": "brim",
}
CATEGORY_PART_LABELS: dict[tuple[str, str], str] = {
    ("watch", "strap"): "band", ("bag", "strap"): "shoulder strap",
    ("backpack", "strap"): "shoulder straps", ("backpack", "pocket"): "front pocket",
    ("bag", "pocket"): "back pocket", ("phone", "lens"): "camera lenses",
    ("watch", "screen"): "display", ("speaker", "buttons"): "control buttons",
    ("mug", "trim"): "rim", ("tumbler", "trim"): "rim", ("bottle", "trim"): "rim",
    ("vase", "trim"): "rim", ("watch", "trim"): "bezel", ("lamp", "trim"): "shade trim",
    ("sofa", "seat"): "seat cushions", ("sofa", "backrest"): "back cushions", ("monitor", "base"): "stand",
    ("sunglasses", "lens"): "lenses", ("clock", "face"): "clock face",
}

SIZE_WORDS: dict[str, tuple[float, float, float]] = {
    "tall": (1.0, 1.3, 1.0), "high": (1.0, 1.25, 1.0), "short": (1.0, 0.8, 1.0),
    "low": (1.0, 0.8, 1.0), "squat": (1.1, 0.75, 1.1), "slim": (0.82, 1.0, 0.85),
    "thin": (0.82, 1.0, 0.82), "narrow": (0.8, 1.0, 0.9), "skinny": (0.78, 1.0, 0.8),
    "wide": (1.25, 1.0, 1.05), "broad": (1.2, 1.0, 1.05), "large": (1.25, 1.25, 1.25),
    "big": (1.25, 1.25, 1.25), "oversized": (1.4, 1.4, 1.4), "huge": (1.5, 1.5, 1.5),
    "giant": (1.6, 1.6, 1.6), "small": (0.78, 0.78, 0.78), "mini": (0.62, 0.62, 0.62),
    "compact": (0.8, 0.8, 0.8), "tiny": (0.55, 0.55, 0.55), "little": (0.8, 0.8, 0.8),
    "petite": (0.75, 0.75, 0.75), "deep": (1.0, 1.0, 1.3), "flat": (1.1, 0.5, 1.1),
    "chunky": (1.15, 1.05, 1.15), "long": (1.2, 1.0, 1.0),
}

#: survey colour names that are also nouns used to say what kind of product it is
#: ("coffee mug", "wine glass", "water bottle"): after another colour they are not one
ADJUNCT_WORDS = {"coffee", "tea", "water", "wine", "ice", "sea", "sky", "ocean", "forest", "grass",
                 "leaf", "night", "earth", "sand", "stone", "brick", "cement", "milk", "honey", "sun",
                 "rain", "beer", "lemon", "cherry", "chocolate", "desert", "cream"}

#: shape words: phrase -> body shape
SHAPE_WORDS: dict[str, str] = {
    "round": "round", "circular": "round", "oval": "round", "rounded": "round",
    "cylindrical": "cylinder", "cylinder": "cylinder", "tubular": "cylinder", "barrel": "cylinder",
    "spherical": "sphere", "sphere": "sphere", "ball": "sphere", "globe": "sphere", "orb": "sphere",
    "square": "square", "cube": "square", "cubic": "square", "boxy": "square",
}
#: which way a category's "square" / "round" goes: its footprint (seen from above) or its face
FOOTPRINT_CATEGORIES = {"table", "box", "chair", "product", "lamp", "speaker", "vase", "mug", "bottle",
                        "tumbler"}
NUMBER_WORDS: dict[str, int] = {"one": 1, "single": 1, "two": 2, "twin": 2, "three": 3, "four": 4,
                                "five": 5, "six": 6, "seven": 7, "eight": 8}
_COUNT = re.compile(r"\b(one|single|two|twin|three|four|five|six|seven|eight|\d)[\s-]*"
                    r"(leg|legs|legged|wheel|wheels|wheeled|caster|casters|castor|castors)\b")

BREAK_WORDS = {"with", "and", "featuring", "plus", "has", "having", "including", "includes",
               "that", "which", "but", "while", ",", ".", ";", "&"}
IN_WORDS = {"in", "of", "from", "made of", "made from", "made in", "finished in", "done in"}
PLACEMENT_WORDS = {"front", "back", "rear", "side", "top", "bottom"}


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class PartSpec:
    """A category's default part: colour rule ("self", "dark", "light" or a colour name)
    and material ("self" or a material)."""

    name: str
    color: str = "self"
    material: str = "self"


@dataclass(frozen=True)
class Template:
    dims: tuple[float, float, float]
    material: str
    palette: tuple[str, ...]
    parts: tuple[PartSpec, ...]
    noun: str


TEMPLATES: dict[str, Template] = {
    "bag": Template((34.0, 27.0, 12.0), "leather", ("tan", "black", "cognac", "navy", "burgundy"),
                    (PartSpec("handle"), PartSpec("zipper", "gold", "metal"),
                     PartSpec("pocket", "dark")), "bag"),
    "backpack": Template((30.0, 44.0, 17.0), "fabric",
                         ("charcoal", "navy", "olive", "black", "red", "teal"),
                         (PartSpec("strap", "dark"), PartSpec("handle", "dark"),
                          PartSpec("pocket", "self"), PartSpec("zipper", "black", "metal")),
                         "backpack"),
    "bottle": Template((7.4, 25.0, 7.4), "metal",
                       ("steel", "black", "navy", "sage", "white", "red"),
                       (PartSpec("cap", "black", "plastic"),), "water bottle"),
    "mug": Template((8.6, 9.6, 8.6), "ceramic", ("white", "cream", "black", "sage", "navy"),
                    (PartSpec("handle"),), "mug"),
    "box": Template((22.0, 14.0, 16.0), "cardboard", ("kraft", "white", "black", "navy"),
                    (PartSpec("lid"),), "box"),
    "shoe": Template((10.5, 11.0, 28.0), "fabric", ("white", "black", "grey", "navy", "red"),
                     (PartSpec("sole", "white", "rubber"), PartSpec("laces", "self", "fabric")),
                     "shoe"),
    "chair": Template((48.0, 84.0, 50.0), "wood", ("oak", "walnut", "black", "white"),
                      (PartSpec("legs"), PartSpec("seat"), PartSpec("backrest")), "chair"),
    "lamp": Template((28.0, 46.0, 28.0), "metal", ("brass", "black", "white", "silver"),
                     (PartSpec("shade", "cream", "fabric"), PartSpec("base")), "lamp"),
    "watch": Template((4.4, 9.2, 7.6), "metal", ("silver", "black", "gold", "rose gold"),
                      (PartSpec("strap", "brown", "leather"), PartSpec("face", "white", "glass")),
                      "watch"),
    "phone": Template((7.2, 14.8, 0.82), "metal", ("graphite", "silver", "blue", "black", "gold"),
                      (PartSpec("screen", "black", "glass"), PartSpec("buttons"),
                       PartSpec("lens", "black", "glass")), "smartphone"),
    "headphones": Template((18.0, 20.0, 8.5), "plastic", ("black", "white", "silver", "navy"),
                           (PartSpec("headband"), PartSpec("ear_cups", "dark", "leather")),
                           "headphones"),
    "speaker": Template((19.0, 8.0, 8.0), "fabric", ("charcoal", "black", "blue", "teal", "red"),
                        (PartSpec("grille", "self", "fabric"), PartSpec("buttons", "dark", "rubber")),
                        "bluetooth speaker"),
    "table": Template((110.0, 74.0, 64.0), "wood", ("oak", "walnut", "white", "black"),
                      (PartSpec("legs"),), "table"),
    "laptop": Template((31.0, 22.0, 22.0), "metal", ("silver", "space grey", "black"),
                       (PartSpec("screen", "black", "glass"), PartSpec("keyboard", "black", "plastic")),
                       "laptop"),
    "vase": Template((15.0, 28.0, 15.0), "ceramic", ("white", "sage", "terracotta", "navy", "black"),
                     (), "vase"),
    "tumbler": Template((9.0, 19.0, 9.0), "metal", ("sage", "black", "white", "pink", "navy"),
                        (PartSpec("lid", "white", "plastic"), PartSpec("straw", "white", "plastic")),
                        "tumbler"),
    # Google product taxonomy: Furniture > Sofas
    "sofa": Template((200.0, 84.0, 90.0), "fabric", ("grey", "navy", "beige", "forest green", "charcoal"),
                     (PartSpec("legs", "walnut", "wood"), PartSpec("seat"), PartSpec("backrest")), "sofa"),
    # Home & Garden > Kitchen & Dining > Kitchen Appliances > Electric Kettles
    "kettle": Template((24.0, 24.0, 16.0), "metal", ("steel", "black", "white", "cream", "red"),
                       (PartSpec("handle", "black", "plastic"), PartSpec("lid"),
                        PartSpec("base", "black", "plastic")), "kettle"),
    # Luggage & Bags > Suitcases
    "suitcase": Template((42.0, 66.0, 26.0), "plastic", ("black", "navy", "silver", "teal", "red"),
                         (PartSpec("handle", "black", "plastic"), PartSpec("wheels", "black", "rubber")),
                         "suitcase"),
    # Apparel & Accessories > Clothing > Shirts & Tops
    "tshirt": Template((52.0, 70.0, 4.0), "fabric", ("white", "black", "grey", "navy", "red"), (), "t-shirt"),
    # Apparel & Accessories > Clothing Accessories > Sunglasses
    "sunglasses": Template((14.5, 5.0, 15.0), "plastic", ("black", "brown", "gold", "silver"),
                           (PartSpec("lens", "black", "glass"),), "sunglasses"),
    # Cameras & Optics > Cameras > Digital Cameras
    "camera": Template((13.0, 9.0, 7.0), "plastic", ("black", "silver", "graphite"),
                       (PartSpec("lens", "black", "glass"), PartSpec("buttons", "silver", "metal")),
                       "camera"),
    # Home & Garden > Kitchen & Dining > Kitchen Appliances > Toasters & Grills > Toasters
    "toaster": Template((28.0, 19.0, 17.0), "metal", ("steel", "black", "cream", "red", "white"),
                        (PartSpec("buttons", "black", "plastic"),), "toaster"),
    # Apparel & Accessories > Handbags, Wallets & Cases > Wallets & Money Clips
    "wallet": Template((11.0, 9.5, 2.2), "leather", ("black", "brown", "cognac", "navy", "tan"), (),
                       "wallet"),
    # Apparel & Accessories > Clothing Accessories > Hats
    "hat": Template((20.0, 12.0, 28.0), "fabric", ("navy", "black", "red", "white", "khaki"),
                    (PartSpec("brim"),), "baseball cap"),
    # Home & Garden > Kitchen & Dining > Tableware > Dinnerware > Bowls
    "bowl": Template((16.0, 7.5, 16.0), "ceramic", ("white", "cream", "sage", "navy", "terracotta"), (),
                     "bowl"),
    # Home & Garden > Kitchen & Dining > Tableware > Drinkware > Stemware
    "glass": Template((8.5, 21.0, 8.5), "glass", ("clear",), (), "wine glass"),
    # Home & Garden > Decor > Home Fragrances > Candles
    "candle": Template((8.0, 10.0, 8.0), "ceramic", ("ivory", "white", "cream", "sage", "blush"), (),
                       "candle"),
    # Electronics > Video > Computer Monitors
    "monitor": Template((62.0, 46.0, 20.0), "plastic", ("black", "silver", "white"),
                        (PartSpec("screen", "black", "glass"), PartSpec("base")), "monitor"),
    # Electronics > Electronics Accessories > Computer Components > Input Devices > Mice & Trackballs
    "mouse": Template((6.5, 4.0, 11.5), "plastic", ("black", "white", "grey", "silver"),
                      (PartSpec("buttons", "dark"),), "computer mouse"),
    # Sporting Goods > Exercise & Fitness > Weight Lifting > Free Weights
    "dumbbell": Template((34.0, 12.0, 12.0), "metal", ("black", "steel", "grey", "pink", "blue"),
                         (PartSpec("handle", "steel", "metal"),), "dumbbell"),
    # Media > Books
    "book": Template((15.5, 23.0, 3.0), "cardboard", ("navy", "red", "forest green", "black", "white"), (),
                     "book"),
    # Health & Beauty > Personal Care > Cosmetics > Perfume & Cologne
    "perfume": Template((7.0, 12.0, 4.0), "glass", ("clear", "pink", "amber"),
                        (PartSpec("cap", "gold", "metal"),), "perfume bottle"),
    # Home & Garden > Decor > Clocks > Wall Clocks
    "clock": Template((30.0, 30.0, 5.0), "plastic", ("black", "white", "walnut", "silver"),
                      (PartSpec("face", "white", "plastic"),), "wall clock"),
    # Home & Garden > Decor > Throw Pillows
    "pillow": Template((45.0, 45.0, 14.0), "fabric", ("grey", "mustard", "navy", "cream", "sage"), (),
                       "throw pillow"),
    "product": Template((20.0, 20.0, 10.0), "plastic", ("white", "grey", "black", "blue", "teal"),
                        (), "product"),
}

#: default colours for a material when the description names the material only
MATERIAL_DEFAULT_COLOR: dict[str, str] = {
    "leather": "cognac", "metal": "steel", "wood": "oak", "glass": "clear", "fabric": "grey",
    "ceramic": "white", "rubber": "black", "cardboard": "kraft",
}

# materials named without a colour whose own look is the colour
NATURAL_TONES: dict[str, tuple[str, ...]] = {"wood": ("oak", "walnut"), "cardboard": ("kraft",)}

VARIANT_DIMS: dict[tuple[str, str], tuple[float, float, float]] = {
    ("bag", "messenger"): (36.0, 27.0, 11.0), ("bag", "tote"): (38.0, 34.0, 14.0),
    ("bag", "duffel"): (52.0, 27.0, 26.0), ("bag", "handbag"): (30.0, 22.0, 12.0),
    ("shoe", "boot"): (10.5, 18.0, 28.0), ("watch", "smart"): (4.2, 9.2, 7.6),
    ("lamp", "desk"): (30.0, 44.0, 18.0), ("speaker", "smart"): (10.0, 15.0, 10.0),
    ("table", "coffee"): (100.0, 44.0, 56.0), ("table", "side"): (45.0, 55.0, 45.0),
    ("box", "gift"): (20.0, 14.0, 20.0), ("chair", "stool"): (38.0, 66.0, 38.0),
    ("chair", "office"): (62.0, 110.0, 62.0),
}

#: a variant's parts, replacing the template's
VARIANT_PARTS: dict[tuple[str, str], tuple[PartSpec, ...]] = {
    ("bag", "messenger"): (PartSpec("strap", "dark"), PartSpec("flap"),
                           PartSpec("buckle", "gold", "metal"), PartSpec("pocket", "dark")),
    ("bag", "tote"): (PartSpec("handle"), PartSpec("pocket", "dark")),
    ("bag", "duffel"): (PartSpec("handle"), PartSpec("strap", "dark"),
                        PartSpec("zipper", "silver", "metal"), PartSpec("pocket", "dark")),
    ("watch", "smart"): (PartSpec("strap", "black", "rubber"), PartSpec("screen", "black", "glass")),
    ("lamp", "desk"): (PartSpec("shade", "self", "self"), PartSpec("base")),
    ("box", "gift"): (PartSpec("lid"), PartSpec("ribbon", "red", "fabric")),
    ("chair", "stool"): (PartSpec("legs"), PartSpec("seat")),
    ("chair", "office"): (PartSpec("seat", "self", "fabric"), PartSpec("backrest", "self", "fabric"),
                          PartSpec("base", "black", "plastic"), PartSpec("wheels", "black", "plastic")),
    ("speaker", "smart"): (PartSpec("grille", "self", "fabric"),),
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Part:
    """One coloured part of the product (a strap, a cap, laces ...)."""

    name: str
    color: RGB
    color_name: str
    material: str
    material_label: str = ""
    where: str = ""
    explicit: bool = False
    follows: str = ""  # "self" | "dark" | "light": coloured from the body until set explicitly
    follows_material: bool = False

    @property
    def material_word(self) -> str:
        return self.material_label or self.material


@dataclass(frozen=True)
class ProductModel:
    """The product as the renderer understands it: one model behind all five views."""

    category: str
    variant: str
    width: float
    height: float
    depth: float
    color: RGB
    color_name: str
    material: str
    material_label: str = ""
    finish: str = "default"
    parts: tuple[Part, ...] = ()
    logo: bool = True
    logo_color: RGB | None = None
    text: str = ""
    seed: int = 0
    shape: str = ""  # "" (the category's own) | "round" | "cylinder" | "sphere" | "square"
    legs: int = 0  # 0: the category's own number
    wheels: int = 0

    # -- parts
    def part(self, name: str) -> Part | None:
        for part in self.parts:
            if part.name == name:
                return part
        return None

    def has(self, name: str) -> bool:
        return self.part(name) is not None

    def with_part(self, part: Part) -> ProductModel:
        parts = [p for p in self.parts if p.name != part.name]
        parts.append(part)
        return replace(self, parts=tuple(parts))

    def without_part(self, name: str) -> ProductModel:
        return replace(self, parts=tuple(p for p in self.parts if p.name != name))

    # -- descriptions
    @property
    def noun(self) -> str:
        if self.category == "bag" and self.variant in ("messenger", "tote", "duffel", "handbag"):
            return {"messenger": "messenger bag", "tote": "tote bag", "duffel": "duffel bag",
                    "handbag": "handbag"}[self.variant]
        if self.category == "watch" and self.variant == "smart":
            return "smartwatch"
        if self.category == "shoe" and self.variant == "boot":
            return "boot"
        if self.category == "lamp" and self.variant == "desk":
            return "desk lamp"
        return TEMPLATES[self.category].noun

    @property
    def materials(self) -> list[str]:
        seen: list[str] = []
        for material in [self.material, *(p.material for p in self.parts)]:
            if material not in seen:
                seen.append(material)
        return seen

    def part_label(self, name: str) -> str:
        return CATEGORY_PART_LABELS.get((self.category, name), PART_LABELS.get(name, name))

    def part_phrase(self, part: Part) -> str:
        words = [part.color_name]
        if part.color_name not in part.material_word:
            words.append(part.material_word)
        words.append(self.part_label(part.name))
        return " ".join(w for w in words if w)

    def body_phrase(self) -> str:
        words = []
        if self.finish in ("matte", "glossy", "satin"):
            words.append(self.finish)
        words.append(self.color_name)
        if self.color_name not in self.material_word:
            words.append(self.material_word)
        return " ".join(words)

    @property
    def material_word(self) -> str:
        return self.material_label or self.material

    def key_elements(self, *, logo_decal: bool = False) -> list[str]:
        elements = [f"{self.body_phrase()} {self.noun} body"]
        elements += [self.part_phrase(p) for p in self.parts]
        if self.logo and (logo_decal or self.logo_color is not None):
            color = color_name_of(self.logo_color) + " " if self.logo_color else ""
            elements.append(f"{color}logo decal on front")
        return elements

    def summary(self) -> str:
        noun = self.noun
        head = f"{self.body_phrase()} {noun}"
        if not noun.endswith("s"):
            head = f"{_article(head)} {head}"
        extras = [self.part_phrase(p) for p in self.parts if p.explicit]
        if extras:
            head += " with " + _join([f"{_article(e)} {e}" if not e.endswith("s") else e
                                      for e in extras])
        return (f"{head[0].upper()}{head[1:]}, about {self.width:.0f} × {self.height:.0f} × "
                f"{self.depth:.0f} cm (W × H × D).")


def _article(phrase: str) -> str:
    return "an" if phrase[:1] in "aeiou" else "a"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- colours


def _hls(rgb: RGB) -> tuple[float, float, float]:
    return colorsys.rgb_to_hls(*(c / 255.0 for c in rgb))


def _from_hls(h: float, l: float, s: float) -> RGB:  # noqa: E741
    r, g, b = colorsys.hls_to_rgb(h, min(max(l, 0.0), 1.0), min(max(s, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def shift_lightness(rgb: RGB, amount: float) -> RGB:
    """Move a colour's lightness by ``amount`` (−1..1) towards black or white."""
    h, l, s = _hls(rgb)  # noqa: E741
    l = l + (1.0 - l) * amount if amount > 0 else l * (1.0 + amount)  # noqa: E741
    return _from_hls(h, l, s)


def apply_tone(rgb: RGB, tone: str) -> RGB:
    """A colour with a tone word applied ("pale", "deep", "pastel", "neon" ...)."""
    return modified(rgb, tone if tone in MODIFIERS else TONE_WORDS.get(tone, tone))


def color_name_of(rgb: RGB) -> str:
    """The common colour name of a computed colour (the extractor's vocabulary, so a
    model's words and the measured names agree)."""
    return nearest_name(photographed(rgb))


# --------------------------------------------------------------------------- tokens


@dataclass
class _Attrs:
    color: str | None = None
    tone: str | None = None
    mcolor: str | None = None
    material: str | None = None
    material_label: str | None = None
    finish: str | None = None
    sizes: list[str] | None = None
    where: str | None = None

    def empty(self) -> bool:
        return not (self.color or self.material or self.finish or self.sizes)

    def rgb(self) -> tuple[RGB, str] | None:
        name = self.color or self.mcolor
        if not name:
            return None
        rgb = COLORS[name]
        if self.tone and self.color:
            return apply_tone(rgb, self.tone), f"{self.tone} {name}"
        return rgb, name


_TOKEN = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[,.;&]")


def _tokens(text: str) -> list[str]:
    text = text.lower().replace("-", " ").replace("/", " ").replace("'s", "")
    return _TOKEN.findall(text)


def _lexemes(tokens: list[str]) -> list[tuple[dict[str, str], str]]:
    """Greedy longest match of 1-3 word phrases: (kinds -> value, phrase)."""
    out: list[tuple[dict[str, str], str]] = []
    i = 0
    while i < len(tokens):
        for n in (3, 2, 1):
            if len(tokens) - i < n:
                continue
            phrase = " ".join(tokens[i:i + n])
            kinds = _kinds(phrase)
            if kinds:
                out.append((kinds, phrase))
                i += n
                break
        else:
            out.append(({"word": tokens[i]}, tokens[i]))
            i += 1
    return out


def _kinds(phrase: str) -> dict[str, str]:
    kinds: dict[str, str] = {}
    if phrase in CATEGORY_WORDS:
        kinds["category"] = phrase
    if phrase in PART_WORDS:
        kinds["part"] = PART_WORDS[phrase]
    if phrase in MATERIAL_WORDS:
        kinds["material"] = phrase
    elif phrase in COLORS:
        kinds["color"] = phrase
    if phrase in FINISH_WORDS:
        kinds["finish"] = FINISH_WORDS[phrase]
    if phrase in TONE_WORDS and not kinds:
        kinds["tone"] = phrase
    if phrase in SIZE_WORDS and not kinds:
        kinds["size"] = phrase
    if phrase in BREAK_WORDS:
        kinds["break"] = phrase
    elif phrase in IN_WORDS:
        kinds["in"] = phrase
    elif phrase in PLACEMENT_WORDS and not kinds:
        kinds["where"] = phrase
    return kinds


@dataclass
class _Phrase:
    noun_kind: str  # "part" | "body"
    noun: str
    attrs: _Attrs
    orphan: bool = False  # words attached to no noun ("... with a gold rim")


def _phrases(text: str) -> tuple[list[_Phrase], list[tuple[str, str]]]:
    """Attach colour/material/finish/size words to the noun they describe.

    Returns the noun phrases and the category nouns seen, each with the clause it was
    in ("0" = before the first "with" or comma).
    """
    phrases: list[_Phrase] = []
    categories: list[tuple[str, str]] = []
    pending = _Attrs()
    last: _Phrase | None = None
    in_mode = False
    clause = 0
    for kinds, phrase in _lexemes(_tokens(text)):
        category = kinds.get("category")
        part = kinds.get("part")
        if category and part and categories:
            category = None  # "chair with a leather seat": the second noun is a part
        if category and categories and clause > 0:
            category = None  # "backpack with a laptop sleeve": not a second product
            if not part:
                continue
        if category:
            categories.append((phrase, str(clause)))
            p = _Phrase("body", "body", pending)
            phrases.append(p)
            last, pending, in_mode = p, _Attrs(), False
        elif part:
            p = _Phrase("body" if part == "body" else "part", part, pending)
            phrases.append(p)
            last, pending, in_mode = p, _Attrs(), False
        elif "color" in kinds:
            value = kinds["color"]
            if pending.color and value in ADJUNCT_WORDS:
                continue  # "a red coffee mug": the second word says what kind of mug
            if pending.color and pending.color != value:
                _flush(phrases, pending, last, in_mode)
                pending = _Attrs()
            pending.color = value
        elif "material" in kinds:
            value = kinds["material"]
            material, implied = MATERIAL_WORDS[value]
            if value in COLORS and value in METALLIC:
                pending.mcolor = value
            elif implied:
                pending.mcolor = implied
            label = _label_for(value, material)
            if label != material or pending.material != material:
                pending.material_label = label
            elif material == "wood" and pending.material_label and "wood" not in pending.material_label:
                pending.material_label += " wood"  # "walnut wood"
            pending.material = material
        elif "finish" in kinds:
            pending.finish = kinds["finish"]
        elif "tone" in kinds:
            pending.tone = kinds["tone"]
        elif "size" in kinds:
            pending.sizes = [*(pending.sizes or []), kinds["size"]]
        elif "where" in kinds:
            pending.where = kinds["where"]
        elif "in" in kinds:
            in_mode = last is not None
        elif "break" in kinds:
            if not pending.empty():  # "make the strap red and ...": words after a noun
                _flush(phrases, pending, last, True)
                pending = _Attrs()
            in_mode, last = False, None
            if kinds["break"] in ("with", ",", ".", ";"):
                clause += 1
    if not pending.empty():
        _flush(phrases, pending, last, True)
    return phrases, categories


def _flush(phrases: list[_Phrase], pending: _Attrs, last: _Phrase | None, in_mode: bool) -> None:
    if in_mode and last is not None:
        _merge(last.attrs, pending)
    else:
        phrases.append(_Phrase("body", "body", pending, orphan=True))


_SINGLE = ("color", "tone", "mcolor", "material", "material_label", "finish", "where")


def _merge(into: _Attrs, extra: _Attrs) -> None:
    for name in _SINGLE:
        value = getattr(extra, name)
        if value is not None:
            setattr(into, name, value)
    if extra.sizes:
        into.sizes = [*(into.sizes or []), *extra.sizes]


def _fill(into: _Attrs, extra: _Attrs) -> None:
    """``_merge`` that only sets what ``into`` does not have yet."""
    if into.color is not None or into.mcolor is not None:
        extra = replace(extra, color=None, tone=None, mcolor=None)
    if into.material is not None:
        extra = replace(extra, material=None, material_label=None)
    _merge(into, replace(extra, **{n: None for n in _SINGLE if getattr(into, n) is not None}))


def _label_for(word: str, material: str) -> str:
    if word in ("metal", "metallic", "wood", "wooden", "plastic", "fabric", "ceramic", "rubber",
                "glass", "leather", "cardboard"):
        return material
    if word == "stainless":
        return "stainless steel"
    return word


# --------------------------------------------------------------------------- parse


def _stable_hash(text: str) -> int:
    h = 2166136261
    for ch in text.encode("utf-8"):
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def _pick_category(categories: list[tuple[str, str]]) -> tuple[str, str]:
    if not categories:
        return "product", ""
    main = [c for c, clause in categories if clause == "0"] or [c for c, _ in categories]
    phrase = main[-1]
    category, variant = CATEGORY_WORDS[phrase]
    for other in main:  # "messenger bag": the variant word comes before the head noun
        cat, var = CATEGORY_WORDS[other]
        if cat == category and var and not variant:
            variant = var
    return category, variant


_DIMS = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:x|×|by)\s*(\d+(?:\.\d+)?)\s*(?:(?:x|×|by)\s*(\d+(?:\.\d+)?))?\s*(cm|mm|in|inch|inches)?")
_ONE_DIM = re.compile(r"(\d+(?:\.\d+)?)\s*(cm|mm|in|inch|inches)\s+(tall|high|wide|deep|long)")


def _explicit_dims(text: str, dims: list[float]) -> list[float]:
    low = text.lower()
    unit = {"cm": 1.0, "mm": 0.1, "in": 2.54, "inch": 2.54, "inches": 2.54, None: 1.0}
    m = _DIMS.search(low)
    if m and m.group(3):
        f = unit[m.group(4)]
        return [float(m.group(1)) * f, float(m.group(2)) * f, float(m.group(3)) * f]
    for value, u, axis in _ONE_DIM.findall(low):
        v = float(value) * unit[u]
        index = {"tall": 1, "high": 1, "wide": 0, "deep": 2, "long": 0}[axis]
        if 0.5 <= v <= 400:
            scale = v / dims[index]
            dims = [d * scale for d in dims] if index == 1 else dims
            dims[index] = v
    return dims


def _resolve_part(spec: PartSpec, body: RGB, body_material: str, body_name: str = "") -> Part:
    body_name = body_name or color_name_of(body)
    if spec.color == "self":
        rgb, cname = body, body_name
    elif spec.color == "dark":
        rgb = shift_lightness(body, -0.22)
        cname = body_name if body_name.startswith("dark") or body_name == "black" else f"dark {body_name}"
    elif spec.color == "light":
        rgb = shift_lightness(body, 0.25)
        cname = f"light {body_name}"
    else:
        rgb, cname = COLORS[spec.color], spec.color
    material = body_material if spec.material == "self" else spec.material
    follows = spec.color if spec.color in ("self", "dark", "light") else ""
    return Part(spec.name, rgb, cname, material, follows=follows,
                follows_material=spec.material == "self")


def _clamp_dims(dims: list[float]) -> tuple[float, float, float]:
    w, h, d = (min(max(v, 0.3), 500.0) for v in dims)
    return (round(w, 2), round(h, 2), round(d, 2))


def parse_description(text: str, seed: int = 0) -> ProductModel:
    """Read a product description into a ``ProductModel`` (unknown products fall back
    to a generic rounded product). Raises ``InvalidInput`` when there is nothing to read."""
    if text is None or not re.search(r"[A-Za-z]", text):
        raise InvalidInput("Describe the product in words (for example \"navy leather "
                           "messenger bag with a tan strap\").")
    text = text.strip()[:2000]
    phrases, categories = _phrases(text)
    category, variant = _pick_category(categories)
    shape, legs, wheels = shape_words(text)
    if wheels and category == "chair" and variant in ("", "office"):
        variant = "office"
    template = TEMPLATES[category]

    # words on the product noun win; words attached to no noun (an unknown part such as
    # "with a gold rim") only fill in what the product's own words left open
    body_attrs = _Attrs()
    for p in phrases:
        if p.noun_kind == "body" and not p.orphan:
            _merge(body_attrs, p.attrs)
    for p in phrases:
        if p.noun_kind == "body" and p.orphan:
            _fill(body_attrs, p.attrs)

    material = body_attrs.material or template.material
    material_label = body_attrs.material_label or ""
    if body_attrs.rgb() is not None and body_attrs.color:
        body_rgb, body_cname = body_attrs.rgb()  # type: ignore[misc]
        if not body_attrs.material and body_attrs.color in METALLIC:
            material = "metal"
    elif body_attrs.mcolor:
        body_rgb, body_cname = COLORS[body_attrs.mcolor], body_attrs.mcolor
    elif body_attrs.material in NATURAL_TONES:  # "a wooden table": wood-coloured, not white
        tones = NATURAL_TONES[body_attrs.material]
        body_cname = tones[(seed + _stable_hash(text)) % len(tones)]
        body_rgb = COLORS[body_cname]
    elif body_attrs.material and body_attrs.material != template.material:
        body_cname = MATERIAL_DEFAULT_COLOR.get(material, template.palette[0])
        body_rgb = COLORS[body_cname]
    else:
        body_cname = template.palette[(seed + _stable_hash(text)) % len(template.palette)]
        body_rgb = COLORS[body_cname]

    dims = list(VARIANT_DIMS.get((category, variant), template.dims))
    for word in body_attrs.sizes or []:
        f = SIZE_WORDS[word]
        if word == "long" and category == "shoe":
            f = (1.0, 1.0, 1.15)
        dims = [d * k for d, k in zip(dims, f, strict=True)]
    dims = _shaped_dims(dims, shape, category)
    dims = _explicit_dims(text, dims)
    # the seed nudges proportions a little, so two seeds give two takes on one product
    jitter = ((seed * 2654435761) % 1000) / 1000.0 - 0.5
    keep_round = shape in ("round", "cylinder", "sphere") or (
        shape == "square" and category in FOOTPRINT_CATEGORIES)
    dims = [dims[0] * (1 + 0.04 * jitter), dims[1] * (1 - 0.03 * jitter),
            dims[2] * (1 + 0.04 * jitter if keep_round else 1.0)]

    specs = {s.name: s for s in VARIANT_PARTS.get((category, variant), template.parts)}
    parts: dict[str, Part] = {name: _resolve_part(s, body_rgb, material, body_cname)
                              for name, s in specs.items()}

    logo_color: RGB | None = None
    for p in phrases:
        if p.noun_kind != "part":
            continue
        a = p.attrs
        if p.noun == "logo":
            picked = a.rgb()
            logo_color = picked[0] if picked else COLORS["white"]
            continue
        base = parts.get(p.noun) or _resolve_part(PartSpec(p.noun, *_default_part_look(p.noun)),
                                                  body_rgb, material, body_cname)
        picked = a.rgb()
        rgb, cname = picked if picked else (base.color, base.color_name)
        part_material = a.material or (
            "metal" if a.color in METALLIC and not a.material else base.material)
        if a.material and not picked:
            cname = MATERIAL_DEFAULT_COLOR.get(a.material, cname)
            rgb = COLORS[cname]
        parts[p.noun] = Part(p.noun, rgb, cname, part_material, a.material_label or "",
                             a.where or base.where, explicit=True)

    finish = body_attrs.finish or "default"
    return ProductModel(
        category=category, variant=variant, width=_clamp_dims(dims)[0],
        height=_clamp_dims(dims)[1], depth=_clamp_dims(dims)[2], color=body_rgb,
        color_name=body_cname, material=material, material_label=material_label,
        finish=finish, parts=tuple(parts.values()), logo=True, logo_color=logo_color,
        text=text, seed=seed, shape=shape, legs=legs, wheels=wheels,
    )


def shape_words(text: str) -> tuple[str, int, int]:
    """The body shape and the leg and wheel counts the words give ("a round table",
    "a five-wheeled office chair", "a three-legged stool", "on four legs")."""
    low = text.lower()
    head = re.split(r"\bwith\b|,|;", low, maxsplit=1)[0]  # the product's own words
    shape = ""
    for token in re.findall(r"[a-z]+", head):
        shape = SHAPE_WORDS.get(token, shape)
    legs = wheels = 0
    for number, noun in _COUNT.findall(low):
        n = int(number) if number.isdigit() else NUMBER_WORDS[number]
        if noun.startswith("leg"):
            legs = min(max(n, 1), 8)
        else:
            wheels = min(max(n, 3), 8)
    return shape, legs, wheels


def _shaped_dims(dims: list[float], shape: str, category: str) -> list[float]:
    """Proportions a shape word implies: round and square footprints are as deep as
    wide, a round or square face as tall as wide, a sphere all three."""
    w, h, d = dims
    if shape == "sphere":
        s = (w * h * d) ** (1 / 3)
        return [s, s, s]
    if shape in ("round", "square", "cylinder"):
        if category in FOOTPRINT_CATEGORIES or shape == "cylinder":
            m = max(w, d) if category == "table" else (w + d) / 2
            return [m, h, m]
        m = (w + h) / 2
        return [m, m, d]
    return dims


def _default_part_look(name: str) -> tuple[str, str]:
    return {
        "zipper": ("silver", "metal"), "buckle": ("silver", "metal"), "laces": ("white", "fabric"),
        "screen": ("black", "glass"), "lens": ("black", "glass"), "sole": ("white", "rubber"),
        "legs": ("self", "self"), "cap": ("black", "plastic"), "lid": ("self", "self"),
        "buttons": ("dark", "self"), "grille": ("dark", "fabric"), "ear_cups": ("dark", "leather"),
        "face": ("white", "glass"), "shade": ("cream", "fabric"), "ribbon": ("red", "fabric"),
        "straw": ("white", "plastic"), "keyboard": ("black", "plastic"),
        "hardware": ("gold", "metal"), "trim": ("dark", "self"), "stitching": ("light", "self"),
    }.get(name, ("self", "self"))


# --------------------------------------------------------------------------- feedback

_REMOVE = re.compile(
    r"\b(?:no|without|remove|removed|drop|delete|lose|ditch|get rid of|take off|take away|"
    r"skip|omit|don't want|do not want|less)\b(?:\s+(?:the|a|an|any|its|their))?\s+"
    r"([a-z ]+?)(?=$|[,.;]|\band\b|\bbut\b)")
_ADD = re.compile(r"\b(?:add|adding|include|put|give it|attach|with)\b(?:\s+(?:a|an|the|some|two|2))?"
                  r"\s+([a-z ]+?)(?=$|[,.;]|\band\b|\bbut\b)")
_MAKE_CATEGORY = re.compile(r"\b(?:make it|turn it into|change it to|should be|instead)\s+(?:a|an)\s+"
                            r"([a-z ]+)")

_SHIFTS: dict[str, tuple[float, float, float]] = {
    "taller": (1.0, 1.2, 1.0), "higher": (1.0, 1.2, 1.0), "shorter": (1.0, 0.83, 1.0),
    "lower": (1.0, 0.85, 1.0), "wider": (1.2, 1.0, 1.0), "broader": (1.2, 1.0, 1.0),
    "narrower": (0.83, 1.0, 1.0), "slimmer": (0.83, 1.0, 0.9), "thinner": (0.83, 1.0, 0.85),
    "skinnier": (0.8, 1.0, 0.85), "bigger": (1.2, 1.2, 1.2), "larger": (1.2, 1.2, 1.2),
    "smaller": (0.83, 0.83, 0.83), "deeper": (1.0, 1.0, 1.2), "thicker": (1.0, 1.0, 1.2),
    "shallower": (1.0, 1.0, 0.83), "flatter": (1.0, 0.83, 1.0), "longer": (1.2, 1.0, 1.0),
    "chunkier": (1.15, 1.05, 1.15),
}
_INTENSITY = {"much": 1.8, "lot": 1.8, "way": 1.8, "far": 1.8, "bit": 0.5, "slightly": 0.5,
              "little": 0.5, "tad": 0.5, "somewhat": 0.6}


def _scale(factor: float, intensity: float) -> float:
    return 1.0 + (factor - 1.0) * intensity


def apply_feedback(model: ProductModel, feedback: str) -> ProductModel:
    """Change the model as one rejection note asks ("make the strap red", "taller",
    "in leather", "no strap", "remove the logo", "add a handle" ...)."""
    text = (feedback or "").lower().replace("-", " ").strip()
    if not text:
        return model
    words = _tokens(text)
    intensity = 1.0
    for w in words:
        intensity = _INTENSITY.get(w, intensity)

    # category change first, so later colour words apply to the new product
    m = _MAKE_CATEGORY.search(text)
    if m:
        for kinds, value in _lexemes(_tokens(m.group(1))):
            if "category" in kinds:
                category, _variant = CATEGORY_WORDS[value]
                if category != model.category:
                    rebuilt = parse_description(f"{model.color_name} {model.material_word} {value}",
                                                model.seed)
                    model = replace(rebuilt, text=model.text)
                break

    # parts removed / added
    removed: set[str] = set()
    for m in _REMOVE.finditer(text):
        for kinds, _phrase in _lexemes(_tokens(m.group(1))):
            value = kinds.get("part", "")
            if value:
                removed.add(value)
                if value == "logo":
                    model = replace(model, logo=False, logo_color=None)
                elif value != "body":
                    model = model.without_part(value)
                break
    for m in _ADD.finditer(text):
        for kinds, _phrase in _lexemes(_tokens(m.group(1))):
            value = kinds.get("part", "")
            if value and value not in removed:
                if value == "logo":
                    model = replace(model, logo=True)
                elif value != "body" and not model.has(value):
                    look = _default_part_look(value)
                    model = model.with_part(
                        replace(_resolve_part(PartSpec(value, *look), model.color, model.material,
                                      model.color_name),
                                explicit=True))
                break

    # colours, materials and finishes attached to parts or to the body
    phrases, _ = _phrases(text)
    for p in phrases:
        a = p.attrs
        target = p.noun if p.noun_kind == "part" else "body"
        if target in removed:
            continue
        picked = a.rgb() if a.color else None
        if target == "logo":
            if picked:
                model = replace(model, logo=True, logo_color=picked[0])
            continue
        if target == "body":
            changes: dict[str, object] = {}
            if picked:
                changes["color"], changes["color_name"] = picked
                if a.color in METALLIC and not a.material:
                    changes["material"], changes["material_label"] = "metal", ""
            if a.material:
                changes["material"] = a.material
                changes["material_label"] = a.material_label or ""
                if not picked and a.mcolor:
                    changes["color"], changes["color_name"] = COLORS[a.mcolor], a.mcolor
            if a.finish:
                changes["finish"] = a.finish
            if changes:
                model = _follow_body(replace(model, **changes))  # type: ignore[arg-type]
            continue
        part = model.part(target)
        if part is None:
            if not (picked or a.material):
                continue
            look = _default_part_look(target)
            part = _resolve_part(PartSpec(target, *look), model.color, model.material,
                                 model.color_name)
        new = part
        if picked:
            new = replace(new, color=picked[0], color_name=picked[1])
            if a.color in METALLIC and not a.material:
                new = replace(new, material="metal", material_label="")
        if a.material:
            new = replace(new, material=a.material, material_label=a.material_label or "")
            if not picked and a.mcolor:
                new = replace(new, color=COLORS[a.mcolor], color_name=a.mcolor)
        model = model.with_part(replace(new, explicit=True, follows="" if picked else new.follows,
                                        follows_material=new.follows_material and not a.material))

    # finish words alone ("matte", "make it glossy")
    for w in words:
        if w in FINISH_WORDS and not any(p.attrs.finish for p in phrases if p.noun_kind == "part"):
            model = replace(model, finish=FINISH_WORDS[w])

    # lightness shifts
    part_targets = {p.noun for p in phrases if p.noun_kind == "part"}
    for w in words:
        amount = {"darker": -0.28, "lighter": 0.3, "brighter": 0.25, "paler": 0.3}.get(w)
        if amount is None:
            continue
        amount = max(-0.8, min(0.8, amount * intensity))
        if part_targets - {"body"}:
            for name in part_targets:
                part = model.part(name)
                if part is not None:
                    rgb = shift_lightness(part.color, amount)
                    model = model.with_part(replace(part, color=rgb, color_name=color_name_of(rgb)))
        else:
            rgb = shift_lightness(model.color, amount)
            parts = tuple(replace(p, color=shift_lightness(p.color, amount * 0.6))
                          for p in model.parts)
            model = replace(model, color=rgb, color_name=color_name_of(rgb), parts=parts)

    # dimensions
    w, h, d = model.width, model.height, model.depth
    for word in words:
        if word in _SHIFTS:
            fw, fh, fd = (_scale(f, intensity) for f in _SHIFTS[word])
            w, h, d = w * fw, h * fh, d * fd
    w, h, d = _clamp_dims([w, h, d])
    return replace(model, width=w, height=h, depth=d)


def _follow_body(model: ProductModel) -> ProductModel:
    """Parts coloured "like the body" follow a changed body colour and material."""
    parts = []
    for part in model.parts:
        if part.follows:
            fresh = _resolve_part(PartSpec(part.name, part.follows, "self"), model.color,
                                  model.material, model.color_name)
            part = replace(part, color=fresh.color, color_name=fresh.color_name)
        if part.follows_material:
            part = replace(part, material=model.material, material_label=model.material_label)
        parts.append(part)
    return replace(model, parts=tuple(parts))


@lru_cache(maxsize=256)
def build_model(text: str, feedback: tuple[str, ...] = (), seed: int = 0) -> ProductModel:
    """The model for a description after every feedback note (oldest first), cached."""
    model = parse_description(text, seed)
    for note in feedback:
        model = apply_feedback(model, note)
    return model

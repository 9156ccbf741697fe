"""The words the offline parser knows, and what each product category looks like.

Colour names come from ``viewgen.color`` (one vocabulary with the extractor); here are
the material, finish, tone, size and shape words, category and part nouns (categories
beyond the first sixteen are taken from Google's product taxonomy, each with its path),
numbers for counts, and per category a ``Template``: default size, material, palette and
parts. A new category or word goes here (and a builder in ``scene.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from viewgen.color import COLOR_HEX, hex_to_rgb

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
                 "rain", "beer", "lemon", "cherry", "chocolate", "desert", "cream",
                 # drinks and foods that name a kind of cup, glass or dish ("a red espresso cup")
                 "espresso", "mocha", "cocoa", "champagne", "butter"}

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

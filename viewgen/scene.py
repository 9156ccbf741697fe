"""What a description says about the scene rather than the product.

"A black camera on a silver tripod" is a black camera; "red sneakers against a white
background" are red sneakers. ``without_scene`` drops such a phrase (a preposition of
place, then within a few words a surface, a backdrop or a stand the product is shown on)
so that neither the offline renderer nor the QA gate takes the tripod's silver or the
backdrop's white for the product's. A place on the product ("a logo on the front", "a
pocket on the side") is kept, and so is everything after the phrase ("... on a wooden
table, with a gold rim").
"""

from __future__ import annotations

import re
from collections.abc import Container

SCENE_NOUNS = frozenset({
    "tripod", "table", "tabletop", "desk", "counter", "countertop", "worktop", "shelf",
    "shelves", "floor", "ground", "background", "backdrop", "surface", "wall", "grass",
    "sand", "rock", "rocks", "stone", "pedestal", "plinth", "windowsill", "sill",
    "tablecloth", "podium", "turntable", "mannequin", "model", "hanger", "hook"})
_STOP = frozenset({"with", "and", "featuring", "plus", "that", "which", "but", "while",
                   "front", "back", "rear", "side", "top", "bottom", "inside", "outside"})
_START = re.compile(
    r"\b(?:(?:standing|sitting|resting|placed|lying|set|shown|mounted|displayed|hanging)\s+)?"
    r"(?:on top of|on|atop|upon|beside|next to|in front of|against|near|under)\s+")
_WORD = re.compile(r"[a-z]+|[,.;:]")
_REACH = 5  # words after the preposition in which the scene noun must come


def without_scene(text: str, *, also: Container[str] = ()) -> str:
    """``text`` without the phrases that place the product in a scene; ``also``: more
    nouns that end such a phrase (the offline renderer passes its product nouns, so "a mug
    next to a laptop" is a mug)."""
    low = text.lower()
    kept: list[str] = []
    pos = 0
    for m in _START.finditer(low):
        if m.start() < pos:
            continue
        end = None
        for w in list(_WORD.finditer(low, m.end()))[:_REACH]:
            word = w.group()
            if word in _STOP or not word.isalpha():
                break
            if word in SCENE_NOUNS or word in also:
                end = w.end()
                break
        if end is not None:
            kept.append(text[pos:m.start()])
            pos = end
    if not kept:
        return text
    kept.append(text[pos:])
    return re.sub(r"\s+([,.;:])", r"\1", " ".join(" ".join(kept).split()))

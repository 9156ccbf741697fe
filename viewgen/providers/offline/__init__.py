"""The offline provider, viewgen's embedded default: no key, no network.

``OfflineGenerator`` builds one procedural 3D product model from the description (or
a reference photo) and renders the five views from it, so the views agree by
construction; ``OfflineExtractor`` measures features from the pixels.
"""

from viewgen.providers.offline.extract import OfflineExtractor
from viewgen.providers.offline.generator import OfflineGenerator

__all__ = ["OfflineExtractor", "OfflineGenerator"]

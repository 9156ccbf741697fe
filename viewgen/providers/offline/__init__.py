"""The offline provider, viewgen's embedded default: no key, no network.

``OfflineGenerator`` builds one procedural 3D product model from the description (or
a reference photo) and renders the five views from it, so the views agree by
construction; ``OfflineExtractor`` measures features from the pixels. ``render_at``
and ``render_spin`` show the same model from any camera (a hero shot, a turntable).
"""

from viewgen.providers.offline.camera import HERO, render_at, render_spin
from viewgen.providers.offline.extract import OfflineExtractor
from viewgen.providers.offline.generator import OfflineGenerator

__all__ = ["HERO", "OfflineExtractor", "OfflineGenerator", "render_at", "render_spin"]

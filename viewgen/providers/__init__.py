"""Provider seam: the two protocols the workflow talks to, and selection by name.

The workflow never knows which model it talks to (like simonw/llm's model plugins):
``build_generator`` / ``build_extractor`` pick an implementation from settings through
``registry.PROVIDERS``, where each provider declares its adapters, key, models, prices
and probes. Implementations live one per file: ``offline/`` (the embedded default, no
key, no network), ``gemini.py`` and ``openai_vision.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from viewgen.domain import ExtractionResult, GeneratedImage, GenerationRequest

if TYPE_CHECKING:
    from viewgen.settings import Settings


@runtime_checkable
class ImageGenerator(Protocol):
    name: str

    def generate(self, request: GenerationRequest) -> GeneratedImage:
        """Draw one view. Raises a ``viewgen.errors.ProviderError`` subclass on failure."""
        ...


@runtime_checkable
class FeatureExtractor(Protocol):
    name: str

    def extract(self, image: bytes) -> ExtractionResult:
        """Describe the product in ``image`` (PNG bytes). Raises ``ProviderError`` on failure."""
        ...


def build_generator(settings: Settings) -> ImageGenerator:
    """The image provider ``VIEWGEN_IMAGE_PROVIDER`` names (see ``registry.PROVIDERS``)."""
    from viewgen.providers import registry

    return registry.build("image", settings)


def build_extractor(settings: Settings) -> FeatureExtractor:
    """The feature provider ``VIEWGEN_FEATURE_PROVIDER`` names (see ``registry.PROVIDERS``)."""
    from viewgen.providers import registry

    return registry.build("features", settings)

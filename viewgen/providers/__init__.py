"""Provider seam: the two protocols the workflow talks to, and selection by name.

The workflow never knows which model it talks to (like simonw/llm's model plugins):
``build_generator`` / ``build_extractor`` pick an implementation from settings.
Implementations live one per file: ``offline/`` (the embedded default, no key, no
network), ``gemini.py`` and ``openai_vision.py``.
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
    name = settings.image_provider
    if name == "offline":
        from viewgen.providers.offline import OfflineGenerator

        return OfflineGenerator()
    if name == "gemini":
        from viewgen.providers.gemini import GeminiGenerator

        return GeminiGenerator(settings)
    from viewgen.errors import ConfigurationError

    raise ConfigurationError(
        f"Unknown image provider {name!r}: set VIEWGEN_IMAGE_PROVIDER to 'offline' or 'gemini'."
    )


def build_extractor(settings: Settings) -> FeatureExtractor:
    name = settings.feature_provider
    if name == "offline":
        from viewgen.providers.offline import OfflineExtractor

        return OfflineExtractor()
    if name == "openai":
        from viewgen.providers.openai_vision import OpenAIExtractor

        return OpenAIExtractor(settings)
    if name == "gemini":
        from viewgen.providers.gemini import GeminiExtractor

        return GeminiExtractor(settings)
    from viewgen.errors import ConfigurationError

    raise ConfigurationError(
        f"Unknown feature provider {name!r}: set VIEWGEN_FEATURE_PROVIDER to "
        "'offline', 'openai' or 'gemini'."
    )

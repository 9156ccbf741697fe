"""Estimated list prices of the hosted models, in one table, for ``generation_calls``.

The admin page sums ``cost_usd`` from these estimates; they are list prices in US
dollars as published by Google and OpenAI, not an invoice. Longest model-name prefix
wins, so ``gemini-2.5-flash-image-001`` is priced as ``gemini-2.5-flash-image``; a model
missing here is recorded at 0 with a warning in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Price:
    """US dollars: per 1M input tokens, per 1M output tokens, per generated image."""

    input_per_m: float = 0.0
    output_per_m: float = 0.0
    per_image: float = 0.0

    def cost(self, input_tokens: int | None, output_tokens: int | None, images: int = 0) -> float:
        return round(
            (input_tokens or 0) * self.input_per_m / 1e6
            + (output_tokens or 0) * self.output_per_m / 1e6
            + images * self.per_image,
            6,
        )


# An image from gemini-2.5-flash-image is 1290 output tokens at $30 / 1M, i.e. $0.039,
# so that model's output is priced per image only (its output tokens are the image).
PRICES: dict[str, Price] = {
    "gemini-2.5-flash-image": Price(input_per_m=0.30, per_image=0.039),
    "gemini-2.5-flash-lite": Price(input_per_m=0.10, output_per_m=0.40),
    "gemini-2.5-flash": Price(input_per_m=0.30, output_per_m=2.50),
    "gemini-2.5-pro": Price(input_per_m=1.25, output_per_m=10.00),
    "gpt-4o-mini": Price(input_per_m=0.15, output_per_m=0.60),
    "gpt-4o": Price(input_per_m=2.50, output_per_m=10.00),
    "gpt-4.1-mini": Price(input_per_m=0.40, output_per_m=1.60),
    "gpt-4.1": Price(input_per_m=2.00, output_per_m=8.00),
}

_warned: set[str] = set()


def price_for(model: str) -> Price | None:
    name = model.removeprefix("models/")
    for prefix in sorted(PRICES, key=len, reverse=True):
        if name.startswith(prefix):
            return PRICES[prefix]
    return None


def estimate_cost(model: str, input_tokens: int | None, output_tokens: int | None,
                  images: int = 0) -> float:
    price = price_for(model)
    if price is None:
        if model not in _warned:
            _warned.add(model)
            log.warning("no price known for model %r; its calls are recorded at $0", model)
        return 0.0
    return price.cost(input_tokens, output_tokens, images)

"""Estimated list prices of the hosted models, in one table, for ``generation_calls``.

The admin page sums ``cost_usd`` from these estimates; they are list prices in US
dollars as published by Google and OpenAI, not an invoice. Longest model-name prefix
wins, so ``gemini-2.5-flash-image-001`` is priced as ``gemini-2.5-flash-image``; a model
missing here is recorded at 0 with a warning in the log. The prices are declared with
each provider's models in ``registry.PROVIDERS``; this module only looks them up.
"""

from __future__ import annotations

import logging

from viewgen.providers.registry import PROVIDERS, Price, find_model

__all__ = ["PRICES", "Price", "estimate_cost", "price_for"]

log = logging.getLogger(__name__)


# the list prices live with each provider's models in the registry; this is a snapshot
# for reading (``price_for`` asks the registry itself)
PRICES: dict[str, Price] = {model.name: model.price for spec in PROVIDERS.values()
                            for model in spec.models}

_warned: set[str] = set()


def price_for(model: str) -> Price | None:
    """The list price of ``model`` (longest registered name prefix wins), or None."""
    found = find_model(model)
    return found.price if found else None


def estimate_cost(model: str, input_tokens: int | None, output_tokens: int | None,
                  images: int = 0) -> float:
    price = price_for(model)
    if price is None:
        if model not in _warned:
            _warned.add(model)
            log.warning("no price known for model %r; its calls are recorded at $0", model)
        return 0.0
    return price.cost(input_tokens, output_tokens, images)

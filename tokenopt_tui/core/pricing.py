"""Dollar cost of a call: the provider's own figure when it sends one, else a price table."""

from __future__ import annotations

from collections.abc import Mapping

# $ per million tokens (input, output). Prices drift: a provider-reported cost wins.
DEFAULT_PRICES: Mapping[str, tuple[float, float]] = {"moonshotai/kimi-k2": (0.57, 2.30)}


def call_cost(model: str, prompt_tokens: int, completion_tokens: int, reported: float | None,
              *, local: bool, prices: Mapping[str, tuple[float, float]] = DEFAULT_PRICES) -> float:
    if local or model.endswith(":free"):
        return 0.0
    if reported is not None:
        return reported
    price_in, price_out = prices.get(model, (0.0, 0.0))
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000

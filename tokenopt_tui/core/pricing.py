"""Dollar cost of a call: the provider's own figure when it sends one, else a price table."""

from __future__ import annotations

from collections.abc import Mapping


def call_cost(model: str, prompt_tokens: int, completion_tokens: int, reported: float | None,
              *, local: bool, prices: Mapping[str, tuple[float, float]]) -> float:
    """Prices drift: a provider-reported cost wins over the table (config `[prices]`)."""
    if local or model.endswith(":free"):
        return 0.0
    if reported is not None:
        return reported
    price_in, price_out = prices.get(model, (0.0, 0.0))
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000

"""Dollar cost of a call: the provider's own figure when it sends one, else a price table."""

from __future__ import annotations

from collections.abc import Mapping

#: A model's prices in dollars per million tokens: (input, output), or (input, output,
#: cached input) when the provider discounts a repeated prompt prefix.
Price = tuple[float, ...]


def call_cost(model: str, prompt_tokens: int, completion_tokens: int, reported: float | None,
              *, local: bool, prices: Mapping[str, Price], cached_tokens: int = 0) -> float:
    """Prices drift: a provider-reported cost wins over the table (config `[prices]`).

    `cached_tokens` of the prompt (served from the provider's prefix cache) are priced at
    the table's cached-input price; with none given, at the full input price (no
    discount is assumed that nobody wrote down)."""
    if local or model.endswith(":free"):
        return 0.0
    if reported is not None:
        return reported
    price = prices.get(model, (0.0, 0.0))
    price_in, price_out = price[0], price[1]
    price_cached = price[2] if len(price) > 2 else price_in
    cached = min(max(cached_tokens, 0), prompt_tokens)
    return ((prompt_tokens - cached) * price_in + cached * price_cached
            + completion_tokens * price_out) / 1_000_000

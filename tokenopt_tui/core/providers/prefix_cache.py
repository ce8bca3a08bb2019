"""Prompt-prefix reuse for the in-process model: one conversation's KV cache kept
between turns, so a turn only reads the tokens that are new since the last one.

The cache (mlx-lm's per-layer KV caches) is mutated in place by `stream_generate`
and holds prompt + generated tokens; `PrefixCache` keeps the token list it holds
beside it. For a new prompt the longest common prefix is kept, anything past it is
trimmed (or, if the cache cannot be trimmed, it is rebuilt) and only the suffix is
fed. All methods run on the provider's single model thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_REUSE = 8  # fewer shared tokens than this: not worth keeping, start afresh
DEFAULT_CAP_TOKENS = 8192  # ~36 KB a token for Gemma 3 270M in f32: ~300 MB at most
# Models whose forward pass applies the sliding-window mask itself, so their
# rotating (untrimmable past the window) layer caches can be plain, trimmable ones.
WINDOW_MASKED = frozenset({"gemma3_text"})


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens `a` and `b` share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


@dataclass(frozen=True)
class Reuse:
    """What to do with the held cache for a prompt: keep `keep` tokens, trim `trim`."""

    keep: int
    trim: int

    @property
    def rebuild(self) -> bool:
        return self.keep == 0


def plan_reuse(held: Sequence[int], prompt: Sequence[int], *, trimmable: bool,
               cap: int, min_reuse: int = MIN_REUSE) -> Reuse:
    """Pure decision: reuse the common prefix (at most len(prompt) - 1 tokens: the model
    needs one token to read to produce the next), trimming what the cache holds beyond
    it; rebuild when too little is shared, the excess cannot be trimmed or the prompt
    is over the cap."""
    if not held or len(prompt) > cap:
        return Reuse(0, len(held))
    keep = min(common_prefix(held, prompt), len(prompt) - 1)
    trim = len(held) - keep
    if keep < min_reuse or (trim and not trimmable):
        return Reuse(0, len(held))
    return Reuse(keep, trim)


def make_trimmable_cache(model: Any) -> list[Any]:
    """mlx-lm's cache for `model`, with rotating layers made windowed where that is
    exact (see WINDOW_MASKED): a rotating cache stops being trimmable once it has
    wrapped, i.e. after 512 tokens for Gemma 3, which would force a rebuild every turn;
    the windowed one keeps every token but attends only over the window."""
    from mlx_lm.models import cache as mlx_cache

    from tokenopt_tui.core.providers.windowed_cache import WindowedKVCache

    cache: list[Any] = list(mlx_cache.make_prompt_cache(model))
    if getattr(model, "model_type", None) in WINDOW_MASKED:
        cache = [WindowedKVCache(c.max_size) if isinstance(c, mlx_cache.RotatingKVCache)
                 else c for c in cache]
    return cache


def cache_offset(cache: list[Any]) -> int:
    """Tokens the cache holds (every layer holds the same number)."""
    return int(getattr(cache[0], "offset", 0)) if cache else 0


class PrefixCache:
    """The last conversation's KV cache and its tokens; dropped on a model change."""

    def __init__(self, cap_tokens: int = DEFAULT_CAP_TOKENS) -> None:
        self.cap_tokens = cap_tokens
        self._model: Any = None
        self._cache: list[Any] | None = None
        self._tokens: list[int] = []

    @property
    def tokens(self) -> list[int]:
        return list(self._tokens)

    def drop(self) -> None:
        self._model, self._cache, self._tokens = None, None, []

    def take(self, model: Any, prompt: Sequence[int]) -> tuple[list[Any], int]:
        """A cache ready for `prompt` and how many of its leading tokens it already
        holds (feed only prompt[reused:]). Call `commit` after generating."""
        from mlx_lm.models.cache import can_trim_prompt_cache, trim_prompt_cache

        if self._model is not model:
            self.drop()
        if self._cache is not None:
            plan = plan_reuse(self._tokens, prompt, trimmable=can_trim_prompt_cache(
                self._cache), cap=self.cap_tokens)
            if not plan.rebuild:
                if plan.trim:
                    trim_prompt_cache(self._cache, plan.trim)
                self._tokens = self._tokens[:plan.keep]
                if cache_offset(self._cache) == plan.keep:
                    return self._cache, plan.keep
            self.drop()
        self._model, self._cache, self._tokens = model, make_trimmable_cache(model), []
        return self._cache, 0

    def commit(self, fed: Sequence[int]) -> None:
        """After a call: `fed` is every token known to have gone in (the prompt, then
        the generated ones). mlx-lm may have read one more (an end token it does not
        report); that is trimmed so the held tokens match the cache exactly."""
        from mlx_lm.models.cache import trim_prompt_cache

        if self._cache is None:
            return
        offset = cache_offset(self._cache)
        if offset > len(fed):
            trim_prompt_cache(self._cache, offset - len(fed))
            offset = cache_offset(self._cache)
        if offset > len(fed) or offset > self.cap_tokens:
            self.drop()  # cannot say what it holds, or too big to keep
            return
        self._tokens = list(fed[:offset])

"""A trimmable KV cache for sliding-window attention layers that hands attention only
the keys inside the window.

mlx-lm gives such layers a rotating cache, which cannot be trimmed once it has wrapped
(the prefix cache must trim every turn). A plain cache can be trimmed, but then every
query attends over the whole history under a mask: on this CPU that made the first
token of turn 20 ~1.4× slower than turn 2 (attention grows with the history while the
rest of the pass does not). This cache keeps every token (so trimming stays exact) and
returns, and masks, only the keys the new queries can see: at most window + N - 1.

Imported only when a model is loaded (it needs mlx-lm).
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx
from mlx_lm.models.cache import KVCache


class WindowedKVCache(KVCache):
    """`KVCache` whose fetch and mask cover only the sliding window."""

    def __init__(self, window: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped upstream
        self.window = window

    def _start(self, offset: int) -> int:
        """The first key position the query at `offset` (the earliest new one) sees."""
        return max(0, offset - self.window + 1)

    def update_and_fetch(self, keys: Any, values: Any) -> tuple[Any, Any]:
        start = self._start(self.offset)
        all_keys, all_values = super().update_and_fetch(keys, values)  # type: ignore[no-untyped-call]
        if start == 0:
            return all_keys, all_values
        return all_keys[..., start:, :], all_values[..., start:, :]

    def make_mask(self, N: int, return_array: bool = False,
                  window_size: int | None = None) -> Any:
        """The mask for N new queries over the keys `update_and_fetch` will return
        (called by the model before the update, so `offset` is the first query's)."""
        window = window_size or self.window
        start = self._start(self.offset)
        if N == 1:
            return None  # one query sees every returned key
        queries = mx.arange(self.offset, self.offset + N)[:, None]
        keys = mx.arange(start, self.offset + N)[None]
        return (queries >= keys) & (queries < keys + window)

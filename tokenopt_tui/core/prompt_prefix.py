"""Where this request's prompt first differs from the last one's.

Providers (and the local tier's KV cache) reuse a prompt prefix only while it stays
byte-identical; `/why` shows how much of the prompt was the same as last time and what
changed first, so a volatile line near the top of the prompt is easy to spot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenopt_tui.core.providers.base import ChatMessage


@dataclass(frozen=True)
class PrefixDiff:
    same_chars: int  # characters identical from the start (role markers included)
    total_chars: int
    first_changed: int | None  # index of the first message that differs (None: none)
    changed_role: str | None

    @property
    def same_share(self) -> float:
        return self.same_chars / self.total_chars if self.total_chars else 1.0


def _flat(message: ChatMessage) -> str:
    return f"{message.role}\n{message.content}\n"


def _common_length(a: str, b: str) -> int:
    """Characters `a` and `b` share from the start (character by character on purpose)."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def compare(previous: Sequence[ChatMessage], current: Sequence[ChatMessage]) -> PrefixDiff:
    """How much of `current` repeats `previous` from the start (O(prompt) once a request)."""
    same = 0
    total = sum(len(_flat(m)) for m in current)
    for index, message in enumerate(current):
        text = _flat(message)
        if index < len(previous):
            before = _flat(previous[index])
            if before == text:
                same += len(text)
                continue
            same += _common_length(before, text)
        return PrefixDiff(same, total, index, message.role)
    return PrefixDiff(same, total, None, None)

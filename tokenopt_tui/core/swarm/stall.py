"""A cycle that repeats itself is stopped: consecutive Worker outputs, or consecutive
validator reasons, that are near-identical (rapidfuzz ratio ≥ the configured ratio)
mean another retry would buy the same answer again."""

from __future__ import annotations

from rapidfuzz import fuzz


def similarity(a: str, b: str) -> float:
    """0..1: how alike two texts are (normalised Indel ratio)."""
    return float(fuzz.ratio(a.strip(), b.strip())) / 100.0


class StallDetector:
    """Remembers the last Worker output and the last validator reasons."""

    def __init__(self, ratio: float = 0.9) -> None:
        self.ratio = ratio
        self._output: str | None = None
        self._reasons: str | None = None

    def output(self, text: str) -> bool:
        """Record a Worker output; True when it repeats the previous one."""
        stalled = self._output is not None and similarity(self._output, text) >= self.ratio
        self._output = text
        return stalled

    def reasons(self, text: str) -> bool:
        """Record the validator's reasons; True when they repeat the previous ones."""
        stalled = self._reasons is not None and similarity(self._reasons, text) >= self.ratio
        self._reasons = text
        return stalled

"""Session budgets: which threshold a token count has reached and what it asks for.

Pure arithmetic over a limit and the configured percentages; the session acts on it.
Levels in order: "ok" < "warn" (suggest /compact) < "compress" (compress before the
next call) < "halt" (no further model call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tokenopt_tui.config import BudgetThresholds

Level = Literal["ok", "warn", "compress", "halt"]
LEVELS: tuple[Level, ...] = ("ok", "warn", "compress", "halt")


@dataclass(frozen=True)
class Budget:
    """A session's budget: the one place that turns tokens into a percent and a level
    (the session acts on the level, the side bar colours by it). A zero limit is
    treated as used up."""

    limit: int
    thresholds: BudgetThresholds = field(default_factory=BudgetThresholds)

    def percent(self, used: int) -> float:
        return 100.0 * used / self.limit if self.limit > 0 else 100.0

    def level(self, used: int) -> Level:
        """The highest threshold `used` has reached."""
        pct = self.percent(used)
        t = self.thresholds
        if pct >= t.halt_percent:
            return "halt"
        if pct >= t.compress_percent:
            return "compress"
        if pct >= t.warn_percent:
            return "warn"
        return "ok"

    def crossed(self, before: int, after: int) -> list[Level]:
        """Levels newly reached going from `before` to `after` tokens, lowest first."""
        return self.crossed_from(self.level(before), after)

    def crossed_from(self, reached: Level, used: int) -> list[Level]:
        """Levels above `reached` (the highest already acted on) that `used` tokens
        reach, lowest first; none when `used` is at or below `reached`."""
        lo, hi = LEVELS.index(reached), LEVELS.index(self.level(used))
        return list(LEVELS[lo + 1:hi + 1])

    def threshold_percent(self, level: str) -> int:
        t = self.thresholds
        return {"warn": t.warn_percent, "compress": t.compress_percent,
                "halt": t.halt_percent}.get(level, 0)

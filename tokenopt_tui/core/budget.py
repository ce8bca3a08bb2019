"""Session budgets: which threshold a token count has reached and what it asks for.

Pure arithmetic over a limit and the configured percentages; the session acts on it.
Levels in order: "ok" < "warn" (suggest /compact) < "compress" (compress before the
next call) < "halt" (no further model call).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenopt_tui.config import BudgetThresholds

LEVELS = ("ok", "warn", "compress", "halt")


@dataclass(frozen=True)
class Budget:
    limit: int
    thresholds: BudgetThresholds = field(default_factory=BudgetThresholds)

    def percent(self, used: int) -> float:
        return 100.0 * used / self.limit if self.limit > 0 else 100.0

    def level(self, used: int) -> str:
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

    def crossed(self, before: int, after: int) -> list[str]:
        """Levels newly reached going from `before` to `after` tokens, lowest first."""
        lo, hi = LEVELS.index(self.level(before)), LEVELS.index(self.level(after))
        return list(LEVELS[lo + 1:hi + 1])

    def threshold_percent(self, level: str) -> int:
        t = self.thresholds
        return {"warn": t.warn_percent, "compress": t.compress_percent,
                "halt": t.halt_percent}.get(level, 0)

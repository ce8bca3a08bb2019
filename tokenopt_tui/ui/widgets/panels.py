"""Side bar panels fed by core events: budget, compression and skills.

Each panel only renders what the core reports; none of them computes policy.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Label, ProgressBar, Static

from tokenopt_tui.core.events import ContextCompacted, SkillLoaded
from tokenopt_tui.core.text import terminal_safe

BANDS = ("-green", "-yellow", "-red")


def budget_band(percent: float, warn: float = 80, compress: float = 90) -> str:
    """Colour band of a budget use: below warn green, warn..compress yellow, above red."""
    if percent >= compress:
        return "-red"
    if percent >= warn:
        return "-yellow"
    return "-green"


def money(usd: float) -> str:
    return f"${usd:.4f}" if 0 < usd < 0.01 else f"${usd:.2f}"


class Panel(Vertical):
    """A titled side bar box."""

    TITLE = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")

    def compose(self) -> ComposeResult:
        yield Label(Content(self.TITLE), classes="panel-title")


class BudgetPanel(Panel):
    """Session tokens against the budget (colour band), the next request's estimate,
    and today's spend against the paid tier's daily cap."""

    TITLE = "Budget"

    def __init__(self, budget: int, session_type: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.used = 0
        self.budget = budget
        self.session_type = session_type
        self.estimate: int | None = None
        self.spent_today = 0.0
        self.daily_cap = 0.0
        self.halted = False
        self.warn_percent, self.compress_percent = 80, 90

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", classes="budget-figures")
        yield ProgressBar(total=max(self.budget, 1), show_eta=False, show_percentage=False,
                          classes="budget-bar")
        yield Static("", classes="budget-estimate")
        yield Static("", classes="budget-spend")
        yield Static("", classes="budget-type")

    def on_mount(self) -> None:
        self.set_usage(self.used, self.budget, self.session_type)

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.budget if self.budget > 0 else 0.0

    @property
    def band(self) -> str:
        return budget_band(self.percent, self.warn_percent, self.compress_percent)

    @property
    def figures(self) -> str:
        # Rounded down, so the figure never shows a band the colour does not (89.6 → 89).
        return f"{self.used:,} / {self.budget:,} tokens ({math.floor(self.percent)}%)"

    @property
    def estimate_text(self) -> str:
        if self.halted:
            return "halted: Ctrl+N continues in a new session"
        if self.estimate is None:
            return "next request: type to estimate"
        after = 100.0 * (self.used + self.estimate) / self.budget if self.budget else 0.0
        return f"next request ≈ {self.estimate:,} tokens (→ {math.floor(after)}%)"

    @property
    def spend_text(self) -> str:
        return f"today {money(self.spent_today)} of {money(self.daily_cap)} cap"

    def set_thresholds(self, warn: int, compress: int) -> None:
        self.warn_percent, self.compress_percent = warn, compress

    def set_usage(self, used: int, budget: int, session_type: str | None = None) -> None:
        self.used, self.budget = used, budget
        if session_type is not None:
            self.session_type = session_type
        if not self.is_mounted:
            return
        self.query_one(".budget-figures", Static).update(Content(self.figures))
        self.query_one(".budget-type", Static).update(Content(f"session: {self.session_type}"))
        self.query_one(ProgressBar).update(total=max(budget, 1), progress=min(used, budget))
        band = self.band
        for name in BANDS:
            self.set_class(name == band, name)
        self._refresh_estimate()

    def set_estimate(self, tokens: int | None) -> None:
        """The next request's size while the user types (called per keystroke: cheap)."""
        if tokens == self.estimate:
            return
        self.estimate = tokens
        self._refresh_estimate()

    def set_halted(self, halted: bool) -> None:
        self.halted = halted
        self.set_class(halted, "-halted")
        self._refresh_estimate()

    def set_spend(self, spent_today: float, daily_cap: float) -> None:
        self.spent_today, self.daily_cap = spent_today, daily_cap
        if self.is_mounted:
            self.query_one(".budget-spend", Static).update(Content(self.spend_text))

    def _refresh_estimate(self) -> None:
        if self.is_mounted:
            self.query_one(".budget-estimate", Static).update(Content(self.estimate_text))


class EventListPanel(Panel):
    """A panel listing one line per event, with a placeholder until the first one."""

    EMPTY = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(Content(self.EMPTY), classes="panel-empty")

    def add_line(self, line: str) -> None:
        self.lines.append(line)
        self.query_one(".panel-empty", Static).display = False
        self.mount(Static(Content(line), classes="panel-line"))

    def clear(self) -> None:
        """Back to the placeholder (a new or resumed session)."""
        self.lines.clear()
        self.query(".panel-line").remove()
        self.query_one(".panel-empty", Static).display = True


class CompressionPanel(EventListPanel):
    """Every context compaction of this session, newest last; each one expands to show
    what was kept, compressed and dropped (nothing is deleted: see the store)."""

    TITLE = "Compression"
    EMPTY = "none yet"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: list[ContextCompacted] = []

    @staticmethod
    def headline(event: ContextCompacted) -> str:
        cost = (f"{event.cost_tokens:,} tokens, {money(event.cost_usd)}" if event.cost_tokens
                else "free")
        return (f"{terminal_safe(event.trigger)}: {event.tokens_before:,} → "
                f"{event.tokens_after:,} tokens · cost {cost}")

    @staticmethod
    def details(event: ContextCompacted) -> str:
        lines = [f"method: {event.method}"]
        for title, items in (("kept", event.kept), ("compressed", event.compressed),
                             ("dropped", event.dropped)):
            lines.append(f"{title}: " + ("none" if not items else ""))
            lines.extend(f"  · {item}" for item in items)
        return terminal_safe("\n".join(lines))

    def add_event(self, event: ContextCompacted) -> None:
        self.events.append(event)
        self.lines.append(self.headline(event))
        self.query_one(".panel-empty", Static).display = False
        details = Static(Content(self.details(event)), classes="compaction-details")
        # A Content title: a str would be parsed as markup.
        self.mount(Collapsible(details, title=Content(self.headline(event)),  # type: ignore[arg-type]
                               collapsed=True, classes="compaction"))

    def clear(self) -> None:
        self.events.clear()
        self.lines.clear()
        self.query(".compaction").remove()
        self.query_one(".panel-empty", Static).display = True


class SkillsPanel(EventListPanel):
    """Skills loaded into the context, when and why (they cost nothing until used), and
    the skills that were skipped at scan time."""

    TITLE = "Skills"
    EMPTY = "none loaded"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.warnings: list[str] = []

    def add_event(self, event: SkillLoaded, at: str | None = None) -> None:
        from datetime import datetime

        when = at or datetime.now().strftime("%H:%M:%S")
        reason = f" · {terminal_safe(event.reason)}" if event.reason else ""
        self.add_line(f"{when} {terminal_safe(event.skill_name)} · {event.tokens:,} tokens · "
                      f"score {event.score:.2f}{reason}")

    def set_warnings(self, warnings: list[str]) -> None:
        """Skills skipped or shadowed at scan time (one line each, with the file)."""
        self.warnings = list(warnings)
        self.query(".panel-warning").remove()
        if warnings:
            self.mount(Static(Content(terminal_safe("\n".join(f"⚠ {w}" for w in warnings))),
                              classes="panel-warning"), after=self.query_one(".panel-title"))

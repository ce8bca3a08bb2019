"""Side bar panels fed by core events: budget, compression and skills.

Each panel only renders what the core reports; none of them computes policy.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, ProgressBar, Static

from tokenopt_tui.core.events import ContextCompacted, SkillLoaded
from tokenopt_tui.core.text import terminal_safe

BANDS = ("-green", "-yellow", "-red")


def budget_band(percent: float) -> str:
    """Colour band of a budget use: <80 % green, 80–90 % yellow, ≥90 % red."""
    if percent >= 90:
        return "-red"
    if percent >= 80:
        return "-yellow"
    return "-green"


class Panel(Vertical):
    """A titled side bar box."""

    TITLE = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")

    def compose(self) -> ComposeResult:
        yield Label(Content(self.TITLE), classes="panel-title")


class BudgetPanel(Panel):
    """Session tokens used against the session type's budget, with a colour band."""

    TITLE = "Budget"

    def __init__(self, budget: int, session_type: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.used = 0
        self.budget = budget
        self.session_type = session_type

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", classes="budget-figures")
        yield ProgressBar(total=max(self.budget, 1), show_eta=False, show_percentage=False,
                          classes="budget-bar")
        yield Static("", classes="budget-type")

    def on_mount(self) -> None:
        self.set_usage(self.used, self.budget, self.session_type)

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.budget if self.budget > 0 else 0.0

    @property
    def band(self) -> str:
        return budget_band(self.percent)

    @property
    def figures(self) -> str:
        # Rounded down, so the figure never shows a band the colour does not (89.6 → 89).
        return f"{self.used:,} / {self.budget:,} tokens ({math.floor(self.percent)}%)"

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


class CompressionPanel(EventListPanel):
    """Every context compaction of this session (nothing is deleted: see the store)."""

    TITLE = "Compression"
    EMPTY = "none yet"

    def add_event(self, event: ContextCompacted) -> None:
        kept = f", kept {len(event.kept)}" if event.kept else ""
        self.add_line(f"{terminal_safe(event.trigger)}: {event.tokens_before:,} → "
                      f"{event.tokens_after:,} tokens{kept}")


class SkillsPanel(EventListPanel):
    """Skills loaded into the context, and why (they cost nothing until used)."""

    TITLE = "Skills"
    EMPTY = "none loaded"

    def add_event(self, event: SkillLoaded) -> None:
        reason = f" · {terminal_safe(event.reason)}" if event.reason else ""
        self.add_line(f"{terminal_safe(event.skill_name)} · {event.tokens:,} tokens · "
                      f"score {event.score:.2f}{reason}")

"""Side bar panels fed by core events: budget, compression and skills.

Each panel only renders what the core reports; none of them computes policy.

The side bar is narrow (~31 cells), and a terminal's word wrap breaks a line wherever
the edge falls ("next request ≈ 89 tokens (→" / "55%)"). So every panel line is built
from pieces that belong together ("1,244 tokens", "score 0.87") and `fit` breaks only
between pieces, indenting what follows; a piece too wide for a line of its own (a long
skill name or path, a long list of matched words) is shortened on purpose, and the
widget's tooltip holds the whole text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Label, ProgressBar, Static

from tokenopt_tui.config import BudgetThresholds
from tokenopt_tui.core.budget import Budget, Level
from tokenopt_tui.core.text import terminal_safe

if TYPE_CHECKING:  # events arrive after the first paint; their module is imported then
    from tokenopt_tui.core.events import ContextCompacted, SkillLoaded

BANDS = ("-green", "-yellow", "-red")
#: The colour of each budget level; `core.budget.Budget` decides the level.
LEVEL_BANDS: dict[Level, str] = {"ok": "-green", "warn": "-yellow", "compress": "-red",
                                 "halt": "-red"}
#: Text width assumed before the first layout: the side bar's 36 cells less its border,
#: padding and scroll bar gutter (see app.tcss #sidebar).
DEFAULT_WIDTH = 32
#: A line of text as pieces: each piece after the first carries its separator in front
#: (" · 1,244 tokens"); a line break there drops the separator.
Pieces = Sequence[str]


def clean(text: str) -> str:
    """Untrusted text as one visible line (controls shown, never interpreted)."""
    return " ".join(terminal_safe(text).split())


def words(text: str) -> list[str]:
    """Prose as pieces: it may break at any space."""
    head, *rest = text.split(" ")
    return [head, *(f" {w}" for w in rest)]


def free_pieces(line: str) -> list[str]:
    """"free requests: 37 of 50 left today" breaks after the colon, not in the figures."""
    head, sep, rest = line.partition(": ")
    return [head + ":", " " + rest] if sep else words(line)


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` cells, with "…" where it was cut."""
    if cell_len(text) <= width:
        return text
    out = ""
    for char in text:
        if cell_len(out + char) > width - 1:
            break
        out += char
    return out + "…"


class Squeeze(str):
    """A piece (a path) that is shortened into the room left on its line rather than
    moved to a line of its own."""

    __slots__ = ()

    #: The least room worth squeezing into; with less the piece starts a new line.
    MIN = 12


def shorten(piece: str, width: int) -> str:
    """One piece made to fit `width` cells, on purpose rather than by the edge: a list
    ("matched 'a', 'b', 'c'") keeps its first items and says how many more; a path keeps
    its last folders ("…/broken/SKILL.md"); anything else is cut after a whole word if it
    can be, with "…"."""
    if cell_len(piece) <= width:
        return piece
    if width <= 1:
        return "…"[:max(width, 0)]
    items = piece.split(", ")
    if len(items) > 2:
        for keep in range(len(items) - 1, 0, -1):
            short = ", ".join(items[:keep]) + f" +{len(items) - keep} more"
            if cell_len(short) <= width:
                return short
    if "/" in piece and " " not in piece:
        for at in range(1, len(piece)):
            if piece[at] == "/" and cell_len(piece[at:]) < width:
                return "…" + piece[at:]
        return "…" + piece[len(piece) - width + 1:]
    cut = _cut(piece, width)
    space = cut.rfind(" ", 0, len(cut) - 1)
    return cut[:space].rstrip(" ·,:") + "…" if space > width // 2 else cut


def fit(pieces: Pieces, width: int) -> list[str]:
    """Lay one line's pieces out in lines of at most `width` cells, breaking only between
    pieces. A continuation line is indented two cells past the first line's indent."""
    first = pieces[0] if pieces else ""
    indent = " " * (len(first) - len(first.lstrip(" ")) + 2)
    lines: list[str] = []
    line = ""
    for index, piece in enumerate(pieces):
        if index and cell_len(line + piece) <= width:
            line += piece
            continue
        room = width - cell_len(line)
        if index and isinstance(piece, Squeeze) and room >= Squeeze.MIN:
            lead = len(piece) - len(piece.lstrip(" "))
            line += piece[:lead] + shorten(piece[lead:], room - lead)
            continue
        if index:
            lines.append(line)
            piece = indent + piece.lstrip(" ·,")
        lead = len(piece) - len(piece.lstrip(" "))
        line = piece[:lead] + shorten(piece[lead:], width - lead)
    lines.append(line)
    return lines


class FitText(Static):
    """Lines laid out by `fit` for the width this widget really has, again after every
    resize (a scroll bar appearing, the window narrowing); when a piece had to be
    shortened, the tooltip holds the whole text."""

    def __init__(self, lines: Sequence[Pieces] = (), *, classes: str = "") -> None:
        super().__init__("", classes=f"fit {classes}".strip(), markup=False)
        self.logical: list[list[str]] = [list(pieces) for pieces in lines]
        self.shown = ""

    @property
    def text(self) -> str:
        """The whole text, one logical line per line (what the tooltip shows)."""
        return "\n".join("".join(pieces) for pieces in self.logical)

    def set_lines(self, lines: Sequence[Pieces]) -> None:
        self.logical = [list(pieces) for pieces in lines]
        self._layout()

    def on_mount(self) -> None:
        self._layout()

    def on_resize(self, _event: events.Resize) -> None:
        self._layout()

    def _layout(self) -> None:
        width = self.content_size.width or DEFAULT_WIDTH
        shown = "\n".join(row for pieces in self.logical for row in fit(pieces, width))
        if shown != self.shown:
            self.shown = shown
            self.update(Content(shown))
        shortened = any(piece.lstrip(" ·,") not in shown
                        for pieces in self.logical for piece in pieces)
        self.tooltip = Content(self.text) if shortened else None


def budget_band(budget: Budget, used: int) -> str:
    """Colour band of a budget use, by the session's own level: ok green, warn yellow,
    compress and halt red (so the colour can never disagree with what the session does)."""
    return LEVEL_BANDS[budget.level(used)]


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
    today's spend against the paid tier's daily cap, and the free hosted requests left
    today (shown once the app knows a free hosted tier can be used)."""

    TITLE = "Budget"
    DEFAULT_CSS = """
    BudgetPanel .budget-free {
        color: $text-muted;
    }
    """

    def __init__(self, budget: int, session_type: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.used = 0
        self.budget = budget
        self.session_type = session_type
        self.estimate: int | None = None
        self.spent_today = 0.0
        self.daily_cap = 0.0
        self.halted = False
        #: "free requests: 37 of 50 left today", or None while no free hosted tier is usable.
        self.free_text: str | None = None
        #: The session's thresholds (set once its config is known; defaults until then).
        self.thresholds = BudgetThresholds()
        #: Tokens a running swarm cycle holds out of the budget (None: no cycle runs).
        self.reserved: int | None = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield FitText(classes="budget-figures")
        yield ProgressBar(total=max(self.budget, 1), show_eta=False, show_percentage=False,
                          classes="budget-bar")
        yield FitText(classes="budget-estimate")
        yield FitText(classes="budget-spend")
        free = FitText(classes="budget-free")
        free.display = False
        yield free
        yield FitText(classes="budget-type")

    def on_mount(self) -> None:
        self.set_usage(self.used, self.budget, self.session_type)

    @property
    def budget_state(self) -> Budget:
        return Budget(self.budget, self.thresholds)

    @property
    def percent(self) -> float:
        return self.budget_state.percent(self.used)

    @property
    def band(self) -> str:
        return budget_band(self.budget_state, self.used)

    @property
    def figures_pieces(self) -> list[str]:
        # Rounded down, so the figure never shows a band the colour does not (89.6 → 89).
        pieces = [f"{self.used:,} / {self.budget:,} tokens", f" ({math.floor(self.percent)}%)"]
        if self.reserved is not None:
            pieces.append(f" · reserved {self.reserved:,}")
        return pieces

    @property
    def figures(self) -> str:
        return "".join(self.figures_pieces)

    @property
    def estimate_pieces(self) -> list[str]:
        if self.halted:
            return ["halted:", " Ctrl+N continues", " in a new session"]
        if self.estimate is None:
            return ["next request:", " type to estimate"]
        after = self.budget_state.percent(self.used + self.estimate)
        return [f"next request ≈ {self.estimate:,} tokens", f" → {math.floor(after)}%"]

    @property
    def estimate_text(self) -> str:
        return "".join(self.estimate_pieces)

    @property
    def spend_pieces(self) -> list[str]:
        return [f"today {money(self.spent_today)}", f" of {money(self.daily_cap)} cap"]

    @property
    def spend_text(self) -> str:
        return "".join(self.spend_pieces)

    def set_thresholds(self, thresholds: BudgetThresholds) -> None:
        """Colour by the session's thresholds (the config's), as its budget does."""
        self.thresholds = thresholds
        if self.is_mounted:
            self._paint_band()

    def set_usage(self, used: int, budget: int, session_type: str | None = None) -> None:
        self.used, self.budget = used, budget
        if session_type is not None:
            self.session_type = session_type
        if not self.is_mounted:
            return
        self.query_one(".budget-figures", FitText).set_lines([self.figures_pieces])
        self.query_one(".budget-type", FitText).set_lines(
            [["session:", f" {clean(self.session_type)}"]])
        self.query_one(ProgressBar).update(total=max(budget, 1), progress=min(used, budget))
        self._paint_band()
        self._refresh_estimate()

    def set_reserved(self, tokens: int | None) -> None:
        """A swarm cycle's reservation while it runs (None once it has settled)."""
        self.reserved = tokens
        self.set_class(tokens is not None, "-reserved")
        if self.is_mounted:
            self.query_one(".budget-figures", FitText).set_lines([self.figures_pieces])

    def _paint_band(self) -> None:
        band = self.band
        for name in BANDS:
            self.set_class(name == band, name)

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
            self.query_one(".budget-spend", FitText).set_lines([self.spend_pieces])

    def set_free_quota(self, line: str | None) -> None:
        """The free quota's line (`core.routing.quota.free_line`); None hides it."""
        self.free_text = line
        if self.is_mounted:
            free = self.query_one(".budget-free", FitText)
            free.display = line is not None
            free.set_lines([] if line is None else [free_pieces(line)])

    def _refresh_estimate(self) -> None:
        if self.is_mounted:
            self.query_one(".budget-estimate", FitText).set_lines([self.estimate_pieces])


class EventListPanel(Panel):
    """A panel listing one entry per event, with a placeholder until the first one.

    `lines` keeps each entry as one logical line (what tests and exports read); the
    screen shows it laid out by `fit`."""

    EMPTY = ""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static(Content(self.EMPTY), classes="panel-empty")

    def add_pieces(self, pieces: Pieces) -> None:
        self.lines.append("".join(pieces))
        self.query_one(".panel-empty", Static).display = False
        self.mount(FitText([pieces], classes="panel-line"))

    def add_line(self, line: str) -> None:
        self.add_pieces(words(clean(line)))

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
    #: Cells the collapsible's "▶ " takes before its title.
    SYMBOL_CELLS = 2

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.events: list[ContextCompacted] = []

    @staticmethod
    def headline_pieces(event: ContextCompacted) -> list[str]:
        cost = (f"{event.cost_tokens:,} tokens, {money(event.cost_usd)}" if event.cost_tokens
                else "free")
        return [f"{clean(event.trigger)}:", f" {event.tokens_before:,} → "
                f"{event.tokens_after:,} tokens", f" · cost {cost}"]

    @classmethod
    def headline(cls, event: ContextCompacted) -> str:
        return "".join(cls.headline_pieces(event))

    @staticmethod
    def details_lines(event: ContextCompacted) -> list[list[str]]:
        lines = [["method:", f" {clean(event.method)}"]]
        for title, items in (("kept", event.kept), ("compressed", event.compressed),
                             ("dropped", event.dropped)):
            lines.append([f"{title}:"] + ([" none"] if not items else []))
            lines.extend(words(f"  · {clean(item)}") for item in items)
        return lines

    @classmethod
    def details(cls, event: ContextCompacted) -> str:
        return "\n".join("".join(pieces) for pieces in cls.details_lines(event))

    def _title(self, event: ContextCompacted) -> Content:
        # A Content title: a str would be parsed as markup.
        width = (self.content_size.width or DEFAULT_WIDTH) - self.SYMBOL_CELLS
        return Content("\n".join(fit(self.headline_pieces(event), width)))

    def add_event(self, event: ContextCompacted) -> None:
        self.events.append(event)
        self.lines.append(self.headline(event))
        self.query_one(".panel-empty", Static).display = False
        details = FitText(self.details_lines(event), classes="compaction-details")
        self.mount(Collapsible(details, title=self._title(event),  # type: ignore[arg-type]
                               collapsed=True, classes="compaction"))

    def on_resize(self, _event: events.Resize) -> None:
        """Titles are laid out for the panel's width: again when it changes."""
        for event, collapsible in zip(self.events, self.query(Collapsible), strict=False):
            title = self._title(event)
            if collapsible.title != title:
                collapsible.title = title  # type: ignore[assignment]

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

    @staticmethod
    def load_pieces(event: SkillLoaded, when: str) -> list[str]:
        """"10:00:00 aria-cron · 1,244 tokens · score 0.87 · matched 'cron'": the name
        is the user's (a long one is shortened on screen; the tooltip and Ctrl+O have it)."""
        pieces = [when, f" {clean(event.skill_name)}", f" · {event.tokens:,} tokens",
                  f" · score {event.score:.2f}"]
        reason = clean(event.reason)
        if ", " in reason:  # a list of matched words: one line, "+N more" if long
            pieces.append(f" · {reason}")
        elif reason:
            head, *rest = words(reason)
            pieces += [f" · {head}", *rest]
        return pieces

    def add_event(self, event: SkillLoaded, at: str | None = None) -> None:
        from datetime import datetime

        when = at or datetime.now().strftime("%H:%M:%S")
        self.add_pieces(self.load_pieces(event, when))

    def set_warnings(self, warnings: list[str]) -> None:
        """Skills skipped or shadowed at scan time (one entry each, with the file; a
        long path keeps its end on screen and is whole in the tooltip)."""
        self.warnings = list(warnings)
        self.query(".panel-warning").remove()
        if not warnings:
            return
        views = []
        for warning in warnings:
            path, sep, why = clean(warning).partition(": ")
            pieces = ["⚠", Squeeze(f" {path}{sep.strip()}"),
                      *(words(f" {why}")[1:] if why else [])]
            views.append(FitText([pieces], classes="panel-warning"))
        self.mount(*views, after=self.query_one(".panel-title"))

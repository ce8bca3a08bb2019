"""A swarm cycle in the chat: its plan, one collapsible part per phase, and its end.

Each phase (explorer, worker, validator; a retry is a further part, "worker · attempt
2") streams into the chat's reply widget (`AssistantMessage`, its header hidden): it
batches fragments into `Markdown.get_stream` writes and cuts long text into sealed
chunks, so a token never re-renders the whole text. Measured through `play_swarm` (one
part, Pilot, 2 cores): a bare Markdown stream per part took 8.9 ms a fragment at 2,000
fragments and 12.3 ms at 8,000 (98 s in all); the reply widget takes 0.42 and 0.32 ms.

Phase text comes from a model: it is made terminal-safe and reaches the screen only as
Markdown source or `Content`, never as Rich markup. Titles are worded by
`core.reporting.swarm_units.phase_title`, as in the history and exports. A cancelled
cycle keeps its parts, marked cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Collapsible, Static
from textual.widgets._collapsible import CollapsibleTitle

from tokenopt_tui.core.reporting.swarm_units import phase_title
from tokenopt_tui.core.text import one_line, terminal_safe
from tokenopt_tui.ui.widgets.message import MessageView
from tokenopt_tui.ui.widgets.reply import AssistantMessage

if TYPE_CHECKING:
    from tokenopt_tui.core.events import (
        SwarmEnded,
        SwarmPhaseEnded,
        SwarmPhaseStarted,
        SwarmPlanned,
    )

#: Longest task shown in the cycle's header (the whole task was in the user's command).
TASK_CHARS = 70


class SwarmPart(Collapsible):
    """One phase's output under a title that says who ran it, where, and how it ended."""

    DEFAULT_CSS = """
    SwarmPart { height: auto; margin: 0; padding: 0; border-top: none; }
    SwarmPart.-cancelled CollapsibleTitle, SwarmPart.-failed CollapsibleTitle {
        color: $text-warning;
    }
    """

    def __init__(self, event: SwarmPhaseStarted, tier: str) -> None:
        self.body = AssistantMessage()
        # The title is set as Content on mount: a str title would be read as markup.
        super().__init__(self.body, title="", collapsed=False, classes="swarm-part")
        self.role, self.attempt = event.role, event.attempt
        self.agent, self.tier = terminal_safe(event.agent), tier
        self.tokens: int | None = None
        self.verdict: str | None = None

    def on_mount(self) -> None:
        # Inline styles: the app's stylesheet (.message margins and border) wins over
        # DEFAULT_CSS, and the text is the part's own, not a message of the chat.
        self.query_one(Collapsible.Contents).styles.padding = (0, 0, 0, 2)
        body = self.body
        body.styles.margin = (0, 0, 0, 0)
        body.styles.padding = (0, 0, 0, 1)
        body.styles.border_left = ("none", "transparent")
        body.header.display = False
        self._paint_title()

    @property
    def title_text(self) -> str:
        return phase_title(self.role, self.attempt, self.agent, self.tier, self.tokens,
                           self.verdict)

    def _paint_title(self) -> None:
        if self.is_mounted:
            self.query_one(CollapsibleTitle).label = Content(self.title_text)

    @property
    def source(self) -> str:
        """The terminal-safe text received so far."""
        return self.body.source

    async def append(self, text: str) -> None:
        """One streamed fragment; the reply widget makes it terminal-safe and batches."""
        await self.body.append(text)

    async def stop(self) -> None:
        """End the stream; the text stays as it is."""
        if self.body.streaming or self.body.source:
            await self.body.finish(None)

    async def end(self, tokens: int | None, verdict: str) -> None:
        await self.stop()
        self.tokens, self.verdict = tokens, verdict
        for state in ("cancelled", "failed", "retry"):
            self.set_class(verdict == state, f"-{state}")
        self._paint_title()

    @property
    def running(self) -> bool:
        return self.verdict is None


class SwarmView(MessageView):
    """The whole cycle as one chat entry: plan line, parts, end line."""

    def __init__(self, task: str, tier_label: Callable[[int], str]) -> None:
        super().__init__("swarm", classes="-assistant -swarm")
        self.swarm_task = task
        self.tier_label = tier_label
        self.parts: list[SwarmPart] = []
        self.plan = Static("", classes="swarm-plan", markup=False)
        self.summary = Static("", classes="swarm-summary", markup=False)
        self.plan_text = ""
        self.summary_text = ""
        self.verdict: str | None = None
        self.reserved = 0

    def compose(self) -> ComposeResult:
        yield self.header
        yield self.plan
        yield self.summary

    def on_mount(self) -> None:
        self.header.set_badge(one_line(self.swarm_task, TASK_CHARS))
        self.summary.display = False

    @property
    def running_part(self) -> SwarmPart | None:
        return next((p for p in reversed(self.parts) if p.running), None)

    def planned(self, event: SwarmPlanned) -> None:
        self.reserved = event.reserved_tokens
        self.plan_text = (f"plan: {event.estimate} · reserved {event.reserved_tokens:,} tokens "
                          f"(explorer {event.explorer_tokens:,}, worker "
                          f"{event.worker_tokens:,}, validator {event.validator_tokens:,})")
        self.plan.update(Content(terminal_safe(self.plan_text)))

    async def phase_started(self, event: SwarmPhaseStarted) -> SwarmPart:
        running = self.running_part
        if running is not None:  # its end never came: it stopped where it was
            await running.end(None, "cancelled")
        for part in self.parts:
            part.collapsed = True  # the running phase is the one to read
        part = SwarmPart(event, self.tier_label(event.tier))
        self.parts.append(part)
        await self.mount(part, before=self.summary)
        return part

    def part_for(self, role: str, attempt: int) -> SwarmPart | None:
        return next((p for p in reversed(self.parts)
                     if (p.role, p.attempt) == (role, attempt)), None)

    async def phase_token(self, role: str, attempt: int, text: str) -> None:
        part = self.part_for(role, attempt)
        if part is not None:
            await part.append(text)

    async def phase_ended(self, event: SwarmPhaseEnded) -> None:
        part = self.part_for(event.role, event.attempt)
        if part is not None:
            await part.end(event.tokens, event.verdict)

    async def ended(self, event: SwarmEnded) -> None:
        self.verdict = event.verdict
        await self._stop_running("cancelled" if event.verdict == "cancelled" else "failed")
        attempts = f"{event.attempts} attempt" + ("" if event.attempts == 1 else "s")
        self.summary_text = (f"{event.verdict} · {event.used_tokens:,} of "
                             f"{event.reserved_tokens:,} reserved tokens used · {attempts}")
        self._show_summary()
        self.mark_interrupted(event.verdict == "cancelled")
        self.header.set_tokens(event.used_tokens)
        workers = [p for p in self.parts if p.role == "worker"]
        if workers:  # the result is what the user asked for: show it
            workers[-1].collapsed = False

    async def stopped(self) -> None:
        """The cycle stopped without its end (Esc, a crash): keep the parts, mark them."""
        if self.verdict is not None:
            return
        self.verdict = "cancelled"
        await self._stop_running("cancelled")
        self.summary_text = "cancelled · what the phases produced is kept above"
        self._show_summary()
        self.mark_interrupted(True)

    async def _stop_running(self, verdict: str) -> None:
        for part in self.parts:
            if part.running:
                await part.end(None, verdict)

    def _show_summary(self) -> None:
        self.summary.update(Content(self.summary_text))
        self.summary.display = True

"""The status line under the chat and the model preparation bar."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Label, ProgressBar, Static

from tokenopt_tui.core.text import terminal_safe

if TYPE_CHECKING:  # imported with the first event, after the first paint
    from tokenopt_tui.core.events import ModelPreparing

#: At most this many status repaints per second while tokens stream in.
STATUS_UPDATES_PER_S = 10


class StatusLine(Static):
    """Tier / model / tokens of the current reply, refreshed at most ~10 times a second.

    Repainting per token would cost more than the token itself on fast models.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.tier: int | None = None
        self.tier_name = ""
        self.model = ""
        self.tokens = 0
        self.exact = False
        self.cost_usd: float | None = None
        self.state = "idle"
        self._last_paint = 0.0

    @property
    def text(self) -> str:
        parts = []
        if self.tier is not None:
            parts.append(f"T{self.tier} {self.tier_name}".strip())
        if self.model:
            parts.append(self.model)
        if self.tier is not None or self.tokens:
            approx = "" if self.exact else "~"
            parts.append(f"{approx}{self.tokens:,} tokens")
        if self.cost_usd is not None:
            parts.append("free" if self.cost_usd == 0 else f"${self.cost_usd:.4f}")
        parts.append(self.state)
        return " · ".join(parts)

    def begin(self, tier: int | None, tier_name: str, model: str) -> None:
        self.tier, self.tier_name, self.model = tier, tier_name, terminal_safe(model)
        self.tokens, self.exact, self.state = 0, False, "streaming…"
        self.cost_usd = None
        self.paint()

    def tick(self) -> None:
        """One more token received; repaint only if the last paint is old enough."""
        self.tokens += 1
        now = time.monotonic()
        if now - self._last_paint >= 1 / STATUS_UPDATES_PER_S:
            self.paint(now)

    def usage(self, completion_tokens: int, cost_usd: float | None = None) -> None:
        """The call's reported usage: exact tokens and what it cost ($0 shows as free)."""
        self.tokens, self.exact = completion_tokens, True
        self.cost_usd = cost_usd
        self.paint()

    def end(self, state: str) -> None:
        self.state = state
        self.paint()

    def paint(self, now: float | None = None) -> None:
        self._last_paint = time.monotonic() if now is None else now
        self.update(Content(self.text))


class PrepBar(Horizontal):
    """Model preparation progress (assemble / convert / write / load); hidden when idle."""

    def compose(self) -> ComposeResult:
        yield Label("", classes="prep-stage")
        yield ProgressBar(total=1, show_eta=False, classes="prep-bar")

    @property
    def active(self) -> bool:
        return self.has_class("-active")

    @property
    def stage(self) -> str:
        return str(self.query_one(".prep-stage", Label).content)

    def show_progress(self, event: ModelPreparing) -> None:
        self.add_class("-active")
        label = f"preparing model: {event.stage} ({event.done}/{event.total})"
        self.query_one(".prep-stage", Label).update(Content(label))
        self.query_one(ProgressBar).update(total=max(event.total, 1), progress=event.done)

    def finish(self) -> None:
        self.remove_class("-active")

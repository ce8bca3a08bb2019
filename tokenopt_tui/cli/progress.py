"""A one-line progress bar on stderr (model preparation, the benchmark)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tokenopt_tui.core.events import ModelPreparing


class Progress:
    """A one-line progress bar on stderr (a line per stage when not a terminal)."""

    def __init__(self, stream: TextIO, label: str = "preparing model") -> None:
        self.stream = stream
        self.label = label
        self.tty = stream.isatty()
        self.stage = ""
        self.finished = False

    def show(self, stage: str, done: int, total: int) -> None:
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r{self.label}: {stage:<14} [{bar}] {done}/{total}")
            if done == total:
                self.stream.write("\n")
        elif stage != self.stage or (done == total and not self.finished):
            self.stream.write(f"{self.label}: {stage} {done}/{total}\n")
        # A stage's last line is written once, however often its end is reported.
        self.finished = done == total or (stage == self.stage and self.finished)
        self.stage = stage
        self.stream.flush()

    async def follow(self, stages: AsyncIterator[ModelPreparing]) -> None:
        """Show a model's preparation (`provider.prepare()`) to its end; its errors pass."""
        async for event in stages:
            self.show(event.stage, event.done, event.total)

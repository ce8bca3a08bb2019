"""A one-line progress bar on stderr for model preparation (ask, model prepare)."""

from __future__ import annotations

from typing import TextIO


class Progress:
    """A one-line progress bar on stderr (a line per stage when not a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.stage = ""

    def show(self, stage: str, done: int, total: int) -> None:
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\rpreparing model: {stage:<8} [{bar}] {done}/{total}")
            if stage == "load" and done == total:
                self.stream.write("\n")
        elif stage != self.stage or done == total:
            self.stream.write(f"preparing model: {stage} {done}/{total}\n")
        self.stage = stage
        self.stream.flush()

"""The prompt: a one-line Input whose multi-line or long pastes become an attachment.

Textual's Input keeps only the first line of a paste. Here a paste with several lines
(a log, a file, a stack trace) or over `ATTACH_CHARS` is posted as `Attached` and sent
with the next message instead, so nothing pasted is lost and the line stays editable.
"""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Input

ATTACH_CHARS = 1_000


class PromptInput(Input):
    """Input with paste-as-attachment (see the module docstring)."""

    class Attached(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def _on_paste(self, event: events.Paste) -> None:
        """Synchronous like the `Input._on_paste` it overrides (nothing here awaits)."""
        text = event.text
        if "\n" in text.strip("\n") or len(text) > ATTACH_CHARS:
            event.prevent_default()
            event.stop()
            self.post_message(self.Attached(text))

"""Modal dialogs: the halt offer and the viewer for a text stored by reference."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tokenopt_tui.core.text import terminal_safe

#: The viewer shows this much of a stored text; the rest is in the store and exports.
VIEW_CHARS = 500_000


class HaltScreen(ModalScreen[bool]):
    """The session's budget is used up: continue in a new session seeded with its summary?"""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Stay here"),
        Binding("y", "dismiss(True)", "New session", show=False),
        Binding("n", "dismiss(False)", "Stay", show=False),
    ]

    def __init__(self, used: int, limit: int, summary_tokens: int) -> None:
        super().__init__(classes="dialog-screen")
        self.used, self.limit, self.summary_tokens = used, limit, summary_tokens

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content("Budget used up"), classes="dialog-title")
            yield Static(Content(
                f"This session has used {self.used:,} of its {self.limit:,} tokens, so no "
                "further model call will be made in it. Everything is stored.\n\n"
                f"Continue in a new session seeded with a summary of this one "
                f"(about {self.summary_tokens:,} tokens)?"), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content("Continue in a new session"), variant="primary",
                             id="continue")
                yield Button(Content("Stay here"), id="stay")

    def on_mount(self) -> None:
        self.query_one("#continue", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "continue")


class TextViewScreen(ModalScreen[None]):
    """A stored message shown whole (read-only, scrollable, selectable)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        shown = text[:VIEW_CHARS]
        if len(text) > VIEW_CHARS:
            shown += f"\n… ({len(text) - VIEW_CHARS:,} more characters are in the store)"
        self.text = terminal_safe(shown)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide"):
            yield Label(Content(self.title_text), classes="dialog-title")
            yield TextArea(self.text, read_only=True, soft_wrap=True, id="stored-text")
            yield Label(Content("Esc closes"), classes="dialog-hint")

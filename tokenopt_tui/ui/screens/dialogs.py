"""Modal dialogs: the halt offer, the viewer for a text stored by reference, and the
first-start offer of a local server."""

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


class LocalServerScreen(ModalScreen[bool]):
    """First start: a local OpenAI-compatible server answered; add it to tier 1?

    Enter accepts, Esc declines. The server's name and model come from the network:
    shown through `terminal_safe` in plain Content, never as markup.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(False)", "Not now"),
        Binding("enter", "dismiss(True)", "Use it", show=False),
    ]

    def __init__(self, name: str, base_url: str, model: str, others: int,
                 config_file: str) -> None:
        super().__init__(classes="dialog-screen")
        self.server_name = terminal_safe(name)
        self.base_url = terminal_safe(base_url)
        self.model = terminal_safe(model)
        self.others = others
        self.config_file = terminal_safe(config_file)

    def compose(self) -> ComposeResult:
        more = (f" It lists {self.others} other model{'s' if self.others > 1 else ''}; "
                "`tokenopt doctor` shows them all." if self.others else "")
        with Vertical(classes="dialog"):
            yield Label(Content("Local server found"), classes="dialog-title")
            yield Static(Content(
                f"Found {self.server_name} at {self.base_url} (model {self.model}). "
                f"Use it as a tier?{more}\n\n"
                "It joins tier 1 (local) after the embedded model, as its fallback, from "
                f"the next start. The choice is added to {self.config_file} as a "
                "[[local_servers]] entry; the rest of that file is kept."),
                classes="dialog-body", id="local-server-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(Content("Use it (Enter)"), variant="primary", id="accept")
                yield Button(Content("Not now (Esc)"), id="decline")

    def on_mount(self) -> None:
        self.query_one("#accept", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")

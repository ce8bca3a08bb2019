"""Chat messages: a header (role, tier badge, tokens) above a body (replies: reply.py).

Model text is untrusted. It is passed through `terminal_safe` and reaches widgets
only as `Content` objects or Markdown source, never through Rich markup parsing,
so `[bold]` or an ANSI escape shows up as the characters that were sent.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label, Static

from tokenopt_tui.core.text import terminal_safe

#: Longest user message shown in full; the rest is stored but not rendered.
USER_PREVIEW_CHARS = 4_000


def tier_badge(tier: int | None, model: str | None) -> str:
    """"T1 gemma-3-270m": which tier and model produced a reply."""
    if tier is None:
        return model or ""
    return f"T{tier} {model}" if model else f"T{tier}"


def preview(text: str, limit: int = USER_PREVIEW_CHARS) -> str:
    """A display copy of `text`, cut at `limit` characters so huge pastes stay cheap."""
    safe = terminal_safe(text[:limit])
    if len(text) <= limit:
        return safe
    return f"{safe}\n… ({len(text) - limit:,} more characters not shown)"


class MessageHeader(Horizontal):
    """Role, tier badge, token count and the interrupted flag of one message."""

    def __init__(self, role: str) -> None:
        super().__init__(classes="msg-header")
        self._role = role

    def compose(self) -> ComposeResult:
        yield Label(Content(self._role), classes="msg-role")
        yield Label("", classes="msg-badge")
        yield Label("", classes="msg-tokens")
        yield Label(Content("interrupted"), classes="msg-flag")

    def set_badge(self, text: str) -> None:
        badge = self.query_one(".msg-badge", Label)
        badge.update(Content(terminal_safe(text)))
        badge.set_class(bool(text), "-shown")

    def set_tokens(self, tokens: int | None) -> None:
        label = self.query_one(".msg-tokens", Label)
        label.update(Content(f"{tokens:,} tokens" if tokens is not None else ""))


class MessageView(Vertical):
    """Base of every chat entry; CSS classes carry the role and state."""

    def __init__(self, role: str, *, classes: str = "") -> None:
        super().__init__(classes=f"message {classes}".strip())
        self.role = role
        self.header = MessageHeader(role)

    @property
    def interrupted(self) -> bool:
        return self.has_class("-interrupted")

    def mark_interrupted(self, interrupted: bool = True) -> None:
        self.set_class(interrupted, "-interrupted")


class UserMessage(MessageView):
    """What the user typed, shown as plain text (never parsed as Markdown or markup)."""

    def __init__(self, text: str) -> None:
        super().__init__("you", classes="-user")
        self.text = text

    def compose(self) -> ComposeResult:
        yield self.header
        yield Static(Content(preview(self.text)), classes="msg-body")


class ErrorMessage(MessageView):
    """A failure the user should read, with where it happened (endpoint, file, step)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__("error", classes="-error")
        self.message = message
        self.where = where

    def compose(self) -> ComposeResult:
        yield self.header
        text = terminal_safe(self.message)
        if self.where:
            text += f"\n(at {terminal_safe(self.where)})"
        yield Static(Content(text), classes="msg-body")

    def on_mount(self) -> None:
        self.header.set_badge(self.where)


class NoticeMessage(MessageView):
    """What tokenopt itself says: routing notices, command answers (plain text)."""

    def __init__(self, text: str) -> None:
        super().__init__("tokenopt", classes="-notice")
        self.text = text

    def compose(self) -> ComposeResult:
        yield self.header
        yield Static(Content(terminal_safe(self.text)), classes="msg-body")

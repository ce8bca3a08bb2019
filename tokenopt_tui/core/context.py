"""The context a model is sent: the session's messages as views, with cached counts.

Each message is counted once, when it is added (the per-keystroke estimate only
counts the draft). A message longer than the reference threshold is sent as a
*reference*: an excerpt and its identifiers, while the full text stays in the store.
After a compaction the oldest `upto` messages are replaced by one summary message.
The originals are never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenopt_tui.core.providers.base import ChatMessage, Role
from tokenopt_tui.core.tokens import count_tokens

#: Chat framing per message (role markers and separators), and the reply's priming;
#: the usual cl100k accounting. Estimates are reconciled with provider usage later.
MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
EXCERPT_CHARS = 1_500
IDENTIFIER_SCAN_CHARS = 20_000
MAX_REFERENCE_IDENTIFIERS = 40


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored message: the original and what is sent in its place."""

    message: ChatMessage
    message_id: int | None
    tokens: int
    view: ChatMessage
    view_tokens: int

    @property
    def referenced(self) -> bool:
        return self.view is not self.message


def reference_text(role: Role, content: str, tokens: int, message_id: int | None) -> str:
    """What the model sees instead of a very long message: head, tail, identifiers."""
    from tokenopt_tui.core.compression.compress import extract_identifiers  # regexes: on first use
    head, tail = content[:EXCERPT_CHARS], content[-EXCERPT_CHARS:]
    omitted = max(0, len(content) - 2 * EXCERPT_CHARS)
    scan = content if len(content) <= 2 * IDENTIFIER_SCAN_CHARS else (
        content[:IDENTIFIER_SCAN_CHARS] + "\n" + content[-IDENTIFIER_SCAN_CHARS:])
    idents = [i[:120] for i in extract_identifiers(scan)[:MAX_REFERENCE_IDENTIFIERS]]
    where = f"message #{message_id}" if message_id is not None else "the store"
    lines = [f"[Long {role} text ({tokens:,} tokens, {content.count(chr(10)) + 1:,} lines) "
             f"stored by reference as {where}; an excerpt follows.]", head.rstrip()]
    if omitted:
        lines += [f"[… {omitted:,} characters omitted …]", tail.lstrip()]
    if idents:
        lines.append("Identifiers in it: " + ", ".join(idents))
    return _balance_fences("\n".join(lines))


def _balance_fences(text: str) -> str:
    """An excerpt may cut a code block in half: close it so the rest stays prose."""
    fences = sum(1 for line in text.splitlines() if line.lstrip().startswith("```"))
    return text + "\n```" if fences % 2 else text


def make_entry(role: Role, content: str, message_id: int | None,
               reference_over_tokens: int) -> Entry:
    """Count a message once and decide how it is sent (may run in a worker thread)."""
    message = ChatMessage(role, content)
    tokens = count_tokens(content)
    if tokens <= reference_over_tokens:
        return Entry(message, message_id, tokens, message, tokens)
    view = ChatMessage(role, reference_text(role, content, tokens, message_id))
    return Entry(message, message_id, tokens, view, count_tokens(view.content))


@dataclass
class Context:
    """The session's entries, the current summary and the cached size of what is sent."""

    entries: list[Entry] = field(default_factory=list)
    summary: ChatMessage | None = None
    summary_tokens: int = 0
    upto: int = 0  # entries[:upto] are represented by the summary
    _tokens: int = 0  # cached: what messages() costs, framing included

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self._tokens += entry.view_tokens + MESSAGE_OVERHEAD

    def messages(self) -> list[ChatMessage]:
        """What is sent to the model, oldest first."""
        head = [self.summary] if self.summary is not None else []
        return head + [e.view for e in self.entries[self.upto:]]

    @property
    def history(self) -> list[ChatMessage]:
        """The originals, oldest first (never modified)."""
        return [e.message for e in self.entries]

    def counts(self) -> list[int]:
        """Cached token counts of `messages()`, in the same order."""
        head = [self.summary_tokens] if self.summary is not None else []
        return head + [e.view_tokens for e in self.entries[self.upto:]]

    def tokens(self) -> int:
        """Estimated tokens of `messages()` (cached; O(1))."""
        return self._tokens

    def turns(self) -> int:
        """User requests sent whole (not yet folded into the summary)."""
        return sum(1 for e in self.entries[self.upto:] if e.message.role == "user")

    def estimate_next(self, draft_tokens: int) -> int:
        """The next request's prompt if the draft were sent now."""
        return self._tokens + draft_tokens + MESSAGE_OVERHEAD + REPLY_PRIMING

    def apply_summary(self, text: str, upto: int, tokens: int | None = None) -> None:
        """Replace entries[:upto] by a summary in what is sent."""
        self.summary = ChatMessage("system", text)
        self.summary_tokens = count_tokens(text) if tokens is None else tokens
        self.upto = max(0, min(upto, len(self.entries)))
        self._tokens = self.summary_tokens + MESSAGE_OVERHEAD + sum(
            e.view_tokens + MESSAGE_OVERHEAD for e in self.entries[self.upto:])

"""A model reply: Markdown streamed through `Markdown.get_stream`, kept cheap however long.

Why it is more than one Markdown widget: every write re-lays out the widget it
goes to, and Textual's layout costs time in proportion to the number of widgets
(Markdown makes several per block). So the reply is a column of chunks: the
open chunk takes the stream; once it holds CHUNK_CHARS it is cut at a block
boundary (markdown_split), re-rendered once with `update()` and sealed. Sealed
chunks cache their height, and far above the viewport they can be "parked"
(their blocks hidden behind a spacer of the same height, see message_list.py),
so the cost of a write stays flat as the reply grows. Fragments are batched and
written at most every FLUSH_INTERVAL_S, or less often when showing a write costs
the UI more than that (slow machines, big screens). When the reply completes, the
stream is stopped and the open chunk gets its one final `update()` (the oterm
pattern); earlier chunks had theirs when they were cut.
"""

from __future__ import annotations

import asyncio
import time

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Label, Markdown
from textual.widgets.markdown import MarkdownStream

from tokenopt_tui.core.text import terminal_safe
from tokenopt_tui.ui.widgets.markdown_split import split_chunks, split_point
from tokenopt_tui.ui.widgets.message import MessageView, tier_badge


class MarkdownChunk(Markdown):
    """One piece of a reply. Once sealed its height is cached per width.

    Why: Textual measures an auto-height child with its parent's current height in
    the cache key, so while a reply grows every earlier chunk would be measured
    again (all its blocks) on every layout. A sealed chunk cannot change.
    """

    def __init__(self, markdown: str = "", *, sealed: bool = False) -> None:
        super().__init__(markdown, classes="chunk")
        self.sealed = sealed
        self._text = markdown
        self._height: tuple[int, int] | None = None  # (width, height)

    async def seal(self, markdown: str) -> None:
        """Render `markdown` in full one last time; from now on the chunk is fixed."""
        self.sealed, self._height, self._text = False, None, markdown
        await self.update(markdown)
        self.sealed = True

    @property
    def measured(self) -> bool:
        """Sealed and measured at its current width: safe to park."""
        return (self.sealed and self._height is not None
                and self._height[0] == self.outer_size.width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.sealed and self._height is not None and self._height[0] == width:
            return self._height[1]
        height = super().get_content_height(container, viewport, width)
        if self.sealed and (self.children or not self._text):  # not mid-(re)render
            self._height = (width, height)
        return height


class ChunkSlot(Vertical):
    """Holds one chunk; parking swaps its blocks for a blank of the same height."""

    def __init__(self, chunk: MarkdownChunk) -> None:
        super().__init__(classes="chunk-slot")
        self.chunk = chunk

    def compose(self) -> ComposeResult:
        yield self.chunk

    @property
    def parked(self) -> bool:
        return not self.chunk.display

    def park(self) -> bool:
        """Hide the chunk's widgets from layout, keeping its height; True if parked."""
        if self.parked or not self.chunk.measured:
            return False
        self.styles.height = self.chunk.outer_size.height
        self.chunk.display = False
        return True

    def unpark(self) -> None:
        if self.parked:
            self.chunk.display = True
            self.styles.height = "auto"


class RatingMark(Label):
    """The user's rating of a reply, in its header: our own fixed words, never model text."""

    DEFAULT_CSS = """
    RatingMark { width: auto; margin-right: 1; text-style: bold; }
    RatingMark.-good { color: $text-success; }
    RatingMark.-bad { color: $text-error; }
    """

    def show(self, good: bool) -> None:
        self.update(Content("✓ good" if good else "✗ bad"))
        self.set_class(good, "-good")
        self.set_class(not good, "-bad")


class AssistantMessage(MessageView):
    """A model reply (streamed, or loaded from history); see the module docstring."""

    #: Shortest time between two writes to the widget...
    FLUSH_INTERVAL_S = 0.05
    #: ...stretched to this many times what showing the last write cost (layout and
    #: paint), so streaming never takes more than about a third of the UI's time...
    FLUSH_COST_FACTOR = 2.0
    #: ...but never longer than this.
    MAX_FLUSH_INTERVAL_S = 0.5
    #: Size at which the open chunk is cut (0 disables chunking).
    CHUNK_CHARS = 1_500

    class Grew(Message):
        """New text of this reply reached the screen (the list may park old chunks)."""

    def __init__(self, text: str = "", *, tier: int | None = None, model: str | None = None,
                 tokens: int | None = None, interrupted: bool = False,
                 message_id: int | None = None) -> None:
        super().__init__("assistant", classes="-assistant")
        #: The stored message (known from ReplyCompleted, or from the row in history).
        self.message_id = message_id
        #: The user's rating (None: not rated), shown by a RatingMark in the header.
        self.rating: bool | None = None
        self._tier = tier
        self._model = model
        self._tokens = tokens
        self.body = Vertical(classes="msg-body")
        safe = terminal_safe(text)
        self._sealed: list[str] = split_chunks(safe, self.CHUNK_CHARS) if safe else []
        self.slots = [ChunkSlot(MarkdownChunk(piece, sealed=True)) for piece in self._sealed]
        self._open: MarkdownChunk | None = None
        self._current = ""  # text of the open chunk
        self._pending: list[str] = []
        self._stream: MarkdownStream | None = None
        self._last_flush = 0.0
        self._interval = self.FLUSH_INTERVAL_S
        self._scanned = 0
        self._lock = asyncio.Lock()
        if not safe:
            self._open = MarkdownChunk()
            self.slots.append(ChunkSlot(self._open))
        self.mark_interrupted(interrupted)

    def compose(self) -> ComposeResult:
        yield self.header
        with self.body:
            yield from self.slots

    def on_mount(self) -> None:
        self.header.set_badge(tier_badge(self._tier, self._model))
        self.header.set_tokens(self._tokens)

    @property
    def source(self) -> str:
        """Everything received so far (terminal-safe Markdown), pending text included."""
        return "".join([*self._sealed, self._current, *self._pending])

    @property
    def chunks(self) -> list[MarkdownChunk]:
        return [slot.chunk for slot in self.slots]

    @property
    def streaming(self) -> bool:
        return self._stream is not None or bool(self._pending)

    def set_tokens(self, tokens: int | None) -> None:
        self._tokens = tokens
        self.header.set_tokens(tokens)

    def set_rating(self, good: bool) -> None:
        """Show the user's rating (good or bad) in the header; a new one replaces it."""
        self.rating = good
        marks = self.header.query(RatingMark)
        mark = marks.first() if marks else RatingMark()
        mark.show(good)
        if not marks:
            self.header.mount(mark)

    async def append(self, fragment: str) -> None:
        """Queue one streamed fragment (made terminal-safe); write the batch when due."""
        safe = terminal_safe(fragment)
        if not safe:
            return
        self._pending.append(safe)
        wait = self._interval - (time.monotonic() - self._last_flush)
        if wait <= 0:
            await self._flush()
        elif len(self._pending) == 1:
            self.set_timer(wait, self._flush)

    async def flush(self) -> None:
        """Write any queued fragments now (tests, benchmarks, end of a reply)."""
        await self._flush()

    async def _flush(self) -> None:
        """Write queued fragments to the open chunk's stream, cutting chunks when due."""
        async with self._lock:
            self._last_flush = time.monotonic()
            if not self._pending:
                return
            written = len(self._current)
            self._current += "".join(self._pending)
            self._pending.clear()
            while self.CHUNK_CHARS and len(self._current) >= self.CHUNK_CHARS \
                    and len(self._current) - self._scanned >= 256:
                cut = split_point(self._current, self.CHUNK_CHARS // 2)
                if cut is None:
                    self._scanned = len(self._current)  # look again 256 chars later
                    break
                await self._cut(cut)
                written = 0
            if len(self._current) > written:
                chunk = await self._open_chunk()
                if self._stream is None:
                    self._stream = Markdown.get_stream(chunk)
                await self._stream.write(self._current[written:])
                self.call_after_refresh(self._shown, time.monotonic())

    def _shown(self, written_at: float) -> None:
        """A write reached the screen: pace the next one by what this one cost."""
        cost = time.monotonic() - written_at
        self._interval = min(self.MAX_FLUSH_INTERVAL_S,
                             max(self.FLUSH_INTERVAL_S, self.FLUSH_COST_FACTOR * cost))
        self.post_message(self.Grew())

    async def _open_chunk(self) -> MarkdownChunk:
        if self._open is None:
            self._open = MarkdownChunk()
            slot = ChunkSlot(self._open)
            self.slots.append(slot)
            await self.body.mount(slot)
        return self._open

    async def _seal_open(self, text: str) -> None:
        """Stop the stream and give the open chunk its final render."""
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.stop()
        chunk, self._open = self._open, None
        if chunk is None:  # a second cut in one flush: this text was never streamed
            slot = ChunkSlot(MarkdownChunk(text, sealed=True))
            self.slots.append(slot)
            await self.body.mount(slot)
        else:
            await chunk.seal(text)
        self._sealed.append(text)

    async def _cut(self, offset: int) -> None:
        """Seal the open chunk at `offset`; the rest goes to a new chunk."""
        head, self._current = self._current[:offset], self._current[offset:]
        await self._seal_open(head)
        self._scanned = 0

    async def finish(self, text: str | None = None, *, interrupted: bool = False) -> None:
        """Stop streaming and render the open chunk once more, in full.

        `text` is the reply as the core stored it; None means "what was streamed"
        (a cancelled reply never gets a ReplyCompleted).
        """
        await self._flush()
        async with self._lock:
            final = terminal_safe(text) if text is not None else self.source
            done = "".join(self._sealed)
            if final.startswith(done):
                self._current = final[len(done):]
                if self._current or self._open is not None:
                    await self._open_chunk()
                    await self._seal_open(self._current)
            else:  # the stored text differs from what streamed: render it afresh
                await self._seal_open(self._current)
                await self.body.remove_children()
                self._sealed = split_chunks(final, self.CHUNK_CHARS)
                self.slots = [ChunkSlot(MarkdownChunk(p, sealed=True)) for p in self._sealed]
                await self.body.mount_all(self.slots)
            self._current = ""
        self.mark_interrupted(interrupted)

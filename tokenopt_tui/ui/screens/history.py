"""History: every session newest first, searchable; open read-only, resume, rename,
delete (confirmed) and export, all from the keyboard.

Typing filters the titles fuzzily at once (rapidfuzz over the loaded rows); Enter in
the search box searches message text (FTS5) across all sessions. A session opens as
a read-only transcript (a TextArea, which only draws what is visible, so a 2,000-
message session opens quickly) beside its event timeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input, Label, Static, TextArea

from tokenopt_tui.core.text import terminal_safe

if TYPE_CHECKING:
    from tokenopt_tui.store import HistoryRow
    from tokenopt_tui.wiring import Services

COLUMNS = (("#", 6), ("started", 16), ("title", 60), ("type", 11), ("turns", 5),
           ("tokens", 9), ("cost", 8), ("tiers", 8), ("", 6))
HISTORY_KEYS = ("Enter open · Ctrl+R resume · F2 rename · Del delete · Ctrl+E export .md · "
                "Ctrl+J .json · Ctrl+F search · Esc back")
PAGE = 50  # sessions per page (more load as the cursor reaches the end)
SHOWN_MESSAGES = 100  # a long session opens on its last messages; F4 shows all


def _row_cells(row: HistoryRow) -> tuple[str, ...]:
    return (str(row.id), row.created_at[:16].replace("T", " "),
            terminal_safe(row.title or "(untitled)")[:60], row.type, str(row.turns),
            f"{row.tokens_used:,}", f"${row.cost_usd:.4f}",
            ",".join(f"T{t}" for t in row.tiers) or "-",
            "halted" if row.status == "halted" else "")


class HistoryScreen(Screen[None]):
    """The history list (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("ctrl+r", "resume", "Resume"),
        Binding("f2", "rename", "Rename"),
        Binding("delete", "delete", "Delete"),
        Binding("ctrl+e", "export('md')", "Export .md"),
        Binding("ctrl+j", "export('json')", "Export .json", show=False),
        Binding("ctrl+f", "focus_search", "Search", show=False),
    ]

    class ResumeRequested(Message):
        def __init__(self, session_id: int) -> None:
            super().__init__()
            self.session_id = session_id

    def __init__(self, services: Services) -> None:
        super().__init__(id="history")
        self.services = services
        self.rows: list[HistoryRow] = []
        self.shown: list[HistoryRow] = []
        self.searched: str | None = None
        self.more = False  # another page of sessions exists

    def compose(self) -> ComposeResult:
        yield Label(Content("History: type to filter titles, Enter searches messages"),
                    classes="dialog-title")
        yield Input(placeholder="Filter titles · Enter: search every message", id="search")
        table: DataTable[str] = DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        # Fixed widths: the table need not measure every cell of every page to lay out.
        for label, width in COLUMNS:
            table.add_column(label, width=width)
        yield table
        yield Static("", id="history-status")
        # A one-line key guide: a Footer (a widget per binding, app ones included)
        # costs a third of this screen's first paint.
        yield Label(Content(HISTORY_KEYS), classes="key-guide")

    def on_mount(self) -> None:
        self.load()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#sessions", DataTable)

    @property
    def selected(self) -> HistoryRow | None:
        table = self.table
        if not self.shown or table.cursor_row < 0 or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    @work(exclusive=True, group="history-load", exit_on_error=False)
    async def load(self) -> None:
        self.rows = await self.services.store.history(limit=PAGE, include_empty=False)
        self.more = len(self.rows) == PAGE
        self.show(self.rows, self._listing_status())
        self.table.focus()

    def _listing_status(self) -> str:
        more = " (more load as you scroll down)" if self.more else ""
        return f"{len(self.rows)} most recent sessions{more}"

    @on(DataTable.RowHighlighted, "#sessions")
    def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        listing = self.shown is self.rows
        if listing and self.more and event.cursor_row >= len(self.rows) - 1:
            self.load_more()

    @work(exclusive=True, group="history-more", exit_on_error=False)
    async def load_more(self) -> None:
        page = await self.services.store.history(limit=PAGE, offset=len(self.rows),
                                                 include_empty=False)
        self.more = len(page) == PAGE
        self.rows.extend(page)
        for row in page:
            self.table.add_row(*_row_cells(row), key=str(row.id))
        self.query_one("#history-status", Static).update(Content(self._listing_status()))

    def show(self, rows: list[HistoryRow], status: str) -> None:
        self.shown = rows
        table = self.table
        table.clear()
        for row in rows:
            table.add_row(*_row_cells(row), key=str(row.id))
        self.query_one("#history-status", Static).update(Content(status))

    @on(Input.Changed, "#search")
    def _filter_titles(self, event: Input.Changed) -> None:
        text = event.value.strip()
        if not text:
            self.show(self.rows, self._listing_status())
            return
        from rapidfuzz import fuzz, process

        titles = {i: row.title or "" for i, row in enumerate(self.rows)}
        hits = process.extract(text, titles, scorer=fuzz.WRatio, limit=None, score_cutoff=60)
        self.show([self.rows[i] for _, _, i in hits],
                  f"{len(hits)} of the {len(self.rows)} listed titles match {text!r} · "
                  "Enter searches every message")

    @on(Input.Submitted, "#search")
    def _search_messages(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.search(event.value.strip())
        else:
            self.table.focus()

    @work(exclusive=True, group="history-search", exit_on_error=False)
    async def search(self, text: str) -> None:
        store = self.services.store
        ids = await store.search_sessions(text, limit=PAGE)
        rows = await store.history(session_ids=ids)
        self.searched = text
        most = " (the most recent)" if len(rows) == PAGE else ""
        self.show(rows, f"{len(rows)} sessions{most} mention {text!r}, newest first")
        self.table.focus()

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(DataTable.RowSelected, "#sessions")
    def _row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        row = self.selected
        if row is not None:
            self.app.push_screen(SessionViewScreen(self.services, row))

    def action_resume(self) -> None:
        row = self.selected
        if row is not None:
            self.post_message(self.ResumeRequested(row.id))

    def action_rename(self) -> None:
        row = self.selected
        if row is None:
            return

        def renamed(title: str | None) -> None:
            if title:
                self.rename(row.id, title)

        self.app.push_screen(PromptScreen("Rename session", row.title or ""), renamed)

    @work(group="history-edit", exit_on_error=False)
    async def rename(self, session_id: int, title: str) -> None:
        await self.services.store.set_session_title(session_id, title)
        self.notify(f"Session #{session_id} renamed.", markup=False)
        self.load()

    def action_delete(self) -> None:
        row = self.selected
        if row is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.delete(row.id)

        self.app.push_screen(ConfirmScreen(
            f"Delete session #{row.id} ({row.title or 'untitled'}), its {row.turns} turns "
            "and all its events? This cannot be undone."), confirmed)

    @work(group="history-edit", exit_on_error=False)
    async def delete(self, session_id: int) -> None:
        await self.services.store.delete_session(session_id)
        self.notify(f"Session #{session_id} deleted.", markup=False)
        self.load()

    def action_export(self, fmt: str) -> None:
        row = self.selected
        if row is not None:
            self.export(row.id, fmt)

    @work(group="history-edit", exit_on_error=False)
    async def export(self, session_id: int, fmt: str) -> None:
        path = await export_session(self.services, session_id, fmt)
        self.notify(f"Exported to {path}", title="Export", markup=False, timeout=8)


async def export_session(services: Services, session_id: int, fmt: str) -> Path:
    """Write `exports/session-N.md|json` in the data folder (atomically); return it."""
    import asyncio
    import os

    from tokenopt_tui.core.reporting.export import session_data, to_json, to_markdown

    data = await session_data(services.store, session_id, services.secrets)
    text = to_json(data) if fmt == "json" else to_markdown(data)
    folder = services.paths.data_dir / "exports"
    path = folder / f"session-{session_id}.{fmt}"

    def write() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    await asyncio.to_thread(write)
    return path


class SessionViewScreen(Screen[None]):
    """A past session, read-only: its transcript beside its event timeline."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+r", "resume", "Resume"),
        Binding("f4", "show_all", "All messages"),
    ]

    def __init__(self, services: Services, row: HistoryRow) -> None:
        super().__init__()
        self.services = services
        self.row = row
        self.shown_all = False

    def compose(self) -> ComposeResult:
        row = self.row
        tiers = ",".join(f"T{t}" for t in row.tiers) or "-"
        yield Label(Content(f"#{row.id} {row.title or '(untitled)'} · {row.type} · "
                            f"{row.turns} turns · {row.tokens_used:,} tokens · "
                            f"${row.cost_usd:.4f} · {tiers}"), classes="dialog-title")
        with Horizontal(id="session-view"):
            yield TextArea("", read_only=True, soft_wrap=True, id="transcript")
            with Vertical(id="timeline-column"):
                yield Label(Content("Timeline"), classes="panel-title")
                yield TextArea("", read_only=True, soft_wrap=True, id="timeline")
        yield Label(Content("F4 all messages · Ctrl+R resume · Esc back"), classes="key-guide")

    def on_mount(self) -> None:
        self.fill()

    @work(exclusive=True, exit_on_error=False)
    async def fill(self, everything: bool = False) -> None:
        """Transcript and timeline; a long session shows its last messages first."""
        import asyncio

        from tokenopt_tui.core.presenter import TIMELINE_KINDS
        from tokenopt_tui.core.reporting.export import history_dict, message_dict, to_markdown
        from tokenopt_tui.core.reporting.swarm_units import timeline

        store = self.services.store
        total = await store.message_count(self.row.id)
        messages = await store.session_messages(
            self.row.id, last=None if everything else SHOWN_MESSAGES)
        events = await store.session_events(self.row.id, kinds=TIMELINE_KINDS)
        hidden = total - len(messages)
        data = {"session": history_dict(self.row), "events": [],
                "messages": [message_dict(m) for m in messages]}
        transcript = await asyncio.to_thread(to_markdown, data)
        if hidden:
            transcript = (f"[{hidden:,} earlier messages not shown: F4 shows all]\n\n"
                          + transcript)
        # A swarm cycle is one entry: its task, verdict and tokens, its phases under it.
        lines = [f"{at[11:19]} {text}".replace("\n", "\n         ") for at, text in
                 timeline((e.created_at, e.kind, e.payload) for e in events)]
        scrub = self.services.secrets.scrub  # rows stored before keys were scrubbed
        area = self.query_one("#transcript", TextArea)
        area.load_text(terminal_safe(scrub(transcript)))
        self.query_one("#timeline", TextArea).load_text(
            terminal_safe(scrub("\n".join(lines) or "no events")))
        area.focus()
        if hidden:
            area.move_cursor(area.document.end)
        self.shown_all = everything or not hidden

    def action_show_all(self) -> None:
        if not self.shown_all:
            self.fill(everything=True)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_resume(self) -> None:
        self.app.pop_screen()
        history = self.app.screen
        if isinstance(history, HistoryScreen):
            history.post_message(HistoryScreen.ResumeRequested(self.row.id))


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (Enter keeps it, Esc cancels)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, value: str) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text, self.value = title, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content(self.title_text), classes="dialog-title")
            yield Input(self.value, id="prompt-value")
            yield Label(Content("Enter saves · Esc cancels"), classes="dialog-hint")

    @on(Input.Submitted)
    def _done(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; the safe answer (no) is the default."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "dismiss(True)", "Yes"),
        Binding("n,escape", "dismiss(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__(classes="dialog-screen")
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Content("Are you sure?"), classes="dialog-title")
            yield Static(Content(self.question), classes="dialog-body")
            yield Label(Content("y: yes · n or Esc: no"), classes="dialog-hint")

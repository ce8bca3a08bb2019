"""Concierge: recurring requests no skill matched, requests found wanting, skills never
useful and skills unused, each with its evidence. `d` writes the selected suggestion as a
draft SKILL.md in the user's skills folder (a toast names the path); Esc closes.

The report is built in a worker (store reads, then embedding and grouping in a thread):
nothing blocks the event loop. Request text is untrusted: it is shown as Content
through terminal_safe, never as markup.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from tokenopt_tui.core.concierge.report import Settings
from tokenopt_tui.core.text import one_line, terminal_safe

if TYPE_CHECKING:
    from tokenopt_tui.wiring import Services

EMPTY = ("Nothing to suggest yet: no requests are stored in the last {days} days.\n"
         "Use the chat for a while; the concierge then lists requests that matched no "
         "skill (grouped into recurring needs), answers found wanting, and skills "
         "nobody uses.")


def _safe(text: str, limit: int = 100) -> str:
    return terminal_safe(one_line(text, limit))


def suggestion_line(entry: dict[str, Any], wanting: bool) -> str:
    why = "found wanting" if wanting else "matched no skill"
    return (f"{entry['name']}: {entry['count']} requests {why}, "
            f"≈ {entry['tokens']:,} tokens")


def evidence_text(entry: dict[str, Any]) -> str:
    lines = [f"{entry['name']} — {_safe(entry['description'], 300)}",
             f"tags: {_safe(', '.join(entry['tags']), 200)}",
             f"{entry['count']} requests, {entry['first']} – {entry['last']}, sessions "
             f"{', '.join(str(s) for s in entry['sessions'][:12])}", ""]
    lines += [f"#{e['message_id']} {e['date']} ({e['tokens']:,} tokens): {_safe(e['text'])}"
              for e in entry["evidence"]]
    return "\n".join(lines)


def skills_text(report: dict[str, Any]) -> str:
    lines = ["Loaded but never useful (every answer escalated or rated bad):"]
    lines += [f"  {_safe(u['name'])}: loaded {u['loads']} times, ≈ {u['tokens']:,} tokens"
              for u in report["never_useful"]] or ["  none"]
    lines.append(f"Unused in {report['days']} days (deprecation candidates):")
    lines += [f"  {_safe(u['name'])}: loaded 0 times in {u['days']} days"
              for u in report["unused"]] or [
        "  none" if report["unused_judged"] else
        f"  not judged yet: usage recorded for {report['history_days']} of "
        f"{report['days']} days"]
    return "\n".join(lines)


class ConciergeScreen(Screen[None]):
    """Missing and unused skills (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("d", "draft", "Draft skill"),
    ]

    def __init__(self, services: Services, settings: Settings | None = None,
                 now: datetime | None = None) -> None:
        super().__init__()
        self.services = services
        wanted = services.config.concierge
        self.settings = settings or Settings(days=wanted.unused_days,
                                             min_group=wanted.min_group)
        self.now = now
        self.report: dict[str, Any] | None = None
        self.entries: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Label("Concierge · loading…", id="concierge-title")
        yield OptionList(id="concierge-suggestions")
        with VerticalScroll(id="concierge-body"):
            yield Static("", id="concierge-detail")
            yield Static("", id="concierge-skills")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(exclusive=True, group="concierge", exit_on_error=False)
    async def load(self) -> None:
        from tokenopt_tui.core.concierge.report import build_report
        from tokenopt_tui.store import StoreError

        library = await asyncio.to_thread(lambda: self.services.skills)
        try:
            report = await build_report(self.services.store, library, self.settings,
                                        now=self.now)
        except StoreError as exc:
            self.query_one("#concierge-title", Label).update(
                Content(f"Concierge: the store can't be read: {terminal_safe(str(exc))}"))
            return
        self.show(report)

    def show(self, report: dict[str, Any]) -> None:
        self.report = report
        self.entries = report["gaps"] + report["wanting"]
        title = self.query_one("#concierge-title", Label)
        title.update(Content(
            f"Concierge · {report['requests']} requests in {report['days']} days, "
            f"{report['unmatched']} matched no skill · d writes a draft skill"))
        options = self.query_one("#concierge-suggestions", OptionList)
        options.clear_options()
        gaps = len(report["gaps"])
        options.add_options([Option(Content(terminal_safe(suggestion_line(e, i >= gaps))))
                             for i, e in enumerate(self.entries)])
        options.display = bool(self.entries)
        detail = self.query_one("#concierge-detail", Static)
        if report["requests"] == 0:
            detail.update(Content(EMPTY.format(days=report["days"])))
        elif not self.entries:
            detail.update(Content("No recurring need without a skill, and no group of "
                                  "answers found wanting."))
        else:
            options.highlighted = 0
            options.focus()
        self.query_one("#concierge-skills", Static).update(Content(skills_text(report)))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.entries):
            self.query_one("#concierge-detail", Static).update(
                Content(evidence_text(self.entries[event.option_index])))

    def action_draft(self) -> None:
        index = self.query_one("#concierge-suggestions", OptionList).highlighted
        if index is None or not 0 <= index < len(self.entries):
            self.notify("No suggestion selected.", severity="warning", markup=False)
            return
        self.write_draft(self.entries[index])

    @work(exclusive=True, group="concierge-draft", exit_on_error=False)
    async def write_draft(self, entry: dict[str, Any]) -> None:
        from tokenopt_tui.core.concierge.draft import DraftError, write_draft

        folder = self.services.paths.data_dir / "skills"
        try:
            path = await asyncio.to_thread(write_draft, folder, entry)
        except DraftError as exc:
            self.notify(terminal_safe(str(exc)), severity="error", markup=False)
            return
        self.notify(f"Draft skill written: {path}", title="Concierge", markup=False)

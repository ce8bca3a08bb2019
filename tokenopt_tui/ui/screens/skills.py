"""The skills screen: every skill with a filter as you type, a body shown on demand.

Only front matter is in memory; a body is read when the user opens it (Enter), the
same lazy path a request uses. The sources are shown in precedence order; each skill
says where it comes from and whether it is offered here ("unavailable: needs X" when
its gating fails, "by name only"); shadowed, skipped and warned-about skills are listed
with why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tokenopt_tui.core.text import terminal_safe

if TYPE_CHECKING:
    from tokenopt_tui.core.skills.library import SkillLibrary
    from tokenopt_tui.core.skills.registry import Skill


class SkillsScreen(ModalScreen[None]):
    """Browse skills: type to filter, arrows to move, Enter to read a body, Esc to close."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self, library: SkillLibrary) -> None:
        super().__init__(classes="dialog-screen")
        self.library = library

    def compose(self) -> ComposeResult:
        registry = self.library.registry
        unavailable = sum(not s.available for s in registry.skills.values())
        with Vertical(classes="dialog -wide"):
            yield Label(Content(f"Skills: {len(registry.skills)} found, "
                                f"{len(registry.skills) - unavailable} usable here, bodies "
                                "loaded only when a request needs them"),
                        classes="dialog-title")
            yield Static(Content(terminal_safe(self.sources_line())), id="skill-sources")
            yield Input(placeholder="Filter by name, tag or description", id="skill-filter")
            with Horizontal(id="skill-columns"):
                yield OptionList(id="skill-list")
                with Vertical(id="skill-detail"):
                    yield Static("", id="skill-summary")
                    yield TextArea("", read_only=True, soft_wrap=True, id="skill-body")
            problems = registry.problems + registry.warnings + registry.shadowed
            if problems:
                yield Static(Content(terminal_safe("\n".join(f"⚠ {p}" for p in problems))),
                             id="skill-problems")
            yield Label(Content("Type to filter · ↑↓ move · Enter shows the body · Esc "
                                "closes"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.refilter("")
        self.query_one("#skill-filter", Input).focus()

    @on(Input.Changed, "#skill-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    @on(Input.Submitted, "#skill-filter")
    def _open_first(self) -> None:
        options = self.query_one("#skill-list", OptionList)
        if options.option_count:
            options.highlighted = options.highlighted or 0
            self.show_body(options.get_option_at_index(options.highlighted or 0).id or "")

    def refilter(self, text: str) -> None:
        """Best matches first when filtering (the request matcher), else by name."""
        skills = self.library.registry.skills
        if text.strip():
            from rapidfuzz import fuzz, process

            haystack = {n: f"{n} {' '.join(s.tags)} {s.description}" for n, s in
                        skills.items()}
            ranked = process.extract(text, haystack, scorer=fuzz.WRatio, limit=None,
                                     score_cutoff=60)
            names = [name for _, _, name in ranked]
        else:
            names = sorted(skills)
        options = self.query_one("#skill-list", OptionList)
        options.clear_options()
        options.add_options([Option(Content(terminal_safe(self.option_text(skills[n]))),
                                    id=n) for n in names])
        if names:
            options.highlighted = 0
            self.show_summary(names[0])

    def sources_line(self) -> str:
        """Where skills come from, first wins (absent folders left out)."""
        registry = self.library.registry
        won: dict[str, int] = {}
        for skill in registry.skills.values():
            won[skill.source] = won.get(skill.source, 0) + 1
        parts = [f"{s.label} ({won.get(s.label, 0)})" for s in registry.sources
                 if s.path.is_dir()]
        return "Sources, first wins: " + " › ".join(parts)

    @staticmethod
    def option_text(skill: Skill) -> str:
        status = "" if skill.status == "ok" else f" · {skill.status}"
        return f"{skill.name}  ({skill.agent or '-'}) · {skill.source}{status}"

    @on(OptionList.OptionHighlighted, "#skill-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self.show_summary(event.option.id)

    @on(OptionList.OptionSelected, "#skill-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.show_body(event.option.id)

    def show_summary(self, name: str) -> None:
        registry = self.library.registry
        skill = registry.skills[name]
        hidden = [f"\nshadows {loser.source} ({loser.path})"
                  for loser, _ in registry.shadowed_skills if loser.name == name]
        self.query_one("#skill-summary", Static).update(Content(terminal_safe(
            f"{skill.name} · {skill.source} · {skill.status}\n{skill.description}\n"
            f"tags: {', '.join(skill.tags)}{''.join(hidden)}\n(Enter shows the body)")))
        self.query_one("#skill-body", TextArea).load_text("")

    def show_body(self, name: str) -> None:
        from tokenopt_tui.core.skills.registry import SkillError

        try:
            body, tokens = self.library.registry.body(name)
        except SkillError as exc:
            body, tokens = f"Cannot read this skill: {exc}", 0
        area = self.query_one("#skill-body", TextArea)
        area.load_text(f"{name}: {tokens:,} tokens\n\n{terminal_safe(body)}")
        area.scroll_home(animate=False)

"""TokenoptApp: owns the services, the session and every worker; renders through ChatScreen.

Start-up order keeps first paint cheap: the constructor only registers themes;
the store is opened in a worker after mount; the tier's provider is touched
(and its model warmed up) only after the first paint.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tokenopt_tui.config import SessionType
from tokenopt_tui.ui.screens.chat import ChatScreen

if TYPE_CHECKING:  # imported when first used: the chat paints before any of them
    from rich.console import RenderableType

    from tokenopt_tui.core.providers.discovery import LocalServer
    from tokenopt_tui.core.session import ChatSession
    from tokenopt_tui.ui.screens.chat import SwarmRun
    from tokenopt_tui.ui.screens.history import HistoryScreen
    from tokenopt_tui.wiring import Services

    ResumeRequested = HistoryScreen.ResumeRequested
from tokenopt_tui.ui.themes import (
    bundled_theme_dir,
    load_themes,
    read_saved_theme,
    ui_state_file,
    user_theme_dir,
    write_saved_theme,
)

log = logging.getLogger(__name__)

FALLBACK_THEME = "tokenopt-dark"
#: The CLI's exit code for bad configuration or an unusable database (see cli.py).
EXIT_BAD_SETUP = 2

LocalServerFinder = Callable[[], Awaitable["Sequence[LocalServer]"]]
#: Builds the swarm cycle for a task in a session (tests pass a scripted one).
SwarmFactory = Callable[["ChatSession", str], "SwarmRun"]


class TokenoptApp(App[None]):
    """The terminal chat. Build with `TokenoptApp(make_services(...))` and `.run()`."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tokenopt"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("escape", "cancel_reply", "Stop reply", id="cancel-reply"),
        Binding("ctrl+n", "new_session", "New session", id="new-session"),
        Binding("ctrl+o", "show_skills", "Skills", id="show-skills"),
        Binding("ctrl+g", "show_history", "History", id="show-history"),
        Binding("ctrl+t", "show_dashboard", "Dashboard", id="show-dashboard"),
        Binding("f6", "show_concierge", "Concierge", id="show-concierge", show=False),
    ]

    def __init__(self, services: Services, *, session_type: SessionType = "direct_chat",
                 resume_session_id: int | None = None, tier: int | None = None,
                 find_local_servers: LocalServerFinder | None = None) -> None:
        """`resume_session_id` < 0 means the most recent session (none: a new one).

        `find_local_servers` (the CLI passes core.discovery's) is asked at first start,
        when no database existed yet, and what it finds is offered as a tier.
        """
        super().__init__()
        self.services = services
        self.session_type = session_type
        self.resume_session_id = resume_session_id
        self.tier = tier
        self.find_local_servers = find_local_servers
        #: No database yet: this is the user's first start (decided before it is made).
        self.first_start = not services.db_path.exists()
        #: The exit code the app ends with whatever way it is quit (0: none needed).
        self.failure_code = 0
        self.session: ChatSession | None = None
        self.theme_warnings: list[str] = self._install_themes()
        self._chat: ChatScreen | None = None
        #: How /swarm builds its cycle (None: core.swarm's real one).
        self.swarm_factory: SwarmFactory | None = None

    # -- themes -------------------------------------------------------------------

    def _install_themes(self) -> list[str]:
        """Register bundled then user themes; apply the remembered theme, else the configured one.

        A theme picked at run time (saved by `watch_theme`) wins over config's `theme`
        while it is installed; a saved theme since removed falls back to the config.
        """
        loaded = load_themes([bundled_theme_dir(),
                              user_theme_dir(self.services.paths.config_file)])
        for theme in loaded.themes:
            self.register_theme(theme)
        warnings = list(loaded.warnings)
        saved, problem = read_saved_theme(ui_state_file(self.services.paths.data_dir))
        if problem is not None:
            warnings.append(problem)
        if saved is not None:
            if saved in self.available_themes:
                self.theme = saved
                return warnings
            log.info("saved theme %r is not installed; using the config's theme", saved)
        wanted = self.services.config.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            warnings.append(f"theme '{wanted}' (config key 'theme') is not installed; "
                            f"using {FALLBACK_THEME}")
            if FALLBACK_THEME in self.available_themes:
                self.theme = FALLBACK_THEME
        return warnings

    def watch_theme(self, name: str) -> None:
        """Remember a theme picked at run time (command palette "Change theme").

        Only while running: `_install_themes` sets the theme from the constructor, and
        that value came from the state file or the config, so writing it back would
        turn a config default into a sticky choice. The file is a few bytes: writing
        it here, synchronously, costs less than the CSS refresh the change triggers.
        """
        if not self.is_running:
            return
        try:
            write_saved_theme(ui_state_file(self.services.paths.data_dir), name)
        except OSError as exc:
            message = f"theme '{name}' not remembered: {exc}"
            log.warning(message)
            self.notify(message, title="Theme", severity="warning", timeout=10, markup=False)

    # -- screens ------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        budgets = self.services.config.budgets
        self._chat = ChatScreen(self.session_type, budgets.get(self.session_type, 0))
        self._chat.swarm_enabled = getattr(self.services.config.swarm, "enabled", True)
        return self._chat

    @property
    def chat(self) -> ChatScreen:
        """The chat screen (typed accessor; it exists from the first compose)."""
        if self._chat is None:
            raise RuntimeError("the chat screen is not created yet")
        return self._chat

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Stop reply", "Stop the reply being streamed",
                            self.action_cancel_reply)
        yield SystemCommand("Side bar", "Show or hide the side bar",
                            self.chat.action_toggle_sidebar)
        yield SystemCommand("Compact", "Compress the context now (/compact)",
                            self.request_compact)
        yield SystemCommand("New session", "Start a new session (seeded with a summary "
                            "when this one is halted)", self.action_new_session)
        yield SystemCommand("Swarm", "Explorer → Worker → Validator on a task, inside a "
                            "reserved budget (/swarm TASK)", self.chat.prefill_swarm)
        yield SystemCommand("Skills", "Browse skills, read a body (/skills)",
                            self.action_show_skills)
        yield SystemCommand("History", "Search, open, resume, rename, delete or export past "
                            "sessions (/history)", self.action_show_history)
        yield SystemCommand("Dashboard", "Costs, tiers, skills and the plan's success "
                            "criteria (/stats)", self.action_show_dashboard)
        yield SystemCommand("Concierge", "Missing skills (requests no skill matched) and "
                            "unused ones; d drafts a skill (F6)", self.action_show_concierge)

    # -- lifecycle ----------------------------------------------------------------

    def exit(self, result: None = None, return_code: int = 0,
             message: RenderableType | None = None) -> None:
        """Quit; a failure recorded on the way (unusable database: 2) is the exit code,
        however the user quits (Ctrl+Q, the palette), as the README documents."""
        super().exit(result, return_code or self.failure_code, message)

    def on_mount(self) -> None:
        for warning in self.theme_warnings:
            log.warning(warning)
            self.notify(warning, title="Theme", severity="warning", timeout=10,
                        markup=False)

    def on_chat_screen_ready(self, _message: ChatScreen.Ready) -> None:
        """The chat is composed: paint it first, then open the store."""
        self.call_after_refresh(self.open_session)

    async def on_unmount(self) -> None:
        """Let a cancelled reply finish storing itself, then close the store."""
        pending = [worker for worker in self.workers if not worker.is_finished]
        for worker in pending:
            worker.cancel()
        with suppress(Exception):
            await self.workers.wait_for_complete(pending)
        await self.services.aclose()

    @work(exclusive=True, group="session", exit_on_error=False, name="open session")
    async def open_session(self) -> None:
        """Open the store, start or resume the session, then warm the model up."""
        from tokenopt_tui.core.session import ChatSession

        store = await self.services.open_store()
        resume_id = self.resume_session_id
        if resume_id is not None and resume_id < 0:  # "continue the latest session"
            resume_id = await store.latest_session_id()
        if resume_id is not None:
            session = await ChatSession.resume(self.services, resume_id, tier=self.tier)
            rows = await self.services.store.session_messages(session.session_id)
            await self.chat.show_history(rows)
        else:
            session = await ChatSession.start(self.services, self.session_type, tier=self.tier)
        self.session = session
        await self.load_skills()
        if resume_id is not None:
            await self.replay_panels(session.session_id)
        self.chat.budget_panel.set_thresholds(self.services.config.thresholds)
        self.chat.session_ready(session)
        await self.refresh_spend()
        if session.halted:
            self.chat.add_notice("This session has used its budget; no further model call "
                                 "will be made in it. Ctrl+N continues in a new session "
                                 "seeded with its summary.")
        self.call_after_refresh(self.warm_up)
        self.call_after_refresh(self.preload)
        if self.first_start and self.find_local_servers is not None:
            self.call_after_refresh(self.offer_local_servers)

    async def load_skills(self) -> None:
        """Scan skill front matter off the event loop; show skipped skills in the panel."""
        import asyncio

        library = await asyncio.to_thread(lambda: self.services.skills)
        if library is None:
            return
        registry = library.registry
        warnings = [str(p) for p in registry.problems + registry.warnings + registry.shadowed]
        self.chat.skills_panel.set_warnings(warnings)
        for warning in warnings:
            log.warning("skill: %s", warning)

    async def replay_panels(self, session_id: int) -> None:
        """A resumed session's past skill loads and compactions, back in their panels."""
        from tokenopt_tui.core.events import ContextCompacted, SkillLoaded, decode_event

        rows = await self.services.store.session_events(
            session_id, kinds=("SkillLoaded", "ContextCompacted"))
        for row in rows:
            event = decode_event(row.kind, row.payload)  # None: written by another version
            if isinstance(event, SkillLoaded):
                self.chat.skills_panel.add_event(event, at=row.created_at[11:19])
            elif isinstance(event, ContextCompacted):
                self.chat.compression_panel.add_event(event)

    def _open_store_screen(self, screen_type: Callable[[Services], Screen[None]]) -> None:
        """Push a screen that reads the store (once: not over itself)."""
        if self.session is None:
            self.notify("The database is not open yet.", severity="warning", markup=False)
            return
        if type(self.screen) is not screen_type:
            self.push_screen(screen_type(self.services))

    def action_show_history(self) -> None:
        from tokenopt_tui.ui.screens.history import HistoryScreen  # on first use

        self._open_store_screen(HistoryScreen)

    def action_show_dashboard(self) -> None:
        from tokenopt_tui.ui.screens.dashboard import DashboardScreen

        self._open_store_screen(DashboardScreen)

    def action_show_concierge(self) -> None:
        from tokenopt_tui.ui.screens.concierge import ConciergeScreen

        self._open_store_screen(ConciergeScreen)

    def on_history_screen_resume_requested(self, message: ResumeRequested) -> None:
        self.resume_session(message.session_id)

    @work(exclusive=True, group="session", exit_on_error=False, name="resume session")
    async def resume_session(self, session_id: int) -> None:
        """Leave the history and continue a past session in the chat."""
        from tokenopt_tui.core.session import ChatSession

        if self._chat is not None and self._chat.replying:
            self.notify("A reply is still streaming: stop it (Esc) first.",
                        severity="warning", markup=False)
            return
        session = await ChatSession.resume(self.services, session_id, tier=self.tier)
        while self.screen is not self.chat and len(self.screen_stack) > 1:
            self.pop_screen()
        self.session = session
        await self.chat.switch_session(session)
        rows = await self.services.store.session_messages(session_id)
        await self.chat.show_history(rows)
        await self.replay_panels(session_id)
        if session.halted:
            self.chat.add_notice("This session has used its budget; Ctrl+N continues in a "
                                 "new session seeded with its summary.")
        self.notify(f"Resumed session #{session_id}.", markup=False)

    def action_show_skills(self) -> None:
        from tokenopt_tui.ui.screens.skills import SkillsScreen

        library = self.services.scanned_skills
        if library is None:
            self.notify("Skills are off (config key 'skills.enabled') or still loading.",
                        severity="warning", markup=False)
            return
        self.push_screen(SkillsScreen(library))

    def preload(self) -> None:
        """After first paint: import what the first reply needs (Markdown) ahead of it,
        and load the classifier's neighbours in a thread."""
        import tokenopt_tui.ui.widgets.reply  # noqa: F401
        from tokenopt_tui.core.routing import neighbours

        self.run_worker(neighbours.load, thread=True, exit_on_error=False,
                        name="routing examples", group="preload")

    @work(exclusive=True, group="warm-up", exit_on_error=False, name="model warm-up")
    async def warm_up(self) -> None:
        """Prepare the tier's model in the background, showing progress."""
        tier = self.tier or 1  # most requests start on the local tier: warm it first
        provider = self.services.provider(tier)
        bar = self.chat.prep_bar
        try:
            async for event in provider.prepare():
                bar.show_progress(event)
        finally:
            bar.finish()

    @work(exclusive=True, group="discovery", exit_on_error=False,
          name="local server discovery")
    async def offer_local_servers(self) -> None:
        """First start: offer each local server found (with a model not yet configured).

        Accepting appends a `[[local_servers]]` entry to the config file; it applies from
        the next start (the router and providers of this run are already built).
        """
        from tokenopt_tui.ui.screens.dialogs import LocalServerScreen

        if self.find_local_servers is None:
            return
        servers = await self.find_local_servers()
        known = {((e.base_url or "").rstrip("/").lower(), e.model)
                 for tier in self.services.config.tiers for e in tier.endpoints}
        config_file = self.services.paths.config_file
        for server in servers:
            if not server.models or (server.base_url.lower(), server.models[0]) in known:
                continue
            model = server.models[0]
            accepted = await self.push_screen_wait(LocalServerScreen(
                server.name, server.base_url, model, len(server.models) - 1, str(config_file)))
            if accepted:
                self.save_local_server(server.name, server.base_url, model)

    def save_local_server(self, name: str, base_url: str, model: str) -> None:
        """Append the accepted server to the config (a few bytes: done on the loop)."""
        from datetime import date

        from tokenopt_tui.config import ConfigError
        from tokenopt_tui.config_edit import add_local_server

        file = self.services.paths.config_file
        try:
            add_local_server(file, base_url, model,
                             note=f"{name} found by tokenopt at first start, {date.today()}; "
                                  "a fallback of tier 1")
        except ConfigError as exc:
            log.error("%s", exc)
            self.notify(str(exc), title="Local server not saved", severity="error",
                        timeout=15, markup=False)
            return
        self.notify(f"Saved in {file}: {base_url} joins tier 1 from the next start.",
                    title="Local server", timeout=10, markup=False)

    # -- replies ------------------------------------------------------------------

    def on_chat_screen_send_requested(self, message: ChatScreen.SendRequested) -> None:
        if self.session is None:
            self.chat.add_error("No session is open yet; the message was not sent.")
            return
        self.send(message.text)

    def on_chat_screen_command_requested(self, message: ChatScreen.CommandRequested) -> None:
        """Slash commands: `/tier N` pins the session to tier N, `/tier auto` lets the
        classifier choose again, `/why` explains the last request's routing, `/compact`
        compresses the context, `/new` starts a new session, `/show ID` reads a stored
        message whole, `/retry up` asks the last request again one tier up, `/good` and
        `/bad` rate the last reply (the chat's keys post these too), `/skill NAME[#section]`
        sends that skill or section with the next request, `/nocache` asks a model even
        when the result cache holds an answer to the next request, `/swarm TASK` runs the
        Explorer → Worker → Validator cycle on TASK."""
        words = message.text.split()
        tiers = len(self.services.config.tiers)
        if words[0] == "/why":
            self.chat.add_notice(self.chat.explain_route())
        elif words == ["/retry", "up"]:
            self.request_retry_up()
        elif words[0] in ("/good", "/bad") and len(words) == 1:
            self.rate(words[0] == "/good")
        elif words[0] == "/compact" and len(words) == 1:
            self.request_compact()
        elif words[0] == "/new" and len(words) == 1:
            self.action_new_session()
        elif words[0] == "/skills" and len(words) == 1:
            self.action_show_skills()
        elif words[0] == "/skill" and len(words) == 2:
            self.queue_skill(words[1])
        elif words[0] == "/nocache" and len(words) == 1 and self.session is not None:
            self.session.skip_cache_once = True  # the result cache is skipped once
            self.chat.add_notice("Your next request goes to a model, not the result cache.")
        elif words[0] == "/swarm":
            self.request_swarm(message.text.partition(" ")[2].strip())
        elif words[0] == "/history" and len(words) == 1:
            self.action_show_history()
        elif words[0] == "/stats" and len(words) == 1:
            self.action_show_dashboard()
        elif words[0] == "/show" and len(words) == 2 and words[1].lstrip("#").isdigit():
            self.show_stored(int(words[1].lstrip("#")))
        elif words[0] == "/tier" and self.session is not None and len(words) == 2:
            if words[1] == "auto":
                self.session.tier = None
                self.chat.add_notice("Tier: chosen per request by the classifier.")
            elif words[1].isdigit() and 1 <= int(words[1]) <= tiers:
                self.session.tier = int(words[1])
                name = self.services.config.tier(int(words[1])).name
                self.chat.add_notice(f"Tier: pinned to {words[1]} ({name}) for this session.")
            else:
                self.chat.add_error(f"/tier takes a number from 1 to {tiers}, or 'auto'.")
        else:
            self.chat.add_error(f"Unknown command {message.text!r}: try /compact, /new, "
                                "/skills, /skill NAME[#section], /swarm TASK, /history, "
                                "/stats, /show ID, /tier N, /tier auto, /nocache, "
                                "/retry up, /good, /bad or /why.")

    def queue_skill(self, spec: str) -> None:
        """`/skill NAME[#section]`: checked now (an unknown skill or section is named with
        the ones that exist), sent with the next request whatever it matches."""
        from tokenopt_tui.core.skills.partial import check_request
        from tokenopt_tui.core.skills.registry import SkillError

        library = self.services.scanned_skills
        if self.session is None or library is None:
            self.chat.add_error("/skill: skills are off (config key 'skills.enabled') or "
                                "still loading.")
            return
        try:
            request = check_request(library.registry, spec)
        except (SkillError, OSError) as exc:
            self.chat.add_error(f"/skill: {exc}")
            return
        self.session.queued_skills.append(str(request))
        self.chat.add_notice(f"Skill {request} goes with your next request.")

    @work(exclusive=True, group="reply", exit_on_error=False, name="reply")
    async def send(self, text: str) -> None:
        session = self.session
        if session is None:
            return
        await self.chat.play_reply(session, session.send(text))
        await self.refresh_spend()

    async def refresh_spend(self) -> None:
        """Today's dollars against the daily cap and the free requests left, for the
        budget panel."""
        spent = await self.services.store.spent_today_usd()
        self.chat.budget_panel.set_spend(spent, self.services.config.daily_cap_usd)
        await self.refresh_free_quota()

    async def refresh_free_quota(self) -> None:
        """Today's free hosted requests left (the store's count, the provider's figures);
        hidden while no free hosted endpoint can be used (no key), where it means nothing."""
        from tokenopt_tui.core.routing.quota import FreeQuota, free_hosted, free_line

        services = self.services
        line = None
        if any(services.provider(tier.number, index).availability()[0]
               for tier, index, _endpoint in free_hosted(services.config.tiers)):
            status = await FreeQuota(services.config.quota, lambda: services.store).status()
            line = free_line(status)
        self.chat.budget_panel.set_free_quota(line)

    def request_swarm(self, task: str) -> None:
        """/swarm TASK: the Explorer → Worker → Validator cycle on TASK, in this session's
        budget (never while a reply streams)."""
        if not task:
            self.chat.add_error("/swarm takes a task: /swarm TASK (e.g. /swarm write a "
                                "backup script for ~/notes and check it).")
            return
        if self.session is None or self.chat.replying:
            self.notify("A reply is still streaming: start the swarm after it ends.",
                        severity="warning", markup=False)
            return
        from tokenopt_tui.ui.widgets.message import UserMessage

        self.chat.messages.add(UserMessage(f"/swarm {task}"))
        self.chat.messages.anchor()
        self.swarm(task)

    @work(exclusive=True, group="reply", exit_on_error=False, name="swarm")
    async def swarm(self, task: str) -> None:
        """Run the cycle and render it; Esc asks it to stop (see action_cancel_reply)."""
        session = self.session
        if session is None:
            return
        from tokenopt_tui.core.swarm.envelope import SwarmRefused

        factory = self.swarm_factory or _real_swarm
        try:
            await self.chat.play_swarm(session, task, factory(session, task))
        except SwarmRefused as exc:  # too little budget left: nothing was sent or stored
            self.chat.add_error(f"/swarm: {exc}")
        await self.refresh_spend()

    def request_retry_up(self) -> None:
        """Ctrl+Up or /retry up: never while a reply streams (it would be cancelled)."""
        if self.session is None or self.chat.replying:
            self.notify("A reply is still streaming: ask again after it ends.",
                        severity="warning", markup=False)
            return
        self.chat.messages.anchor()  # the user just acted: follow the conversation again
        self.retry_up()

    @work(exclusive=True, group="reply", exit_on_error=False, name="retry one tier up")
    async def retry_up(self) -> None:
        """The last request again one tier up; the new answer appears under the first."""
        session = self.session
        if session is None:
            return
        await self.chat.play_reply(session, session.retry_up())
        await self.refresh_spend()

    @work(group="rating", exit_on_error=False, name="rating")
    async def rate(self, good: bool) -> None:
        """Ctrl+Y / Ctrl+F, /good, /bad: rate the session's last reply."""
        session = self.session
        if session is None:
            return
        event = await session.rate(good)
        if event is None:
            self.chat.add_error("There is no reply to rate yet.")
        else:
            self.chat.show_event(event)

    def request_compact(self) -> None:
        """/compact or the palette: never while a reply streams (it would be cancelled)."""
        if self._chat is not None and self._chat.replying:
            self.notify("A reply is still streaming: compact after it ends.",
                        severity="warning", markup=False)
            return
        self.compact()

    @work(exclusive=True, group="reply", exit_on_error=False, name="compaction")
    async def compact(self) -> None:
        """/compact: fold older messages into a summary now (Esc cancels it)."""
        session = self.session
        if session is None:
            return
        if not session.can_compact():
            keep = self.services.config.compression.keep_last
            self.chat.add_notice(f"Nothing to compact yet: the last {keep} messages are "
                                 "always sent whole.")
            return
        self.chat.status.begin(None, "compacting", "extractive"
                               if self.services.config.compression.summarizer == "extractive"
                               else "summary")
        compacted = False
        async for event in session.compact("/compact"):
            compacted = True
            self.chat.show_event(event)
        if not compacted:
            self.chat.add_notice("Nothing changed: a summary of these messages would not be "
                                 "smaller than the messages themselves.")
        self.chat.status.end("compacted" if compacted else "unchanged")
        self.chat.budget_panel.set_usage(session.tokens_used, session.budget)

    @work(exclusive=True, group="session", exit_on_error=False, name="new session")
    async def action_new_session(self) -> None:
        """Ctrl+N: a new session; seeded with a summary when this one is halted."""
        from tokenopt_tui.core.session import ChatSession

        old = self.session
        if old is None or (self._chat is not None and self._chat.replying):
            return
        if old.halted:
            session = await ChatSession.continue_from(self.services, old)
            rows = await self.services.store.session_messages(session.session_id)
            seed = rows[0].content if rows and rows[0].role == "system" else None
        else:
            session = await ChatSession.start(self.services, old.session_type, tier=old.tier)
            seed = None
        self.session = session
        await self.chat.switch_session(session, seed)
        self.notify(f"Session #{session.session_id} started"
                    + (f", continuing #{old.session_id}" if seed else ""), markup=False)

    def on_chat_screen_halt_offered(self, message: ChatScreen.HaltOffered) -> None:
        from tokenopt_tui.core.tokens import count_tokens
        from tokenopt_tui.ui.screens.dialogs import HaltScreen

        event = message.event

        def answered(accept: bool | None) -> None:
            if accept:
                self.action_new_session()

        self.push_screen(HaltScreen(event.used, event.limit, count_tokens(event.summary)),
                         answered)

    @work(group="viewer", exit_on_error=False, name="show message")
    async def show_stored(self, message_id: int) -> None:
        """/show ID: a stored message whole (how a text sent by reference is read)."""
        from tokenopt_tui.ui.screens.dialogs import TextViewScreen

        row = await self.services.store.get_message(message_id)
        if row is None:
            self.chat.add_error(f"/show: there is no message #{message_id}.")
            return
        await self.push_screen(TextViewScreen(
            f"Message #{message_id} ({row.role}, session #{row.session_id})", row.content))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is only live (and lit in the footer) while a reply streams."""
        if action == "cancel_reply":
            return True if self._chat is not None and self._chat.replying else None
        return True

    def action_cancel_reply(self) -> None:
        """Esc: stop the reply; the core keeps the partial text, marked interrupted. A
        swarm cycle is asked to stop first (it ends its phases and settles its budget);
        a second Esc cancels its worker outright."""
        if self._chat is not None and self._chat.cancel_swarm():
            return
        self.workers.cancel_group(self, "reply")

    # -- the one place worker failures are reported ---------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        from tokenopt_tui.store.errors import StoreError

        error = event.worker.error
        where = str(getattr(error, "endpoint", "") or "")
        if isinstance(error, StoreError):
            where = str(self.services.db_path)
            if event.worker.group == "session":  # no session without a database
                self.failure_code = EXIT_BAD_SETUP
                self.chat.set_input_enabled(False, "The database could not be opened "
                                                   "(see above); Ctrl+Q quits")
        log.error("%s failed: %r", event.worker.name, error)
        self.chat.add_error(f"{event.worker.name} failed: {error}", where)
        self.notify(str(error), title=f"{event.worker.name} failed", severity="error",
                    timeout=10, markup=False)


def _real_swarm(session: ChatSession, task: str) -> SwarmRun:
    """The core's cycle for `task`, started from `session` (imported on first use)."""
    from tokenopt_tui.core.swarm.cycle import SwarmCycle

    return SwarmCycle(session.services, session, task)

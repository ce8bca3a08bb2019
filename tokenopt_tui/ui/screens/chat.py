"""ChatScreen: the message list, the prompt, the status line and the side bar.

The screen is a view: it renders core events and asks the App (which owns the
session and every worker) to send. `play_reply` is the one code path that turns
a reply's events into widgets; the benchmark drives the same method.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from tokenopt_tui.ui.widgets.message import (
    ErrorMessage,
    MessageView,
    NoticeMessage,
    UserMessage,
)
from tokenopt_tui.ui.widgets.message_list import MessageList
from tokenopt_tui.ui.widgets.panels import BudgetPanel, CompressionPanel, SkillsPanel
from tokenopt_tui.ui.widgets.prompt import PromptInput
from tokenopt_tui.ui.widgets.status import PrepBar, StatusLine

if TYPE_CHECKING:  # imported on first use: neither Markdown nor the events (and their
    # presenter) are needed for the first paint
    from tokenopt_tui.core.events import (
        AgentChosen,
        BudgetWarned,
        ContextCompacted,
        ErrorOccurred,
        EscalationRequested,
        Event,
        ModelPreparing,
        PaidEscalated,
        PromptCompared,
        ReplyCompleted,
        ReplyRated,
        SessionHalted,
        SkillLoaded,
        SwarmEnded,
        SwarmPhaseEnded,
        SwarmPhaseStarted,
        SwarmPhaseToken,
        SwarmPlanned,
        TierChosen,
        TierFailed,
        TokenReceived,
        UsageRecorded,
    )
    from tokenopt_tui.core.ports import SessionDeps
    from tokenopt_tui.core.presenter import Audience
    from tokenopt_tui.ui.widgets.reply import AssistantMessage

#: How a provider says its endpoint has no key (openai_compat.availability).
KEY_MISSING = re.compile(r"key missing: set ([A-Za-z_][A-Za-z0-9_]*)")


class StoredMessage(Protocol):
    """What the screen needs from a stored message row (store.MessageRow)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def tier(self) -> int | None: ...
    @property
    def model(self) -> str | None: ...
    @property
    def completion_tokens(self) -> int | None: ...


class BudgetSource(Protocol):
    """The part of ChatSession the budget panel, the prompt's estimate and the routing
    notices (tier names) read."""

    @property
    def services(self) -> SessionDeps: ...
    @property
    def session_id(self) -> int: ...
    @property
    def session_type(self) -> str: ...
    @property
    def tokens_used(self) -> int: ...
    @property
    def budget(self) -> int: ...
    @property
    def halted(self) -> bool: ...
    @property
    def last_complexity(self) -> str | None: ...
    def estimate_next(self, draft: str) -> int: ...


class SwarmRun(Protocol):
    """A swarm cycle as the chat drives it (core/swarm/cycle.py): its events, and a way
    to stop it that lets it end its phases and settle its reservation."""

    def run(self) -> AsyncIterator[Event]: ...
    def cancel(self) -> None: ...


class ChatScreen(Screen[None]):
    """The main screen; see the module docstring for who owns what."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+b", "toggle_sidebar", "Side bar", id="toggle-sidebar"),
        Binding("ctrl+l", "focus_prompt", "Prompt", id="focus-prompt", show=False),
        Binding("ctrl+r", "drop_attachment", "Drop paste", id="drop-attachment"),
        # Shown once there is a reply: the last one rated, or its request asked again
        # one tier up. The prompt's Input binds ctrl+u (and ctrl+b is the side bar).
        Binding("ctrl+up", "retry_up", "Retry up", id="retry-up"),
        Binding("ctrl+y", "rate_good", "Good", id="rate-good"),
        Binding("ctrl+f", "rate_bad", "Bad", id="rate-bad"),
        # Shown only after a request the classifier rated high complexity (swarm on).
        Binding("ctrl+s", "swarm_offer", "Swarm it", id="swarm-offer"),
    ]
    #: Actions that need a reply on screen (hidden before, dimmed while one streams).
    REPLY_ACTIONS: ClassVar[frozenset[str]] = frozenset({"retry_up", "rate_good", "rate_bad"})

    class SendRequested(Message):
        """The user submitted text; the App decides whether and how to send it."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class CommandRequested(Message):
        """A slash command (/tier N, /tier auto, /why) for the App to carry out."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Ready(Message):
        """The screen is composed: the App may start filling it."""

    class HaltOffered(Message):
        """The session halted: the App offers a new session seeded with its summary."""

        def __init__(self, event: SessionHalted) -> None:
            super().__init__()
            self.event = event

    def __init__(self, session_type: str, budget: int) -> None:
        super().__init__(id="chat")
        self._session_type = session_type
        self._budget = budget
        self._replying = False
        self._session: BudgetSource | None = None
        #: The last request's agent and routing (/why).
        self.route_log: list[AgentChosen | TierChosen | TierFailed] = []
        self.prompt_compared: PromptCompared | None = None  # the last request's, for /why
        self.cached_tokens = 0  # prompt tokens the last request's calls got from cache
        #: Set when the last request was the one before asked again one tier up (/why).
        self.escalation: EscalationRequested | None = None
        self.has_reply = False  # a reply is on screen to rate or to ask again one tier up
        self.requests = 0  # requests played in this session (/why before the first one)
        self.tier_names: dict[int, str] = {}
        self.keys_announced: set[str] = set()  # variables the key notice already named
        self._keyless: list[tuple[str, int]] = []  # (variable, tier) skipped, not announced
        self.attachment: str | None = None  # a multi-line paste waiting to be sent
        self.attachment_tokens = 0
        self.swarm_enabled = False  # the App sets it from the config: offers /swarm
        self.swarm: SwarmRun | None = None  # the cycle running (Esc cancels it)
        self.swarm_cancelled = False
        self.last_request = ""  # the last text sent (what Ctrl+S hands to /swarm)
        self.swarm_offer: str | None = None  # a complex request offered to /swarm

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="chat-column"):
                yield MessageList(id="messages")
                yield PrepBar(id="prep")
                yield StatusLine(id="status")
                yield Static("", id="attachment")
                yield PromptInput(placeholder="Starting…", id="prompt", disabled=True)
            with VerticalScroll(id="sidebar"):
                yield BudgetPanel(self._budget, self._session_type, id="budget")
                yield CompressionPanel(id="compression")
                yield SkillsPanel(id="skills")
        yield Footer()

    def on_mount(self) -> None:
        self.post_message(self.Ready())

    # -- typed accessors ----------------------------------------------------------

    @property
    def messages(self) -> MessageList:
        return self.query_one("#messages", MessageList)

    @property
    def prompt(self) -> Input:
        return self.query_one("#prompt", Input)

    @property
    def status(self) -> StatusLine:
        return self.query_one("#status", StatusLine)

    @property
    def prep_bar(self) -> PrepBar:
        return self.query_one("#prep", PrepBar)

    @property
    def budget_panel(self) -> BudgetPanel:
        return self.query_one("#budget", BudgetPanel)

    @property
    def compression_panel(self) -> CompressionPanel:
        return self.query_one("#compression", CompressionPanel)

    @property
    def skills_panel(self) -> SkillsPanel:
        return self.query_one("#skills", SkillsPanel)

    # -- state --------------------------------------------------------------------

    @property
    def replying(self) -> bool:
        """A reply is streaming (Enter is refused, Esc stops it)."""
        return self._replying

    @replying.setter
    def replying(self, value: bool) -> None:
        self._replying = value
        self.refresh_bindings()

    def session_ready(self, session: BudgetSource) -> None:
        """The store is open and a session exists: show its budget, accept input."""
        self._session = session
        self.tier_names = {tier.number: tier.name for tier in session.services.config.tiers}
        panel = self.budget_panel
        panel.set_usage(session.tokens_used, session.budget, session.session_type)
        panel.set_halted(session.halted)
        self.set_input_enabled(True)
        self._update_estimate()

    async def switch_session(self, session: BudgetSource, seed: str | None = None) -> None:
        """Show a fresh session: empty list (and its seed summary), panels reset."""
        await self.messages.remove_children()
        self.compression_panel.clear()
        self.skills_panel.clear()
        self.route_log, self.requests = [], 0
        self.prompt_compared, self.cached_tokens = None, 0
        self.escalation, self.has_reply = None, False
        self.refresh_bindings()
        self.keys_announced.clear()  # the notice was in the list just cleared
        self._keyless.clear()
        if seed:
            self.add_notice("New session seeded with the summary of the previous one:\n\n"
                            + seed)
        self.session_ready(session)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "drop_attachment":
            return self.attachment is not None  # hidden from the footer until a paste waits
        if action in self.REPLY_ACTIONS:
            return None if self.replying else self.has_reply
        if action == "swarm_offer":
            return None if self.replying else self.swarm_offer is not None
        return True

    def set_input_enabled(self, enabled: bool, placeholder: str | None = None) -> None:
        prompt = self.prompt
        prompt.disabled = not enabled
        prompt.placeholder = placeholder or (
            "Message (Enter to send, Esc to stop a reply)" if enabled else "Unavailable")
        if enabled:
            prompt.focus()

    def add_notice(self, text: str) -> NoticeMessage:
        view = NoticeMessage(text)
        self.messages.add(view)
        return view

    def tier_label(self, tier: int) -> str:
        """"T2 trinity": a tier's number and configured name."""
        name = self.tier_names.get(tier, "")
        return f"T{tier} {name}".strip()

    def explain_route(self) -> str:
        """The last request's routing, in order (/why): tiers skipped or failed, and why
        each tried tier was chosen (worded by the presenter)."""
        from tokenopt_tui.core.presenter import explain_route

        return explain_route(self.route_log, self.requests, self.tier_label,
                             escalation=self.escalation, prompt=self.prompt_compared,
                             cached_tokens=self.cached_tokens)

    def describe(self, event: Event) -> str | None:
        """The presenter's words for `event`, told to this screen's audience."""
        from tokenopt_tui.core.presenter import describe

        return describe(event, self.audience)

    @property
    def audience(self) -> Audience:
        """Who reads this screen's notices: the chat, about its current session."""
        from tokenopt_tui.core.presenter import Audience

        session = self._session
        if session is None:
            return Audience("chat", None, self._session_type)
        return Audience("chat", session.session_id, session.session_type)

    def announce_missing_keys(self) -> None:
        """Once per session and variable: which tiers are off for want of a key, and how
        to turn them on. A new user otherwise never learns why hosted tiers stay silent."""
        by_variable: dict[str, list[int]] = {}
        for variable, tier in self._keyless:
            if variable not in self.keys_announced and tier not in by_variable.get(variable, []):
                by_variable.setdefault(variable, []).append(tier)
        self._keyless.clear()
        for variable, tiers in by_variable.items():
            self.keys_announced.add(variable)
            names = [self.tier_label(t) for t in sorted(tiers)]
            which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            verb = "is" if len(names) == 1 else "are"
            self.add_notice(f"{which} {verb} off: {variable} is not set. To turn "
                            f"{'it' if len(names) == 1 else 'them'} on, set it before "
                            "starting tokenopt (README, \"Tiers and keys\"):\n\n"
                            f"    export {variable}=…")

    def add_error(self, message: str, where: str = "") -> ErrorMessage:
        view = ErrorMessage(message, where)
        self.messages.add(view)
        return view

    async def show_history(self, rows: Sequence[StoredMessage]) -> None:
        """Mount a resumed session's stored messages (interrupted replies marked)."""
        from tokenopt_tui.ui.widgets.reply import AssistantMessage

        views: list[MessageView] = []
        for row in rows:
            if row.role == "user":
                views.append(UserMessage(row.content))
            elif row.role == "assistant" and (row.content or not row.interrupted):
                views.append(AssistantMessage(row.content, tier=row.tier, model=row.model,
                                              tokens=row.completion_tokens,
                                              interrupted=row.interrupted, message_id=row.id))
        if views:
            await self.messages.mount_all(views)
        if any(isinstance(view, AssistantMessage) for view in views):
            self.has_reply = True
            self.refresh_bindings()
        self.messages.scroll_end(animate=False)

    # -- input --------------------------------------------------------------------

    @on(Input.Changed, "#prompt")
    def _changed(self, _event: Input.Changed) -> None:
        self._update_estimate()

    def _update_estimate(self) -> None:
        """The next request's size, per keystroke: only the draft is counted."""
        session = self._session
        if session is None:
            return
        draft = self.prompt.value
        if draft.startswith("/"):
            self.budget_panel.set_estimate(None)
            self.prompt.border_subtitle = ""
            return
        tokens = session.estimate_next(draft) + self.attachment_tokens
        self.budget_panel.set_estimate(tokens)
        self.prompt.border_subtitle = f"next ≈ {tokens:,} tokens"

    @on(PromptInput.Attached)
    async def _attached(self, event: PromptInput.Attached) -> None:
        """A multi-line paste: keep it aside, count it off the event loop, show it."""
        import asyncio

        from tokenopt_tui.core.tokens import count_tokens

        text = event.text if self.attachment is None else self.attachment + "\n" + event.text
        self.attachment = text
        self.attachment_tokens = 0
        self._show_attachment(counting=True)
        tokens = await asyncio.to_thread(count_tokens, text)
        if self.attachment is text:  # not replaced or dropped meanwhile
            self.attachment_tokens = tokens
            self._show_attachment(counting=False)
            self._update_estimate()

    def _show_attachment(self, counting: bool) -> None:
        bar = self.query_one("#attachment", Static)
        text = self.attachment
        bar.set_class(text is not None, "-shown")
        self.refresh_bindings()
        if text is None:
            return
        size = "counting tokens…" if counting else f"{self.attachment_tokens:,} tokens"
        bar.update(Content(f"Pasted text: {text.count(chr(10)) + 1:,} lines, {len(text):,} "
                           f"characters, {size}. It is sent with your next message "
                           "(Ctrl+R removes it)."))

    def action_drop_attachment(self) -> None:
        self.attachment, self.attachment_tokens = None, 0
        self._show_attachment(counting=False)
        self._update_estimate()

    @on(Input.Submitted, "#prompt")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip() and self.attachment is None:
            return
        if self.replying:
            self.notify("A reply is still streaming: press Esc to stop it first.",
                        severity="warning", markup=False)
            return
        if text.startswith("/"):
            self.prompt.clear()
            self.post_message(self.CommandRequested(text.strip()))
            return
        if self.attachment is not None:
            text = f"{text}\n\n{self.attachment}" if text.strip() else self.attachment
            self.attachment, self.attachment_tokens = None, 0
            self._show_attachment(counting=False)
        self.prompt.clear()
        self.messages.add(UserMessage(text))
        self.messages.anchor()  # the user just acted: follow the conversation again
        self.last_request, self.swarm_offer = text, None
        self.refresh_bindings()
        self.post_message(self.SendRequested(text))

    def action_toggle_sidebar(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display

    def action_focus_prompt(self) -> None:
        self.prompt.focus()

    def action_retry_up(self) -> None:
        """The key for /retry up: the App asks the last request again one tier up."""
        self.post_message(self.CommandRequested("/retry up"))

    def action_rate_good(self) -> None:
        self.post_message(self.CommandRequested("/good"))

    def action_rate_bad(self) -> None:
        self.post_message(self.CommandRequested("/bad"))

    def prefill_swarm(self) -> None:
        """The palette's "Swarm": the prompt starts the command; the user types the task."""
        self.prompt.value = "/swarm "
        self.prompt.cursor_position = len(self.prompt.value)
        self.prompt.focus()

    def action_swarm_offer(self) -> None:
        """Ctrl+S after the offer: the complex request goes to /swarm (the user's choice,
        never made for them)."""
        task, self.swarm_offer = self.swarm_offer, None
        self.refresh_bindings()
        if task:
            self.post_message(self.CommandRequested(f"/swarm {task}"))

    # -- replies ------------------------------------------------------------------

    async def play_reply(self, session: BudgetSource, events: AsyncIterator[Event]) -> None:
        """Render one reply's events as they arrive (`_PLAY` says which method draws
        each type; the rest go to `show_event`).

        Cancelling the task running this (Esc) closes `events`, so the core stores
        the partial reply as interrupted, and leaves the partial text on screen.
        """
        self.replying = True
        self.route_log = []  # /why explains this request only, from its first event
        self.prompt_compared = None
        self.cached_tokens = 0
        self.escalation = None  # set again by this request's EscalationRequested, if any
        self.requests += 1
        playing = _Playing(session)
        status = self.status
        try:
            try:
                async for event in events:
                    play = self._play_table().get(type(event))
                    if play is None:
                        self.show_event(event)
                    else:
                        await play(self, playing, event)
            finally:  # aclosing(), for any async iterator that can be closed
                close = getattr(events, "aclose", None)
                if close is not None:
                    await close()
        finally:
            self.replying = False
            self.announce_missing_keys()  # no tier answered: still say why
            if playing.prepared:
                self.prep_bar.finish()
            reply, completed = playing.reply, playing.completed
            if reply is not None and not completed:
                if reply.streaming or reply.source:
                    await reply.finish(None, interrupted=True)
                else:
                    await reply.remove()
            if reply is not None or completed or playing.chosen:
                status.end("done" if completed else "failed" if playing.failed
                           else "interrupted")
            if not completed:  # no UsageRecorded came: the core's running total is right
                self.budget_panel.set_usage(session.tokens_used, session.budget)
            if completed or (reply is not None and reply.is_attached):
                self.has_reply = True
            if (session.last_complexity == "high" and completed
                    and self.swarm_enabled and self.last_request):
                self.offer_swarm(self.last_request)
            self.refresh_bindings()
            self._update_estimate()

    def offer_swarm(self, task: str) -> None:
        """One line after a request the classifier rated high complexity: the cycle is
        offered, never run without the user asking."""
        self.swarm_offer = task
        self.add_notice("complex task: /swarm it? Ctrl+S runs Explorer → Worker → "
                        "Validator on it, inside a reserved budget.")

    # -- swarm cycles ---------------------------------------------------------------

    async def play_swarm(self, session: BudgetSource, task: str, cycle: SwarmRun) -> None:
        """Render one swarm cycle: its plan, a collapsible part per phase, its end.

        Esc calls `cycle.cancel()` (the App routes it here through `swarm`); the cycle
        ends its phases as cancelled and the parts stay. If the events stop without an
        end (the worker cancelled), the running parts are marked cancelled here."""
        from tokenopt_tui.ui.widgets.swarm import SwarmView

        self.replying = True
        self.swarm, self.swarm_cancelled, self.swarm_offer = cycle, False, None
        view = SwarmView(task, self.tier_label)
        await self.messages.mount(view)
        self.messages.anchor()
        self.status.begin(None, "swarm", "")
        events = cycle.run()
        try:
            try:
                async for event in events:
                    play = self._swarm_table().get(type(event))
                    if play is None:
                        self.show_event(event)
                    else:
                        await play(self, view, event)
            finally:
                close = getattr(events, "aclose", None)
                if close is not None:
                    await close()
        finally:
            if view.plan_text or view.parts:
                await view.stopped()  # nothing if the cycle ended
            else:  # refused before its plan: the App says why
                await view.remove()
            self.swarm = None
            self.replying = False
            self.budget_panel.set_reserved(None)
            self.budget_panel.set_usage(session.tokens_used, session.budget)
            self.status.end(view.verdict or ("cancelled" if view.plan_text else "not started"))
            self.refresh_bindings()
            self._update_estimate()

    def cancel_swarm(self) -> bool:
        """Esc while a cycle runs: ask it to stop (True); False when none runs or it was
        already asked (the App then cancels the worker itself)."""
        if self.swarm is None or self.swarm_cancelled:
            return False
        self.swarm_cancelled = True
        self.swarm.cancel()
        self.status.end("cancelling…")
        return True

    async def _swarm_planned(self, view: Any, event: SwarmPlanned) -> None:
        view.planned(event)
        self.budget_panel.set_reserved(event.reserved_tokens)

    async def _swarm_started(self, view: Any, event: SwarmPhaseStarted) -> None:
        await view.phase_started(event)
        self.status.begin(event.tier, self.tier_names.get(event.tier, ""),
                          f"{event.role} · {event.agent}")

    async def _swarm_token(self, view: Any, event: SwarmPhaseToken) -> None:
        await view.phase_token(event.role, event.attempt, event.text)
        self.status.tick()

    async def _swarm_phase_ended(self, view: Any, event: SwarmPhaseEnded) -> None:
        await view.phase_ended(event)
        self.status.usage(event.tokens, event.cost_usd)

    async def _swarm_ended(self, view: Any, event: SwarmEnded) -> None:
        await view.ended(event)
        self.budget_panel.set_reserved(None)

    _SWARM: ClassVar[dict[type[Event], Callable[[Any, Any, Any], Awaitable[None]]]] = {}

    @classmethod
    def _swarm_table(cls) -> dict[type[Event], Callable[[Any, Any, Any], Awaitable[None]]]:
        """The swarm events `play_swarm` draws itself (built with the first cycle)."""
        if not cls._SWARM:
            from tokenopt_tui.core import events as ev

            cls._SWARM.update({
                ev.SwarmPlanned: cls._swarm_planned, ev.SwarmPhaseStarted: cls._swarm_started,
                ev.SwarmPhaseToken: cls._swarm_token,
                ev.SwarmPhaseEnded: cls._swarm_phase_ended, ev.SwarmEnded: cls._swarm_ended,
            })
        return cls._SWARM

    async def _play_token(self, playing: _Playing, event: TokenReceived) -> None:
        if playing.reply is None:
            playing.reply = await self._new_reply(None, "")
        await playing.reply.append(event.text)
        self.status.tick()

    async def _play_chosen(self, playing: _Playing, event: TierChosen) -> None:
        self.route_log.append(event)
        self.announce_missing_keys()  # above the reply it explains
        playing.chosen = True
        playing.reply = await self._new_reply(event.tier, event.model)
        self.status.begin(event.tier, event.tier_name, event.model)

    async def _play_preparing(self, playing: _Playing, event: ModelPreparing) -> None:
        playing.prepared = True
        self.prep_bar.show_progress(event)

    async def _play_usage(self, playing: _Playing, event: UsageRecorded) -> None:
        self.cached_tokens += event.cached_tokens
        self.status.usage(event.completion_tokens, event.cost_usd)
        if playing.reply is not None:
            playing.reply.set_tokens(event.completion_tokens)
        self.budget_panel.set_usage(event.session_tokens, playing.session.budget)
        self._update_estimate()

    async def _play_failed(self, playing: _Playing, event: TierFailed) -> None:
        reply = playing.reply
        if not event.skipped and reply is not None and not reply.source:
            await reply.remove()  # nothing arrived from that attempt
            playing.reply = None
        self.show_event(event)

    async def _play_completed(self, playing: _Playing, event: ReplyCompleted) -> None:
        if playing.reply is None:
            playing.reply = await self._new_reply(event.tier, event.model)
        playing.reply.message_id = event.message_id
        await playing.reply.finish(event.text, interrupted=event.interrupted)
        playing.completed = True

    async def _play_error(self, playing: _Playing, event: ErrorOccurred) -> None:
        playing.failed = True
        self.show_event(event)

    _PLAY: ClassVar[dict[type[Event], Callable[[Any, _Playing, Any], Awaitable[None]]]] = {}

    @classmethod
    def _play_table(cls) -> dict[type[Event], Callable[[Any, _Playing, Any], Awaitable[None]]]:
        """The events `play_reply` draws itself (built with the first reply: the events
        module is not needed for the first paint)."""
        if not cls._PLAY:
            from tokenopt_tui.core import events as ev

            cls._PLAY.update({
                ev.TokenReceived: cls._play_token, ev.TierChosen: cls._play_chosen,
                ev.ModelPreparing: cls._play_preparing, ev.UsageRecorded: cls._play_usage,
                ev.TierFailed: cls._play_failed, ev.ReplyCompleted: cls._play_completed,
                ev.ErrorOccurred: cls._play_error,
            })
        return cls._PLAY

    def show_event(self, event: Event) -> None:
        """Events that are not part of the streamed text: those in `_SHOW` also drive a
        panel or a toast; any other is a notice in the presenter's words."""
        show = self._show_table().get(type(event))
        if show is not None:
            show(self, event)
        elif (text := self.describe(event)) is not None:
            self.add_notice(text)

    def _show_error(self, event: ErrorOccurred) -> None:
        self.add_error(event.message, event.where)

    def _show_failed(self, event: TierFailed) -> None:
        self.route_log.append(event)
        missing = (KEY_MISSING.search(event.error)
                   if event.skipped and event.fault == "unavailable" else None)
        if missing is not None:
            self._keyless.append((missing.group(1), event.tier))
        if (text := self.describe(event)) is not None:
            self.add_notice(text)

    def _show_paid(self, event: PaidEscalated) -> None:
        text = self.describe(event) or ""
        self.add_notice(text)
        self.notify(text, title="Paid model", severity="warning", markup=False)

    def _show_budget(self, event: BudgetWarned) -> None:
        text = self.describe(event) or ""
        self.add_notice(text)
        self.notify(text, title="Budget", severity="warning", timeout=8, markup=False)

    def _show_compacted(self, event: ContextCompacted) -> None:
        self.compression_panel.add_event(event)
        self.add_notice(self.describe(event) or "")
        self._update_estimate()

    def _show_halted(self, event: SessionHalted) -> None:
        self.budget_panel.set_usage(event.used, event.limit)
        self.budget_panel.set_halted(True)
        self.add_notice(self.describe(event) or "")
        if event.pending and not self.prompt.value:
            self.prompt.value = event.pending
        self.post_message(self.HaltOffered(event))

    def _show_agent(self, event: AgentChosen) -> None:
        self.route_log.append(event)  # /why tells it; no notice in the list

    def _show_prompt(self, event: PromptCompared) -> None:
        self.prompt_compared = event  # /why tells it; no notice in the list

    def _show_skill(self, event: SkillLoaded) -> None:
        self.skills_panel.add_event(event)  # the panel says it; no notice in the list

    def _show_escalation(self, event: EscalationRequested) -> None:
        self.escalation = event
        self.add_notice(self.describe(event) or "")

    def _show_rated(self, event: ReplyRated) -> None:
        """The mark on the rated reply (the last one on screen if its id is unknown)."""
        from tokenopt_tui.ui.widgets.reply import AssistantMessage

        replies = list(self.query(AssistantMessage))
        reply = next((r for r in replies if r.message_id == event.message_id),
                     replies[-1] if replies else None)
        if reply is not None:
            reply.set_rating(event.good)
        self.notify(self.describe(event) or "", title="Rating", timeout=3, markup=False)

    _SHOW: ClassVar[dict[type[Event], Callable[[Any, Any], None]]] = {}

    @classmethod
    def _show_table(cls) -> dict[type[Event], Callable[[Any, Any], None]]:
        """The events `show_event` hands to a panel or a toast (built on first use)."""
        if not cls._SHOW:
            from tokenopt_tui.core import events as ev

            cls._SHOW.update({
                ev.AgentChosen: cls._show_agent,
                ev.ErrorOccurred: cls._show_error, ev.TierFailed: cls._show_failed,
                ev.PaidEscalated: cls._show_paid, ev.BudgetWarned: cls._show_budget,
                ev.ContextCompacted: cls._show_compacted, ev.SessionHalted: cls._show_halted,
                ev.SkillLoaded: cls._show_skill, ev.EscalationRequested: cls._show_escalation,
                ev.ReplyRated: cls._show_rated, ev.PromptCompared: cls._show_prompt,
            })
        return cls._SHOW

    async def _new_reply(self, tier: int | None, model: str) -> AssistantMessage:
        """Mount (and wait for) the reply widget: streaming into an unmounted
        Markdown would race with its own first render."""
        from tokenopt_tui.ui.widgets.reply import AssistantMessage

        reply = AssistantMessage(tier=tier, model=model)
        await self.messages.mount(reply)
        return reply


@dataclass
class _Playing:
    """What `play_reply` tracks while one reply's events arrive."""

    session: BudgetSource
    reply: AssistantMessage | None = None
    completed: bool = False
    failed: bool = False
    prepared: bool = False
    chosen: bool = False

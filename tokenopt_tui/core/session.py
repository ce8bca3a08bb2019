"""ChatSession: the only way a request is made. The TUI and the CLI both drive it.

`send(text)` stores the user's message, picks a tier, streams the reply while
flushing it to the DB at least every `flush_interval` seconds (so a crash loses at
most that much), records the call's usage and yields typed events throughout.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from tokenopt_tui.config import Config, SessionType, as_session_type
from tokenopt_tui.core.budget import Budget, Level
from tokenopt_tui.core.cache.key import SkillRef
from tokenopt_tui.core.cache.result import PREFIX_CHARS, CachePlan, ResultCache
from tokenopt_tui.core.context import MESSAGE_OVERHEAD, Context, Entry, make_entry
from tokenopt_tui.core.events import (
    AgentChosen,
    BudgetWarned,
    CacheHit,
    ContentReferenced,
    ContextCompacted,
    ErrorOccurred,
    EscalationRequested,
    Event,
    ModelPreparing,
    PaidEscalated,
    PromptCompared,
    ReplyCompleted,
    ReplyCut,
    ReplyRated,
    SessionHalted,
    SessionStarted,
    SkillLoaded,
    TierChosen,
    TierFailed,
    TokenReceived,
    UsageRecorded,
    decode_event,
)
from tokenopt_tui.core.faults import FailureKind
from tokenopt_tui.core.ports import SessionDeps, agents_of
from tokenopt_tui.core.pricing import call_cost
from tokenopt_tui.core.providers.base import ChatMessage, Provider, Role, Usage, as_role
from tokenopt_tui.core.providers.call_options import want_response_cache
from tokenopt_tui.core.routing.classify import classify
from tokenopt_tui.core.routing.router import (
    AttemptCut,
    AttemptFailed,
    AttemptStarted,
    PaidEscalation,
    RouteFinished,
    TextReceived,
    UsageReported,
)
from tokenopt_tui.core.text import one_line
from tokenopt_tui.core.tokens import count_tokens
from tokenopt_tui.store import MessageRow, Store
from tokenopt_tui.store.accounting import CallFigures
from tokenopt_tui.store.cache import CacheEntry

if TYPE_CHECKING:  # the agents and neighbours are imported only when used
    from tokenopt_tui.core.agents.picker import AgentChoice
    from tokenopt_tui.core.routing.neighbours import Neighbours

E = TypeVar("E", bound=Event)

FLUSH_INTERVAL_S = 0.5
#: A session is titled with its first request on one line: 60 characters and "…" at most.
TITLE_CHARS = 61
#: Texts longer than this are counted (and excerpted) in a worker thread, off the loop.
THREAD_CHARS = 100_000
#: A budget-forced compaction keeps only the last exchange verbatim.
FORCED_KEEP_LAST = 2
#: Failures where the provider refused the request outright: with no text streamed,
#: nothing was processed, so nothing is charged. Any other end (a timeout, a stall, a
#: cancel, a kill) is charged the prompt at least: the provider may have read it.
REFUSED_KINDS: frozenset[FailureKind] = frozenset(
    {"connection", "rate_limit", "not_found", "rejected", "server", "unavailable"})
#: Skills are matched on the ask, not on pasted material: the head and tail of a long
#: request (where people put the question) stand for the whole.
ASK_HEAD_CHARS = 1_200
ASK_TAIL_CHARS = 600
#: Messages read back from the store to find the last request and its answers (a retry
#: or a rating); the whole session only when these hold no request.
RETRY_LOOKBACK = 16


def ask_window(text: str) -> str:
    """The part of a request that says what is asked: all of a short one, the head and
    tail of a long one (a 10 MB paste is not read by the skill matcher)."""
    if len(text) <= ASK_HEAD_CHARS + ASK_TAIL_CHARS:
        return text
    return text[:ASK_HEAD_CHARS] + "\n…\n" + text[-ASK_TAIL_CHARS:]


async def routing_neighbours() -> Neighbours | None:
    """The classifier's labelled neighbours, loaded once in a worker thread (the app
    starts that after its first paint; `ask` pays ~0.4 s on its first request)."""
    from tokenopt_tui.core.routing import neighbours

    found = neighbours.loaded()
    if found is None and neighbours.load_error() is None:
        found = await asyncio.to_thread(neighbours.load)
    return found


@lru_cache(maxsize=16)
def system_tokens(system_text: str) -> int:
    """Tokens of a per-request system message (skill bodies, an agent's prompt): the
    same few load request after request, so each distinct text is counted once."""
    return count_tokens(system_text)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChatSession:
    """One conversation: its context view, its budget and its requests."""

    def __init__(self, services: SessionDeps, session_id: int, session_type: SessionType,
                 context: Context | None = None, tier: int | None = None) -> None:
        self.services = services
        self.session_id = session_id
        self.session_type = session_type
        self.context = context or Context()
        self.tier = tier
        self.tokens_used = 0
        self.halted = False
        self.halt_summary = ""
        self.flush_interval = FLUSH_INTERVAL_S
        self._announced: Level = "ok"  # the highest budget level already reported
        self._titled = False
        self._task_type: str | None = None  # the classifier's, for the dashboard
        #: Where the last request started (the classifier's tier, or the pinned one).
        self.last_start_tier: int | None = None
        #: The classifier's complexity for the last request (the chat offers /swarm on
        #: "high"); None before the first request.
        self.last_complexity: str | None = None
        self._last_sent: list[ChatMessage] = []  # the last prompt, for PromptCompared
        #: Skills the user asked for (`/skill NAME[#section]`, `ask --skill`): sent with
        #: the next request, then forgotten.
        self.queued_skills: list[str] = []
        #: The result cache; `skip_cache_once` (/nocache, --no-cache) and `cacheable_once`
        #: apply to the next request only.
        self._result_cache: ResultCache | None = None
        self.skip_cache_once = False
        self.cacheable_once = False
        #: A budget of its own instead of its type's (a swarm role gets its share), and a
        #: cap on each call's max_tokens (what is left of that share); None: the config's.
        self.budget_limit: int | None = None
        self.max_tokens_cap: int | None = None

    @classmethod
    async def start(cls, services: SessionDeps, session_type: SessionType = "direct_chat",
                    title: str | None = None, tier: int | None = None,
                    seed: str | None = None, budget: int | None = None) -> ChatSession:
        """A new session; `seed` (a summary) becomes its first, system, message; `budget`
        replaces its type's budget."""
        session_id = await services.store.create_session(session_type, title)
        session = cls(services, session_id, session_type, tier=tier)
        session.budget_limit = budget
        session._titled = title is not None
        await session._persist(SessionStarted(session_id, session_type))
        if seed:
            seed_id = await services.store.add_message(session_id, "system", seed)
            session.context.add(await session._entry("system", seed, seed_id))
        return session

    @classmethod
    async def resume(cls, services: SessionDeps, session_id: int,
                     tier: int | None = None) -> ChatSession:
        """Reopen a stored session: its context (with its last compaction) and budget."""
        store = services.store
        row = await store.get_session(session_id)
        if row is None:
            raise LookupError(f"no session {session_id} in {services.store.path}")
        session = cls(services, session_id, as_session_type(row.type), tier=tier)
        session._titled = row.title is not None
        for m in await store.session_messages(session_id):
            if m.content:
                session.context.add(await session._entry(as_role(m.role), m.content, m.id))
        row_of_compaction = await store.last_event(session_id, "ContextCompacted")
        compacted = row_of_compaction and decode_event(row_of_compaction.kind,
                                                       row_of_compaction.payload)
        if isinstance(compacted, ContextCompacted) and compacted.summary:
            session.context.apply_summary(compacted.summary, compacted.upto)
        # The row counts the session's own calls; swarm cycles it started are charged to
        # its budget as their role sessions were (their calls are counted there).
        session.tokens_used = row.tokens_used + await _swarm_tokens(store, session_id)
        session._announced = session.budget_state.level(row.tokens_used)
        if row.status == "halted":
            session.halted = True
            row_of_halt = await store.last_event(session_id, "SessionHalted")
            halted = row_of_halt and decode_event(row_of_halt.kind, row_of_halt.payload)
            session.halt_summary = halted.summary if isinstance(halted, SessionHalted) else ""
        return session

    @classmethod
    async def continue_from(cls, services: SessionDeps, halted: ChatSession) -> ChatSession:
        """A new session of the same type seeded with a halted session's summary."""
        row = await services.store.get_session(halted.session_id)
        title = f"Continued from #{halted.session_id}"
        if row is not None and row.title:
            title += f": {row.title}"
        summary = halted.halt_summary or await halted._summary_of_everything()
        return await cls.start(services, halted.session_type, title=title[:80],
                               tier=halted.tier, seed=summary)

    @property
    def result_cache(self) -> ResultCache:
        """The result cache over the services' store (made on first use)."""
        if self._result_cache is None:
            self._result_cache = ResultCache(self.services.store, self.services.config)
        return self._result_cache

    @result_cache.setter
    def result_cache(self, cache: ResultCache) -> None:
        self._result_cache = cache

    @property
    def history(self) -> list[ChatMessage]:
        """The session's original messages (what is sent is `context.messages()`)."""
        return self.context.history

    @property
    def budget(self) -> int:
        if self.budget_limit is not None:
            return self.budget_limit
        return self.services.config.budgets[self.session_type]

    @property
    def max_tokens(self) -> int:
        """A call's max_tokens: the config's, within this session's cap."""
        limit = self.services.config.max_tokens
        return limit if self.max_tokens_cap is None else min(limit, self.max_tokens_cap)

    @property
    def budget_state(self) -> Budget:
        return Budget(self.budget, self.services.config.thresholds)

    def estimate_next(self, draft: str) -> int:
        """Tokens the next request would send if `draft` were sent now (O(draft))."""
        return self.context.estimate_next(count_tokens(draft))

    def can_compact(self, keep_last: int | None = None) -> bool:
        """Is there anything older than the last `keep_last` messages left to fold?"""
        keep = self.services.config.compression.keep_last if keep_last is None else keep_last
        return len(self.context.entries) - keep > self.context.upto

    async def _persist(self, event: Event) -> None:
        if event.persist:
            await self.services.store.add_event(self.session_id, event.kind,
                                                event.stored_dict())

    async def _entry(self, role: Role, content: str, message_id: int | None) -> Entry:
        limit = self.services.config.compression.reference_over_tokens
        if len(content) > THREAD_CHARS:  # a 5 MB paste takes seconds to count and scan
            return await asyncio.to_thread(make_entry, role, content, message_id, limit)
        return make_entry(role, content, message_id, limit)

    async def send(self, text: str, *, retry: RetryPlan | None = None
                   ) -> AsyncIterator[Event]:
        """Ask for a reply to `text`; yields events until the reply ends or fails.

        Budget first: a halted session makes no call. Then the context is compacted if a
        trigger fired (budget at the compress level, too many tokens or turns). The
        classifier picks the starting tier (unless the session is pinned), the router
        walks the chain; each attempt's text is stored as it streams, and an attempt
        that fails midway stays in the history as an interrupted message.

        `retry` (only from `retry_up`): `text` is the stored last request, asked again
        pinned to `retry.to_tier`; it is not stored twice, and its earlier answers stay
        in the session but are not sent with it.
        """
        want_response_cache(False)  # e.g. a summary call: only a cacheable request asks
        if self.halted or self.budget_state.level(self.tokens_used) == "halt":
            yield await self._halt(pending=text)
            return
        store = self.services.store
        config = self.services.config
        referenced = None if retry is not None else await self._add_request(text)
        if referenced is not None:
            yield referenced
        trigger = self._trigger()
        if trigger is not None:
            async for event in self.compact(*trigger):
                yield event
            if self.budget_state.level(self.tokens_used) == "halt":  # the summary overshot
                yield await self._halt(pending=text)
                return

        skills_message, skill_events = await self._skills_for(text)
        for event in skill_events:
            yield event
        messages = self.context.messages()
        prompt_estimate = self.context.tokens()
        if retry is not None:
            messages, prompt_estimate = _without_answers(messages, self.context.counts(),
                                                         prompt_estimate, text)
        volatile: list[ChatMessage] = []  # per-request text: after the stable history
        if skills_message is not None:
            volatile.append(skills_message)
            prompt_estimate += system_tokens(skills_message.content)

        decision = classify(text, history_turns=len(self.context.entries) // 2,
                            neighbours=await routing_neighbours())
        self._task_type = decision.task_type
        self.last_complexity = decision.complexity
        agent = await self._choose_agent(decision.task_type)
        if agent is not None:  # its prompt for this call only (not in the context)
            yield agent.event
            volatile.insert(0, ChatMessage("system", agent.spec.system_prompt))
            prompt_estimate += system_tokens(agent.spec.system_prompt)
        messages = _before_request(messages, volatile)
        yield self._compare_prompt(messages)
        reasons: tuple[str, ...]
        if retry is not None:
            start, reasons = retry.to_tier, (
                f"asked again one tier up (the answer came from tier {retry.from_tier})",)
        elif self.tier is not None:
            start, reasons = self.tier, (f"pinned to tier {self.tier}",)
        else:
            start = min(decision.tier, len(config.tiers))
            reasons = (f"{decision.task_type}, {decision.complexity} complexity",
                       *decision.reasons)
        self.last_start_tier = start
        # -- result cache: a deterministic request asked before is answered from the store
        cache_plan = self._cache_plan(start, messages, text, skills_message, skill_events,
                                      retry)
        if cache_plan is not None and (hit := await self.result_cache.get(cache_plan)):
            for event in await self._answer_from_cache(cache_plan, hit):
                yield event
            return
        answered: _Attempt | None = None  # the complete answer, to keep in the cache
        # a cacheable request may also be answered from a hosted tier's response cache
        want_response_cache(cache_plan is not None
                            and config.cache.provider_response_cache)
        cut_short = False
        # --
        attempt: _Attempt | None = None
        usage: Usage | None = None
        last_endpoint = ""
        first = True
        passed_over: list[AttemptFailed] = []  # skipped or failed before the first attempt
        try:
            async for item in self.services.router.route(
                    messages, start_tier=start, max_tokens=self.max_tokens,
                    pinned=self.tier is not None or retry is not None):
                if isinstance(item, TextReceived) and attempt is not None:  # the hot path
                    fragment = item.text
                    attempt.parts.append(fragment)
                    if attempt.reply_id is None:  # the row exists from the first fragment on
                        attempt.reply_id = await store.add_message(
                            self.session_id, "assistant", fragment, tier=attempt.tier,
                            model=attempt.provider.model, interrupted=True)
                        attempt.flushed_at, attempt.flushed = time.monotonic(), 1
                        attempt.streamed_tokens = count_tokens(fragment)
                    yield TokenReceived(fragment)
                    if (time.monotonic() - attempt.flushed_at >= self.flush_interval
                            and len(attempt.parts) != attempt.flushed):
                        await self._flush(attempt)
                elif isinstance(item, ModelPreparing):
                    if attempt is not None:
                        attempt.started = time.perf_counter()  # latency excludes preparation
                    yield item
                elif isinstance(item, AttemptStarted):
                    provider = item.provider
                    attempt = _Attempt(item.tier, provider, prompt_estimate=prompt_estimate,
                                       index=item.endpoint_index)
                    last_endpoint = provider.endpoint
                    why = (_fallback_reasons(start, reasons, item.tier, passed_over) if first
                           else (f"fallback to tier {item.tier}",))
                    first = False
                    await self._start_call(attempt)
                    yield await self._emit(TierChosen(item.tier, item.tier_name, provider.kind,
                                                      item.model, why))
                elif isinstance(item, AttemptFailed):
                    if not item.skipped and agent is not None:  # health, never quality
                        await self._agent_failed(agent.spec.name)
                    if first:
                        passed_over.append(item)
                    if not item.skipped and attempt is not None:
                        for event in await self._finish(attempt, None, error=item.error,
                                                        refused=item.kind in REFUSED_KINDS):
                            yield event
                        attempt = None
                    yield await self._emit(TierFailed(item.tier, item.model, item.endpoint,
                                                      item.kind, item.error, item.skipped))
                elif isinstance(item, AttemptCut):
                    cut_short = True
                    yield await self._emit(ReplyCut(item.limit, item.detail))
                elif isinstance(item, PaidEscalation):
                    yield await self._emit(PaidEscalated(item.tier, item.model, item.reason))
                elif isinstance(item, UsageReported):
                    usage = item.usage
                elif isinstance(item, RouteFinished):
                    if item.ok and attempt is not None:
                        for event in await self._finish(attempt, usage, error=None):
                            yield event
                        answered, attempt = attempt, None
                    elif not item.ok:
                        yield await self._emit(ErrorOccurred(
                            item.error or "no tier could answer", where=last_endpoint))
        except (asyncio.CancelledError, GeneratorExit):
            if attempt is not None:
                await asyncio.shield(self._finish(attempt, None, error="cancelled"))
            raise
        want_response_cache(False)
        if cache_plan is not None and answered is not None and not cut_short:
            await self._cache_answer(cache_plan, answered)
        for event in await self._budget_events():
            yield event
        if self.budget_state.level(self.tokens_used) == "halt":
            yield await self._halt(pending="")

    # -- result cache -----------------------------------------------------------------

    def _cache_plan(self, start: int, messages: list[ChatMessage], text: str,
                    skills_message: ChatMessage | None, skill_events: list[Event],
                    retry: RetryPlan | None) -> CachePlan | None:
        """This request's cache key for the start tier's first endpoint, or None: a retry
        wants a new answer, /nocache or --no-cache skip one request, and only
        deterministic requests (or ones marked cacheable) are cached."""
        skip, self.skip_cache_once = self.skip_cache_once, False
        cacheable, self.cacheable_once = self.cacheable_once, False
        if retry is not None or skip:
            return None
        body = skills_message.content if skills_message is not None else ""
        skills = [SkillRef.of(e.skill_name, body) for e in skill_events
                  if isinstance(e, SkillLoaded)]
        return self.result_cache.plan(start, messages, text, self._task_type, skills,
                                      cacheable=cacheable)

    async def _answer_from_cache(self, plan: CachePlan, hit: CacheEntry) -> list[Event]:
        """Store the cached answer as this request's reply: no call row (nothing was
        called, so the dashboard's calls, tokens and latency stay those of real calls),
        a CacheHit (which the dashboard counts), 0 tokens and $0."""
        store = self.services.store
        reply_id = await store.add_message(self.session_id, "assistant", hit.reply,
                                           tier=plan.tier, model=hit.model)
        await store.finish_message(reply_id, hit.reply, tier=plan.tier, model=hit.model,
                                   prompt_tokens=0, completion_tokens=0, cost_usd=0.0)
        if hit.reply:
            self.context.add(await self._entry("assistant", hit.reply, reply_id))
        age = max(0.0, self.result_cache.clock() - hit.created_at)
        events: list[Event] = [
            CacheHit(plan.key[:PREFIX_CHARS], hit.prompt_tokens, hit.completion_tokens,
                     round(age, 1)),
            UsageRecorded(plan.tier, hit.model, 0, 0, 0.0, 0.0, False, self.tokens_used),
            ReplyCompleted(reply_id, hit.reply, False, plan.tier, hit.model)]
        for event in events:
            await self._persist(event)
        return events

    async def _cache_answer(self, plan: CachePlan, answered: _Attempt) -> None:
        """Keep a complete answer, when it came from the endpoint the key was built for,
        the start tier's first (a fallback's answer is another endpoint's)."""
        usage, text = answered.usage, "".join(answered.parts)
        if answered.tier != plan.tier or answered.index != 0 or not text or usage is None:
            return
        await self.result_cache.put(plan, text, usage.prompt_tokens, usage.completion_tokens,
                                    answered.provider.model)

    async def _choose_agent(self, task_type: str) -> AgentChoice | None:
        """Draw this request's agent by pheromone (None without agents or when none fits
        the task type); its AgentChosen is stored before the first attempt."""
        agents = agents_of(self.services)
        if agents is None:
            return None
        choice = await agents.choose(task_type)
        if choice is not None:
            await self._persist(choice.event)
        return choice

    async def _agent_failed(self, agent: str) -> None:
        agents = agents_of(self.services)
        if agents is not None:
            await agents.provider_failed(agent)

    async def _agent_for(self, message_id: int) -> AgentChosen | None:
        """The AgentChosen of the request whose reply is message `message_id` (the last
        one stored before that reply's ReplyCompleted), None when none was drawn."""
        last: AgentChosen | None = None
        for row in await self.services.store.session_events(
                self.session_id, kinds=("AgentChosen", "ReplyCompleted")):
            if row.kind == "AgentChosen":
                decoded = decode_event(row.kind, row.payload)
                last = decoded if isinstance(decoded, AgentChosen) else None
            elif row.payload.get("message_id") == message_id:
                return last
        return None

    def _compare_prompt(self, messages: list[ChatMessage]) -> PromptCompared:
        """Where this prompt first differs from the last request's (/why)."""
        from tokenopt_tui.core.prompt_prefix import compare

        diff = compare(self._last_sent, messages)
        self._last_sent = messages
        return PromptCompared(diff.same_chars, diff.total_chars,
                              -1 if diff.first_changed is None else diff.first_changed,
                              diff.changed_role or "")

    async def _emit(self, event: E) -> E:
        await self._persist(event)
        return event

    async def _add_request(self, text: str) -> ContentReferenced | None:
        """Store the user's request and add it to the context; a ContentReferenced when
        it is too long to be sent whole."""
        store = self.services.store
        message_id = await store.add_message(self.session_id, "user", text)
        if not self._titled:
            await store.set_session_title(self.session_id, one_line(text, TITLE_CHARS))
            self._titled = True
        entry = await self._entry("user", text, message_id)
        self.context.add(entry)
        if not entry.referenced:
            return None
        return await self._emit(ContentReferenced(message_id, "user", entry.tokens,
                                                  entry.view_tokens))

    # -- escalation and rating by the user --------------------------------------------

    async def retry_up(self) -> AsyncIterator[Event]:
        """Ask the last request again one tier above the tier its answer came from.

        Yields an EscalationRequested, then what `send` yields; both answers stay stored
        and the user's message is not stored again (the new answer follows the first
        one). The paid tier is used only when paid use is on, announced like any paid
        call; otherwise the retry is capped at the highest free tier (`escalation_tier`).
        """
        if self.halted or self.budget_state.level(self.tokens_used) == "halt":
            yield await self._halt(pending="")
            return
        plan = await self._retry_plan()
        if isinstance(plan, str):
            yield await self._emit(ErrorOccurred(plan, where="retry one tier up"))
            return
        yield await self._emit(EscalationRequested(plan.message_id, plan.from_tier,
                                                   plan.to_tier))
        await self._feedback(plan.message_id, False, "escalation")
        async for event in self.send(plan.text, retry=plan):
            yield event

    async def rate(self, good: bool) -> ReplyRated | None:
        """Rate the session's last reply good or bad; None when it has no reply yet."""
        rows = await self._recent_messages()
        answer = next((row for row in reversed(rows) if row.role == "assistant"), None)
        if answer is None:
            return None
        event = await self._emit(ReplyRated(answer.id, good))
        await self._feedback(answer.id, good, "rating")
        return event

    async def _feedback(self, message_id: int, good: bool, source: str) -> None:
        """The user's verdict on reply `message_id`: `source` "rating" (the good/bad keys,
        /good, /bad) or "escalation" (asked again one tier up: bad for that answer).

        The verdict updates the quality (pheromone) of the agent drawn for the request
        that produced the reply, for that request's task type; nothing happens without
        agents or when no agent was drawn for it."""
        agents = agents_of(self.services)
        if agents is None:
            return
        chosen = await self._agent_for(message_id)
        if chosen is not None:
            await agents.feedback(chosen.agent, chosen.task_type, good, source)

    async def _recent_messages(self) -> list[MessageRow]:
        """The session's last messages, enough to hold its last request and answers."""
        store = self.services.store
        rows = await store.session_messages(self.session_id, last=RETRY_LOOKBACK)
        if len(rows) == RETRY_LOOKBACK and not any(row.role == "user" for row in rows):
            rows = await store.session_messages(self.session_id)
        return rows

    async def _retry_plan(self) -> RetryPlan | str:
        """The last request, its last answer and the tier to ask next; or why none."""
        rows = await self._recent_messages()
        last = next((i for i in range(len(rows) - 1, -1, -1) if rows[i].role == "user"), None)
        if last is None:
            return "there is no request in this session to ask again"
        answers = [row for row in rows[last + 1:] if row.role == "assistant"]
        if not answers:
            return "the last request has no answer to improve on: send it again instead"
        answer = answers[-1]
        from_tier = answer.tier if answer.tier is not None else 1
        return RetryPlan(rows[last].content, answer.id, from_tier,
                         escalation_tier(self.services.config, from_tier))

    async def _skills_for(self, text: str) -> tuple[ChatMessage | None, list[Event]]:
        """The bodies of the skills this request matches, as one system message for this
        call only (they are not kept in the context), and a SkillLoaded per skill."""
        library = self.services.skills
        if library is None:
            return None, []
        queued, self.queued_skills = self.queued_skills, []
        selection = library.select(ask_window(text), queued)
        events: list[Event] = []
        for skill in selection.loaded:
            await self.services.store.record_skill_invocation(
                self.session_id, skill.name, skill.tokens, skill.score,
                round(skill.latency_ms, 3))
            events.append(await self._emit(SkillLoaded(
                skill.name, skill.tokens, skill.score, skill.reason,
                round(selection.elapsed_ms, 3), skill.sections)))
        if not selection.loaded:
            return None, events
        return ChatMessage("system", selection.system_text()), events

    # -- budget ---------------------------------------------------------------------

    async def _budget_events(self) -> list[Event]:
        """BudgetWarned for each threshold newly crossed (warn, then compress)."""
        budget = self.budget_state
        crossed = budget.crossed_from(self._announced, self.tokens_used)
        events: list[Event] = []
        for level in crossed:
            if level in ("warn", "compress"):
                events.append(await self._emit(BudgetWarned(
                    self.tokens_used, budget.limit, budget.threshold_percent(level), level)))
        if crossed:
            self._announced = crossed[-1]
        return events

    async def _halt(self, pending: str) -> SessionHalted:
        """Stop the session: no model call from now on; keep a summary to continue from."""
        if not self.halted:
            self.halt_summary = await self._summary_of_everything()
            self.halted = True
            await self.services.store.end_session(self.session_id, status="halted")
        return await self._emit(SessionHalted(self.tokens_used, self.budget,
                                              self.halt_summary, pending))

    async def _summary_of_everything(self) -> str:
        from tokenopt_tui.core.compression.compress import compress

        messages = self.context.messages()
        if not messages:
            return ""
        result = await asyncio.to_thread(compress, messages, keep_last=0,
                                         counts=self.context.counts())
        return result.messages[0].content

    # -- compaction -----------------------------------------------------------------

    def _trigger(self) -> tuple[str, int] | None:
        """Which compaction rule fires before the next call, and what it keeps verbatim."""
        settings = self.services.config.compression
        budget = self.budget_state
        if budget.level(self.tokens_used) == "compress" and self.can_compact(FORCED_KEEP_LAST):
            return (f"budget at {budget.percent(self.tokens_used):.0f}% "
                    f"(≥ {budget.thresholds.compress_percent}%)", FORCED_KEEP_LAST)
        if not self.can_compact(settings.keep_last):
            return None
        tokens = self.context.tokens()
        if tokens > settings.summarize_over_tokens:
            return (f"context {tokens:,} tokens (> {settings.summarize_over_tokens:,})",
                    settings.keep_last)
        turns = self.context.turns()
        if turns > settings.compress_over_turns:
            return f"{turns} turns (> {settings.compress_over_turns})", settings.keep_last
        return None

    async def compact(self, trigger: str = "/compact",
                      keep_last: int | None = None) -> AsyncIterator[Event]:
        """Fold all but the last `keep_last` messages into a summary that is sent instead.

        Extractive by default; with `compression.summarizer = "llm"` the cheapest free
        tier rewrites it, and a bad rewrite is discarded. Nothing stored is changed, and
        nothing happens when the summary would not be smaller than what it replaces.
        """
        settings = self.services.config.compression
        keep = settings.keep_last if keep_last is None else keep_last
        if not self.can_compact(keep):
            return
        context = self.context
        before = context.tokens()
        upto = len(context.entries) - keep
        from tokenopt_tui.core.compression.compress import compress  # first compaction only

        result = await asyncio.to_thread(compress, context.messages(), keep_last=keep,
                                         counts=context.counts())
        if result.tokens_after >= result.tokens_before:
            return  # short messages: a summary would not make the context smaller
        summary = result.messages[0].content
        method, cost_tokens, cost_usd = "extractive", 0, 0.0
        if settings.summarizer == "llm":
            async for item in self._llm_summary(summary):
                if isinstance(item, Event):
                    yield item
                else:
                    summary, method, cost_tokens, cost_usd = item
        context.apply_summary(summary, upto)
        yield await self._emit(ContextCompacted(
            trigger, before, context.tokens(), result.kept, result.compressed, result.dropped,
            method, cost_tokens, round(cost_usd, 6), upto, summary))
        for event in await self._budget_events():
            yield event

    async def _llm_summary(self, extractive: str) -> AsyncIterator[
            Event | tuple[str, str, int, float]]:
        """Ask the cheapest free tier for a shorter summary; judge it; report its cost."""
        from tokenopt_tui.core.compression.compress import extract_identifiers
        from tokenopt_tui.core.compression.summarizer import judge, summary_request

        settings = self.services.config.compression
        tokens, cost = 0, 0.0
        attempt: _Attempt | None = None
        usage: Usage | None = None
        text = ""
        verdict = "no free tier answered"
        async for item in self.services.router.route(
                summary_request(extractive), start_tier=1,
                max_tokens=settings.summarizer_max_tokens, free_only=True):
            if isinstance(item, TextReceived) and attempt is not None:
                attempt.parts.append(item.text)
            elif isinstance(item, ModelPreparing):
                yield item
            elif isinstance(item, AttemptStarted):
                attempt = _Attempt(item.tier, item.provider,
                                   prompt_estimate=count_tokens(extractive))
                await self._start_call(attempt, task_type="compaction")
                usage = None
            elif isinstance(item, UsageReported):
                usage = item.usage
            elif isinstance(item, AttemptFailed | RouteFinished) and attempt is not None:
                failed = isinstance(item, AttemptFailed) or not item.ok
                if isinstance(item, AttemptFailed) and item.skipped:
                    continue
                spent, dollars = await self._record_call(
                    attempt, usage, error=item.error if failed else None,
                    task_type="compaction",
                    refused=isinstance(item, AttemptFailed) and item.kind in REFUSED_KINDS)
                tokens, cost = tokens + spent, cost + dollars
                if not failed:
                    text = "".join(attempt.parts)
                    model = attempt.provider.model
                    judged = judge(text, extractive, extract_identifiers(extractive))
                    if judged.ok:
                        yield (text, f"llm ({model})", tokens, cost)
                        return
                    verdict = f"{model} summary {judged.reason}"
                attempt = None
        yield (extractive, f"extractive (LLM summary discarded: {verdict})", tokens, cost)

    def _cost(self, provider: Provider, prompt: int, completion: int,
              reported: float | None = None, cached: int = 0) -> float:
        return call_cost(provider.model, prompt, completion, reported,
                         local=provider.kind == "mlx", prices=self.services.config.prices,
                         cached_tokens=cached)

    async def _start_call(self, attempt: _Attempt, task_type: str | None = None) -> None:
        """Charge the call as it is sent (an in-flight row with the prompt estimate), so
        that a kill, a timeout or a crash from here on can never make it free."""
        provider = attempt.provider
        cost = self._cost(provider, attempt.prompt_estimate, 0)
        attempt.call_id = await self.services.store.start_model_call(
            self.session_id, tier=attempt.tier, provider=provider.kind,
            endpoint=provider.endpoint, model=provider.model, started_at=attempt.started_at,
            prompt_tokens=attempt.prompt_estimate, cost_usd=cost,
            task_type=task_type or self._task_type)
        attempt.charged_tokens = attempt.prompt_estimate
        self.tokens_used += attempt.prompt_estimate

    async def _flush(self, attempt: _Attempt) -> None:
        """Save the reply so far and charge what has streamed, in one transaction."""
        new_text = "".join(attempt.parts[attempt.flushed:])
        attempt.streamed_tokens += count_tokens(new_text)
        attempt.flushed_at, attempt.flushed = time.monotonic(), len(attempt.parts)
        if attempt.call_id is None or attempt.reply_id is None:
            return
        completion = attempt.streamed_tokens
        cost = self._cost(attempt.provider, attempt.prompt_estimate, completion)
        await self.services.store.model_call_progress(
            attempt.call_id, prompt_tokens=attempt.prompt_estimate,
            completion_tokens=completion, cost_usd=cost, message_id=attempt.reply_id,
            content="".join(attempt.parts))
        self.tokens_used += attempt.prompt_estimate + completion - attempt.charged_tokens
        attempt.charged_tokens = attempt.prompt_estimate + completion

    async def _record_call(self, attempt: _Attempt, usage: Usage | None, error: str | None,
                           task_type: str | None = None, refused: bool = False
                           ) -> tuple[int, float]:
        """Settle one model call (estimated if no usage came) and add it to the budget.

        Without usage the prompt is charged unless the provider refused the request
        before any text came (`refused`); what streamed is counted as completion."""
        provider = attempt.provider
        text = "".join(attempt.parts)
        if usage is None:  # the stream died before usage arrived: estimate, and say so
            prompt = 0 if refused and not attempt.parts else attempt.prompt_estimate
            usage = Usage(prompt, count_tokens(text), estimated=True)
        cost = self._cost(provider, usage.prompt_tokens, usage.completion_tokens,
                          usage.cost_usd, usage.cached_tokens)
        attempt.usage, attempt.cost = usage, cost
        attempt.latency_ms = (time.perf_counter() - attempt.started) * 1000
        if attempt.call_id is None:  # every attempt is started when sent; never free
            await self._start_call(attempt, task_type)
        assert attempt.call_id is not None
        await self.services.store.settle_model_call(attempt.call_id, CallFigures(
            attempt.reply_id, attempt.latency_ms, usage.prompt_tokens, usage.completion_tokens,
            usage.cached_tokens, usage.reasoning_tokens, cost, usage.estimated, error,
            task_type or self._task_type))
        spent = usage.prompt_tokens + usage.completion_tokens
        self.tokens_used += spent - attempt.charged_tokens
        attempt.charged_tokens = spent
        return spent, cost

    async def _finish(self, attempt: _Attempt, usage: Usage | None,
                      error: str | None, refused: bool = False) -> list[Event]:
        """Store one attempt's reply (complete or interrupted) and the call's usage."""
        store = self.services.store
        provider = attempt.provider
        text = "".join(attempt.parts)
        interrupted = error is not None
        if attempt.reply_id is None and error is None:  # a complete, empty reply is a reply
            attempt.reply_id = await store.add_message(
                self.session_id, "assistant", "", tier=attempt.tier, model=provider.model)
        await self._record_call(attempt, usage, error, refused=refused)
        used, cost = attempt.usage, attempt.cost
        assert used is not None
        if attempt.reply_id is not None:
            await store.finish_message(
                attempt.reply_id, text, tier=attempt.tier, model=provider.model,
                prompt_tokens=used.prompt_tokens, completion_tokens=used.completion_tokens,
                cost_usd=cost, estimated=used.estimated, interrupted=interrupted)
        if text:
            self.context.add(await self._entry("assistant", text, attempt.reply_id))
        events: list[Event] = [
            UsageRecorded(attempt.tier, provider.model, used.prompt_tokens,
                          used.completion_tokens, cost, round(attempt.latency_ms, 1),
                          used.estimated, self.tokens_used, used.cached_tokens,
                          used.reasoning_tokens),
        ]
        if attempt.reply_id is not None:
            events.append(ReplyCompleted(attempt.reply_id, text, interrupted, attempt.tier,
                                         provider.model))
        for event in events:
            await self._persist(event)
        return events


async def _swarm_tokens(store: Store, session_id: int) -> int:
    """Tokens the swarm cycles started in this session used: what their role sessions
    were charged. Each call is charged to its role session the moment it is sent, so
    this holds even for a cycle whose process died before its SwarmEnded was written."""
    return sum(child.tokens_used for child in await store.child_sessions(session_id))


@dataclass(frozen=True)
class RetryPlan:
    """The last request asked again: its text, the answer found wanting, both tiers."""

    text: str
    message_id: int
    from_tier: int
    to_tier: int


def escalation_tier(config: Config, from_tier: int) -> int:
    """Where a retry one tier up goes: the first tier above `from_tier` that may be used
    (a paid one only while paid use is on). With none, the retry is capped: `from_tier`
    again, or the highest free tier when `from_tier` is a paid one now off."""
    usable = [t.number for t in sorted(config.tiers, key=lambda t: t.number)
              if not t.paid or config.paid_enabled]
    higher = [number for number in usable if number > from_tier]
    if higher:
        return higher[0]
    return from_tier if from_tier in usable or not usable else usable[-1]


def _before_request(messages: list[ChatMessage], volatile: list[ChatMessage]
                    ) -> list[ChatMessage]:
    """Per-request system text goes right before the last request, not first: the
    history then stays a stable prefix (a local model reuses its KV cache for it, a
    remote one its prompt cache) whatever skills or agent this request brings."""
    if not volatile:
        return messages
    at = len(messages) - 1 if messages and messages[-1].role == "user" else len(messages)
    return [*messages[:at], *volatile, *messages[at:]]


def _without_answers(messages: list[ChatMessage], counts: list[int], tokens: int,
                     request: str) -> tuple[list[ChatMessage], int]:
    """What a retry sends: the context up to its request, without the answers it had
    (the model is asked afresh), and the estimate less what was left out. A request
    folded into a summary meanwhile is put back at the end."""
    kept = list(messages)
    while kept and kept[-1].role == "assistant":
        kept.pop()
        tokens -= counts[len(kept)] + MESSAGE_OVERHEAD
    if not kept or kept[-1].role != "user":
        kept.append(ChatMessage("user", request))
        tokens += count_tokens(request) + MESSAGE_OVERHEAD
    return kept, tokens


@dataclass
class _Attempt:
    """One call to one endpoint within a request: its text so far and its DB row."""

    tier: int
    provider: Provider
    parts: list[str] = field(default_factory=list)
    reply_id: int | None = None
    started: float = field(default_factory=time.perf_counter)
    started_at: str = field(default_factory=utc_now)
    flushed_at: float = 0.0
    flushed: int = 0
    usage: Usage | None = None
    cost: float = 0.0
    latency_ms: float = 0.0
    prompt_estimate: int = 0
    call_id: int | None = None  # the in-flight model_calls row, from the moment it is sent
    charged_tokens: int = 0  # what the budget holds for this call so far
    streamed_tokens: int = 0  # completion estimate at the last flush
    index: int = 0  # the endpoint's place in its tier (the result cache keys endpoint 0)


def _fallback_reasons(start: int, reasons: tuple[str, ...], tier: int,
                      passed_over: list[AttemptFailed]) -> tuple[str, ...]:
    """Why the first attempt went where it did: the classifier's choice, and when that
    tier was skipped or failed, which tiers were passed over and why."""
    if tier == start:
        return reasons
    what = "; ".join(f"tier {f.tier} {'skipped' if f.skipped else 'failed'}: {f.error}"
                     for f in passed_over) or f"tier {start} could not be used"
    return (f"tier {start} was chosen ({'; '.join(reasons)})",
            f"fell back to tier {tier}: {what}")

"""The cycle itself: plan the envelope, run the Explorer, then Worker and Validator until
a pass, a bound (retries, budget), a stall or a cancel; settle against the parent.

Each role runs as a `sub_agent` ChatSession of its own (no skills, no agent draw: its
agent's prompt is its seed), linked to the parent in the store, with what is left of its
share as its budget. Before each call the cycle checks that the prompt estimate plus a
minimal reply fits in that share and caps max_tokens to what is left; a reply streaming
past the cap is cut (a provider that ignores max_tokens), and the cycle ends over_budget.
No UI or CLI here: `SwarmCycle.run()` yields events, `run_swarm` runs it to the end.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from tokenopt_tui.core.events import (
    ErrorOccurred,
    Event,
    ReplyCut,
    Role,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPhaseToken,
    SwarmPlanned,
    TierChosen,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.routing.classify import TIER_GENERAL, classify
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.swarm import brief, roles
from tokenopt_tui.core.swarm.checks import run_checks
from tokenopt_tui.core.swarm.envelope import Envelope, SwarmRefused, plan_envelope
from tokenopt_tui.core.swarm.stall import StallDetector
from tokenopt_tui.core.tokens import count_tokens

if TYPE_CHECKING:
    from tokenopt_tui.config import Config
    from tokenopt_tui.core.agents.picker import AgentPicker
    from tokenopt_tui.core.ports import RequestRouter, SessionDeps, SkillSource
    from tokenopt_tui.store import Store

#: The prompt estimate (cl100k) is raised by this much before a call: the provider's
#: tokenizer and chat template may count more than the estimate.
PROMPT_MARGIN = 1.2
PROMPT_SLACK = 8
#: A call is not sent unless at least this many reply tokens fit in the share.
MIN_REPLY_TOKENS = 16
#: A streamed reply is cut this many tokens before the share is reached (one fragment).
CUT_SLACK = 4
EndVerdict = Literal["pass", "failed", "stalled", "cancelled", "over_budget"]
PhaseVerdict = Literal["done", "pass", "retry", "failed", "cancelled"]

__all__ = ["SwarmCycle", "SwarmRefused", "run_swarm"]


class _RoleDeps:
    """The services a role's session sees: the same config, store and router, but no
    skills and no agent draw (the role's agent is fixed, its brief minimal)."""

    skills: SkillSource | None = None

    def __init__(self, services: SessionDeps) -> None:
        self._services = services

    @property
    def config(self) -> Config:
        return self._services.config

    @property
    def store(self) -> Store:
        return self._services.store

    @property
    def router(self) -> RequestRouter:
        return self._services.router


@dataclass
class _Phase:
    """What one role's call produced."""

    text: str = ""
    tokens: int = 0
    cost_usd: float = 0.0
    tier: int = 0
    error: str = ""
    over_budget: str = ""  # why the call was not sent, or was cut
    cancelled: bool = False
    session_id: int = 0
    verdict: str = ""  # the Validator's: pass or retry
    reasons: str = ""

    def take(self, event: Event, cap: int) -> None:
        """Note what a session event says about this phase (by its type)."""
        taker = _TAKERS.get(type(event))
        if taker is not None:
            taker(self, event, cap)


def _tier(phase: _Phase, event: TierChosen, _cap: int) -> None:
    phase.tier = event.tier


def _usage(phase: _Phase, event: UsageRecorded, _cap: int) -> None:
    phase.cost_usd += event.cost_usd


def _error(phase: _Phase, event: ErrorOccurred, _cap: int) -> None:
    phase.error = event.message


def _cut(phase: _Phase, event: ReplyCut, cap: int) -> None:
    if event.limit == "max_tokens":  # the router's own cut: the provider ignored the cap
        phase.over_budget = f"cut: the provider went past max_tokens ({cap:,})"


_TAKERS: dict[type[Event], Callable[[_Phase, Any, int], None]] = {
    TierChosen: _tier, UsageRecorded: _usage, ErrorOccurred: _error, ReplyCut: _cut}


@dataclass
class SwarmCycle:
    """One Explorer → Worker → Validator cycle for `task`, started from `parent`."""

    services: SessionDeps
    parent: ChatSession
    task: str
    picker: AgentPicker | None = None
    swarm_id: int = 0
    ended: SwarmEnded | None = None
    _cancel: asyncio.Event = field(default_factory=asyncio.Event)
    _envelope: Envelope | None = None

    def cancel(self) -> None:
        """Stop the cycle: the running call is cut and charged, what was produced kept."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def used_tokens(self) -> int:
        return self._envelope.total_used if self._envelope else 0

    async def run(self) -> AsyncIterator[Event]:
        """Yield the cycle's events, SwarmPlanned first and SwarmEnded last.

        Raises SwarmRefused (before anything is stored or sent) when the parent has too
        little budget left for the smallest envelope."""
        config = self.services.config
        settings = config.swarm
        plan = plan_envelope(settings, self.parent.budget - self.parent.tokens_used)
        envelope = self._envelope = Envelope(plan)
        decision = classify(self.task)
        task_type = decision.task_type
        picker = self.picker or roles.worker_picker(self.services)
        usable = self.services.router.usable_tiers()
        casts: dict[Role, roles.Cast] = {
            "explorer": roles.explorer(config),
            # a task sent to the cycle is complex by the user's say-so, and the classifier
            # starts a complex task on the general tier at least
            "worker": await roles.worker(config, picker, task_type,
                                         max(decision.tier, TIER_GENERAL), usable),
            "validator": roles.validator(config, task_type)}
        store = self.services.store
        self.swarm_id = await store.create_swarm(self.parent.session_id, self.task,
                                                 plan.reserved)
        yield await self._emit(SwarmPlanned(
            self.swarm_id, self.task, plan.reserved, plan.shares["explorer"],
            plan.shares["worker"], plan.shares["validator"],
            roles.role_estimate(config, plan.reserved, casts)))

        verdict: EndVerdict = "failed"
        result, attempts = "", 0
        stall = StallDetector(settings.stall_ratio)
        explored = _Phase()
        ending: EndVerdict | None = None
        # The Explorer's free hosted tier may be unusable (no key, cooling down): then
        # once more on the first free tier, out of what is left of its share.
        for attempt, who in enumerate(roles.explorer_casts(config, casts["explorer"]), 1):
            explored = _Phase()
            async for event in self._phase("explorer", attempt, who,
                                           brief.explorer_brief(self.task), explored):
                yield event
            ending = self._ending(explored)
            yield await self._phase_end(
                "explorer", attempt, who, explored,
                "cancelled" if explored.cancelled else "failed"
                if explored.error or explored.over_budget else "done",
                explored.over_budget or explored.error)
            if ending is not None or not explored.error:
                break
        findings, reasons = explored.text, ""
        while ending is None and attempts <= settings.max_retries:
            attempts += 1
            work = _Phase()
            async for event in self._phase("worker", attempts, casts["worker"],
                                           brief.worker_brief(self.task, findings, result,
                                                              reasons), work):
                yield event
            if work.text:
                result = work.text
            ending = self._ending(work)
            if ending is not None:
                yield await self._phase_end("worker", attempts, casts["worker"], work,
                                            "cancelled" if work.cancelled else "failed",
                                            _why_stopped(work))
                break
            if work.error:  # the call failed: a retry, no verdict on the Worker's quality
                reasons = f"the call failed: {work.error}"
                yield await self._phase_end("worker", attempts, casts["worker"], work,
                                            "failed", work.error)
                continue
            yield await self._phase_end("worker", attempts, casts["worker"], work, "done", "")
            repeated = stall.output(work.text)
            judged = _Phase()
            async for event in self._validate(attempts, casts, task_type, picker, work.text,
                                              judged):
                yield event
            ending = self._ending(judged)
            if ending is None and judged.error:
                ending = "failed"
            if ending is not None or judged.verdict == "pass":
                verdict = "pass" if ending is None else ending
                break
            reasons = judged.reasons
            # A retry that repeats the last output, or draws the same reasons, would buy
            # the same answer again: stop (a near-identical fix that passes is no stall).
            if stall.reasons(reasons) or repeated:
                ending = "stalled"
        if ending is not None:
            verdict = ending
        if envelope.overspent:
            verdict = "over_budget"
        yield await self._settle(verdict, attempts, result)

    async def _validate(self, attempt: int, casts: dict[Role, roles.Cast], task_type: str,
                        picker: AgentPicker, result: str, out: _Phase
                        ) -> AsyncIterator[Event]:
        """Mechanical checks first (a failure is a retry with no model call), then the
        Validator's model; fills `out.verdict` and `out.reasons`, and moves the Worker's
        pheromone on a real verdict (an unclear one or an error moves nothing)."""
        who = casts["validator"]
        checks = await asyncio.to_thread(run_checks, self.task, result)
        if not checks.ok:
            out.verdict, out.reasons = "retry", checks.summary()
            yield await self._start("validator", attempt, who,
                                    self._envelope.left("validator") if self._envelope else 0)
            yield await self._phase_end("validator", attempt, who, out, "retry", out.reasons)
            await self._feedback(picker, casts["worker"].agent, task_type, False)
            return
        async for event in self._phase("validator", attempt, who,
                                       brief.validator_brief(self.task, result,
                                                             checks.summary()), out):
            yield event
        if self._ending(out) is not None or out.error:
            yield await self._phase_end("validator", attempt, who, out,
                                        "cancelled" if out.cancelled else "failed",
                                        _why_stopped(out))
            return
        out.verdict, out.reasons = brief.parse_verdict(out.text)
        yield await self._phase_end("validator", attempt, who, out, out.verdict, out.reasons)
        if not out.reasons.startswith("unclear verdict"):
            await self._feedback(picker, casts["worker"].agent, task_type,
                                 out.verdict == "pass")

    # -- one phase ------------------------------------------------------------------

    async def _phase(self, role: Role, attempt: int, who: roles.Cast, text: str,
                     out: _Phase) -> AsyncIterator[Event]:
        """Run one role's call in a new linked session; fill `out`; yield its start and
        streamed text (its end is the caller's, which knows the verdict)."""
        assert self._envelope is not None
        out.tier = who.tier
        if self.cancelled:
            out.cancelled = True
            return
        left = self._envelope.left(role)
        session = await ChatSession.start(
            _RoleDeps(self.services), "sub_agent", title=f"swarm #{self.swarm_id} {role}",
            tier=who.tier, seed=brief.system_prompt(who.prompt, role), budget=max(left, 1))
        out.session_id = session.session_id
        await self.services.store.link_session(session.session_id, self.parent.session_id,
                                               role)
        yield await self._start(role, attempt, who, left, session.session_id)
        raw = session.estimate_next(text)
        prompt = math.ceil(raw * PROMPT_MARGIN) + PROMPT_SLACK
        cap = min(self._max_tokens(role), left - prompt)
        # A reply is cut before what is charged for it (the prompt estimate and the text
        # so far) could pass the share: only a provider ignoring max_tokens gets there.
        ceiling = left - raw - CUT_SLACK
        if cap < MIN_REPLY_TOKENS:
            out.over_budget = (f"not sent: a prompt of ≈{prompt:,} tokens and a reply of at "
                               f"least {MIN_REPLY_TOKENS} do not fit in the {left:,} left "
                               f"of the {role}'s share")
            await self.services.store.end_session(session.session_id, "ended")
            return
        session.max_tokens_cap = cap
        parts: list[str] = []
        events = cast("AsyncGenerator[Event, None]", session.send(text))
        async with aclosing(events):
            async for event in events:
                if isinstance(event, TokenReceived):
                    parts.append(event.text)
                    yield SwarmPhaseToken(self.swarm_id, role, attempt, event.text)
                    if count_tokens("".join(parts)) >= ceiling:
                        out.over_budget = (f"cut at {ceiling:,} reply tokens: the provider "
                                           f"went past max_tokens ({cap:,})")
                        break
                    if self.cancelled:
                        out.cancelled = True
                        break
                else:
                    out.take(event, cap)
        out.text = "".join(parts)
        out.tokens = session.tokens_used
        self._envelope.charge(role, out.tokens)
        if (role != "validator" and not out.error and not out.text and not out.over_budget
                and not out.cancelled):  # an empty verdict is an unclear one, not a failure
            out.error = "empty reply"
        await self.services.store.end_session(session.session_id, "ended")

    def _max_tokens(self, role: Role) -> int:
        settings = self.services.config.swarm
        return {"explorer": settings.explorer_max_tokens, "worker": settings.worker_max_tokens,
                "validator": settings.validator_max_tokens}[role]

    def _ending(self, phase: _Phase) -> EndVerdict | None:
        """How the cycle ends after this phase, if it must (None: it goes on)."""
        if phase.cancelled or self.cancelled:
            return "cancelled"
        if phase.over_budget or (self._envelope is not None and self._envelope.overspent):
            return "over_budget"
        return None

    # -- events ---------------------------------------------------------------------

    async def _emit(self, event: Event) -> Event:
        """Store `event` in the parent's session (the cycle as one unit there)."""
        if event.persist:
            await self.services.store.add_event(self.parent.session_id, event.kind,
                                                event.stored_dict())
        return event

    async def _start(self, role: Role, attempt: int, who: roles.Cast, budget: int,
                     session_id: int = 0) -> Event:
        return await self._emit(SwarmPhaseStarted(self.swarm_id, role, attempt, who.agent,
                                                  who.tier, session_id, budget))

    async def _phase_end(self, role: Role, attempt: int, who: roles.Cast, phase: _Phase,
                         verdict: PhaseVerdict, reasons: str) -> Event:
        return await self._emit(SwarmPhaseEnded(
            self.swarm_id, role, attempt, who.agent, phase.tier or who.tier, phase.tokens,
            round(phase.cost_usd, 6), verdict, reasons))

    async def _feedback(self, picker: AgentPicker, agent: str, task_type: str,
                        good: bool) -> None:
        """The one place the cycle moves pheromone: a validator's verdict on the Worker."""
        await picker.feedback(agent, task_type, good, source="validator")

    async def _settle(self, verdict: EndVerdict, attempts: int, result: str) -> Event:
        """Charge the parent what was used (not what was reserved) and close the unit."""
        used = self.used_tokens
        reserved = self._envelope.plan.reserved if self._envelope else 0
        self.parent.tokens_used += used
        await self.services.store.finish_swarm(self.swarm_id, verdict, used, attempts)
        ended = SwarmEnded(self.swarm_id, verdict, reserved, used, attempts, result)
        self.ended = ended
        return await self._emit(ended)


def _why_stopped(phase: _Phase) -> str:
    """The reasons of a phase that ended the cycle."""
    if phase.cancelled:
        return "cancelled"
    return phase.over_budget or phase.error or "the envelope was overspent"


async def run_swarm(services: SessionDeps, parent: ChatSession, task: str,
                    picker: AgentPicker | None = None) -> tuple[SwarmEnded, int]:
    """Run a whole cycle (for the bench and the CLI); its SwarmEnded and total tokens.
    Raises SwarmRefused when the parent's budget cannot hold an envelope."""
    cycle = SwarmCycle(services, parent, task, picker)
    async for _event in cycle.run():
        pass
    assert cycle.ended is not None
    return cycle.ended, cycle.used_tokens

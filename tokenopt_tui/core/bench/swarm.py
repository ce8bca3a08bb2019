"""The bench's swarm rows: complex tasks through the Explorer → Worker → Validator cycle
against the same tasks as a single call in the optimized pipeline.

Both are played on a simulated day of their own (a fresh store, router and free quota),
so the day's rows are unchanged. In replay the roles' texts come from the workload: the
Explorer's options, the Worker's result per attempt and the Validator model's verdict
text per call. The cycle's real mechanical checks run on the replayed Worker text, and
its real verdict parser reads the replayed verdict; no label decides a verdict.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenopt_tui.core.bench.replay import Script
from tokenopt_tui.core.bench.runner import (
    BenchDeps,
    Call,
    PipelineRun,
    RequestRecord,
    TaskRecord,
)
from tokenopt_tui.core.bench.workload import SwarmReplay, Task
from tokenopt_tui.core.events import (
    Event,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPhaseToken,
)
from tokenopt_tui.core.pricing import call_cost
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.swarm import roles
from tokenopt_tui.core.swarm.brief import ROLE_PROMPTS
from tokenopt_tui.core.swarm.checks import run_checks
from tokenopt_tui.core.swarm.cycle import SwarmCycle

if TYPE_CHECKING:
    from tokenopt_tui.config import Config, Tier
    from tokenopt_tui.core.bench.pipelines import Pipeline
    from tokenopt_tui.core.providers.base import Provider
    from tokenopt_tui.core.skills.library import SkillLibrary

ROLE_NAMES = ("explorer", "worker", "validator")


def role_of(messages: list[ChatMessage]) -> str | None:
    """Which swarm role a request is from (its system prompt says), None for a chat."""
    system = " ".join(m.content for m in messages if m.role == "system")
    return next((r for r in ROLE_NAMES if ROLE_PROMPTS[r] in system), None)


@dataclass
class SwarmScript(Script):
    """Replays a complex task: the chat's reply for a plain request, the workload's
    texts by role for the cycle's requests (the n-th Worker or Validator call gets the
    n-th text, the last repeating). Keeps each call's role, tier and usage."""

    replay: SwarmReplay | None = None
    counts: dict[str, int] = field(default_factory=dict)
    usages: list[tuple[str, int, str, str, Usage]] = field(default_factory=list)

    def start(self, replay: SwarmReplay | None) -> None:
        self.replay, self.counts, self.usages = replay, {}, []

    def reply_for(self, messages: list[ChatMessage], max_tokens: int) -> str:
        role = role_of(messages)
        if role is None or self.replay is None:
            return self.reply
        texts = {"explorer": (self.replay.explorer,), "worker": self.replay.workers,
                 "validator": self.replay.verdicts}[role]
        n = self.counts.get(role, 0)
        self.counts[role] = n + 1
        return _first_tokens(texts[min(n, len(texts) - 1)], max_tokens)

    def record(self, tier: int, kind: str, model: str, usage: Usage) -> None:
        """Kept with the role whose request was just sent (replayed or live)."""
        self.usages.append((role_of(self.sent) or "chat", tier, kind, model, usage))


def _first_tokens(text: str, limit: int) -> str:
    """`text` cut to `limit` cl100k tokens: a model stops at max_tokens (the embedded one
    itself, a server when asked), so a replayed role reply does too."""
    from tokenopt_tui.core.tokens import _encoding

    tokens = _encoding().encode(text, disallowed_special=())
    return text if len(tokens) <= limit else _encoding().decode(tokens[:max(limit, 0)])


@dataclass
class SwarmTaskRecord:
    """One complex task: the cycle's figures and the single call's, side by side."""

    task_id: str
    held_out: bool
    needed_tier: int
    single_tokens: int = 0
    single_cost_usd: float = 0.0
    single_tier: int | None = None  # the tier whose answer stood (after any retry up)
    single_checks_ok: bool = False  # the mechanical checks on the single call's answer
    reserved: int = 0
    used: int = 0  # what the cycle charged its parent
    call_tokens: int = 0  # prompt + completion over the cycle's calls
    cost_usd: float = 0.0
    verdict: str = ""
    attempts: int = 0
    first_pass: bool = False  # the Validator passed the first Worker result
    validator_model_calls: int = 0
    checks_failed: int = 0  # Worker results sent back by the mechanical checks
    worker_tier: int | None = None  # the tier of the last Worker result
    checks_ok: bool = False  # the mechanical checks on the final result
    tokens_by_role: dict[str, int] = field(default_factory=dict)
    seconds_by_role: dict[str, float] = field(default_factory=dict)  # wall time per role
    wall_s: float = 0.0
    calls: list[Call] = field(default_factory=list)
    refused: str = ""  # the cycle could not start (SwarmRefused): why

    @property
    def ratio(self) -> float:
        """Cycle tokens over the single call's (how many times the cost)."""
        return self.call_tokens / self.single_tokens if self.single_tokens else 0.0

    @property
    def share_used(self) -> float:
        return self.used / self.reserved if self.reserved else 0.0

    @property
    def retries(self) -> int:
        return max(self.attempts - 1, 0)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    @property
    def cycle_meets_need(self) -> bool:
        """Accepted, by a Worker on the tier the task needs, and mechanically sound."""
        return (self.passed and self.checks_ok and self.worker_tier is not None
                and self.worker_tier >= self.needed_tier)

    @property
    def single_meets_need(self) -> bool:
        return (self.single_checks_ok and self.single_tier is not None
                and self.single_tier >= self.needed_tier)


class SwarmRun:
    """The complex tasks on the optimized pipeline's config: single calls on one store,
    cycles on another, each on its own simulated day (the same for both)."""

    def __init__(self, optimized: Pipeline, base: Config, library: SkillLibrary | None,
                 folder: Path, quota: tuple[int, int] = (20, 50),
                 live: Callable[[int, int], Provider] | None = None,
                 plan: tuple[Tier, ...] | None = None) -> None:
        self.runs: dict[str, PipelineRun] = {}
        for name in ("single", "cycle"):
            run = PipelineRun(optimized, base, library, folder, quota, live=live, plan=plan)
            run.db_name = f"swarm-{name}"
            run.script = SwarmScript()
            self.runs[name] = run

    async def run(self, tasks: list[Task]) -> tuple[list[SwarmTaskRecord], list[RequestRecord],
                                                    list[TaskRecord]]:
        """Every complex task both ways; the records, and the cycle's requests and tasks
        for the with_swarm row (one request per task carrying every role's calls)."""
        records = [SwarmTaskRecord(t.id, t.held_out, t.turns[0].tier) for t in tasks]
        single = self.runs["single"]
        deps = await single.open()
        try:
            for task, record in zip(tasks, records, strict=True):
                await self._single(single, deps, task, record)
        finally:
            await deps.store.close()
        cycle = self.runs["cycle"]
        deps = await cycle.open()
        requests, task_records = [], []
        try:
            for task, record in zip(tasks, records, strict=True):
                requests.append(await self._cycle(cycle, deps, task, record))
                task_records.append(TaskRecord(task.id, task.held_out, task.session_type,
                                               [record.used]))
        finally:
            await deps.store.close()
        return records, requests, task_records

    async def _single(self, run: PipelineRun, deps: BenchDeps, task: Task,
                      record: SwarmTaskRecord) -> None:
        """The task as one request of the optimized pipeline (with the simulated user's
        retry one tier up after a too-weak answer, as the day's requests have)."""
        assert isinstance(run.script, SwarmScript)
        run.script.start(None)
        (request,) = await run._task(deps, task, TaskRecord(task.id, task.held_out,
                                                              task.session_type))
        record.single_tokens = sum(c.prompt_tokens + c.completion_tokens for c in request.calls)
        record.single_cost_usd = sum(c.cost_usd for c in request.calls)
        record.single_tier = request.answered_tier
        # The answer that stood: the replayed one, or in live mode the generated one.
        answer = run.script.last_reply if request.answered_tier is not None else ""
        record.single_checks_ok = bool(answer) and run_checks(task.turns[0].user, answer).ok

    async def _cycle(self, run: PipelineRun, deps: BenchDeps, task: Task,
                     record: SwarmTaskRecord) -> RequestRecord:
        """The task through the app's cycle (what `run_swarm` runs), from a new parent
        session of the task's type with the app's budget for it."""
        from tokenopt_tui.core.agents.picker import AgentPicker
        from tokenopt_tui.core.swarm.envelope import SwarmRefused

        script = run.script
        assert isinstance(script, SwarmScript) and task.swarm is not None
        turn = task.turns[0]
        run.clock.advance_to(task.start_s)
        script.start(task.swarm)
        request = RequestRecord(task.id, task.held_out, task.session_type, 0, turn.tier,
                                turn.task_type, turn.skills)
        parent = await ChatSession.start(deps, task.session_type)
        store = deps.store
        specs = [s for s in deps.config.agents if s.name in roles.WORKERS]
        # Seeded, on the simulated day: the same Worker draws every run.
        picker = AgentPicker(specs, lambda: store, rng=random.Random(11),
                             clock=lambda: datetime.fromtimestamp(run.day0 + run.clock(), UTC))
        cycle = SwarmCycle(deps, parent, turn.user, picker)
        times = _PhaseTimes(record)
        try:
            async for event in cycle.run():
                times.see(event)
        except SwarmRefused as exc:
            record.refused = str(exc)
        record.wall_s = time.perf_counter() - times.started
        ended = cycle.ended
        if ended is not None:
            record.reserved, record.used = ended.reserved_tokens, ended.used_tokens
            record.verdict, record.attempts = ended.verdict, ended.attempts
            record.checks_ok = bool(ended.result) and run_checks(turn.user, ended.result).ok
        if record.worker_tier is not None:
            record.worker_tier = run.to_plan.get(record.worker_tier, record.worker_tier)
        for role, tier, kind, model, usage in script.usages:
            tokens = usage.prompt_tokens + usage.completion_tokens
            record.tokens_by_role[role] = record.tokens_by_role.get(role, 0) + tokens
            record.call_tokens += tokens
            cost = call_cost(model, usage.prompt_tokens, usage.completion_tokens,
                             usage.cost_usd, local=kind == "mlx", prices=run.config.prices,
                             cached_tokens=usage.cached_tokens)
            record.cost_usd += cost
            request.calls.append(Call(tier, usage.prompt_tokens, usage.completion_tokens,
                                      usage.cached_tokens, cost))
        run.spent_usd += record.cost_usd
        request.first_tier = request.calls[0].tier if request.calls else None
        request.answered_tier = record.worker_tier if record.passed else None
        request.wall_s, request.first_token_s = record.wall_s, times.first_token
        return request


class _PhaseTimes:
    """Wall time to the cycle's first streamed token and per role, from its events
    (dispatched on the event's type)."""

    def __init__(self, record: SwarmTaskRecord) -> None:
        self.record = record
        self.started = self.phase_started = time.perf_counter()
        self.first_token: float | None = None
        self._on: dict[type[Event], Callable[[Any], None]] = {
            SwarmPhaseToken: self._token, SwarmPhaseStarted: self._phase_start,
            SwarmPhaseEnded: self._phase_end}

    def see(self, event: Event) -> None:
        handler = self._on.get(type(event))
        if handler is not None:
            handler(event)

    def _token(self, _event: SwarmPhaseToken) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter() - self.started

    def _phase_start(self, _event: SwarmPhaseStarted) -> None:
        self.phase_started = time.perf_counter()

    def _phase_end(self, event: SwarmPhaseEnded) -> None:
        took = time.perf_counter() - self.phase_started
        seconds = self.record.seconds_by_role
        seconds[event.role] = seconds.get(event.role, 0.0) + took
        _phase(self.record, event)


def _phase(record: SwarmTaskRecord, event: SwarmPhaseEnded) -> None:
    """Note one role's end: the Worker's tier, the Validator's verdicts."""
    if event.role == "worker" and event.verdict == "done":
        record.worker_tier = event.tier
    if event.role == "validator":
        if event.tokens:
            record.validator_model_calls += 1
        elif event.verdict == "retry":
            record.checks_failed += 1
        if event.attempt == 1:
            record.first_pass = event.verdict == "pass"

"""Run the simulated day through one pipeline: the real session, router, skills and
store, with replayed providers, and record what every request cost and got.

A pipeline is a set of switches over the app's mechanisms. The optimized pipeline is
the app as shipped; each ablation turns one mechanism off; the baseline turns them all
off (the plan's "current state": local model first, the paid model whenever the task
needs more, every skill body in every prompt, no compression, no budgets).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tokenopt_tui.config import (
    BudgetThresholds,
    CompressionSettings,
    Config,
    SessionType,
    Tier,
    plan_tiers,
)
from tokenopt_tui.core.bench.pipelines import PIPELINE_NAMES, PIPELINES, Pipeline
from tokenopt_tui.core.bench.replay import (
    ReplayProvider,
    Script,
    ServerQuota,
    SimClock,
    TokenCounter,
)
from tokenopt_tui.core.bench.workload import Task
from tokenopt_tui.core.events import (
    CacheHit,
    ContextCompacted,
    ErrorOccurred,
    Event,
    ModelPreparing,
    ReplyCompleted,
    SessionHalted,
    TierChosen,
    TierFailed,
    TokenReceived,
    UsageRecorded,
)
from tokenopt_tui.core.ports import SkillSource
from tokenopt_tui.core.providers.base import ChatMessage, Provider, Usage
from tokenopt_tui.core.routing.quota import FreeQuota, day_start
from tokenopt_tui.core.routing.router import Router
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.skills.library import LoadedSkill, Selection, SkillLibrary
from tokenopt_tui.store import Store

if TYPE_CHECKING:
    from tokenopt_tui.core.agents.picker import AgentPicker
    from tokenopt_tui.core.bench.swarm import SwarmTaskRecord

#: Seconds between the turns of a task on the simulated clock.
TURN_GAP_S = 45
#: A halted session is continued in a seeded new one (Ctrl+N) at most this often a turn.
MAX_CONTINUATIONS = 3
#: How often the simulated user asks again one tier up after a too-weak answer.
MAX_ESCALATIONS = 2
UNLIMITED = 10**12


@dataclass(frozen=True)
class Call:
    tier: int  # the plan's tier number (4 is the paid one)
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost_usd: float


@dataclass
class RequestRecord:
    """One turn of one task: what the labels asked for and what the pipeline did."""

    task_id: str
    held_out: bool
    session_type: SessionType
    turn: int
    needed_tier: int
    task_type: str
    skills_needed: tuple[str, ...]
    start_tier: int | None = None  # where the route began (classifier or pinned)
    first_tier: int | None = None  # the first tier that was actually called
    answered_tier: int | None = None  # the tier whose reply completed; None: failed
    calls: list[Call] = field(default_factory=list)
    skills_loaded: tuple[str, ...] = ()
    skill_select_ms: float = 0.0
    quota_refusals: int = 0  # free-quota 429s met on the way
    continuations: int = 0  # halted sessions continued in a seeded new one
    cache_hit: bool = False  # answered from the result cache: no model call
    wall_s: float = 0.0  # the request end to end (live mode's figure)
    first_token_s: float | None = None  # time to the first token of the reply
    #: The tier of the first answer, when the user then asked again one tier up.
    first_answer_tier: int | None = None
    escalations: int = 0

    @property
    def answered_below_need(self) -> bool:
        """The first answer came from below the tier the task needs (capability lost,
        whether or not the user then noticed and asked again)."""
        first = self.answered_tier if self.first_answer_tier is None else self.first_answer_tier
        return first is not None and first < self.needed_tier

    @property
    def finally_below_need(self) -> bool:
        return self.answered_tier is not None and self.answered_tier < self.needed_tier

    @property
    def started_below_need(self) -> bool:
        return self.first_tier is not None and self.first_tier < self.needed_tier


@dataclass
class TaskRecord:
    task_id: str
    held_out: bool
    session_type: SessionType
    session_tokens: list[int] = field(default_factory=list)  # one per session it used
    compactions: int = 0
    halts: int = 0
    probes: int = 0
    probes_kept: int = 0


@dataclass
class RunResult:
    pipeline: Pipeline
    requests: list[RequestRecord]
    tasks: list[TaskRecord]
    seconds: float
    #: The complex tasks, cycle against single call (the with_swarm pipeline only).
    swarm: list[SwarmTaskRecord] = field(default_factory=list)


class Recording:
    """A real provider whose messages are kept, so probes are checked on what was sent."""

    def __init__(self, inner: Provider, script: Script, tier: int = 0) -> None:
        self.inner = inner
        self.script = script
        self.tier = tier  # the plan's tier number, for the script's per-call record
        self.kind, self.model, self.endpoint = inner.kind, inner.model, inner.endpoint

    def availability(self) -> tuple[bool, str]:
        return self.inner.availability()

    def prepare(self) -> AsyncIterator[ModelPreparing]:
        return self.inner.prepare()

    def stream(self, messages: list[ChatMessage], max_tokens: int) -> AsyncIterator[str | Usage]:
        self.script.sent = messages
        return self._recorded(messages, max_tokens)

    async def _recorded(self, messages: list[ChatMessage],
                        max_tokens: int) -> AsyncIterator[str | Usage]:
        parts: list[str] = []
        async for item in self.inner.stream(messages, max_tokens):
            if isinstance(item, Usage):
                self.script.record(self.tier, self.kind, self.model, item)
            else:
                parts.append(item)
                self.script.last_reply = "".join(parts)
            yield item


class TimedSkills:
    """The app's skill library, with each selection's names and time kept for the record."""

    def __init__(self, inner: SkillSource) -> None:
        self.inner = inner
        self.last: Selection | None = None  # None: no selection since the last reset

    def select(self, request: str, requested: Sequence[str] = ()) -> Selection:
        self.last = self.inner.select(request, requested)
        return self.last


class EagerSkills:
    """Every skill body in every prompt: what lazy loading replaces."""

    def __init__(self, library: SkillLibrary) -> None:
        self.library = library
        self._all: tuple[LoadedSkill, ...] | None = None

    def select(self, request: str, requested: Sequence[str] = ()) -> Selection:
        started = time.perf_counter()
        if self._all is None:
            loaded = []
            registry = self.library.registry
            for name in sorted(registry.skills):
                body, tokens = registry.body(name)
                loaded.append(LoadedSkill(name, body, tokens, 0.0, "is always loaded", 0.0))
            self._all = tuple(loaded)
        return Selection(self._all, (), (time.perf_counter() - started) * 1000)


@dataclass
class BenchDeps:
    """What a ChatSession needs (core.ports.SessionDeps), built for one pipeline."""

    config: Config
    store: Store
    router: Router
    skills: TimedSkills | None
    agents: AgentPicker | None = None


def pipeline_config(base: Config, pipeline: Pipeline,
                    plan: tuple[Tier, ...] | None = None) -> tuple[Config, dict[int, int]]:
    """The config a pipeline runs with, and its tier numbers mapped to the plan's.

    `plan` is the four-tier chain to switch over: the plan's own unless live mode
    points the hosted tiers at loopback servers."""
    plan = plan_tiers() if plan is None else plan
    local, paid = plan[0], plan[-1]
    if pipeline.routing == "classifier":
        tiers: tuple[Tier, ...] = plan
    elif pipeline.routing == "local_then_paid":
        tiers = (local, replace(paid, number=2))
    else:
        tiers = (replace(paid, number=1),)
    plan_number = {p.name: p.number for p in plan}
    to_plan = {t.number: plan_number[t.name] for t in tiers}
    config = replace(base, tiers=tiers, paid_enabled=True)
    if pipeline.cache:  # deterministic local answers are what the result cache keeps
        config = replace(config, local=replace(config.local, temperature=0.0))
    if not pipeline.budgets:
        config = replace(config, budgets={k: UNLIMITED for k in base.budgets},
                         daily_cap_usd=float(UNLIMITED))
    if not pipeline.compression:
        t = base.thresholds
        config = replace(
            config,
            compression=CompressionSettings(UNLIMITED, UNLIMITED, UNLIMITED),
            thresholds=BudgetThresholds(t.warn_percent, t.halt_percent, t.halt_percent))
    return config, to_plan


class PipelineRun:
    """One pipeline over the tasks, on its own database in `folder`."""

    def __init__(self, pipeline: Pipeline, base: Config, library: SkillLibrary | None,
                 folder: Path, quota: tuple[int, int] = (20, 50),
                 on_task: Callable[[int], None] | None = None,
                 live: Callable[[int, int], Provider] | None = None,
                 plan: tuple[Tier, ...] | None = None) -> None:
        """`live` gives real providers (by the pipeline config's tier and index) instead
        of replayed ones: live mode, where replies are generated and timed, over `plan`."""
        self.pipeline = pipeline
        self.config, self.to_plan = pipeline_config(base, pipeline, plan)
        self.live = live
        self.library = library
        self.folder = folder
        self.clock = SimClock()
        self.quota = ServerQuota(self.clock, per_minute=quota[0], per_day=quota[1])
        self.script = Script(judge_local=pipeline.routing == "local_then_paid")
        self.counter = TokenCounter()
        self.spent_usd = 0.0
        self.on_task = on_task
        self.db_name = pipeline.name  # the swarm section runs more than one on a folder
        self.day0 = day_start(time.time())
        self._providers: dict[tuple[int, int], ReplayProvider] = {}

    def provider(self, tier: int, index: int) -> Provider:
        if self.live is not None:
            return Recording(self.live(tier, index), self.script, self.to_plan[tier])
        key = (tier, index)
        if key not in self._providers:
            spec = self.config.tier(tier)
            endpoint = spec.endpoints[index]
            hosted_free = endpoint.kind != "mlx" and not spec.paid
            self._providers[key] = ReplayProvider(
                self.to_plan[tier], endpoint.kind, endpoint.model, self.script, self.counter,
                self.quota if hosted_free else None)
        return self._providers[key]

    async def spent_today(self) -> float:
        return self.spent_usd

    def _skills(self) -> TimedSkills | None:
        if self.library is None:
            return None
        source: SkillSource = self.library if self.pipeline.lazy_skills else EagerSkills(
            self.library)
        return TimedSkills(source)

    async def open(self) -> BenchDeps:
        """The pipeline's router (with the app's free-quota policy on the simulated day),
        a fresh store and its skills: what a ChatSession needs. Close `store` after."""
        # A judged-insufficient local answer must not cool the local tier down.
        steps = (0.0,) if self.script.judge_local else (30.0, 60.0, 300.0, 900.0)
        # The app's own free-quota policy (easy requests leave the reserve to hard ones),
        # on the simulated day; the replayed servers refuse past the same limits anyway.
        day0 = self.day0
        quota = FreeQuota(
            replace(self.config.quota, free_per_minute=self.quota.per_minute,
                    free_per_day=self.quota.per_day),
            wall_clock=lambda: day0 + self.clock())
        router = Router(self.config, self.provider, clock=self.clock,
                        wall_clock=lambda: day0 + self.clock(), spent_today_usd=self.spent_today,
                        cooldown_steps_s=steps, free_quota=quota)
        store = await Store.open(self.folder / f"{self.db_name}.db")
        agents = None
        if self.pipeline.agents:
            from tokenopt_tui.core.agents.picker import AgentPicker

            # Seeded: the same draws every run, so the figures stay deterministic.
            agents = AgentPicker(self.config.agents, lambda: store, rng=random.Random(7))
        return BenchDeps(self.config, store, router, self._skills(), agents)

    async def run(self, tasks: list[Task]) -> RunResult:
        started = time.perf_counter()
        deps = await self.open()
        store = deps.store
        requests: list[RequestRecord] = []
        records: list[TaskRecord] = []
        try:
            for number, task in enumerate(tasks):
                record = TaskRecord(task.id, task.held_out, task.session_type)
                requests.extend(await self._task(deps, task, record))
                records.append(record)
                if self.on_task is not None:
                    self.on_task(number + 1)
        finally:
            await store.close()
        return RunResult(self.pipeline, requests, records, time.perf_counter() - started)

    async def _task(self, deps: BenchDeps, task: Task, record: TaskRecord) -> list[RequestRecord]:
        self.clock.advance_to(task.start_s)
        session = await ChatSession.start(deps, task.session_type)
        self.script.sent = []
        out = []
        for index, turn in enumerate(task.turns):
            self.clock.advance_to(task.start_s + TURN_GAP_S * index)
            self.script.reply, self.script.needed_tier = turn.reply, turn.tier
            request = RequestRecord(task.id, task.held_out, task.session_type, index,
                                    turn.tier, turn.task_type, turn.skills)
            refused_before = self.quota.refused
            text = turn.user
            for _ in range(MAX_CONTINUATIONS + 1):
                halted = await self._send(deps, session, text, request, record)
                if halted is None or not halted.pending:
                    break
                record.session_tokens.append(session.tokens_used)
                record.halts += 1
                request.continuations += 1
                session = await ChatSession.continue_from(deps, session)
                text = halted.pending
            await self._escalate(deps, session, request, record)
            request.quota_refusals += self.quota.refused - refused_before
            out.append(request)
        record.session_tokens.append(session.tokens_used)
        sent = "\n".join(m.content for m in self.script.sent)
        record.probes = len(task.probes)
        record.probes_kept = sum(1 for p in task.probes if p.fact in sent)
        return out

    async def _escalate(self, deps: BenchDeps, session: ChatSession, request: RequestRecord,
                        record: TaskRecord) -> None:
        """The simulated user asks again one tier up (Ctrl+Up) while the answer came from
        below the tier the task needs, as a user who notices a weak answer would."""
        first = request.answered_tier
        while (request.answered_tier is not None and request.answered_tier < request.needed_tier
               and request.escalations < MAX_ESCALATIONS and not session.halted):
            before = request.answered_tier
            request.escalations += 1
            await self._note(session.retry_up(), request, record)
            if request.answered_tier is None:  # the retry failed: the first answer stands
                request.answered_tier = before
                break
            if request.answered_tier == before:  # nothing higher to go to
                break
        if request.escalations:
            request.first_answer_tier = first

    async def _note(self, events: AsyncIterator[Event], request: RequestRecord,
                    record: TaskRecord) -> _Notes:
        """Play one request's events onto its record (`_Notes` says how), timed."""
        notes = _Notes(self, request, record, time.perf_counter())
        async for event in events:
            note = _Notes.BY_TYPE.get(type(event))
            if note is not None:
                note(notes, event)
        request.wall_s += time.perf_counter() - notes.started
        return notes

    async def _send(self, deps: BenchDeps, session: ChatSession, text: str,
                    request: RequestRecord, record: TaskRecord) -> SessionHalted | None:
        """One request; its events are noted on the record (`_Notes` says how)."""
        if deps.skills is not None:
            deps.skills.last = None
        notes = await self._note(session.send(text), request, record)
        if session.last_start_tier is not None and request.start_tier is None:
            request.start_tier = self.to_plan.get(session.last_start_tier,
                                                  session.last_start_tier)
        if deps.skills is not None and (selection := deps.skills.last) is not None:
            request.skills_loaded = tuple(s.name for s in selection.loaded)
            request.skill_select_ms = selection.elapsed_ms
        return notes.halted


@dataclass
class _Notes:
    """What one request's events tell the record, dispatched on the event's type."""

    run: PipelineRun
    request: RequestRecord
    record: TaskRecord
    started: float
    halted: SessionHalted | None = None

    def token(self, event: TokenReceived) -> None:
        if self.request.first_token_s is None:
            self.request.first_token_s = time.perf_counter() - self.started

    def chosen(self, event: TierChosen) -> None:
        if self.request.first_tier is None:
            self.request.first_tier = self.run.to_plan[event.tier]

    def usage(self, event: UsageRecorded) -> None:
        self.run.spent_usd += event.cost_usd
        self.request.calls.append(Call(self.run.to_plan[event.tier], event.prompt_tokens,
                                       event.completion_tokens, event.cached_tokens,
                                       event.cost_usd))

    def completed(self, event: ReplyCompleted) -> None:
        if not event.interrupted:
            self.request.answered_tier = self.run.to_plan[event.tier] if event.tier else None

    def compacted(self, event: ContextCompacted) -> None:
        self.record.compactions += 1

    def halt(self, event: SessionHalted) -> None:
        self.halted = event

    def error(self, event: ErrorOccurred) -> None:
        self.request.answered_tier = None

    def cache_hit(self, event: CacheHit) -> None:
        self.request.cache_hit = True

    def failed(self, event: TierFailed) -> None:
        if event.fault == "quota":  # passed over by the app's free-quota policy
            self.request.quota_refusals += 1

    BY_TYPE: ClassVar[dict[type[Event], Callable[[_Notes, Any], None]]] = {
        TokenReceived: token, TierChosen: chosen, UsageRecorded: usage,
        ReplyCompleted: completed, ContextCompacted: compacted, SessionHalted: halt,
        ErrorOccurred: error, TierFailed: failed, CacheHit: cache_hit,
    }


async def run_pipelines(tasks: list[Task], base: Config, library: SkillLibrary | None,
                        names: tuple[str, ...] = PIPELINE_NAMES, quota: tuple[int, int] = (20, 50),
                        on_progress: Callable[[str, int, int], None] | None = None,
                        complex_tasks: Sequence[Task] = ()) -> list[RunResult]:
    """Every named pipeline over the same tasks, each on a fresh database; a swarm
    pipeline also plays `complex_tasks` (cycle and single call) on a day of their own."""
    results = []
    with tempfile.TemporaryDirectory(prefix="tokenopt-bench-") as tmp:
        for pipeline in PIPELINES:
            if pipeline.name not in names:
                continue

            def progress(done: int, name: str = pipeline.name) -> None:
                if on_progress is not None:
                    on_progress(name, done, len(tasks))

            run = PipelineRun(pipeline, base, library, Path(tmp), quota, progress)
            result = await run.run(tasks)
            if pipeline.swarm and complex_tasks:
                from tokenopt_tui.core.bench.swarm import SwarmRun

                started = time.perf_counter()
                swarm = SwarmRun(pipeline, base, library, Path(tmp), quota)
                records, requests, task_records = await swarm.run(list(complex_tasks))
                result.requests.extend(requests)
                result.tasks.extend(task_records)
                result.swarm = records
                result.seconds += time.perf_counter() - started
            results.append(result)
    return results

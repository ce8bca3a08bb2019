"""The swarm cycle's parts (envelope, checks, stall, verdicts) and the cycle itself over
a real store with a scripted provider that counts every token it is charged for."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import Config, SwarmSettings
from tokenopt_tui.core.events import (
    Event,
    SwarmEnded,
    SwarmPhaseEnded,
    SwarmPhaseStarted,
    SwarmPhaseToken,
    SwarmPlanned,
)
from tokenopt_tui.core.presenter import describe, timeline_line
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.swarm.brief import parse_verdict, worker_brief
from tokenopt_tui.core.swarm.checks import run_checks, schema_errors
from tokenopt_tui.core.swarm.cycle import SwarmCycle, run_swarm
from tokenopt_tui.core.swarm.envelope import Envelope, SwarmRefused, plan_envelope
from tokenopt_tui.core.swarm.roles import worker_tier
from tokenopt_tui.core.swarm.stall import StallDetector, similarity
from tokenopt_tui.core.tokens import count_tokens
from tokenopt_tui.wiring import Services

GOOD_CODE = "Here it is:\n```python\ndef greet(name):\n    return f'hi {name}'\n```\n"
BAD_CODE = "Here it is:\n```python\ndef greet(name)\n    return name\n```\n"
OPTIONS = ("1. A function: simple, pro: short; con: none.\n2. A class: pro: state; con: "
           "longer.\nRecommend 1.")

# -- envelope ---------------------------------------------------------------------------


def test_the_envelope_reserves_at_most_what_the_parent_has_and_splits_it_exactly() -> None:
    settings = SwarmSettings()
    plan = plan_envelope(settings, 30_000)
    assert plan.reserved == 9_000
    assert plan.shares == {"explorer": 2_700, "worker": 4_050, "validator": 2_250}
    small = plan_envelope(settings, 2_001)
    assert small.reserved == 2_001 and sum(small.shares.values()) == 2_001
    with pytest.raises(SwarmRefused, match=r"1,499 tokens of budget left.*1,500"):
        plan_envelope(settings, 1_499)
    envelope = Envelope(plan)
    envelope.charge("worker", 4_000)
    assert envelope.left("worker") == 50 and not envelope.overspent
    envelope.charge("worker", 51)
    assert envelope.left("worker") == 0 and envelope.overspent


# -- mechanical checks --------------------------------------------------------------------


def test_checks_find_what_is_broken_without_a_model() -> None:
    assert run_checks("write greet", GOOD_CODE).ok
    broken = run_checks("write greet", BAD_CODE)
    assert not broken.ok and "python block 1: line 1" in broken.summary()
    shell = run_checks("a script", "```bash\nif [ -f x ]; then\n  echo hi\n```")
    assert not shell.ok and "shell block 1" in shell.summary()
    assert run_checks("a script", "```sh\nfor f in *; do echo \"$f\"; done\n```").ok
    named = run_checks("define `greet` and `farewell`", GOOD_CODE)
    assert not named.ok and named.summary() == "identifiers: missing farewell"
    schema_task = ('Return JSON matching\n```json\n{"type": "object", "required": ["name"], '
                   '"properties": {"age": {"type": "integer"}}}\n```')
    assert run_checks(schema_task, '```json\n{"name": "a", "age": 3}\n```').ok
    wrong = run_checks(schema_task, '```json\n{"age": "three"}\n```')
    assert "$: missing 'name'" in wrong.summary() and "$.age: expected integer" in (
        wrong.summary())
    assert "does not parse" in run_checks("json", "```json\n{nope}\n```").summary()
    assert run_checks("chat", "just words").summary() == "no mechanical checks apply"


def test_the_schema_subset() -> None:
    schema = {"type": "array", "items": {"enum": ["a", "b"]}}
    assert schema_errors(["a", "b"], schema) == []
    assert schema_errors(["a", "c"], schema) == ["$[1]: not one of ['a', 'b']"]
    assert schema_errors(True, {"type": "integer"}) == ["$: expected integer"]


def test_a_shell_block_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    assert run_checks("x", f"```bash\ntouch {marker}\n```").ok
    assert not marker.exists()


# -- stall and verdicts ----------------------------------------------------------------------


def test_the_stall_detector_stops_repeats_only() -> None:
    stall = StallDetector(0.9)
    assert not stall.output("def f(): return 1")
    assert stall.output("def f(): return 1 ")  # the same again
    assert not stall.output("something else entirely, a class with three methods")
    assert not stall.reasons("missing tests for empty input")
    assert stall.reasons("missing tests for empty input.")  # the same reasons again
    assert similarity("abc", "xyz") == 0.0


@pytest.mark.parametrize(("text", "verdict", "reasons"), [
    ("PASS", "pass", ""),
    ("**PASS** — looks right", "pass", ""),
    ("pass.", "pass", ""),
    ("RETRY: no error handling", "retry", "no error handling"),
    ("The result fails: it never returns.", "retry", "it never returns."),
    ("Verdict:\nRETRY - the loop is wrong", "retry", "the loop is wrong"),
    ("PASS or RETRY? Hard to say", "retry", "unclear verdict: PASS or RETRY? Hard to say"),
    ("I think it is nice", "retry", "unclear verdict: I think it is nice"),
    ("", "retry", "unclear verdict: empty reply"),
    ("passage of time", "retry", "unclear verdict: passage of time"),
])
def test_verdicts_are_parsed_robustly(text: str, verdict: str, reasons: str) -> None:
    assert parse_verdict(text) == (verdict, reasons)


def test_the_worker_brief_is_minimal() -> None:
    first = worker_brief("write greet", OPTIONS)
    assert first.startswith("Task:\nwrite greet") and "Recommend 1." in first
    again = worker_brief("write greet", OPTIONS, previous=BAD_CODE, reasons="line 1: syntax")
    assert "sent back: line 1: syntax" in again and "def greet(name)" in again


# -- the cycle, scripted -------------------------------------------------------------------


class RoleProvider(FakeProvider):
    """Answers by role (read from the system prompt) from scripted replies, one word a
    fragment; honours max_tokens unless `ignore_max_tokens`. `charged` is every token it
    was given or sent: the prompt it read and each fragment it yielded."""

    def __init__(self, replies: dict[str, list[str]], *, ignore_max_tokens: bool = False,
                 fail_worker_once: bool = False, gate: asyncio.Event | None = None) -> None:
        super().__init__(model="role-model")
        self.replies = replies
        self.ignore_max_tokens = ignore_max_tokens
        self.fail_worker_once = fail_worker_once
        self.gate = gate
        self.charged = 0
        self.by_role: dict[str, int] = {}

    @staticmethod
    def role_of(messages: list[ChatMessage]) -> str:
        system = " ".join(m.content for m in messages if m.role == "system")
        return next(r for r in ("explorer", "worker", "validator")
                    if f"You are the {r.title()}" in system)

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        from tokenopt_tui.core.providers.base import ProviderError

        self.calls.append(list(messages))
        role = self.role_of(messages)
        self.by_role[role] = self.by_role.get(role, 0) + 1
        prompt = sum(count_tokens(m.content) for m in messages)
        self.charged += prompt
        if role == "worker" and self.fail_worker_once:
            self.fail_worker_once = False
            raise ProviderError("server error 500", self.endpoint)
        script = self.replies[role]
        reply = script.pop(0) if len(script) > 1 else script[0]
        words = [w + " " for w in reply.split(" ")]
        if not self.ignore_max_tokens:
            words = words[:max_tokens]
        completion = 0
        for word in words:
            if self.gate is not None and role == "worker":
                await self.gate.wait()
            tokens = count_tokens(word)
            self.charged += tokens
            completion += tokens
            yield word
        yield Usage(prompt_tokens=prompt, completion_tokens=completion)


def services_for(tmp_path: Path, provider: FakeProvider, budget: int = 10_000,
                 **swarm: int | float) -> Services:
    services = build_services(tmp_path, provider)
    services.set_provider(2, provider)  # the free tier the Explorer is pinned to
    config = services.config
    services.config = dataclasses.replace(
        config, budgets={**config.budgets, "direct_chat": budget},
        swarm=dataclasses.replace(config.swarm, **swarm))
    return services


async def run_cycle(services: Services, task: str = "write a `greet` function"
                    ) -> tuple[ChatSession, list[Event]]:
    await services.open_store()
    parent = await ChatSession.start(services)
    cycle = SwarmCycle(services, parent, task)
    return parent, [event async for event in cycle.run()]


def phases(events: list[Event]) -> list[tuple[str, int, str]]:
    return [(e.role, e.attempt, e.verdict) for e in events if isinstance(e, SwarmPhaseEnded)]


async def calls_charged(services: Services, parent: ChatSession) -> int:
    """What the store charged every role session of the parent's cycles."""
    children = await services.store.child_sessions(parent.session_id)
    return sum(child.tokens_used for child in children)


async def test_a_passing_cycle_runs_three_linked_phases_inside_its_reservation(
        tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["PASS"]})
    services = services_for(tmp_path, provider)
    try:
        parent, events = await run_cycle(services)
        plan = events[0]
        assert isinstance(plan, SwarmPlanned) and plan.reserved_tokens == 9_000
        assert plan.estimate == "3 roles ≈ 9k tokens, free tiers"
        assert phases(events) == [("explorer", 1, "done"), ("worker", 1, "done"),
                                  ("validator", 1, "pass")]
        started = [e for e in events if isinstance(e, SwarmPhaseStarted)]
        assert (started[0].role, started[0].agent, started[0].tier) == ("explorer", "analyst", 2)
        assert started[1].agent in ("devops", "creator") and started[2].agent in (
            "analyst", "memory")
        assert any(isinstance(e, SwarmPhaseToken) for e in events)
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict == "pass"
        assert ended.result.strip() == GOOD_CODE.strip()
        assert 0 < ended.used_tokens <= ended.reserved_tokens
        assert ended.used_tokens == await calls_charged(services, parent) == provider.charged
        assert parent.tokens_used == ended.used_tokens  # settled: used, not reserved
        store = services.store
        children = await store.child_sessions(parent.session_id)
        assert [c.role for c in children] == ["explorer", "worker", "validator"]
        rows = [await store.get_session(c.session_id) for c in children]
        assert [row.type for row in rows if row is not None] == ["sub_agent"] * 3
        row = await store.get_swarm(ended.swarm_id)
        assert row is not None and (row.verdict, row.used_tokens, row.attempts) == (
            "pass", ended.used_tokens, 1)
        kinds = [r.kind for r in await store.session_events(parent.session_id)]
        assert kinds.count("SwarmPhaseEnded") == 3 and kinds[-1] == "SwarmEnded"
        assert "SwarmPhaseToken" not in kinds
        # the worker's brief is the task and the findings, never the parent's history
        worker_call = next(c for c in provider.calls if RoleProvider.role_of(c) == "worker")
        assert "Recommend 1." in worker_call[-1].content
        # pheromone: one validator verdict, good, for the Worker
        history = await store.agent_quality_history()
        assert [(h.agent, h.source) for h in history] == [(started[1].agent, "validator")]
        # resume restores the cycle's charge from its role sessions
        again = await ChatSession.resume(services, parent.session_id)
        assert again.tokens_used == ended.used_tokens
        assert describe(ended) and timeline_line(ended)
    finally:
        await services.aclose()


async def test_a_failed_mechanical_check_is_a_retry_without_a_model_call(
        tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [BAD_CODE, GOOD_CODE],
                             "validator": ["PASS"]})
    services = services_for(tmp_path, provider)
    try:
        _parent, events = await run_cycle(services)
        assert phases(events) == [("explorer", 1, "done"), ("worker", 1, "done"),
                                  ("validator", 1, "retry"), ("worker", 2, "done"),
                                  ("validator", 2, "pass")]
        checked = [e for e in events if isinstance(e, SwarmPhaseEnded)][2]
        assert checked.tokens == 0 and "python block 1: line 1" in checked.reasons
        assert provider.by_role["validator"] == 1  # the first verdict took no call
        retry_brief = [c for c in provider.calls if RoleProvider.role_of(c) == "worker"][1]
        assert "python block 1" in retry_brief[-1].content
        history = await services.store.agent_quality_history()
        assert [h.source for h in history] == ["validator", "validator"]
        assert history[0].tau < history[1].tau  # weakened, then reinforced
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and (ended.verdict, ended.attempts) == ("pass", 2)
    finally:
        await services.aclose()


async def test_retries_are_bounded_and_unclear_verdicts_move_no_pheromone(
        tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS],
                             "worker": [GOOD_CODE, "A class Greeter with a greet method.",
                                        "Use str.format in a lambda bound to the name."],
                             "validator": ["RETRY: add a docstring", "hmm, nice",
                                           "RETRY: now handle empty names please"]})
    services = services_for(tmp_path, provider, max_retries=2)
    try:
        _parent, events = await run_cycle(services)
        assert [p for p in phases(events) if p[0] == "worker"] == [
            ("worker", 1, "done"), ("worker", 2, "done"), ("worker", 3, "done")]
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and (ended.verdict, ended.attempts) == ("failed", 3)
        validator = [e for e in events if isinstance(e, SwarmPhaseEnded)
                     and e.role == "validator"]
        assert validator[1].reasons == "unclear verdict: hmm, nice"
        history = await services.store.agent_quality_history()
        assert len(history) == 2  # the two real RETRYs only
    finally:
        await services.aclose()


async def test_a_cycle_that_repeats_itself_stalls(tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["RETRY: add error handling"]})
    services = services_for(tmp_path, provider, max_retries=5)
    try:
        _parent, events = await run_cycle(services)
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and (ended.verdict, ended.attempts) == (
            "stalled", 2)
        assert provider.by_role["worker"] == 2  # stopped before a third identical try
    finally:
        await services.aclose()


async def test_a_failed_worker_call_is_retried_within_bounds(tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["PASS"]}, fail_worker_once=True)
    services = services_for(tmp_path, provider)
    try:
        _parent, events = await run_cycle(services)
        assert phases(events)[1:] == [("worker", 1, "failed"), ("worker", 2, "done"),
                                      ("validator", 2, "pass")]
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict == "pass"
        # a provider failure is health, never quality: only the validator's pass counts
        assert len(await services.store.agent_quality_history()) == 1
    finally:
        await services.aclose()


@pytest.mark.parametrize("budget", [10_000, 2_400])
async def test_a_provider_ignoring_max_tokens_never_gets_past_the_reservation(
        tmp_path: Path, budget: int) -> None:
    flood = " ".join(f"w{i}" for i in range(20_000))
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [flood],
                             "validator": ["PASS"]}, ignore_max_tokens=True)
    services = services_for(tmp_path, provider, budget=budget)
    try:
        parent, events = await run_cycle(services)
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict == "over_budget"
        assert provider.charged <= ended.reserved_tokens
        assert await calls_charged(services, parent) <= ended.reserved_tokens
        assert ended.used_tokens <= ended.reserved_tokens
        worker = [e for e in events if isinstance(e, SwarmPhaseEnded) and e.role == "worker"]
        assert "went past max_tokens" in worker[0].reasons
        assert "validator" not in provider.by_role
    finally:
        await services.aclose()


async def test_retries_share_one_envelope_and_a_call_that_cannot_fit_is_not_sent(
        tmp_path: Path) -> None:
    long_code = GOOD_CODE + "\n".join(f"# note {i} about the function" for i in range(60))
    provider = RoleProvider({"explorer": [OPTIONS],
                             "worker": [long_code + f" v{i}" for i in range(12)],
                             "validator": ["RETRY: shorter please", "RETRY: still long",
                                           "RETRY: more detail now", "RETRY: other thing"]})
    services = services_for(tmp_path, provider, budget=2_000, max_retries=10)
    try:
        parent, events = await run_cycle(services)
        ended = events[-1]
        assert isinstance(ended, SwarmEnded)
        assert ended.verdict == "over_budget"
        assert provider.charged <= ended.reserved_tokens == 2_000
        assert await calls_charged(services, parent) <= 2_000
        last = [e for e in events if isinstance(e, SwarmPhaseEnded)][-1]
        assert last.reasons.startswith("not sent") and last.tokens == 0
    finally:
        await services.aclose()


async def test_cancel_keeps_what_the_worker_had(tmp_path: Path) -> None:
    gate = asyncio.Event()
    provider = RoleProvider({"explorer": [OPTIONS], "worker": ["partial answer " * 50],
                             "validator": ["PASS"]}, gate=gate)
    services = services_for(tmp_path, provider)
    await services.open_store()
    try:
        parent = await ChatSession.start(services)
        cycle = SwarmCycle(services, parent, "write it")
        events: list[Event] = []
        async for event in cycle.run():
            events.append(event)
            if isinstance(event, SwarmPhaseStarted) and event.role == "worker":
                gate.set()
            if isinstance(event, SwarmPhaseToken) and event.role == "worker":
                cycle.cancel()
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict == "cancelled"
        assert ended.result.startswith("partial")
        assert phases(events)[-1] == ("worker", 1, "cancelled")
        assert ended.used_tokens == await calls_charged(services, parent) > 0
        assert "validator" not in provider.by_role
    finally:
        await services.aclose()


async def test_a_parent_without_enough_budget_is_refused_before_anything_is_sent(
        tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["PASS"]})
    services = services_for(tmp_path, provider)
    await services.open_store()
    try:
        parent = await ChatSession.start(services)
        parent.tokens_used = parent.budget - 1_000
        with pytest.raises(SwarmRefused, match="1,000 tokens of budget left"):
            await run_swarm(services, parent, "write it")
        assert provider.calls == []
        assert await services.store.child_sessions(parent.session_id) == []
    finally:
        await services.aclose()


async def test_run_swarm_returns_the_end_and_the_tokens(tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["PASS"]})
    services = services_for(tmp_path, provider)
    await services.open_store()
    try:
        parent = await ChatSession.start(services)
        ended, tokens = await run_swarm(services, parent, "write a `greet` function")
        assert ended.verdict == "pass" and tokens == ended.used_tokens == provider.charged
    finally:
        await services.aclose()


async def test_an_unusable_free_tier_sends_the_explorer_to_the_first_free_tier(
        tmp_path: Path) -> None:
    provider = RoleProvider({"explorer": [OPTIONS], "worker": [GOOD_CODE],
                             "validator": ["PASS"]})
    services = build_services(tmp_path, provider)  # tier 2: OpenRouter with no key
    try:
        _parent, events = await run_cycle(services)
        explorer = [e for e in events if isinstance(e, SwarmPhaseEnded)
                    and e.role == "explorer"]
        assert [(e.attempt, e.tier, e.verdict) for e in explorer] == [
            (1, 2, "failed"), (2, 1, "done")]
        assert explorer[0].tokens == 0  # skipped: no call was made, nothing charged
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict == "pass"
        worker_call = next(c for c in provider.calls if RoleProvider.role_of(c) == "worker")
        assert "Recommend 1." in worker_call[-1].content
    finally:
        await services.aclose()


# -- the command, without a model ----------------------------------------------------------


def test_the_command_refuses_a_cycle_the_budget_cannot_hold(xdg_env) -> None:
    import json

    from conftest import run_cli

    env = {**xdg_env, "TOKENOPT__SWARM__FLOOR_TOKENS": "20000"}
    refused = run_cli(["swarm", "--json", "write it"], env, timeout=120)
    assert refused.returncode == 3, refused.stderr
    result = json.loads(refused.stdout)
    assert result["phases"] == [] and result["verdict"] is None
    assert result["session_id"] is None  # refused before a session row was made
    assert "10,000 tokens of budget left" in result["error"] and "swarm.floor_tokens" in (
        result["error"])
    text = run_cli(["swarm", "write it"], env, timeout=120)
    assert text.returncode == 3 and "swarm.floor_tokens" in text.stderr
    missing = run_cli(["swarm", "--session", "999", "write it"], xdg_env, timeout=120)
    assert missing.returncode == 2 and "no session 999" in missing.stderr
    empty = run_cli(["swarm", "  "], xdg_env, timeout=120)
    assert empty.returncode == 2 and "the task is empty" in empty.stderr


def test_the_worker_is_never_below_the_classifiers_tier_nor_on_a_paid_one(
        config: Config) -> None:
    """The bench found the Worker always on the local tier (the agents' first preferred
    one) for tasks that need tier 2 or 3: every such result lost capability."""
    # the default tiers: 1-3 free, 4 paid
    assert [t.paid for t in config.tiers] == [False, False, False, True]
    assert worker_tier(config, (1, 2), floor=3) == 3
    assert worker_tier(config, (1, 2), floor=2) == 2
    assert worker_tier(config, (3, 1), floor=2) == 3  # a preference at or above it wins
    assert worker_tier(config, (1,), floor=1) == 1
    assert worker_tier(config, (), floor=4) == 3  # the strongest free tier, never paid
    # a pinned role gets no fallback: only tiers that could answer now
    assert worker_tier(config, (1, 2), floor=2, usable={1}) == 1
    assert worker_tier(config, (1, 2), floor=2, usable={1, 3}) == 3
    assert worker_tier(config, (1, 2), floor=2, usable=set()) == 2  # none usable: as asked


async def test_a_cycle_killed_midway_still_charges_its_parent_on_resume(
        tmp_path: Path) -> None:
    """The process dies while the Worker's call is in flight: no SwarmEnded row is ever
    written, yet the call was charged to its role session when it was sent, and the
    parent's budget counts it when the parent is reopened."""
    services = services_for(tmp_path, RoleProvider({}))
    try:
        await services.open_store()
        parent = await ChatSession.start(services)
        store = services.store
        child = await store.create_session("sub_agent", "worker")
        await store.link_session(child, parent.session_id, "worker")
        await store.start_model_call(child, tier=2, provider="openai", endpoint=None,
                                     model="m", started_at="2026-12-05T10:00:00.000Z",
                                     prompt_tokens=1_234, cost_usd=0.0)
        assert await store.session_events(parent.session_id, kinds=("SwarmEnded",)) == []
        again = await ChatSession.resume(services, parent.session_id)
        assert again.tokens_used == 1_234
    finally:
        await services.aclose()

"""Budgets, compaction triggers and references in ChatSession (real store, fake model).

The real-model versions of these paths are in test_budget_real.py; here the provider
is scripted so that token counts, and so every threshold crossing, are exact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import BudgetThresholds, CompressionSettings
from tokenopt_tui.core.budget import Budget
from tokenopt_tui.core.compression.summarizer import PROMPT, judge
from tokenopt_tui.core.context import MESSAGE_OVERHEAD, REPLY_PRIMING
from tokenopt_tui.core.events import (
    BudgetWarned,
    ContentReferenced,
    ContextCompacted,
    Event,
    ReplyCompleted,
    SessionHalted,
)
from tokenopt_tui.core.providers.base import ChatMessage, Usage
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.tokens import count_tokens
from tokenopt_tui.wiring import Services

#: Only its first sentence survives a summary, so compacting a few turns saves tokens.
LONG_REPLY = "Checked it. " + "The log shows each step finished in order with no retries. " * 4


class CountingProvider(FakeProvider):
    """Usage is exact and chosen by the test: `prompt_tokens` per call, fixed reply."""

    def __init__(self, prompt_tokens: int = 100, completion_tokens: int = 10,
                 summary: str | None = None, **kwargs) -> None:
        kwargs.setdefault("reply", LONG_REPLY)
        super().__init__(**kwargs)
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.summary = summary
        self.summary_calls = 0

    async def stream(self, messages: list[ChatMessage],
                     max_tokens: int) -> AsyncIterator[str | Usage]:
        if self.summary is not None and messages[0].content.startswith(PROMPT[:30]):
            self.summary_calls += 1
            if self.summary:
                yield self.summary
            yield Usage(prompt_tokens=50, completion_tokens=5)
            return
        self.calls.append(list(messages))
        yield self.reply
        yield Usage(prompt_tokens=self.prompt_tokens, completion_tokens=self.completion_tokens)


def services_with(tmp_path: Path, provider: FakeProvider, *, budget: int = 1_000,
                  **compression) -> Services:
    services = build_services(tmp_path, provider)
    config = dataclasses.replace(
        services.config, budgets={**services.config.budgets, "direct_chat": budget},
        compression=dataclasses.replace(services.config.compression, **compression))
    services.config = config
    return services


@asynccontextmanager
async def started(tmp_path: Path, provider: FakeProvider,
                  **settings) -> AsyncIterator[tuple[Services, ChatSession]]:
    """Real services and store on tmp_path, and a new direct_chat session."""
    services = services_with(tmp_path, provider, **settings)
    await services.open_store()
    try:
        yield services, await ChatSession.start(services)
    finally:
        await services.aclose()


async def collect(events: AsyncIterator[Event]) -> list[Event]:
    return [e async for e in events]


def of(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


# -- Budget arithmetic ----------------------------------------------------------------

def test_budget_levels_and_crossings() -> None:
    budget = Budget(1_000, BudgetThresholds())
    assert [budget.level(n) for n in (0, 799, 800, 899, 900, 999, 1_000, 5_000)] == [
        "ok", "ok", "warn", "warn", "compress", "compress", "halt", "halt"]
    assert budget.crossed(700, 850) == ["warn"]
    assert budget.crossed(700, 950) == ["warn", "compress"]
    assert budget.crossed(850, 1_200) == ["compress", "halt"]
    assert budget.crossed(900, 950) == []
    # What the session asks after each call: levels above the one it already acted on.
    assert budget.crossed_from("warn", 1_000) == ["compress", "halt"]
    assert budget.crossed_from("compress", 850) == []  # spending less never re-announces
    custom = Budget(200, BudgetThresholds(50, 60, 120))
    assert custom.level(110) == "warn" and custom.level(239) == "compress"


# -- Warn 80 % / compress 90 % / halt 100 % -------------------------------------------

async def test_warn_then_forced_compaction_then_halt(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=190, completion_tokens=10)  # 200 per call
    async with started(tmp_path, provider, budget=1_000) as (services, session):
        seen: list[list[Event]] = []
        for n in range(4):  # 200, 400, 600, 800 tokens
            seen.append(await collect(session.send(f"request {n}: check /srv/app{n}.yaml")))
        assert session.tokens_used == 800
        warned = of(seen[3], BudgetWarned)
        assert [(w.level, w.percent, w.used, w.limit) for w in warned] == [
            ("warn", 80, 800, 1_000)]
        assert not any(of(batch, BudgetWarned) for batch in seen[:3])

        events = await collect(session.send("request 4"))  # 800 → 1000: compress + halt
        assert [w.level for w in of(events, BudgetWarned)] == ["compress"]
        halted = of(events, SessionHalted)
        assert len(halted) == 1 and halted[0].used == 1_000 and halted[0].pending == ""
        assert "request 0: check /srv/app0.yaml" in halted[0].summary
        calls = len(provider.calls)

        refused = await collect(session.send("one more please"))
        assert [type(e) for e in refused] == [SessionHalted]
        assert refused[0].pending == "one more please"
        assert len(provider.calls) == calls, "a halted session made a model call"
        rows = await services.store.session_messages(session.session_id)
        assert all(r.content != "one more please" for r in rows)
        row = await services.store.get_session(session.session_id)
        assert row is not None and row.status == "halted" and row.tokens_used == 1_000
        kinds = [e.kind for e in await services.store.session_events(session.session_id)]
        assert kinds.count("BudgetWarned") == 2 and kinds.count("SessionHalted") == 2


async def test_compression_runs_before_the_next_call_at_90_percent(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=140, completion_tokens=10)  # 150 per call
    async with started(tmp_path, provider, budget=1_000) as (services, session):
        for n in range(6):  # 900 tokens: the compress level, not yet halted
            await collect(session.send(f"step {n}: we decided to use Postgres 16 for PROJ-{n}"))
        assert session.budget_state.level(session.tokens_used) == "compress"
        events = await collect(session.send("next step"))
        compacted = of(events, ContextCompacted)
        assert len(compacted) == 1 and compacted[0].trigger.startswith("budget at 90%")
        order = [type(e) for e in events]
        assert order.index(ContextCompacted) < order.index(ReplyCompleted)
        sent = provider.calls[-1]
        assert sent[0].role == "system" and "PROJ-0" in sent[0].content
        assert [m.content for m in sent[1:]] == [provider.reply, "next step"]
        assert compacted[0].tokens_after < compacted[0].tokens_before
        assert compacted[0].upto == 11 and compacted[0].method == "extractive"
        # the originals are all still stored
        rows = await services.store.session_messages(session.session_id)
        assert sum(r.role == "user" for r in rows) == 7
        # the session halts at 1,050 tokens after that call
        assert of(events, SessionHalted)


async def test_a_resumed_session_keeps_its_compaction_and_its_halt(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=290, completion_tokens=10)
    async with started(tmp_path, provider, budget=1_000) as (services, session):
        for n in range(4):
            await collect(session.send(f"turn {n} at https://example.com/t/{n}"))
        assert session.halted
        resumed = await ChatSession.resume(services, session.session_id)
        assert resumed.halted and resumed.halt_summary == session.halt_summary
        calls = len(provider.calls)
        assert [type(e) for e in await collect(resumed.send("again"))] == [SessionHalted]
        assert len(provider.calls) == calls

        fresh = await ChatSession.continue_from(services, resumed)
        assert fresh.session_id != session.session_id and not fresh.halted
        assert fresh.tokens_used == 0 and fresh.session_type == "direct_chat"
        rows = await services.store.session_messages(fresh.session_id)
        assert rows[0].role == "system" and "https://example.com/t/0" in rows[0].content
        events = await collect(fresh.send("carry on"))
        assert of(events, ReplyCompleted)
        assert provider.calls[-1][0].content == rows[0].content
        row = await services.store.get_session(fresh.session_id)
        assert row is not None and row.title and row.title.startswith(
            f"Continued from #{session.session_id}")


async def test_resume_restores_the_compacted_view(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    async with started(tmp_path, provider, budget=100_000, compress_over_turns=4,
                       keep_last=2) as (services, session):
        for n in range(6):
            await collect(session.send(f"item {n}: owner @dana, file notes/{n}.md"))
        view = session.context.messages()
        resumed = await ChatSession.resume(services, session.session_id)
        assert resumed.context.messages() == view
        assert resumed.context.tokens() == session.context.tokens()


# -- Triggers ---------------------------------------------------------------------------

async def test_more_than_n_turns_compacts_older_turns(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    async with started(tmp_path, provider, budget=1_000_000) as (_services, session):
        compactions = []
        for n in range(25):
            events = await collect(session.send(f"Task {n}: update deploy/{n}.yaml please"))
            compactions += of(events, ContextCompacted)
        assert len(compactions) >= 1
        first = compactions[0]
        assert first.trigger == "21 turns (> 20)"
        # every request stays verbatim in the summary
        assert all(f"Task {n}: update deploy/{n}.yaml please" in session.context.summary.content
                   for n in range(15))
        assert session.context.turns() <= 20
        assert len(provider.calls[-1]) == 1 + 6 + 2 * 4  # summary, kept, 4 new turns


async def test_more_than_n_tokens_summarizes_older_messages(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5,
                                reply="Noted. " + "The build log shows nothing unusual. " * 60)
    async with started(tmp_path, provider, budget=1_000_000,
                       summarize_over_tokens=2_000) as (_services, session):
        events: list[Event] = []
        for n in range(8):
            events += await collect(session.send(f"Check build {n} of release v1.{n}.0"))
        compacted = of(events, ContextCompacted)
        assert compacted and compacted[0].trigger.startswith("context ")
        assert compacted[0].tokens_before > 2_000 > compacted[0].tokens_after
        assert "v1.0.0" in session.context.summary.content


async def test_a_5mb_paste_is_stored_whole_but_sent_as_a_reference(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    async with started(tmp_path, provider, budget=10_000_000) as (services, session):
        line = "2026-11-24T10:00:01Z worker-7 ERROR job 4411 failed: timeout after 30 s\n"
        paste = ("Why does the nightly job fail? Log follows.\n"
                 + line * (5_000_000 // len(line)) + "deploy id d3adb33f at /var/log/job.log")
        assert len(paste) >= 5_000_000
        events = await collect(session.send(paste))
        ref = of(events, ContentReferenced)
        assert len(ref) == 1 and ref[0].tokens > 1_000_000 and ref[0].view_tokens < 2_000
        sent = provider.calls[-1][-1].content
        assert len(sent) < 10_000
        assert sent.startswith("[Long user text") and f"message #{ref[0].message_id}" in sent
        assert "Why does the nightly job fail?" in sent and "/var/log/job.log" in sent
        stored = await services.store.get_message(ref[0].message_id)
        assert stored is not None and stored.content == paste
        assert session.estimate_next("") < 3_000


# -- /compact and the LLM summarizer -------------------------------------------------------

async def test_manual_compact_and_nothing_to_compact(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    async with started(tmp_path, provider, budget=100_000) as (services, session):
        await collect(session.send("hello"))
        assert not session.can_compact() and await collect(session.compact()) == []
        for n in range(4):
            await collect(session.send(f"thanks, now do step {n} in src/{n}.py"))
        events = await collect(session.compact())
        assert [type(e) for e in events] == [ContextCompacted]
        assert events[0].trigger == "/compact" and events[0].cost_tokens == 0
        stored = await services.store.last_event(session.session_id, "ContextCompacted")
        assert stored is not None and stored.payload["summary"] == events[0].summary


GOOD_SUMMARY = "User requests: step 0 in src/0.py; step 1 in src/1.py; step 2 in src/2.py."


@pytest.mark.parametrize(
    ("reply", "method"),
    [
        (GOOD_SUMMARY, "llm (fake-model)"),
        ("", "extractive (LLM summary discarded: fake-model summary empty)"),
        ("@@@ ### %%% &&& *** ((( ))) !!! ??? ;;; ::: >>> <<<",
         "extractive (LLM summary discarded: fake-model summary garbled)"),
        ("step step step " * 40, "extractive (LLM summary discarded: fake-model summary "
                                 "repetitive)"),
        ("User requests: step 0 only.",
         "extractive (LLM summary discarded: fake-model summary lost identifiers"),
    ],
)
async def test_llm_summary_is_used_only_when_it_is_sound(tmp_path: Path, reply: str,
                                                         method: str) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5, summary=reply)
    async with started(tmp_path, provider, budget=100_000,
                       summarizer="llm") as (_services, session):
        for n in range(5):
            await collect(session.send(f"please do step {n} in src/{n}.py"))
        before = session.tokens_used
        events = await collect(session.compact())
        compacted = of(events, ContextCompacted)[0]
        assert compacted.method.startswith(method)
        assert provider.summary_calls == 1
        assert compacted.cost_tokens == 55 and session.tokens_used == before + 55
        if method.startswith("llm"):
            assert compacted.summary == reply
        else:
            assert "please do step 0 in src/0.py" in compacted.summary


def test_judge_rejects_a_longer_summary() -> None:
    extractive = "- fix src/a.py"
    assert judge("Please fix the file src/a.py as soon as possible today", extractive).reason \
        == "not shorter than the extractive summary"
    assert judge("fix src/a.py", "- please fix the module in src/a.py today").ok


# -- The live estimate -------------------------------------------------------------------

async def test_estimate_counts_each_message_once(tmp_path: Path, monkeypatch) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5)
    async with started(tmp_path, provider) as (_services, session):
        for n in range(3):
            await collect(session.send(f"message number {n}"))
        import tokenopt_tui.core.context as context_module
        import tokenopt_tui.core.session as session_module

        counted: list[str] = []

        def spy(text: str) -> int:
            counted.append(text)
            return count_tokens(text)

        monkeypatch.setattr(session_module, "count_tokens", spy)
        monkeypatch.setattr(context_module, "count_tokens", spy)
        draft = "what about the fourth"
        estimate = session.estimate_next(draft)
        assert counted == [draft]
        expected = sum(count_tokens(m.content) + MESSAGE_OVERHEAD
                       for m in session.context.messages())
        assert estimate == expected + count_tokens(draft) + MESSAGE_OVERHEAD + REPLY_PRIMING


def test_compression_defaults_follow_the_plan() -> None:
    settings = CompressionSettings()
    assert (settings.summarize_over_tokens, settings.compress_over_turns,
            settings.reference_over_tokens) == (50_000, 20, 5_000)


async def test_a_summary_that_saves_nothing_is_not_applied(tmp_path: Path) -> None:
    provider = CountingProvider(prompt_tokens=10, completion_tokens=5, reply="k")
    async with started(tmp_path, provider, budget=100_000, keep_last=2) as (_services, session):
        for word in ("a", "b", "c"):
            await collect(session.send(word))
        before = session.context.messages()
        assert session.can_compact() and await collect(session.compact()) == []
        assert session.context.messages() == before and session.context.summary is None

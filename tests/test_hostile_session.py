"""Hostile-testing regressions in the core session: skills are matched on the ask,
not on pasted material, and /why's reasons say when the classifier's tier was
passed over."""

from __future__ import annotations

import time
from dataclasses import replace

from ui_helpers import FakeProvider, build_services

from tokenopt_tui.config import Endpoint, Tier
from tokenopt_tui.core.events import SkillLoaded, TierChosen, TierFailed
from tokenopt_tui.core.session import ASK_HEAD_CHARS, ASK_TAIL_CHARS, ChatSession, ask_window

LOG_LINE = "2026-12-04T10:00:00Z worker-7 INFO processed batch 4411 in 231 ms\n"


def test_the_ask_window_is_bounded_and_keeps_both_ends() -> None:
    short = "why did the cron job not run?"
    assert ask_window(short) == short
    long = "QUESTION-HEAD " + LOG_LINE * 50_000 + " QUESTION-TAIL"
    window = ask_window(long)
    assert len(window) <= ASK_HEAD_CHARS + ASK_TAIL_CHARS + 3
    assert window.startswith("QUESTION-HEAD") and window.endswith("QUESTION-TAIL")


async def test_a_large_paste_is_matched_by_its_ask_only(tmp_path) -> None:
    """Before: a 2 MB paste spent 10.5 of 12.2 s in skill matching over the paste, and
    words deep inside pasted material could load a skill."""
    services = build_services(tmp_path, FakeProvider("ok"), skills=True)
    await services.open_store()
    try:
        session = await ChatSession.start(services, "cron_job")
        middle = "the cron job crontab schedule never ran last night\n"
        paste = LOG_LINE * 16_000 + middle * 20 + LOG_LINE * 16_000  # ~2 MB
        assert len(paste) > 2_000_000
        started = time.perf_counter()
        message, events = await session._skills_for("what does this say?\n" + paste)
        elapsed = time.perf_counter() - started
        assert message is None and events == []  # the matching words were mid-paste
        assert elapsed < 1.0, f"matching a 2 MB paste took {elapsed:.2f} s"
        _message, events = await session._skills_for(
            paste + "\nwhy did my cron job never run last night?")
        assert [e.skill_name for e in events if isinstance(e, SkillLoaded)] == ["aria-cron"]
    finally:
        await services.aclose()


async def test_why_names_the_chosen_tier_and_the_fallback(tmp_path) -> None:
    """Before: a reply that fell back showed the fallback tier beside the classifier's
    reason for the first tier ("T1 local: coding, high complexity")."""
    services = build_services(tmp_path, FakeProvider("local answer"))
    hosted = Endpoint("openai", "qwen/qwen3-coder:free", "http://127.0.0.1:9/v1",
                      api_key_env="TOKENOPT_TEST_MISSING_KEY")
    tiers = (services.config.tiers[0], Tier(2, "trinity", False, (hosted,)),
             Tier(3, "coder", False, (replace(hosted, model="other:free"),)))
    services.config = replace(services.config, tiers=tiers)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        request = ("Write a Python module with a class that parses RFC 5322 email "
                   "headers, with unit tests and type hints, and refactor the CLI to use it")
        events = [e async for e in session.send(request)]
        skipped = [e for e in events if isinstance(e, TierFailed)]
        assert skipped and all(e.skipped for e in skipped)
        [chosen] = [e for e in events if isinstance(e, TierChosen)]
        assert chosen.tier == 1
        started_at = min(e.tier for e in skipped)
        assert chosen.reasons[0].startswith(f"tier {started_at} was chosen (")
        assert chosen.reasons[1].startswith("fell back to tier 1: ")
        assert "key missing: set TOKENOPT_TEST_MISSING_KEY" in chosen.reasons[1]
    finally:
        await services.aclose()


async def test_the_router_scrubs_keys_from_any_provider_error(tmp_path) -> None:
    """Defence in depth: even a provider that does not scrub its own errors cannot get
    a configured key into the store (cooldowns, calls, events)."""
    key = "sk-or-v1-" + "7f3a" * 12
    leaky = FakeProvider("x", fail_after=0, error=f"401: Authorization: Bearer {key} refused")
    services = build_services(tmp_path, leaky)
    hosted = Endpoint("openai", "m:free", "http://127.0.0.1:9/v1", api_key_env="LEAKY_KEY")
    services.config = replace(services.config, tiers=(
        Tier(1, "local", False, (replace(hosted, model="leaky:free"),)),))
    services.env = {"LEAKY_KEY": key}
    services.set_provider(1, leaky)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send("hello")]
        [failed] = [e for e in events if isinstance(e, TierFailed)]
        assert key not in failed.error and "[redacted: LEAKY_KEY]" in failed.error
        dump = await services.store.read("dump", "SELECT group_concat(error, ' ') FROM "
                                         "model_calls")
        stored = [str(r[0]) for r in dump]
        cooldowns = await services.store.load_cooldowns()
        events_rows = await services.store.session_events(session.session_id)
        everything = " ".join(stored + [str(v) for v in cooldowns.values()]
                              + [str(e.payload) for e in events_rows])
        assert key not in everything and "redacted" in everything
    finally:
        await services.aclose()

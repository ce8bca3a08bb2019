"""The result cache (issue 15 item 1): the canonical key, TTL classes, expiry and purge,
persistence, and a deterministic request asked twice answered once by the real model."""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import sqlite3
import time
from pathlib import Path

import pytest
from conftest import run_cli
from ui_helpers import FakeProvider, build_services, ready, screen_text, send, wait_until

from tokenopt_tui.config import (
    CacheSettings,
    Config,
    ConfigError,
    Endpoint,
    LocalSettings,
    Tier,
    load_config,
)
from tokenopt_tui.core.cache.key import (
    KeyParts,
    SkillRef,
    cache_key,
    is_deterministic,
    sampling_for,
)
from tokenopt_tui.core.cache.result import ResultCache
from tokenopt_tui.core.cache.ttl import ttl_class
from tokenopt_tui.core.providers.base import ChatMessage
from tokenopt_tui.paths import Paths
from tokenopt_tui.store import Store
from tokenopt_tui.ui.app import TokenoptApp

LOCAL = Endpoint("mlx", "embedded")
HOSTED = Endpoint("openai", "some/model:free", "https://openrouter.ai/api/v1", "KEY")


def greedy_config(**cache: object) -> Config:
    """Tier 1 the local model at temperature 0, tier 2 a hosted endpoint."""
    return Config(tiers=(Tier(1, "local", False, (LOCAL,)), Tier(2, "free", False, (HOSTED,))),
                  local=LocalSettings(temperature=0.0),
                  cache=dataclasses.replace(CacheSettings(), **cache))


BASE = KeyParts(LOCAL, [ChatMessage("system", "skill body"), ChatMessage("user", "hi")],
                sampling_for(LOCAL, greedy_config()), [SkillRef.of("aria-cron", "skill body")])


@pytest.mark.parametrize("change", [
    {"endpoint": Endpoint("mlx", "other-model")},
    {"endpoint": Endpoint("openai", "embedded", "http://127.0.0.1:8080/v1")},
    {"messages": [ChatMessage("system", "skill body"), ChatMessage("user", "hi!")]},
    {"messages": [ChatMessage("user", "skill body"), ChatMessage("user", "hi")]},
    {"messages": [ChatMessage("user", "hi"), ChatMessage("system", "skill body")]},
    {"messages": [ChatMessage("user", "hi")]},
    {"skills": [SkillRef.of("aria-cron", "skill body v2")]},
    {"skills": [SkillRef.of("aria-other", "skill body")]},
    {"skills": []},
    {"tools": [{"name": "search"}]},
    {"extras": {"provider": {"order": ["a"]}}},
    *({"sampling": {**BASE.sampling, name: value}} for name, value in [
        ("temperature", 0.1), ("top_p", 0.5), ("max_tokens", 7), ("stop", ["\n"]),
        ("seed", 3), ("repetition_penalty", 1.1), ("reasoning_effort", "high"),
        ("prompt_format", "transcript")]),
], ids=lambda change: next(iter(change)) + ":" + repr(next(iter(change.values())))[:30])
def test_changing_any_one_field_changes_the_key(change: dict[str, object]) -> None:
    assert cache_key(dataclasses.replace(BASE, **change)) != cache_key(BASE)  # type: ignore[arg-type]


def test_the_key_is_stable_and_only_explicit_zero_temperature_is_deterministic() -> None:
    again = KeyParts(LOCAL, [ChatMessage("system", "skill body"), ChatMessage("user", "hi")],
                     dict(reversed(list(BASE.sampling.items()))),
                     [SkillRef.of("aria-cron", "skill body")])
    assert cache_key(again) == cache_key(BASE) and len(cache_key(BASE)) == 64
    assert is_deterministic({"temperature": 0}) and is_deterministic({"temperature": 0.0})
    assert not is_deterministic({}) and not is_deterministic({"temperature": None})
    assert not is_deterministic({"temperature": 0.7})
    # The OpenAI-compatible provider sends no temperature: never deterministic.
    assert sampling_for(HOSTED, greedy_config())["temperature"] is None


async def test_plan_caches_only_deterministic_requests(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "t.db") as store:
        messages = [ChatMessage("user", "explain the plan")]
        cache = ResultCache(store, greedy_config())
        assert cache.plan(1, messages, "explain the plan", "analysis") is not None
        assert cache.plan(2, messages, "explain the plan", "analysis") is None  # no temperature
        assert cache.plan(2, messages, "explain", "analysis", cacheable=True) is not None
        assert cache.plan(9, messages, "explain", "analysis") is None  # no such tier
        warm = dataclasses.replace(greedy_config(), local=LocalSettings(temperature=0.7))
        assert ResultCache(store, warm).plan(1, messages, "explain", "chat") is None
        off = greedy_config(enabled=False)
        assert ResultCache(store, off).plan(1, messages, "explain", "chat") is None


def test_ttl_classes() -> None:
    assert ttl_class("analysis", "compare these two designs") == "analysis"
    assert ttl_class("code", "write a parser") == "analysis"
    assert ttl_class("chat", "what is the AAPL stock price?") == "market"
    assert ttl_class("research", "news about the EUR rate today") == "market"
    assert ttl_class("chat", "weather in Oslo") == "market"
    assert ttl_class("code", "generate a separator") == "analysis"  # "rate" inside words


async def test_entries_expire_by_class_and_are_purged(tmp_path: Path) -> None:
    now = [1_000_000.0]
    async with await Store.open(tmp_path / "t.db") as store:
        cache = ResultCache(store, greedy_config(analysis_ttl_s=100, market_ttl_s=10),
                            clock=lambda: now[0])
        analysis = cache.plan(1, [ChatMessage("user", "design a schema")], "design a schema",
                              "analysis")
        market = cache.plan(1, [ChatMessage("user", "stock price?")], "stock price?", "chat")
        assert analysis is not None and market is not None and market.ttl_class == "market"
        await cache.put(analysis, "a schema", 30, 5)
        await cache.put(market, "42", 20, 1)
        now[0] += 9
        assert (await cache.get(market)) is not None
        now[0] += 2  # 11 s: the market answer has expired, the analysis one has not
        assert await cache.get(market) is None
        hit = await cache.get(analysis)
        assert hit is not None and (hit.reply, hit.prompt_tokens, hit.completion_tokens) == (
            "a schema", 30, 5)
        assert await cache.purge_expired() == 1
        counts = await store.cache_counts(now[0])
        assert (counts.entries, counts.expired, counts.hits) == (1, 0, 1)
        assert counts.saved_tokens == 35
        now[0] += 100
        assert await cache.get(analysis) is None
        assert await store.cache_purge_expired(now[0]) == 1


async def test_entries_persist_across_a_reopen_and_expired_ones_go_on_open(
        tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    plan_messages = [ChatMessage("user", "what is a monad")]
    async with await Store.open(path) as store:
        cache = ResultCache(store, greedy_config())
        plan = cache.plan(1, plan_messages, "what is a monad", "chat")
        assert plan is not None
        await cache.put(plan, "a monoid in the category of endofunctors", 12, 9)
        stale = dataclasses.replace(plan, key="0" * 64)
        old = ResultCache(store, greedy_config(), clock=lambda: 0.0)  # expired long ago
        await old.put(stale, "stale", 1, 1)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM result_cache").fetchone() == (2,)
    async with await Store.open(path) as store:  # purged on open
        cache = ResultCache(store, greedy_config())
        hit = await cache.get(plan)
        assert hit is not None and hit.reply.startswith("a monoid") and hit.hits == 0
        assert (await store.cache_counts(cache.clock())).entries == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT key, hits FROM result_cache").fetchall() == [(plan.key, 1)]


def test_cache_config_is_validated_with_the_key_named(tmp_path: Path) -> None:
    paths = Paths(config_file=tmp_path / "config.toml", data_dir=tmp_path / "d",
                  cache_dir=tmp_path / "c")
    paths.config_file.write_text("[cache]\nmarket_ttl_s = 0\n")
    with pytest.raises(ConfigError, match=r"cache\.market_ttl_s"):
        load_config(paths, env={})
    paths.config_file.write_text("[cache]\nenabled = 'yes please'\n")
    with pytest.raises(ConfigError, match=r"cache\.enabled"):
        load_config(paths, env={})
    paths.config_file.write_text("[cache]\nttl = 5\n")
    with pytest.raises(ConfigError, match=r"cache\.ttl"):
        load_config(paths, env={})
    paths.config_file.write_text("[cache]\nenabled = false\nanalysis_ttl_s = 60\n")
    assert load_config(paths, env={}).cache == CacheSettings(False, 60, 3_600)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_second_identical_ask_is_answered_from_the_cache(xdg_env, prepared_model) -> None:
    """The real local model at temperature 0: the second ask makes no model call."""
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    first = run_cli(["ask", "--json", "What is the capital of France?"], xdg_env)
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    assert one["tier"] == 1 and one["answer"] and "cached" not in one
    assert _rows(db, "SELECT COUNT(*) FROM model_calls") == [(1,)]

    second = run_cli(["ask", "--json", "What is the capital of France?"], xdg_env)
    assert second.returncode == 0, second.stderr
    two = json.loads(second.stdout)
    assert two["cached"] is True and two["answer"] == one["answer"]
    assert _rows(db, "SELECT model FROM result_cache") == [("gemma-3-270m",)]
    assert (two["prompt_tokens"], two["completion_tokens"], two["cost_usd"]) == (0, 0, 0.0)
    [hit] = [e for e in two["events"] if e["kind"] == "CacheHit"]
    assert hit["saved_prompt_tokens"] == one["prompt_tokens"]
    assert hit["saved_completion_tokens"] == one["completion_tokens"]
    assert _rows(db, "SELECT COUNT(*) FROM model_calls") == [(1,)]  # no model call
    assert _rows(db, "SELECT content, prompt_tokens, completion_tokens, cost_usd FROM "
                     f"messages WHERE session_id = {two['session_id']} AND role = 'assistant'"
                 ) == [(one["answer"], 0, 0, 0.0)]

    plain = run_cli(["ask", "What is the capital of France?"], xdg_env)
    assert plain.returncode == 0 and plain.stdout.strip() == one["answer"].strip()
    assert "Answered from the result cache" in plain.stderr and "--no-cache" in plain.stderr

    again = run_cli(["ask", "--json", "--no-cache", "What is the capital of France?"], xdg_env)
    assert again.returncode == 0, again.stderr
    fresh = json.loads(again.stdout)
    assert "cached" not in fresh and fresh["completion_tokens"] > 0
    assert _rows(db, "SELECT COUNT(*) FROM model_calls") == [(2,)]

    stats = run_cli(["cache", "stats", "--json"], xdg_env, timeout=60)
    assert stats.returncode == 0, stats.stderr
    counts = json.loads(stats.stdout)
    assert counts["entries"] == 1 and counts["hits"] == 2
    day = run_cli(["stats"], xdg_env, timeout=60)
    assert "cache hits: 2" in day.stdout, day.stdout
    cleared = run_cli(["cache", "clear"], xdg_env, timeout=60)
    assert cleared.returncode == 0 and "removed 1 entries" in cleared.stdout


async def test_cache_cli_stats_and_clear_expired(tmp_path: Path) -> None:
    from tokenopt_tui.cli import cache as cache_cli

    paths = Paths(config_file=tmp_path / "c.toml", data_dir=tmp_path / "d",
                  cache_dir=tmp_path / "c")
    config = greedy_config()
    async with await Store.open(paths.db_file) as store:
        base = time.time()  # `cache` opens the store, which purges at the real time
        cache = ResultCache(store, config, clock=lambda: base)
        for text in ("one", "two stock price"):
            plan = cache.plan(1, [ChatMessage("user", text)], text, "chat")
            assert plan is not None
            await cache.put(plan, text.upper(), 10, 2)
    config = dataclasses.replace(config, db_path=paths.db_file)
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(cache_action="stats", json=False)
    assert await cache_cli.run_async(args, config, paths, out, err, now=base + 7_200) == 0
    assert "entries 1 live, 1 expired" in out.getvalue()
    assert "market" in out.getvalue() and "analysis" in out.getvalue()
    out = io.StringIO()
    args = argparse.Namespace(cache_action="clear", expired=True)
    assert await cache_cli.run_async(args, config, paths, out, err, now=base + 7_200) == 0
    assert "removed 1 expired entries" in out.getvalue(), err.getvalue()


async def test_the_chat_shows_the_hit_and_nocache_asks_again(tmp_path: Path) -> None:
    fake = FakeProvider("Paris is the capital.")
    services = build_services(tmp_path, fake)
    services.config = dataclasses.replace(services.config,
                                          local=LocalSettings(temperature=0.0))
    async with TokenoptApp(services).run_test(size=(120, 40)) as pilot:
        app = await ready(pilot)
        await send(pilot, "capital of France?")
        assert len(fake.calls) == 1
        first_session = app.session.session_id
        await send_command(pilot, "/new")
        await wait_until(pilot, lambda: app.session.session_id != first_session,
                         what="a new session")
        await ready(pilot)
        await send(pilot, "capital of France?")
        assert len(fake.calls) == 1, "answered from the cache"
        text = screen_text(app.export_screenshot())
        assert "Answered from the result cache" in text and "/nocache" in text
        assert "Paris is the capital." in text
        assert app.chat.budget_panel.used == app.session.tokens_used
        second_session = app.session.session_id
        await send_command(pilot, "/new")
        await wait_until(pilot, lambda: app.session.session_id != second_session,
                         what="another session")
        await ready(pilot)
        await send_command(pilot, "/nocache")
        assert "Your next request goes to a model" in screen_text(app.export_screenshot())
        await send(pilot, "capital of France?")
        assert len(fake.calls) == 2, "/nocache asked the model"


async def send_command(pilot, command: str) -> None:
    app = pilot.app
    app.chat.prompt.value = command
    app.chat.prompt.focus()
    await pilot.press("enter")
    await pilot.pause(0.05)


def test_cache_and_agents_commands_on_an_unusable_database_exit_2(xdg_env) -> None:
    db = Path(xdg_env["XDG_DATA_HOME"]) / "tokenopt" / "tokenopt.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"not a database")
    for command in (["cache", "stats"], ["cache", "clear"], ["agents"]):
        result = run_cli(command, xdg_env, timeout=60)
        assert result.returncode == 2, command
        assert str(db) in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == b"not a database"

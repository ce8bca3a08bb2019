"""History, export and stats over a real store (sessions made through ChatSession)."""

from __future__ import annotations

import json

from conftest import run_cli
from ui_helpers import FakeProvider

from tokenopt_tui.config import load_config
from tokenopt_tui.core.reporting.export import session_data, to_markdown
from tokenopt_tui.core.reporting.metrics import collect
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.paths import Paths
from tokenopt_tui.wiring import make_services


async def make_history(env: dict[str, str]) -> list[int]:
    """Three sessions: ops talk with a skill, a coding question, one compacted chat."""
    paths = Paths.from_env(env)
    config = load_config(paths, env)
    services = make_services(config, paths, env)
    services.set_provider(1, FakeProvider("Done. The details follow in order. " * 8))
    services.set_provider(3, FakeProvider("def f(): pass", model="coder-model"))
    await services.open_store()
    ids = []
    try:
        first = await ChatSession.start(services)
        async for _ in first.send("my crontab job never runs at night, the okavango report"):
            pass
        ids.append(first.session_id)
        second = await ChatSession.start(services, tier=3)
        async for _ in second.send("refactor this python function to use a generator"):
            pass
        ids.append(second.session_id)
        third = await ChatSession.start(services)
        for n in range(5):
            async for _ in third.send(f"step {n}: note the zambezi flow for /srv/river/{n}"):
                pass
        async for _ in third.compact("/compact"):
            pass
        ids.append(third.session_id)
    finally:
        await services.aclose()
    return ids


async def test_history_search_export_delete_and_stats(xdg_env) -> None:
    ids = await make_history(xdg_env)
    paths = Paths.from_env(xdg_env)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    store = await services.open_store()
    try:
        empty = await store.create_session("direct_chat")  # a chat opened and closed
        assert (await store.history())[0].id == empty
        assert await store.latest_session_id() == empty  # what --continue opens
        rows = await store.history(include_empty=False)
        assert [r.id for r in rows] == ids[::-1]
        assert [r.turns for r in rows] == [5, 1, 1]
        assert rows[1].tiers == (3,) and rows[2].tiers == (1,)
        assert await store.search_sessions("okavango") == [ids[0]]
        assert await store.search_sessions("zambezi") == [ids[2]]
        assert await store.search_sessions('"OR (') == []

        data = await session_data(store, ids[0])
        assert data["session"]["turns"] == 1 and data["messages"][0]["content"].startswith(
            "my crontab job")
        kinds = [e["kind"] for e in data["events"]]
        replies = [e for e in data["events"] if e["kind"] == "ReplyCompleted"]
        assert replies and all("text" not in e for e in replies)  # stored once, in messages
        assert "SkillLoaded" in kinds and "TierChosen" in kinds
        markdown = to_markdown(data)
        assert "## You" in markdown and "skill aria-cron loaded" in markdown

        stats = await collect(store, "day")
        by_type = {t: tokens for t, tokens, _ in stats.tokens_by_task_type}
        assert "compaction" not in by_type  # extractive: no model call
        assert sum(by_type.values()) == stats.tokens > 0
        assert len(by_type) >= 2 and "unknown" not in by_type
        assert stats.sessions == 3 and stats.completed_replies == 7
        assert stats.tokens_saved_by_compression > 0
        assert stats.requests == 7 and stats.tokens_saved_by_lazy_skills is None
        eager = await collect(store, "day", eager_skill_tokens=30_000)
        assert eager.tokens_saved_by_lazy_skills == 7 * 30_000 - eager.skill_tokens_loaded
        assert [s[0] for s in stats.skill_usage] == ["aria-cron"]
        assert {tier for tier, *_ in stats.tier_distribution} == {1, 3}
        criteria = {c.name: c for c in stats.criteria}
        assert criteria["tasks on free tiers"].value == 1.0 and criteria["cost today"].ok
        assert criteria["skill load p95"].value is not None
        assert stats.daily_tokens_by_model and stats.daily_tokens_by_model[0][2] > 0

        await store.delete_session(ids[0])
        assert await store.search_sessions("okavango") == []
        assert [r.id for r in await store.history(include_empty=False)] == ids[:0:-1]
        rows = await store.read("t", "SELECT COUNT(*) FROM skill_invocations")
        assert rows[0][0] == 0
    finally:
        await services.aclose()


async def test_cli_history_export_and_stats(xdg_env) -> None:
    ids = await make_history(xdg_env)
    found = run_cli(["history", "--search", "zambezi", "--json"], xdg_env)
    assert found.returncode == 0, found.stderr
    [row] = json.loads(found.stdout)
    assert row["id"] == ids[2] and row["turns"] == 5
    assert row["tokens_used"] > 0 and "tokens" not in row  # the key export uses too
    exported_head = json.loads(run_cli(["export", str(ids[2]), "--format", "json"],
                                       xdg_env).stdout)["session"]
    assert row == {k: exported_head[k] for k in row}
    listing = run_cli(["history"], xdg_env)
    assert listing.stdout.count("\n") == 3 and "my crontab job" in listing.stdout

    exported = run_cli(["export", str(ids[1]), "--format", "json"], xdg_env)
    data = json.loads(exported.stdout)
    assert data["session"]["tiers"] == [3] and data["messages"][1]["model"] == "coder-model"
    markdown = run_cli(["export", str(ids[1])], xdg_env)
    assert markdown.stdout.startswith("# refactor this python function")
    missing = run_cli(["export", "999"], xdg_env)
    assert missing.returncode == 2 and "no session 999" in missing.stderr

    stats = run_cli(["stats", "--period", "week", "--json"], xdg_env)
    figures = json.loads(stats.stdout)
    assert figures["period"] == "week" and figures["sessions"] == 3
    assert {c["name"] for c in figures["criteria"]} == {
        "cost today", "tasks on free tiers", "average session tokens", "skill load p95"}
    text = run_cli(["stats"], xdg_env)
    assert "success criteria" in text.stdout and "tokens per task type" in text.stdout
    assert "by lazy skills " in text.stdout and "over 7 requests" in text.stdout


def test_stats_rejects_an_unknown_period(xdg_env) -> None:
    result = run_cli(["stats", "--period", "year"], xdg_env)
    assert result.returncode == 2 and "invalid choice" in result.stderr



"""Agents chosen by pheromone (issue 13): the draw's statistics, the MAX-MIN clamp and
floor, evaporation by elapsed time, health kept apart from quality, persistence in a
real store, config validation, and a real `tokenopt ask --json` / `tokenopt agents`."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, run_cli, write_config
from fault_server import FaultServer

from tokenopt_tui.config import AGENT_TASK_TYPES, AgentSpec, Config, ConfigError, load_config
from tokenopt_tui.core.agents.pheromone import TAU_MAX, TAU_MIN, Quality
from tokenopt_tui.core.agents.picker import AgentPicker
from tokenopt_tui.core.agents.select import Candidate, draw, probabilities
from tokenopt_tui.core.agents.trend import sparkline, weights_text
from tokenopt_tui.core.routing.classify import TASK_TYPES
from tokenopt_tui.paths import Paths
from tokenopt_tui.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DRAWS = 10_000


def _frequencies(candidates: list[Candidate], seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    counts = Counter(d.chosen.name for d in (draw(candidates, rng) for _ in range(DRAWS))
                     if d is not None)
    return {name: n / DRAWS for name, n in counts.items()}


def test_draws_follow_the_normalised_weights_within_two_points() -> None:
    candidates = [Candidate("devops", 0.9, 1.0), Candidate("analyst", 0.6, 0.5),
                  Candidate("creator", 0.3, 0.8), Candidate("memory", 0.5, 0.1),
                  Candidate("none", 0.9, 0.0)]  # fit 0: not eligible
    chances, floor = probabilities(candidates)
    assert floor == 0.05 and set(chances) == {"devops", "analyst", "creator", "memory"}
    assert sum(chances.values()) == pytest.approx(1.0)
    raw = {c.name: c.tau * c.fit for c in candidates if c.fit > 0}
    total = sum(raw.values())
    for name, weight in raw.items():  # floor + (1 − n·floor) × normalised weight
        assert chances[name] == pytest.approx(0.05 + 0.8 * weight / total)
    seen = _frequencies(candidates, seed=13)
    assert "none" not in seen
    for name, p in chances.items():
        assert abs(seen.get(name, 0.0) - p) <= 0.02, (name, seen, chances)
    assert min(seen.values()) >= 0.05 - 0.02  # memory's weight is tiny; the floor holds


def test_the_floor_keeps_an_agent_at_the_clamp_alive() -> None:
    worst = Quality(1.0, 500.0, NOW)  # 500 failures: τ clamped to τmin, never 0
    best = Quality(500.0, 1.0, NOW)
    assert worst.tau() == TAU_MIN and best.tau() == TAU_MAX
    candidates = [Candidate("good", best.tau(), 1.0), Candidate("bad", worst.tau(), 1.0)]
    chances, floor = probabilities(candidates)
    assert chances["bad"] >= floor == 0.05
    assert chances["good"] <= 1 - floor
    seen = _frequencies(candidates, seed=7)
    assert abs(seen["bad"] - chances["bad"]) <= 0.02 and seen["bad"] >= 0.05 - 0.02
    # more agents than 1/floor: each still gets an equal minimum (1/n), none starves
    many = [Candidate(f"a{i}", TAU_MIN, 1.0) for i in range(30)] + [Candidate("z", 1.0, 1.0)]
    chances, floor = probabilities(many)
    assert floor == pytest.approx(1 / 31) and min(chances.values()) >= floor - 1e-12


def test_a_success_thirty_days_ago_counts_less_than_one_today() -> None:
    old = Quality.prior(NOW - timedelta(days=30)).record(True, NOW - timedelta(days=30))
    today = Quality.prior(NOW).record(True, NOW)
    assert old.at(NOW).tau() < today.at(NOW).tau()
    assert old.at(NOW).samples() == pytest.approx(0.95 ** 30)
    assert today.at(NOW).samples() == pytest.approx(1.0)
    # evaporation is by time, not by call: reading it often changes nothing
    read_often = old
    for _ in range(50):
        read_often = read_often.at(NOW - timedelta(days=30))
    assert read_often == old
    ancient = Quality(40.0, 1.0, NOW - timedelta(days=365))
    assert ancient.at(NOW).tau() == pytest.approx(0.5, abs=0.01)  # back to the prior


async def test_health_never_changes_quality_and_it_all_survives_a_reopen(
        tmp_path: Path) -> None:
    db = tmp_path / "tokenopt.db"
    specs = Config().agents
    store = await Store.open(db)
    clock = [NOW - timedelta(days=30)]
    picker = AgentPicker(specs, lambda: store, rng=random.Random(1), clock=lambda: clock[0])
    try:
        await picker.feedback("analyst", "analysis", True, "rating")  # 30 days ago
        clock[0] = NOW
        await picker.feedback("devops", "analysis", True, "rating")  # today
        await picker.feedback("creator", "analysis", False, "escalation")
        before = await picker.qualities()
        for _ in range(5):
            await picker.provider_failed("devops")
        assert await picker.qualities() == before
        assert (await store.agent_health())["devops"][0] == 5
        taus = {agent: q.tau() for (agent, task), q in before.items() if task == "analysis"}
        assert taus["devops"] > taus["analyst"] > 0.5 > taus["creator"]
    finally:
        await store.close()
    reopened = await Store.open(db)
    try:
        again = AgentPicker(specs, lambda: reopened, clock=lambda: NOW)
        assert await again.qualities() == before
        history = await reopened.agent_quality_history()
        assert [(r.agent, r.source) for r in history] == [
            ("analyst", "rating"), ("devops", "rating"), ("creator", "escalation")]
        assert (await reopened.agent_health())["devops"][0] == 5
        text = weights_text(history)
        assert "analyst    analysis" in text and "(1 updates)" in text
        standings = {(s.agent, s.task_type): s for s in await again.standings()}
        assert standings[("devops", "analysis")].samples == pytest.approx(1.0)
        assert sum(s.chance for (_a, t), s in standings.items() if t == "ops") == (
            pytest.approx(1.0))
    finally:
        await reopened.close()


def test_sparkline_is_on_a_fixed_scale() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert len(sparkline([0.5] * 100)) == 24


def test_agent_task_types_are_the_classifiers() -> None:
    assert set(AGENT_TASK_TYPES) == set(TASK_TYPES)
    agents = {a.name: a for a in Config().agents}
    assert set(agents) == {"devops", "analyst", "creator", "memory"}
    assert max(agents["devops"].fit, key=agents["devops"].fit.__getitem__) == "ops"
    assert agents["analyst"].fit["analysis"] >= agents["analyst"].fit["research"] > 0.5
    assert all(isinstance(a, AgentSpec) and a.system_prompt for a in agents.values())


@pytest.mark.parametrize(("text", "key"), [
    ('[[agents]]\nname = "x"\nsystem_prompt = "p"\nfit = {cooking = 1}\n', "agents[0].fit.cooking"),
    ('[[agents]]\nname = "x"\nsystem_prompt = "p"\nfit = {ops = 1.5}\n', "agents[0].fit.ops"),
    ('[[agents]]\nname = "x"\nfit = {ops = 1}\n', "agents[0].system_prompt"),
    ('[[agents]]\nname = "x"\nsystem_prompt = "p"\nfit = {ops = 1}\n'
     '[[agents]]\nname = "x"\nsystem_prompt = "q"\nfit = {chat = 1}\n', "agents[1].name"),
    ('[[agents]]\nname = "x"\nsystem_prompt = "p"\nfit = {ops = 1}\npreferred_tiers = [0]\n',
     "agents[0].preferred_tiers[0]"),
    ('[[agents]]\nname = "x"\nsystem_prompt = "p"\nfit = {ops = 1}\ncolour = "red"\n',
     "agents[0].colour"),
    ('agents_enabled = "yes"\n', "agents_enabled"),
])
def test_bad_agents_config_names_the_file_and_key(xdg_env, text: str, key: str) -> None:
    file = write_config(xdg_env, text)
    with pytest.raises(ConfigError) as caught:
        load_config(Paths.from_env(xdg_env), xdg_env)
    assert str(file) in str(caught.value) and f"'{key}'" in str(caught.value)


def test_agents_from_the_config_replace_the_defaults(xdg_env) -> None:
    write_config(xdg_env, 'agents_enabled = true\n[[agents]]\nname = "solo"\n'
                          'system_prompt = "Be brief."\nfit = {chat = 0.7}\n')
    config = load_config(Paths.from_env(xdg_env), xdg_env)
    assert config.agents_enabled and [a.name for a in config.agents] == ["solo"]
    assert dict(config.agents[0].fit) == {"chat": 0.7}


def _chain(url: str) -> str:
    return ("agents_enabled = true\n"
            '[[tiers]]\nname = "flaky"\nendpoints = [{kind = "openai", base_url = "' + url
            + '", model = "server_error/a", timeout_s = 5}]\n'
            '[[tiers]]\nname = "steady"\nendpoints = [{kind = "openai", base_url = "' + url
            + '", model = "ok/b", timeout_s = 5}]\n')


async def test_ask_json_shows_the_agent_and_agents_lists_its_health(xdg_env) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        write_config(xdg_env, _chain(server.url))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tokenopt_tui", "ask", "--json",
            "my crontab job never runs at night on the server", env=xdg_env, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        bodies = list(server.requests)
    assert proc.returncode == 0, err.decode()
    answer = json.loads(out)
    agent = answer["agent"]
    chosen = [e for e in answer["events"] if e["kind"] == "AgentChosen"]
    assert len(chosen) == 1 and chosen[0]["agent"] == agent["name"]
    assert agent["task_type"] in AGENT_TASK_TYPES and agent["candidates"] >= 1
    assert agent["floor"] == 0.05 and 0.05 <= agent["weight"] <= 1
    assert agent["line"].startswith(f"{agent['name']}: τ 0.50 (0 outcomes), floor 0.05")
    kinds = [e["kind"] for e in answer["events"]]
    assert kinds.index("AgentChosen") < kinds.index("TierChosen")
    prompt = next(a.system_prompt for a in Config().agents if a.name == agent["name"])
    assert bodies and all(b["messages"][0] == {"role": "system", "content": prompt}
                          for b in bodies)
    listing = run_cli(["agents", "--json"], xdg_env, timeout=60)
    assert listing.returncode == 0, listing.stderr
    report = json.loads(listing.stdout)
    assert report["enabled"] is True and report["floor"] == 0.05
    by_name = {a["name"]: a for a in report["agents"]}
    assert set(by_name) == {"devops", "analyst", "creator", "memory"}
    assert by_name[agent["name"]]["health"]["errors"] == 1  # tier 1's server error
    assert all(a["health"]["errors"] == 0 for n, a in by_name.items() if n != agent["name"])
    ops = {n: a["task_types"]["ops"] for n, a in by_name.items()}
    assert sum(row["chance"] for row in ops.values()) == pytest.approx(1.0, abs=1e-3)
    assert all(row["tau"] == 0.5 and row["samples"] == 0 for row in ops.values())
    text = run_cli(["agents"], xdg_env, timeout=60)
    assert text.returncode == 0 and "devops" in text.stdout and "1 provider errors" in (
        text.stdout)


async def test_feedback_on_a_reply_updates_the_agent_that_produced_it(tmp_path: Path) -> None:
    """ChatSession._feedback (ratings, escalations) finds the request's AgentChosen in
    the store and updates that agent for that task type only."""
    import dataclasses

    from ui_helpers import FakeProvider, build_services

    from tokenopt_tui.core.session import ChatSession

    services = build_services(tmp_path, FakeProvider("ok"))
    services.config = dataclasses.replace(services.config, agents_enabled=True)
    await services.open_store()
    try:
        session = await ChatSession.start(services)
        events = [e async for e in session.send("compare these two databases for analytics")]
        chosen = next(e for e in events if e.kind == "AgentChosen")
        reply = next(e for e in events if e.kind == "ReplyCompleted")
        await session._feedback(reply.message_id, False, "escalation")
        picker = services.agents
        assert picker is not None
        qualities = await picker.qualities()
        assert list(qualities) == [(chosen.agent, chosen.task_type)]
        assert qualities[(chosen.agent, chosen.task_type)].tau() < 0.5
        await session._feedback(10_000, True, "rating")  # no such reply: nothing changes
        assert list(await picker.qualities()) == [(chosen.agent, chosen.task_type)]
    finally:
        await services.aclose()

"""The swarm cycle end to end through real parts: the embedded model (tiny replies) for
the Worker and the Validator, a real `mlx_lm.server` on loopback standing in for the free
tier the Explorer is pinned to, and the fault server failing the Worker's first call.

A 270M model does not reason: these tests assert structure (three phases ran, a verdict
came, the reservation held, the sessions are linked in the store), never quality.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import pytest
from conftest import loopback_tiers, run_cli, write_config
from fault_server import FaultServer

from tokenopt_tui.config import load_config
from tokenopt_tui.core.events import SwarmEnded, SwarmPhaseEnded
from tokenopt_tui.core.session import ChatSession
from tokenopt_tui.core.swarm.cycle import SwarmCycle
from tokenopt_tui.wiring import make_services

pytestmark = pytest.mark.model

#: Small replies so a cycle takes seconds on CPU; the envelope stays the default 9,000.
SWARM = ("[swarm]\nexplorer_max_tokens = 48\nworker_max_tokens = 64\n"
         "validator_max_tokens = 16\nmax_retries = 1\n")
LOCAL = "[local]\ntemperature = 0\nmax_tokens = 64\n"
TASK = "Write a Python function `add` that returns the sum of two numbers."
#: A task no mechanical check applies to (no identifiers, prose asked for): the
#: Validator's verdict then comes from the model.
PROSE = "Suggest a short friendly name for a grey cat, in one sentence."


def test_the_cli_runs_three_phases_inside_the_reservation(xdg_env, paths, mlx_server,
                                                          prepared_model) -> None:
    write_config(xdg_env, loopback_tiers(mlx_server, str(prepared_model)) + SWARM + LOCAL)
    done = run_cli(["swarm", "--json", TASK], xdg_env, timeout=600)
    assert done.returncode in (0, 1), done.stderr  # pass, or failed/stalled: a verdict
    result = json.loads(done.stdout)
    assert result["verdict"] in ("pass", "failed", "stalled")
    assert done.returncode == (0 if result["verdict"] == "pass" else 1)
    roles = [(p["role"], p["tier"]) for p in result["phases"]]
    # the Worker at the classifier's tier for code (3), here the strongest there is (2)
    assert roles[:3] == [("explorer", 2), ("worker", 2), ("validator", 1)]
    assert all(p["verdict"] for p in result["phases"])
    assert result["plan"]["reserved_tokens"] == 9_000
    assert 0 < result["tokens"]["used"] <= result["tokens"]["reserved"]
    explorer = result["phases"][0]
    assert explorer["verdict"] == "done" and explorer["tokens"] > 0  # the server answered
    with sqlite3.connect(paths.db_file) as db:
        linked = db.execute("SELECT swarm_role, type FROM sessions WHERE parent_id = ? "
                            "ORDER BY id", (result["session_id"],)).fetchall()
        swarm = db.execute("SELECT verdict, used_tokens FROM swarms WHERE id = ?",
                           (result["swarm_id"],)).fetchone()
    db.close()
    # every phase that called a model has its own linked sub_agent session (a validator
    # phase ended by a failed mechanical check made no call and has none)
    assert linked == [(p["role"], "sub_agent") for p in result["phases"] if p["session_id"]]
    assert linked[:2] == [("explorer", "sub_agent"), ("worker", "sub_agent")]
    assert swarm == (result["verdict"], result["tokens"]["used"])
    print("swarm cycle on the real model:", json.dumps(result, indent=1))

    text = run_cli(["swarm", TASK], xdg_env, timeout=600)  # plain text on stdout
    assert text.returncode in (0, 1), text.stderr
    assert "Swarm #2 planned: 3 roles ≈ 9k tokens, free tiers" in text.stdout
    assert "Swarm #2 ended:" in text.stdout and "\x1b" not in text.stdout


async def test_the_sessions_are_linked_and_the_parent_is_charged_what_was_used(
        xdg_env, paths, mlx_server, prepared_model) -> None:
    write_config(xdg_env, loopback_tiers(mlx_server, str(prepared_model)) + SWARM + LOCAL)
    services = make_services(load_config(paths, xdg_env), paths, xdg_env)
    await services.open_store()
    try:
        parent = await ChatSession.start(services)
        cycle = SwarmCycle(services, parent, PROSE)
        events = [event async for event in cycle.run()]
        ended = events[-1]
        assert isinstance(ended, SwarmEnded) and ended.verdict != "over_budget"
        assert ended.used_tokens <= ended.reserved_tokens
        assert parent.tokens_used == ended.used_tokens
        children = await services.store.child_sessions(parent.session_id)
        assert [c.role for c in children][:3] == ["explorer", "worker", "validator"]
        judged = [e for e in events if isinstance(e, SwarmPhaseEnded) and e.role == "validator"]
        assert judged[0].tokens > 0 and judged[0].verdict in ("pass", "retry")
        assert sum(c.tokens_used for c in children) == ended.used_tokens
        calls = await services.store.read(
            "calls", "SELECT session_id, tier FROM model_calls ORDER BY id")
        by_session = {c.session_id: c.role for c in children}
        assert {(by_session[s], t) for s, t in calls} >= {("explorer", 2), ("worker", 2)}
        assert not any(s == parent.session_id for s, _ in calls)  # the parent made none
        resumed = await ChatSession.resume(services, parent.session_id)
        assert resumed.tokens_used == ended.used_tokens
    finally:
        await services.aclose()


class FailsOnce(FaultServer):
    """The Worker's model answers 500 on its first request, then streams normally."""

    def mode_for(self, model: str) -> str:
        return "server_error" if model == "flaky" and self.counts[model] == 1 else "ok"


async def test_a_worker_failing_once_is_retried_within_bounds(
        xdg_env, paths, mlx_server, prepared_model) -> None:
    async with FailsOnce(lifetime_s=300.0) as server:
        tiers = loopback_tiers(mlx_server, str(prepared_model)) + (
            f'[[tiers]]\nname = "flaky"\nendpoints = [{{kind = "openai", base_url = '
            f'"{server.url}", model = "flaky", timeout_s = 30}}]\n')
        write_config(xdg_env, tiers + SWARM + "worker_tier = 3\n" + LOCAL)
        services = make_services(load_config(paths, xdg_env), paths, xdg_env)
        await services.open_store()
        try:
            parent = await ChatSession.start(services)
            events = [event async for event in SwarmCycle(services, parent, TASK).run()]
        finally:
            await services.aclose()
    ended = events[-1]
    assert isinstance(ended, SwarmEnded)
    worker: list[Any] = [e for e in events if isinstance(e, SwarmPhaseEnded)
                         and e.role == "worker"]
    assert worker[0].verdict == "failed" and "500" in worker[0].reasons
    assert worker[1].verdict == "done" and worker[1].tier == 3
    assert 2 <= ended.attempts <= 1 + 1  # max_retries = 1: one retry, no more
    assert server.counts["flaky"] == 2
    assert ended.used_tokens <= ended.reserved_tokens
    assert ended.result.startswith("[flaky]")


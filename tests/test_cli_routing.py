"""`tokenopt ask --json` reports the routing: reasons, and every attempt with its failure."""

from __future__ import annotations

import asyncio
import json
import sys

from conftest import REPO, write_config
from fault_server import FaultServer


def _chain(url: str) -> str:
    return (
        '[[tiers]]\nname = "flaky"\nendpoints = [{kind = "openai", base_url = "' + url
        + '", model = "server_error/a", timeout_s = 5}]\n'
        '[[tiers]]\nname = "steady"\nendpoints = [{kind = "openai", base_url = "' + url
        + '", model = "ok/b", timeout_s = 5}]\n'
    )


async def test_ask_json_lists_attempts_and_reasons(xdg_env) -> None:
    async with FaultServer(lifetime_s=60.0) as server:
        write_config(xdg_env, _chain(server.url))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tokenopt_tui", "ask", "--json", "hello", env=xdg_env,
            cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    answer = json.loads(out)
    assert answer["tier"] == 2 and answer["tier_name"] == "steady" and answer["answer"]
    assert answer["reasons"] and "short" in " ".join(answer["reasons"])
    first, second = answer["attempts"]
    assert (first["tier"], first["ok"], first["fault"]) == (1, False, "server")
    assert (second["tier"], second["ok"]) == (2, True)
    assert {"TierChosen", "TierFailed", "ReplyCompleted"} <= {e["kind"] for e in answer["events"]}


async def test_tier_is_checked_against_the_configured_tiers(xdg_env) -> None:
    async def ask(*argv: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tokenopt_tui", "ask", *argv, env=xdg_env, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async with FaultServer(lifetime_s=60.0) as server:
        file = write_config(xdg_env, _chain(server.url))  # two tiers
        code, out, err = await ask("--tier", "9", "hi")
        assert code == 2 and out == ""
        assert "--tier 9: the configured tiers are 1, 2" in err and str(file) in err
        assert server.counts == {}  # refused before any call
        code, out, err = await ask("--json", "--tier", "2", "hi")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["tier"] == 2 and answer["tier_name"] == "steady" and answer["answer"]
    assert [a["tier"] for a in answer["attempts"]] == [2]  # pinned: tier 1 never tried

"""`tokenopt agents [--json]`: each agent with its quality (τ), the outcomes behind it,
its chance in a draw now (floor included) and its fit per task type, and its health.

Read from the store, so it shows the trail the chat, `ask` and cron jobs left; it works
whether or not `agents_enabled` is on (the config line says which).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from tokenopt_tui.config import AGENT_TASK_TYPES, Config
from tokenopt_tui.core.text import SafeWriter, Writable, json_dumps_safe
from tokenopt_tui.paths import Paths


def add_parser(sub: Any) -> None:
    agents = sub.add_parser("agents", help="agents with their pheromone, fit and health")
    agents.add_argument("--json", action="store_true", help="print one JSON object instead")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    return asyncio.run(run_async(args, config, paths))


async def run_async(args: argparse.Namespace, config: Config, paths: Paths,
                    out: Writable = sys.stdout, err: Writable = sys.stderr) -> int:
    from tokenopt_tui.cli.store_command import with_store
    from tokenopt_tui.wiring import make_services

    services = make_services(config, paths)
    out, err = SafeWriter(out), SafeWriter(err)

    async def work(store: Any) -> int:
        report = await agents_report(config, store)
        if args.json:
            out.write(json_dumps_safe(report) + "\n")
        else:
            out.write(agents_text(report))
        return 0

    return await with_store(services, err, work)


async def agents_report(config: Config, store: Any) -> dict[str, Any]:
    """The JSON of `tokenopt agents --json` (also what the text is written from)."""
    from tokenopt_tui.core.agents.picker import AgentPicker

    picker = AgentPicker(config.agents, lambda: store)
    standings = await picker.standings()
    health = await store.agent_health()
    agents = []
    for spec in config.agents:
        errors, last_error = health.get(spec.name, (0, None))
        agents.append({
            "name": spec.name, "preferred_tiers": list(spec.preferred_tiers),
            "skill_tags": list(spec.skill_tags),
            "health": {"errors": errors, "last_error_at": last_error},
            "task_types": {s.task_type: {"fit": s.fit, "tau": round(s.tau, 4),
                                         "samples": round(s.samples, 2),
                                         "chance": round(s.chance, 4)}
                           for s in standings if s.agent == spec.name},
        })
    return {"enabled": config.agents_enabled, "floor": picker.floor,
            "task_types": list(AGENT_TASK_TYPES), "agents": agents}


def agents_text(report: dict[str, Any]) -> str:
    """One block per agent: a line per task type (fit, τ, outcomes, chance) and health."""
    state = "on" if report["enabled"] else "off (set agents_enabled = true)"
    lines = [f"agents: {state}; exploration floor {report['floor']:.2f} per fitting agent"]
    for agent in report["agents"]:
        health = agent["health"]
        errors = (f"{health['errors']} provider errors, last {health['last_error_at']}"
                  if health["errors"] else "no provider errors")
        tiers = ",".join(f"T{t}" for t in agent["preferred_tiers"]) or "-"
        lines += ["", f"{agent['name']}  (tiers {tiers}; {errors})",
                  f"  {'task type':<10} {'fit':>5} {'τ':>6} {'outcomes':>9} {'chance':>7}"]
        for task_type, row in agent["task_types"].items():
            chance = f"{row['chance']:.0%}" if row["fit"] > 0 else "never"
            lines.append(f"  {task_type:<10} {row['fit']:>5.2f} {row['tau']:>6.2f} "
                         f"{row['samples']:>9.1f} {chance:>7}")
    return "\n".join(lines) + "\n"

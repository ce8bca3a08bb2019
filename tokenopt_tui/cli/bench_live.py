"""`tokenopt bench --live N`: N tasks of the workload through the real stack.

Tier 1 is the embedded local model, in process. Two `mlx_lm.server` processes on
loopback stand in for the hosted tiers (OpenAI-compatible, as OpenRouter is): one
serves the free tiers 2 and 3, the other the paid tier 4, priced with the config's
price for the plan's paid model. Replies are generated, so token figures vary from
run to run; wall time and time to first token per turn are what live mode adds.
The free quota is OpenRouter's own and is not simulated here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from tokenopt_tui import blas
from tokenopt_tui.config import Config, Endpoint, plan_tiers
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:
    from tokenopt_tui.core.bench.workload import Task

SERVER_START_S = 180.0


def run_live(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    try:
        return asyncio.run(_live(args, config, paths))
    except RuntimeError as exc:  # a loopback server that would not start
        print(f"tokenopt bench --live: {exc}", file=sys.stderr)
        return 1


def pick_tasks(tasks: list[Task], n: int) -> list[Task]:
    """The N smallest tasks (by characters): the local model reads every prompt on the
    CPU, so the 50k-token conversations are replay mode's job."""
    size = {t.id: sum(len(turn.user) + len(turn.reply) for turn in t.turns) for t in tasks}
    return sorted(sorted(tasks, key=lambda t: (size[t.id], t.id))[:n],
                  key=lambda t: (t.start_s, t.id))


async def _live(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    from tokenopt_tui.cli.bench import bundled_skills, keep, workload_summary
    from tokenopt_tui.cli.progress import Progress
    from tokenopt_tui.core.bench.pipelines import PIPELINES
    from tokenopt_tui.core.bench.report import build_report, render
    from tokenopt_tui.core.bench.runner import PipelineRun, RunResult
    from tokenopt_tui.core.bench.swarm import SwarmRun
    from tokenopt_tui.core.bench.workload import load_workload, split_complex
    from tokenopt_tui.core.providers.base import ProviderError
    from tokenopt_tui.wiring import make_services

    day, complex_all = split_complex(load_workload(getattr(args, "workload", None)))
    tasks = pick_tasks(day, args.live)
    complex_tasks = pick_tasks(complex_all, args.live)
    progress = Progress(sys.stderr, "bench --live")
    services = make_services(config, paths)
    local = services.provider(1)
    try:
        await progress.follow(local.prepare())
    except ProviderError as exc:
        print(f"tokenopt bench: the local model could not be prepared: {exc}", file=sys.stderr)
        await services.aclose()
        return 1
    folder = getattr(local, "model_folder", None)
    if folder is None:
        print("tokenopt bench --live: tier 1 is not the embedded local model "
              f"({local.endpoint}); live mode needs it", file=sys.stderr)
        await services.aclose()
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tokenopt-live-") as tmp, \
            serve(Path(folder), Path(tmp) / "free") as free_url, \
            serve(Path(folder), Path(tmp) / "paid") as paid_url:
        live_config = loopback_config(config, free_url, paid_url, str(folder))
        live = make_services(live_config, paths)
        optimized = next(p for p in PIPELINES if p.name == "optimized")
        run = PipelineRun(optimized, live_config, bundled_skills(config), Path(tmp),
                          on_task=lambda done: progress.show("optimized", done, len(tasks)),
                          live=live.provider, plan=live_config.tiers)
        result: RunResult = await run.run(tasks)
        if complex_tasks:  # the real cycle: each role on the real models, its reply generated
            progress.show("swarm", 0, len(complex_tasks))
            swarm = SwarmRun(optimized, live_config, bundled_skills(config), Path(tmp),
                             live=live.provider, plan=live_config.tiers)
            records, _requests, _tasks = await swarm.run(complex_tasks)
            result.swarm = records
        await live.aclose()
    await services.aclose()
    seconds = time.perf_counter() - started
    report = build_report([result], workload_summary(tasks, args, complex_tasks))
    payload = report.to_json()
    turns = result.requests
    firsts = [r.first_token_s for r in turns if r.first_token_s is not None]
    payload["live"] = {
        "tasks": [t.id for t in tasks], "seconds": round(seconds, 1),
        "wall_s_per_turn": [round(r.wall_s, 3) for r in turns],
        "first_token_s_per_turn": [None if r.first_token_s is None else round(r.first_token_s, 3)
                                   for r in turns],
        "swarm": [{"task_id": r.task_id, "wall_s": round(r.wall_s, 2), "verdict": r.verdict,
                   "attempts": r.attempts, "tokens_by_role": r.tokens_by_role,
                   "seconds_by_role": {k: round(v, 2) for k, v in r.seconds_by_role.items()},
                   "single_tokens": r.single_tokens, "cycle_tokens": r.call_tokens}
                  for r in result.swarm],
    }
    text = json.dumps(payload, indent=2)
    await keep(config, paths, "live", seconds, text)
    if args.json:
        print(text)
        return 0
    print(render(report))
    print(f"\nLive: {len(tasks)} tasks ({', '.join(t.id for t in tasks)}), {len(turns)} turns "
          f"in {seconds:.1f} s")
    for r in turns:
        first = "-" if r.first_token_s is None else f"{r.first_token_s:.2f} s"
        print(f"  {r.task_id} turn {r.turn}: tier {r.answered_tier or '-'}, wall {r.wall_s:.2f} s, "
              f"first token {first}")
    if firsts:
        print(f"  median first token {sorted(firsts)[len(firsts) // 2]:.2f} s")
    for s in result.swarm:
        roles = ", ".join(f"{k} {v:,} tok {s.seconds_by_role.get(k, 0.0):.1f} s"
                          for k, v in s.tokens_by_role.items() if k != "chat")
        print(f"  swarm {s.task_id}: {s.verdict or 'refused'} after {s.attempts} attempt(s), "
              f"wall {s.wall_s:.1f} s, tokens {s.call_tokens:,} ({roles}); single call "
              f"{s.single_tokens:,}")
    if result.swarm:
        print("  (live swarm figures are cost and time only: the 270M base model's results "
              "and verdicts say nothing about quality)")
    return 0


def loopback_config(config: Config, free_url: str, paid_url: str, model_path: str) -> Config:
    """The plan's chain with the hosted tiers on the two loopback servers.

    mlx_lm.server answers `default_model` and its model's own path with the same model,
    so tiers 2 and 3 (free) and 4 (paid) are three different endpoints; the paid one is
    priced as the plan's paid model is.
    """
    plan = plan_tiers()
    paid_price = config.prices.get(plan[-1].endpoints[0].model, (0.0, 0.0))

    def endpoint(url: str, model: str) -> Endpoint:
        return Endpoint(kind="openai", model=model, base_url=url, timeout_s=600.0)

    tiers = (plan[0],
             replace(plan[1], endpoints=(endpoint(free_url, "default_model"),)),
             replace(plan[2], endpoints=(endpoint(paid_url, "default_model"),)),
             replace(plan[3], endpoints=(endpoint(free_url, model_path),)))
    return replace(config, tiers=tiers, paid_enabled=True,
                   prices={**config.prices, model_path: paid_price})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(model: Path, hub_cache: Path) -> Iterator[str]:
    """A real mlx_lm.server for `model` on loopback; yields its /v1 URL."""
    port = _free_port()
    env = dict(os.environ)
    env.update(blas.preload_env(env) or {})
    env["HF_HUB_CACHE"] = str(hub_cache)  # never the user's cache, never the network
    hub_cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlx_lm", "server", "--model", str(model),
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlx_lm.server exited: {proc.stderr.read()[-800:]}"
                                   if proc.stderr else "mlx_lm.server exited")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mlx_lm.server did not listen on port {port} within "
                                       f"{SERVER_START_S:.0f} s") from None
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

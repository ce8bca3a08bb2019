"""`tokenopt bench`: the plan's promise measured on a simulated day (docs/bench.md).

Replay mode (the default) runs every pipeline over the checked-in workload with the
workload's own replies; `--live N` runs N tasks through the real models instead. The
report is printed (or emitted as JSON) and kept in the database for the dashboard.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths


def add_parser(sub: Any) -> None:
    from tokenopt_tui.core.bench.pipelines import PIPELINE_NAMES

    bench = sub.add_parser("bench", help="measure tokens, dollars and capability on a "
                                         "simulated day (docs/bench.md)")
    bench.add_argument("--json", action="store_true", help="print the figures as JSON")
    bench.add_argument("--pipelines", default=",".join(PIPELINE_NAMES),
                       help=f"comma-separated, from: {', '.join(PIPELINE_NAMES)}")
    bench.add_argument("--part", choices=["all", "tuning", "held_out"], default="all",
                       help="which part of the workload to run (default: all)")
    bench.add_argument("--free-per-minute", type=int, default=20, metavar="N",
                       help="free hosted requests allowed a minute (OpenRouter: 20)")
    bench.add_argument("--free-per-day", type=int, default=50, metavar="N",
                       help="free hosted requests allowed a day (OpenRouter: 50; "
                            "1000 after buying credits)")
    bench.add_argument("--workload", type=Path, metavar="DIR",
                       help="a workload folder, laid out as benchmarks/workload/ "
                            "(default: the checked-in simulated day)")
    bench.add_argument("--live", type=int, metavar="N",
                       help="run N tasks end to end on the real local model and a "
                            "loopback mlx_lm.server instead of replaying")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    from tokenopt_tui.core.bench.pipelines import PIPELINE_NAMES
    from tokenopt_tui.core.bench.workload import WorkloadError

    names = tuple(n.strip() for n in args.pipelines.split(",") if n.strip())
    unknown = [n for n in names if n not in PIPELINE_NAMES]
    if unknown or not names:
        print(f"tokenopt bench: --pipelines: unknown {', '.join(unknown) or '(none given)'}; "
              f"choose from {', '.join(PIPELINE_NAMES)}", file=sys.stderr)
        return 2
    if args.free_per_minute < 0 or args.free_per_day < 0:
        print("tokenopt bench: free quotas must be 0 or more", file=sys.stderr)
        return 2
    if args.live is not None and args.live < 1:
        print("tokenopt bench: --live needs a number of tasks of 1 or more", file=sys.stderr)
        return 2
    try:
        if args.live is not None:
            from tokenopt_tui.cli.bench_live import run_live

            code: int = run_live(args, config, paths)
            return code
        return asyncio.run(_replay(args, config, paths, names))
    except WorkloadError as exc:
        print(f"tokenopt bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tokenopt bench: interrupted; nothing was kept", file=sys.stderr)
        return 130


async def _replay(args: argparse.Namespace, config: Config, paths: Paths,
                  names: tuple[str, ...]) -> int:
    from tokenopt_tui.cli.progress import Progress
    from tokenopt_tui.core.bench.report import build_report, render
    from tokenopt_tui.core.bench.runner import run_pipelines
    from tokenopt_tui.core.bench.workload import PART_FILES, Part, load_workload, split_complex

    parts: tuple[Part, ...] = tuple(p for p in PART_FILES if args.part in ("all", p))
    tasks, complex_tasks = split_complex(load_workload(args.workload, parts=parts))
    progress = Progress(sys.stderr, "bench")
    started = time.perf_counter()
    results = await run_pipelines(
        tasks, config, bundled_skills(config), names,
        quota=(args.free_per_minute, args.free_per_day),
        on_progress=lambda name, done, total: progress.show(name, done, total),
        complex_tasks=complex_tasks)
    seconds = time.perf_counter() - started
    report = build_report(results, workload_summary(tasks, args, complex_tasks))
    payload = report.to_json()
    payload["seconds"] = round(seconds, 1)
    text = json.dumps(payload, indent=2)
    await keep(config, paths, "replay", seconds, text)
    if args.json:
        print(text)
    else:
        print(render(report))
        print(f"\n{len(tasks)} tasks x {len(results)} pipelines in {seconds:.1f} s; "
              f"kept for the dashboard (Ctrl+T in the chat).")
    return 0


def bundled_skills(config: Config) -> Any:
    """The shipped skills only (the labels name them), with the config's settings."""
    from tokenopt_tui.core.skills.library import SkillLibrary
    from tokenopt_tui.core.skills.registry import Source
    from tokenopt_tui.resources import bundled_dir

    if not config.skills.enabled:
        return None
    return SkillLibrary.from_sources(config.skills, [Source("bundled", bundled_dir("skills"))])


def workload_summary(tasks: list[Any], args: argparse.Namespace,
                     complex_tasks: list[Any] | None = None) -> dict[str, Any]:
    """The day's size (complex tasks counted apart: only the swarm rows play them)."""
    complex_tasks = complex_tasks or []
    return {
        "complex_tasks": len(complex_tasks),
        "complex_held_out": sum(1 for t in complex_tasks if t.held_out),
        "mode": "live" if args.live is not None else "replay",
        "tasks": len(tasks),
        "held_out_tasks": sum(1 for t in tasks if t.held_out),
        "requests": sum(len(t.turns) for t in tasks),
        "free_per_minute": args.free_per_minute if args.live is None else 0,
        "free_per_day": args.free_per_day if args.live is None else 0,
    }


async def keep(config: Config, paths: Paths, mode: str, seconds: float, text: str) -> None:
    """Store the report for the dashboard; a database problem is said, never fatal."""
    from tokenopt_tui.store import Store, StoreError
    from tokenopt_tui.wiring import db_path

    try:
        store = await Store.open(db_path(config, paths))
        try:
            await store.save_bench_run(mode, seconds, text)
        finally:
            await store.close()
    except StoreError as exc:
        print(f"tokenopt bench: report not kept: {exc}", file=sys.stderr)

"""`tokenopt history [--search Q] [--json]`, `export SESSION --format md|json`, `stats`.

Titles, messages, model and skill names come from users, models and providers:
everything these commands write goes through `SafeWriter` (terminal-safe, configured
keys scrubbed), and JSON is written by `json_dumps_safe`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from tokenopt_tui.config import Config
from tokenopt_tui.core.secrets import Secrets
from tokenopt_tui.core.text import SafeWriter, Writable, json_dumps_safe, terminal_safe
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:
    from tokenopt_tui.store import Store


def add_parsers(sub: Any) -> None:
    history = sub.add_parser("history", help="past sessions, newest first")
    history.add_argument("--search", metavar="Q", help="full-text search over messages")
    history.add_argument("--limit", type=int, default=50)
    history.add_argument("--json", action="store_true")
    export = sub.add_parser("export", help="a session as Markdown or JSON on stdout")
    export.add_argument("session", type=int)
    export.add_argument("--format", choices=("md", "json"), default="md")
    stats = sub.add_parser("stats", help="the plan's metrics and success criteria")
    stats.add_argument("--period", choices=("day", "week", "month"), default="day")
    stats.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    import asyncio

    return asyncio.run(run_async(args, config, paths))


async def run_async(args: argparse.Namespace, config: Config, paths: Paths,
              out: Writable = sys.stdout, err: Writable = sys.stderr) -> int:
    from tokenopt_tui.cli.store_command import with_store
    from tokenopt_tui.wiring import make_services

    services = make_services(config, paths)
    secrets = services.secrets
    out, err = SafeWriter(out, secrets.scrub), SafeWriter(err, secrets.scrub)

    async def work(store: Store) -> int:
        if args.command == "history":
            return await _history(store, args, out)
        if args.command == "export":
            return await _export(store, args, out, err, secrets)
        return await _stats(store, config, args, out, services)

    return await with_store(services, err, work)


async def _history(store: Any, args: argparse.Namespace, out: Writable) -> int:
    ids = await store.search_sessions(args.search, args.limit) if args.search else None
    rows = await store.history(limit=args.limit, session_ids=ids, include_empty=False)
    if args.json:  # the same row an export heads with (one shape, one set of keys)
        from tokenopt_tui.core.reporting.export import history_dict

        out.write(json_dumps_safe([history_dict(r) for r in rows]) + "\n")
        return 0
    for r in rows:
        tiers = ",".join(f"T{t}" for t in r.tiers) or "-"
        title = terminal_safe(r.title or "(untitled)")[:48]
        out.write(f"{r.id:>6}  {r.created_at[:16].replace('T', ' ')}  {r.type:<11} "
                  f"{r.turns:>4} turns {r.tokens_used:>8,} tok  ${r.cost_usd:<7.4f} "
                  f"{tiers:<8} {title}\n")
    if not rows:
        out.write("no sessions" + (f" match {args.search!r}" if args.search else "") + "\n")
    return 0


async def _export(store: Any, args: argparse.Namespace, out: Writable,
                  err: Writable, secrets: Secrets) -> int:
    from tokenopt_tui.core.reporting.export import session_data, to_json, to_markdown

    try:
        data = await session_data(store, args.session, secrets)
    except LookupError as exc:
        err.write(f"tokenopt: {exc}\n")
        return 2
    out.write((to_json(data) if args.format == "json" else to_markdown(data)) + "\n")
    return 0


async def _stats(store: Any, config: Config, args: argparse.Namespace,
                 out: Writable, services: Any) -> int:
    from tokenopt_tui.core.reporting.metrics import collect

    paid = {t.number for t in config.tiers if t.paid}
    library = services.skills
    eager = library.eager_tokens() if library is not None else None
    stats = await collect(store, args.period, paid_tiers=paid, eager_skill_tokens=eager)
    if args.json:
        out.write(json_dumps_safe(stats.to_dict()) + "\n")
        return 0
    w = out.write
    w(f"period: {stats.period} (since {stats.since})\n")
    w(f"cost: today ${stats.cost_today:.4f}, 7 days ${stats.cost_week:.4f}, "
      f"30 days ${stats.cost_month:.4f}\n")
    w(f"sessions {stats.sessions}, tokens {stats.tokens:,}, completed replies "
      f"{stats.completed_replies}, tokens per completed task "
      f"{stats.tokens_per_completed_task or '-'}\n")
    lazy = stats.tokens_saved_by_lazy_skills
    w(f"saved by compression {stats.tokens_saved_by_compression:,} tokens; by lazy skills "
      f"{'-' if lazy is None else f'{lazy:,}'} tokens ({stats.skill_tokens_loaded:,} loaded "
      f"over {stats.requests} requests); cache hits: "
      f"{'no cache yet' if stats.cache_hits is None else f'{stats.cache_hits:,}'}\n")
    w("\ntokens per task type\n")
    for task, tokens, calls in stats.tokens_by_task_type:
        w(f"  {task:<12} {tokens:>10,} tokens  {calls:>5} calls\n")
    w("\ntiers and models\n")
    for tier, model, calls, tokens in stats.tier_distribution:
        w(f"  T{tier if tier is not None else '?'} {model:<36} {calls:>5} calls "
          f"{tokens:>10,} tokens\n")
    w("\nskills\n")
    for name, count, tokens in stats.skill_usage:
        w(f"  {name:<24} {count:>5} loads {tokens:>10,} tokens\n")
    w("\nsuccess criteria\n")
    for c in stats.criteria:
        mark = {True: "ok  ", False: "MISS", None: "n/a "}[c.ok]
        value = "-" if c.value is None else c.value
        sense = ">=" if c.name == "tasks on free tiers" else "<"
        w(f"  {mark} {c.name:<24} {value} (target {sense} {c.target} {c.unit})\n")
    return 0

"""`tokenopt concierge [--json] [--days N] [--min-group N]`: missing and unused skills
from the store's real usage; `tokenopt concierge draft NAME|N` (or `--draft NAME|N`)
writes one suggestion as a draft SKILL.md in the user's skills folder, never over an
existing one, and prints its path."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from tokenopt_tui.config import Config
from tokenopt_tui.core.text import SafeWriter, Writable, json_dumps_safe, terminal_safe
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:
    from tokenopt_tui.store import Store


def add_parser(sub: Any) -> None:
    concierge = sub.add_parser(
        "concierge", help="missing skills (recurring unmatched requests) and unused ones")
    concierge.add_argument("action", nargs="?", choices=["report", "draft"], default="report")
    concierge.add_argument("name", nargs="?", help="with draft: a suggestion's name or number")
    concierge.add_argument("--draft", metavar="NAME|N", help="write this suggestion as a draft")
    concierge.add_argument("--json", action="store_true", help="print one JSON object instead")
    concierge.add_argument("--days", type=int, metavar="N",
                           help="look at the last N days (default: concierge.unused_days, 30)")
    concierge.add_argument("--min-group", type=int, metavar="N",
                           help="a recurring need has at least N requests (default: "
                                "concierge.min_group, 3)")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    return asyncio.run(run_async(args, config, paths))


async def run_async(args: argparse.Namespace, config: Config, paths: Paths,
                    out: Writable = sys.stdout, err: Writable = sys.stderr) -> int:
    from tokenopt_tui.cli.store_command import with_store
    from tokenopt_tui.core.concierge.draft import DraftError, write_draft
    from tokenopt_tui.core.concierge.report import Settings, build_report, render_text, suggestion
    from tokenopt_tui.wiring import make_services

    out, err = SafeWriter(out), SafeWriter(err)
    choice = args.draft or (args.name if args.action == "draft" else None)
    if args.action == "draft" and not choice:
        err.write("tokenopt concierge draft: name a suggestion (its name or number)\n")
        return 2
    days = config.concierge.unused_days if args.days is None else args.days
    min_group = config.concierge.min_group if args.min_group is None else args.min_group
    if days < 1 or min_group < 2:
        err.write("tokenopt concierge: --days must be at least 1 and --min-group at least 2\n")
        return 2
    services = make_services(config, paths)
    settings = Settings(days=days, min_group=min_group)

    async def work(store: Store) -> int:
        library = await asyncio.to_thread(lambda: services.skills)
        report = await build_report(store, library, settings)
        if choice is None:
            out.write(json_dumps_safe(report) + "\n" if args.json else render_text(report))
            return 0
        picked = suggestion(report, choice)
        if picked is None:
            err.write(f"tokenopt concierge: no suggestion {terminal_safe(choice)!r} "
                      "(run `tokenopt concierge` to list them)\n")
            return 2
        try:
            path = write_draft(paths.data_dir / "skills", picked)
        except DraftError as exc:
            err.write(f"tokenopt concierge: {exc}\n")
            return 2
        out.write(f"wrote the draft skill {picked['name']} to {path}\n"
                  f"check it with: tokenopt skills check {path.parent}\n")
        return 0

    return await with_store(services, err, work)

"""`tokenopt cache stats [--json]` and `tokenopt cache clear [--expired]`: the result
cache's entries, hits and saved tokens, and emptying it (all of it, or what expired)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from tokenopt_tui.config import Config
from tokenopt_tui.core.text import SafeWriter, Writable, json_dumps_safe
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:
    from tokenopt_tui.store import Store


def add_parser(sub: Any) -> None:
    cache = sub.add_parser("cache", help="the result cache: stats, or clear it")
    actions = cache.add_subparsers(dest="cache_action", required=True)
    stats = actions.add_parser("stats", help="entries, hits and tokens saved")
    stats.add_argument("--json", action="store_true", help="print one JSON object instead")
    clear = actions.add_parser("clear", help="delete every entry (or only expired ones)")
    clear.add_argument("--expired", action="store_true",
                       help="delete only the entries whose TTL has passed")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    return asyncio.run(run_async(args, config, paths))


async def run_async(args: argparse.Namespace, config: Config, paths: Paths,
                    out: Writable = sys.stdout, err: Writable = sys.stderr,
                    now: float | None = None) -> int:
    from tokenopt_tui.cli.store_command import with_store
    from tokenopt_tui.wiring import make_services

    services = make_services(config, paths)
    out, err = SafeWriter(out), SafeWriter(err)
    moment = time.time() if now is None else now
    async def work(store: Store) -> int:
        if args.cache_action == "clear":
            removed = (await store.cache_purge_expired(moment) if args.expired
                       else await store.cache_clear())
            what = "expired entries" if args.expired else "entries"
            out.write(f"removed {removed:,} {what} from the result cache\n")
            return 0
        counts = await store.cache_counts(moment)
        settings = config.cache
        if args.json:
            out.write(json_dumps_safe({**asdict(counts), "enabled": settings.enabled,
                                       "analysis_ttl_s": settings.analysis_ttl_s,
                                       "market_ttl_s": settings.market_ttl_s}) + "\n")
            return 0
        out.write(f"result cache: {'on' if settings.enabled else 'off'} (TTL analysis "
                  f"{settings.analysis_ttl_s:,} s, market {settings.market_ttl_s:,} s)\n"
                  f"entries {counts.entries:,} live, {counts.expired:,} expired; hits "
                  f"{counts.hits:,}; tokens saved {counts.saved_tokens:,}\n")
        for klass, entries, hits in counts.by_class:
            out.write(f"  {klass:<10} {entries:>7,} live {hits:>7,} hits\n")
        return 0

    return await with_store(services, err, work)

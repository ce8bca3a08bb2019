"""`tokenopt model prepare`: convert and load the embedded model now, with progress."""

from __future__ import annotations

import argparse
import asyncio
import sys

from tokenopt_tui.cli.progress import Progress
from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    return asyncio.run(_prepare(config, paths))


async def _prepare(config: Config, paths: Paths) -> int:
    from tokenopt_tui.core.providers.base import ProviderError
    from tokenopt_tui.wiring import make_services

    services = make_services(config, paths)
    provider = services.provider(1)
    progress = Progress(sys.stderr)
    try:
        await progress.follow(provider.prepare())
    except ProviderError as exc:
        print(f"tokenopt: {exc}", file=sys.stderr)
        return 1
    finally:
        await services.aclose()
    folder = getattr(provider, "model_folder", None)
    print(f"ready: {provider.model}" + (f" ({folder})" if folder else ""))
    return 0

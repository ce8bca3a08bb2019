"""`tokenopt` / `tokenopt chat`: the terminal chat (Textual is imported only here)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    """The chat; 2 when there is no terminal to run it in or the database is unusable."""
    # Textual reads keys from stdin and draws on stderr; without a terminal it would spin
    # forever on an input that never comes (stdin from /dev/null, a pipe, cron).
    if not all(stream is not None and stream.isatty()
               for stream in (sys.stdin, sys.stdout, sys.stderr)):
        print("tokenopt chat needs a terminal; use `tokenopt ask` for scripts",
              file=sys.stderr)
        return 2
    from tokenopt_tui.ui.app import TokenoptApp
    from tokenopt_tui.wiring import make_services

    async def find_local_servers() -> list[Any]:
        from tokenopt_tui.core.providers.discovery import discover, ports_from_env

        return await discover(ports_from_env(os.environ))

    services = make_services(config, paths)
    resume = getattr(args, "resume", None)
    if getattr(args, "continue_last", False):
        resume = -1  # the app resolves "latest" once the store is open
    app = TokenoptApp(services, session_type=getattr(args, "session_type", "direct_chat"),
                      resume_session_id=resume, tier=getattr(args, "tier", None),
                      find_local_servers=find_local_servers)
    app.run()
    return app.return_code or 0

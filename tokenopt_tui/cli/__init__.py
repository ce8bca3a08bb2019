"""Command line: `tokenopt` (chat), `ask`, `doctor`, `model prepare`, `skills`,
`history`, `export`, `stats`; one module per command, the parser in `parser`.

Heavy modules (textual, mlx, openai) are imported inside the commands that need them.
Exit codes: 0 ok, 1 the model call failed, 2 bad input, config, usage or database, 3 the
session's token budget is used up (halted), 130 interrupted, 143 terminated.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from tokenopt_tui import blas

if TYPE_CHECKING:  # imported after the OpenBLAS re-exec, which they would only slow down
    import argparse

    from tokenopt_tui.config import Config
    from tokenopt_tui.paths import Paths

Command = Callable[["argparse.Namespace", "Config", "Paths"], int]

#: Each command's module (imported on use) has `run(args, config, paths) -> exit code`.
COMMANDS = {"chat": "chat", "ask": "ask", "doctor": "doctor", "model": "model",
            "skills": "skills", "history": "history", "export": "history",
            "stats": "history", "bench": "bench", "agents": "agents", "cache": "cache",
            "concierge": "concierge", "swarm": "swarm"}
#: Commands that may run the local model: OpenBLAS is preloaded before they start.
MODEL_COMMANDS = frozenset({"chat", "ask", "model", "bench", "swarm"})


def main(argv: list[str] | None = None) -> int:
    if argv is None and guess_command(sys.argv[1:]) in MODEL_COMMANDS:
        # Re-exec before the parser and config are even imported (~40 ms saved on every
        # chat start); `_run` undoes it if the config turns OpenBLAS off.
        blas.early_reexec(sys.argv[1:])
    code = _run(argv)
    if "mlx.core" in sys.modules:
        # MLX's C++ threads can abort during interpreter teardown ("terminate called
        # without an active exception", seen once in CI after a complete answer).
        # Everything is stored and closed by now: flush and leave without teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def guess_command(argv: list[str]) -> str:
    """The command `argv` most likely runs, without the parser: the first word that
    names one, else the chat. A wrong guess only costs or saves one re-exec."""
    return next((word for word in argv if word in COMMANDS), "chat")


def _run(argv: list[str] | None) -> int:
    from tokenopt_tui.cli.parser import build_parser
    from tokenopt_tui.config import ConfigError, load_config
    from tokenopt_tui.paths import Paths

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    command = args.command or "chat"
    paths = Paths.from_env()
    try:
        config = load_config(paths)
    except ConfigError as exc:
        from tokenopt_tui.core.text import terminal_safe

        print(f"tokenopt: config error: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    tier = getattr(args, "tier", None)
    if tier is not None and tier not in {t.number for t in config.tiers}:
        numbers = ", ".join(str(t.number) for t in config.tiers)
        print(f"tokenopt: --tier {tier}: the configured tiers are {numbers} "
              f"({config.source})", file=sys.stderr)
        return 2
    if command != "chat":  # the chat's screen owns the terminal: Textual captures stderr
        from tokenopt_tui.core.secrets import Secrets
        from tokenopt_tui.core.text import install_safe_logging

        install_safe_logging(Secrets.from_config(config, os.environ).scrub)
    if command in MODEL_COMMANDS or blas.EARLY_VAR in os.environ:
        # Before anything heavy is imported: this replaces the process when it preloads
        # (or, when the config turns OpenBLAS off, when it undoes an early preload).
        blas.reexec_with_openblas(argv, enabled=config.local.openblas and
                                  command in MODEL_COMMANDS)
    module = importlib.import_module(f"tokenopt_tui.cli.{COMMANDS[command]}")
    run: Command = module.run
    if not hasattr(args, "command") or args.command is None:
        args.command = command
    return run(args, config, paths)

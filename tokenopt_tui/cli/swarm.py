"""`tokenopt swarm TASK`: the Explorer → Worker → Validator cycle from the shell.

The phases stream to stdout as plain text (each phase's words from the presenter, its
text as the model writes it, all through `terminal_safe`); `--json` prints one object
instead. Ctrl+C or SIGTERM cancels the cycle the way Esc does in the chat: the running
call is cut and charged, what the Worker produced is kept.
Exit codes: 0 pass, 1 failed / stalled / over budget, 2 bad input or database, 3 the
session has too little budget left for a cycle, 130 cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from tokenopt_tui.config import Config
from tokenopt_tui.paths import Paths

if TYPE_CHECKING:
    from tokenopt_tui.core.events import Event

EXIT_CODES = {"pass": 0, "failed": 1, "stalled": 1, "over_budget": 1, "cancelled": 130}


def add_parser(sub: Any) -> None:
    swarm = sub.add_parser("swarm", help="run a complex task through Explorer → Worker → "
                                         "Validator inside a reserved token budget")
    swarm.add_argument("task", help="the task ('-' reads standard input)")
    swarm.add_argument("--json", action="store_true", help="print one JSON object instead")
    swarm.add_argument("--session", type=int, metavar="N",
                       help="charge session N's budget (default: a new direct_chat session)")


def run(args: argparse.Namespace, config: Config, paths: Paths) -> int:
    from tokenopt_tui.cli.ask import BadInput, read_prompt

    try:
        task = read_prompt(args.task, sys.stdin).strip()
    except BadInput as exc:
        print(f"tokenopt: swarm: {exc}", file=sys.stderr)
        return 2
    if not task:
        print("tokenopt: swarm: the task is empty", file=sys.stderr)
        return 2
    return asyncio.run(_swarm(config, paths, task, args))


async def _swarm(config: Config, paths: Paths, task: str, args: argparse.Namespace) -> int:
    import signal

    from tokenopt_tui.core.session import ChatSession
    from tokenopt_tui.core.swarm.cycle import SwarmCycle, SwarmRefused
    from tokenopt_tui.core.swarm.envelope import plan_envelope
    from tokenopt_tui.core.text import json_dumps_safe, terminal_safe
    from tokenopt_tui.store import StoreError
    from tokenopt_tui.wiring import make_services

    services = make_services(config, paths)
    try:
        await services.open_store()
    except StoreError as exc:
        print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    fold = Fold(None, services.secrets.scrub, printing=not args.json)
    try:
        try:
            if args.session is None:  # refused before a new session row is made
                plan_envelope(config.swarm, config.budgets["direct_chat"])
            parent = (await ChatSession.resume(services, args.session)
                      if args.session is not None else
                      await ChatSession.start(services, "direct_chat", title=f"swarm: {task}"[:80]))
        except LookupError as exc:
            print(f"tokenopt: swarm: {terminal_safe(str(exc))}", file=sys.stderr)
            return 2
        except SwarmRefused as exc:
            fold.refused = str(exc)
        else:
            fold.session_id = parent.session_id
            cycle = SwarmCycle(services, parent, task)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, cycle.cancel)
            try:
                async for event in cycle.run():
                    fold.add(event)
            except SwarmRefused as exc:
                fold.refused = str(exc)
        if args.json:
            print(json_dumps_safe(fold.as_dict(), indent=None))
        elif fold.refused:
            print(f"tokenopt: swarm: {terminal_safe(fold.refused)}", file=sys.stderr)
        if fold.refused:
            return 3
        return EXIT_CODES.get(fold.verdict, 1)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await services.aclose()


class Fold:
    """The cycle's events as plain text on stdout (when printing) and as the `--json`
    object; each kind has its handler (no isinstance ladder)."""

    def __init__(self, session_id: int | None, scrub: Callable[[str], str], *,
                 printing: bool) -> None:
        self.session_id = session_id
        self.scrub = scrub
        self.printing = printing
        self.plan: dict[str, Any] = {}
        self.phases: list[dict[str, Any]] = []
        self.end: dict[str, Any] = {}
        self.verdict = ""
        self.refused = ""
        self._open = False  # streamed text since the last line

    def add(self, event: Event) -> None:
        handler = self._HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, event.to_dict())
        if event.kind != "SwarmPhaseToken":
            self._say(event)

    def _say(self, event: Event) -> None:
        from tokenopt_tui.core.presenter import describe

        notice = describe(event)
        if notice is not None:
            self._line(f"── {notice}")

    def _line(self, text: str) -> None:
        from tokenopt_tui.core.text import terminal_safe

        if not self.printing:
            return
        if self._open:
            sys.stdout.write("\n")
            self._open = False
        print(terminal_safe(self.scrub(text)), flush=True)

    def _planned(self, data: dict[str, Any]) -> None:
        self.plan = {k: data[k] for k in ("reserved_tokens", "explorer_tokens",
                                          "worker_tokens", "validator_tokens", "estimate")}

    def _started(self, data: dict[str, Any]) -> None:
        self.phases.append({k: data[k] for k in ("role", "attempt", "agent", "tier",
                                                 "session_id", "budget")})

    def _token(self, data: dict[str, Any]) -> None:
        from tokenopt_tui.core.text import terminal_safe

        if self.printing:
            sys.stdout.write(terminal_safe(self.scrub(data["text"])))
            sys.stdout.flush()
            self._open = True

    def _ended(self, data: dict[str, Any]) -> None:
        same = [p for p in self.phases if (p["role"], p["attempt"]) == (data["role"],
                                                                        data["attempt"])]
        phase = same[-1] if same else {"role": data["role"], "attempt": data["attempt"]}
        if not same:
            self.phases.append(phase)
        phase.update({k: data[k] for k in ("agent", "tier", "tokens", "cost_usd", "verdict",
                                           "reasons")})

    def _swarm_ended(self, data: dict[str, Any]) -> None:
        self.end = data
        self.verdict = data["verdict"]

    _HANDLERS: ClassVar[dict[str, Callable[[Fold, dict[str, Any]], None]]] = {
        "SwarmPlanned": _planned, "SwarmPhaseStarted": _started, "SwarmPhaseToken": _token,
        "SwarmPhaseEnded": _ended, "SwarmEnded": _swarm_ended}

    def as_dict(self) -> dict[str, Any]:
        """The `--json` object: plan, phases, verdict, tokens, result."""
        return {
            "session_id": self.session_id,
            "swarm_id": self.end.get("swarm_id"),
            "plan": self.plan,
            "phases": self.phases,
            "verdict": self.verdict or None,
            "attempts": self.end.get("attempts", 0),
            "tokens": {"used": self.end.get("used_tokens", 0),
                       "reserved": self.end.get("reserved_tokens",
                                                self.plan.get("reserved_tokens", 0))},
            "result": self.end.get("result", ""),
            "error": self.refused or None,
        }

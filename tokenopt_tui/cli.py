"""Command line: `tokenopt` (chat), `ask`, `doctor`, `model prepare`, `skills`,
`history`, `export`, `stats`.

Heavy modules (textual, mlx, openai) are imported inside the commands that need them.
Exit codes: 0 ok, 1 the model call failed, 2 bad config/usage/database, 3 the session's
token budget is used up (halted), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

from tokenopt_tui import blas
from tokenopt_tui.config import SESSION_TYPES, Config, ConfigError, load_config
from tokenopt_tui.paths import Paths


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tokenopt", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")

    def session_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--session-type", choices=SESSION_TYPES, default="direct_chat")
        p.add_argument("--tier", type=int, choices=range(1, 5), metavar="N",
                       help="pin the session to tier N (1 local … 4 paid)")

    def resume_options(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group()
        group.add_argument("--resume", type=int, metavar="ID", help="continue session ID")
        group.add_argument("--continue", dest="continue_last", action="store_true",
                           help="continue the most recent session")

    chat = sub.add_parser("chat", help="open the chat (the default command)")
    session_options(chat)
    resume_options(chat)
    ask = sub.add_parser("ask", help="one request, answered on stdout")
    session_options(ask)
    resume_options(ask)
    ask.add_argument("--seed-from", type=int, metavar="ID",
                     help="start a new session seeded with session ID's summary")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead")
    ask.add_argument("prompt", help="the request ('-' reads standard input)")
    sub.add_parser("doctor", help="paths, OpenBLAS, and each tier's availability")
    from tokenopt_tui import skills_cli

    skills_cli.add_parser(sub)
    from tokenopt_tui import history_cli

    history_cli.add_parsers(sub)
    model = sub.add_parser("model", help="manage the local model")
    model.add_argument("action", choices=["prepare"])
    return parser


def main(argv: list[str] | None = None) -> int:
    code = _run(argv)
    if "mlx.core" in sys.modules:
        # MLX's C++ threads can abort during interpreter teardown ("terminate called
        # without an active exception", seen once in CI after a complete answer).
        # Everything is stored and closed by now: flush and leave without teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _run(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    command = args.command or "chat"
    paths = Paths.from_env()
    try:
        config = load_config(paths)
    except ConfigError as exc:
        from tokenopt_tui.core.text import terminal_safe

        print(f"tokenopt: config error: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    if command != "chat":  # the chat's screen owns the terminal: Textual captures stderr
        from tokenopt_tui.core.secrets import Secrets
        from tokenopt_tui.core.text import install_safe_logging

        install_safe_logging(Secrets.from_config(config, os.environ).scrub)
    if command in ("chat", "ask", "model"):
        # Before anything heavy is imported: this replaces the process when it preloads.
        blas.reexec_with_openblas(argv, enabled=config.local.openblas)
    import asyncio
    if command == "doctor":
        from tokenopt_tui.doctor import doctor

        return asyncio.run(doctor(config, paths, sys.stdout))
    if command == "model":
        return asyncio.run(_prepare(config, paths))
    if command in ("history", "export", "stats"):
        from tokenopt_tui import history_cli

        return asyncio.run(history_cli.run(args, config, paths))
    if command == "skills":
        from tokenopt_tui import skills_cli

        return skills_cli.run(args, config, paths)
    if command == "ask":
        try:
            prompt = read_prompt(args.prompt, sys.stdin)
        except BadInput as exc:
            return _refuse_input(str(exc), args.json)
        try:
            return asyncio.run(_ask(config, paths, prompt, args))
        except KeyboardInterrupt:
            return 130
        except asyncio.CancelledError:  # SIGTERM (e.g. `timeout`): the call is settled
            return 143
    return _chat(config, paths, args)


class BadInput(ValueError):
    """The request cannot be used as text (not UTF-8): nothing is stored or sent."""


def read_prompt(arg: str, stdin: TextIO) -> str:
    """The request from argv, or from standard input for '-', as strict UTF-8.

    Python hands undecodable argv bytes over as lone surrogates; such text cannot be
    stored or sent, so it is refused with the offending byte named, before any
    session row exists (decoding with replacement would send something else than
    what the user typed)."""
    if arg == "-":
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"standard input is not valid UTF-8 (byte 0x{data[exc.start]:02x} "
                           f"at offset {exc.start}); nothing was sent") from None
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(arg[exc.start])
        byte = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
        raise BadInput(f"the request is not valid UTF-8 ({byte} at character {exc.start}); "
                       "nothing was sent") from None
    return arg


def _refuse_input(message: str, as_json: bool) -> int:
    if as_json:
        from tokenopt_tui.core.text import json_dumps_safe

        print(json_dumps_safe({"answer": "", "session_id": None, "error": message,
                               "bad_input": True}, indent=None))
    else:
        print(f"tokenopt: {message}", file=sys.stderr)
    return 2


def _chat(config: Config, paths: Paths, args: argparse.Namespace) -> int:
    """The chat; 2 when there is no terminal to run it in or the database is unusable."""
    # Textual reads keys from stdin and draws on stderr; without a terminal it would spin
    # forever on an input that never comes (stdin from /dev/null, a pipe, cron).
    if not all(stream is not None and stream.isatty()
               for stream in (sys.stdin, sys.stdout, sys.stderr)):
        print("tokenopt chat needs a terminal; use `tokenopt ask` for scripts",
              file=sys.stderr)
        return 2
    from tokenopt_tui.core.discovery import discover, ports_from_env
    from tokenopt_tui.services import make_services
    from tokenopt_tui.ui.app import TokenoptApp

    async def find_local_servers() -> list[Any]:
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


class _Progress:
    """A one-line progress bar on stderr (a line per stage when not a terminal)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.stage = ""

    def show(self, stage: str, done: int, total: int) -> None:
        if self.tty:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\rpreparing model: {stage:<8} [{bar}] {done}/{total}")
            if stage == "load" and done == total:
                self.stream.write("\n")
        elif stage != self.stage or done == total:
            self.stream.write(f"preparing model: {stage} {done}/{total}\n")
        self.stage = stage
        self.stream.flush()


async def _prepare(config: Config, paths: Paths) -> int:
    from tokenopt_tui.core.providers.base import ProviderError
    from tokenopt_tui.services import make_services

    services = make_services(config, paths)
    provider = services.provider(1)
    progress = _Progress(sys.stderr)
    try:
        async for event in provider.prepare():
            progress.show(event.stage, event.done, event.total)
    except ProviderError as exc:
        print(f"tokenopt: {exc}", file=sys.stderr)
        return 1
    finally:
        await services.aclose()
    folder = getattr(provider, "model_folder", None)
    print(f"ready: {provider.model}" + (f" ({folder})" if folder else ""))
    return 0


async def _ask(config: Config, paths: Paths, prompt: str, args: argparse.Namespace) -> int:
    """One request, one answer on stdout; every notice on stderr.

    On a terminal the reply streams as it comes (a failed attempt's partial text is
    followed by a notice that the answer comes next); otherwise stdout gets only the
    final answer, printed once it is complete. SIGTERM cancels the request the way
    Ctrl+C does, so the call is settled and charged before the process ends."""
    import asyncio
    import signal

    from tokenopt_tui.core.events import (
        BudgetWarned,
        ContentReferenced,
        ContextCompacted,
        ErrorOccurred,
        ModelPreparing,
        PaidEscalated,
        ReplyCompleted,
        ReplyCut,
        SessionHalted,
        SkillLoaded,
        TierChosen,
        TierFailed,
        TokenReceived,
        UsageRecorded,
    )
    from tokenopt_tui.core.text import json_dumps_safe, terminal_safe
    from tokenopt_tui.services import make_services
    from tokenopt_tui.store import StoreError

    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
    services = make_services(config, paths)
    try:
        await services.open_store()
    except StoreError as exc:
        print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
        return 2
    progress = _Progress(sys.stderr)
    stream_live = not args.json and sys.stdout.isatty()
    printed = False  # live text on stdout since the last attempt started
    result: dict[str, Any] = {"answer": "", "session_id": None, "tier": None, "tier_name": None,
                              "model": None, "prompt_tokens": 0, "completion_tokens": 0,
                              "cost_usd": 0.0, "estimated": False, "interrupted": False,
                              "cut": None, "reasons": [], "attempts": [], "error": None,
                              "halted": False, "budget": None, "events": []}

    scrub = services.secrets.scrub

    def say(text: str) -> None:
        if not args.json:
            if printed:
                sys.stdout.write("\n")
                sys.stdout.flush()
            print(f"tokenopt: {terminal_safe(scrub(text))}", file=sys.stderr)

    try:
        try:
            session = await _ask_session(services, args)
        except LookupError as exc:
            print(f"tokenopt: {terminal_safe(str(exc))}", file=sys.stderr)
            return 2
        result["session_id"] = session.session_id
        async for event in session.send(prompt):
            if isinstance(event, TokenReceived):
                if stream_live:
                    sys.stdout.write(terminal_safe(event.text))
                    sys.stdout.flush()
                    printed = True
                continue
            if isinstance(event, ModelPreparing):
                progress.show(event.stage, event.done, event.total)
                continue
            result["events"].append(event.to_dict())
            if isinstance(event, TierChosen):
                result.update(tier=event.tier, tier_name=event.tier_name, model=event.model)
                if not result["reasons"]:
                    result["reasons"] = list(event.reasons)
                result["attempts"].append({"tier": event.tier, "model": event.model,
                                           "ok": True, "fault": None, "error": None})
            elif isinstance(event, TierFailed):
                if event.skipped:
                    result["attempts"].append({"tier": event.tier, "model": event.model,
                                               "ok": False, "skipped": True,
                                               "fault": event.fault, "error": event.error})
                else:
                    result["attempts"][-1].update(ok=False, fault=event.fault, error=event.error)
                    partial = " (the text above is incomplete)" if printed else ""
                    say(f"tier {event.tier} ({event.model}) failed: {event.fault}{partial}; "
                        "trying the next tier")
                    printed = False
            elif isinstance(event, PaidEscalated):
                say(f"escalating to the paid tier {event.tier} ({event.model}): {event.reason}")
            elif isinstance(event, UsageRecorded):
                result["prompt_tokens"] += event.prompt_tokens
                result["completion_tokens"] += event.completion_tokens
                result["cost_usd"] += event.cost_usd
                result["estimated"] = result["estimated"] or event.estimated
            elif isinstance(event, ReplyCompleted):
                result.update(answer=event.text, interrupted=event.interrupted)
            elif isinstance(event, ReplyCut):
                result["cut"] = {"limit": event.limit, "detail": event.detail}
                say(event.detail)
            elif isinstance(event, ErrorOccurred):
                result["error"] = event.message
                say(event.message)
            elif isinstance(event, BudgetWarned):
                say(f"budget {event.used:,} of {event.limit:,} tokens ({event.percent}% reached)"
                    + ("; the context is compressed before the next request"
                       if event.level == "compress" else "; consider compacting"))
            elif isinstance(event, ContextCompacted):
                say(f"context compacted ({event.trigger}): {event.tokens_before:,} → "
                    f"{event.tokens_after:,} tokens")
            elif isinstance(event, SkillLoaded):
                say(f"skill {event.skill_name} loaded ({event.tokens:,} tokens): "
                    f"{event.reason}")
            elif isinstance(event, ContentReferenced):
                say(f"a long text ({event.tokens:,} tokens) is stored as message "
                    f"#{event.message_id}; the model gets an excerpt")
            elif isinstance(event, SessionHalted):
                result["halted"] = True
                refused = " and this request was not sent" if event.pending else ""
                say(f"session {session.session_id} ({session.session_type}) has used its budget: "
                    f"{event.used:,} of {event.limit:,} tokens{refused}. Continue in a new "
                    f"session seeded with its summary: tokenopt ask --seed-from "
                    f"{session.session_id} …")
        result["budget"] = {"used": session.tokens_used, "limit": session.budget,
                            "level": session.budget_state.level(session.tokens_used)}
    finally:
        if task is not None:
            loop.remove_signal_handler(signal.SIGTERM)
        await services.aclose()
    if args.json:
        print(json_dumps_safe(result, indent=None))
    elif stream_live:
        if printed:
            print()
    elif result["answer"] and not result["error"]:
        print(terminal_safe(result["answer"]))
    if result["error"]:
        return 1
    return 3 if result["halted"] and not result["answer"] else 0


async def _ask_session(services: Any, args: argparse.Namespace) -> Any:
    """A new session, or the one named by --resume/--continue (for cron jobs)."""
    from tokenopt_tui.core.session import ChatSession

    if args.seed_from is not None:
        if args.resume is not None or args.continue_last:
            raise LookupError("--seed-from starts a new session: drop --resume/--continue")
        return await ChatSession.continue_from(
            services, await ChatSession.resume(services, args.seed_from))
    resume = args.resume
    if args.continue_last:
        latest = await services.store.list_sessions(limit=1)
        if not latest:
            raise LookupError("--continue: there is no session yet")
        resume = latest[0].id
    if resume is None:
        return await ChatSession.start(services, args.session_type, tier=args.tier)
    return await ChatSession.resume(services, resume, tier=args.tier)
